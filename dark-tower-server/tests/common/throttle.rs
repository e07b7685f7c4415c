//! A UDP proxy on loopback that limits one direction: datagrams from the server to the client
//! leave at most at a set bit rate, through a short drop-tail queue — a slow downlink, with the
//! losses a real bottleneck causes. The other direction passes untouched. One client per proxy.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::UdpSocket;

/// Packets the bottleneck queues before dropping.
const QUEUE_PACKETS: usize = 32;

/// A running proxy; dropped, it stops.
pub struct Throttle {
    /// Where the client sends.
    pub port: u16,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Throttle {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Proxies to `upstream`, passing at most `bps` bits per second towards the client.
pub async fn throttle(upstream: SocketAddr, bps: u64) -> Throttle {
    let front = Arc::new(UdpSocket::bind("127.0.0.1:0").await.expect("bind front"));
    let back = Arc::new(UdpSocket::bind("127.0.0.1:0").await.expect("bind back"));
    back.connect(upstream).await.expect("connect upstream");
    let port = front.local_addr().expect("addr").port();
    let task = tokio::spawn(async move {
        let mut client: Option<SocketAddr> = None;
        let mut queue: VecDeque<Vec<u8>> = VecDeque::new();
        let mut credit = 0f64;
        let mut tick = tokio::time::interval(Duration::from_millis(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
        let (mut up, mut down) = (vec![0u8; 65536], vec![0u8; 65536]);
        loop {
            tokio::select! {
                r = front.recv_from(&mut up) => {
                    let Ok((n, from)) = r else { return };
                    client = Some(from);
                    let _ = back.send(&up[..n]).await;
                }
                r = back.recv(&mut down) => {
                    let Ok(n) = r else { return };
                    if queue.len() < QUEUE_PACKETS {
                        queue.push_back(down[..n].to_vec());
                    }
                }
                _ = tick.tick() => {
                    credit = (credit + bps as f64 / 1000.0).min(bps as f64 / 100.0);
                    while let (Some(p), Some(to)) = (queue.front(), client) {
                        if credit <= 0.0 {
                            break;
                        }
                        credit -= (p.len() * 8) as f64;
                        let _ = front.send_to(p, to).await;
                        queue.pop_front();
                    }
                }
            }
        }
    });
    Throttle { port, task }
}
