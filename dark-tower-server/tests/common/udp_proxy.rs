//! A UDP relay between clients and the server that can cut some clients off, as a network
//! outage or a change of network would: their flows die silently (no QUIC close reaches either
//! side) and, until [`UdpProxy::restore`], no new flow may start. Flows of other clients are
//! untouched.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::net::UdpSocket;

struct Flow {
    id: u64,
    upstream: Arc<UdpSocket>,
}

struct Inner {
    front: UdpSocket,
    server: Mutex<Option<SocketAddr>>,
    flows: Mutex<HashMap<SocketAddr, Arc<Flow>>>,
    next_id: AtomicU64,
    /// Flows with ids in this range are dead.
    cut: Mutex<Option<(u64, u64)>>,
    blocked: AtomicBool,
}

impl Inner {
    fn dead(&self, id: u64) -> bool {
        self.cut.lock().expect("lock").is_some_and(|(from, to)| id >= from && id < to)
    }
}

pub struct UdpProxy {
    /// Where clients send.
    pub addr: SocketAddr,
    inner: Arc<Inner>,
}

impl UdpProxy {
    /// Binds on loopback; forwards once [`UdpProxy::forward_to`] names the server.
    pub async fn bind() -> Self {
        let front = UdpSocket::bind("127.0.0.1:0").await.expect("bind proxy");
        let addr = front.local_addr().expect("proxy address");
        let inner = Arc::new(Inner {
            front,
            server: Mutex::new(None),
            flows: Mutex::default(),
            next_id: AtomicU64::new(0),
            cut: Mutex::new(None),
            blocked: AtomicBool::new(false),
        });
        tokio::spawn(front_loop(Arc::clone(&inner)));
        Self { addr, inner }
    }

    pub fn forward_to(&self, server: SocketAddr) {
        *self.inner.server.lock().expect("lock") = Some(server);
    }

    /// The id the next flow will get: flows from now on can be cut with [`UdpProxy::cut_since`].
    pub fn mark(&self) -> u64 {
        self.inner.next_id.load(Ordering::SeqCst)
    }

    /// Silently drops every packet of the flows opened since `mark`, and refuses new flows.
    pub fn cut_since(&self, mark: u64) {
        let to = self.inner.next_id.load(Ordering::SeqCst);
        *self.inner.cut.lock().expect("lock") = Some((mark, to));
        self.inner.blocked.store(true, Ordering::SeqCst);
    }

    /// New flows may start again (the cut ones stay dead).
    pub fn restore(&self) {
        self.inner.blocked.store(false, Ordering::SeqCst);
    }
}

async fn front_loop(inner: Arc<Inner>) {
    let mut buf = vec![0u8; 65536];
    loop {
        let Ok((n, from)) = inner.front.recv_from(&mut buf).await else { return };
        let existing = inner.flows.lock().expect("lock").get(&from).cloned();
        let flow = match existing {
            Some(f) => f,
            None => {
                let Some(server) = *inner.server.lock().expect("lock") else { continue };
                if inner.blocked.load(Ordering::SeqCst) {
                    continue;
                }
                let upstream = UdpSocket::bind("127.0.0.1:0").await.expect("bind upstream");
                upstream.connect(server).await.expect("connect upstream");
                let id = inner.next_id.fetch_add(1, Ordering::SeqCst);
                let flow = Arc::new(Flow { id, upstream: Arc::new(upstream) });
                inner.flows.lock().expect("lock").insert(from, Arc::clone(&flow));
                tokio::spawn(back_loop(Arc::clone(&inner), Arc::clone(&flow), from));
                flow
            }
        };
        if !inner.dead(flow.id) {
            let _ = flow.upstream.send(&buf[..n]).await;
        }
    }
}

async fn back_loop(inner: Arc<Inner>, flow: Arc<Flow>, client: SocketAddr) {
    let mut buf = vec![0u8; 65536];
    while let Ok(n) = flow.upstream.recv(&mut buf).await {
        if !inner.dead(flow.id) {
            let _ = inner.front.send_to(&buf[..n], client).await;
        }
    }
}
