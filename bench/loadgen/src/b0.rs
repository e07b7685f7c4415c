//! B0, the transport floor: bulk throughput of one stream on loopback through raw quinn and
//! through wtransport (the WebTransport layer our SFU uses), sender and receiver in this process.
//! Nothing above the transport can beat these.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use serde::Serialize;
use wtransport::quinn;
use wtransport::{ClientConfig, Endpoint, Identity, ServerConfig};

use crate::procstat;

/// One bulk transfer.
#[derive(Debug, Clone, Serialize)]
pub struct Bulk {
    /// Bytes moved.
    pub bytes: u64,
    /// Seconds.
    pub seconds: f64,
    /// Gbit/s.
    pub gbps: f64,
    /// CPU seconds of this process (both ends) per Gbit.
    pub cpu_s_per_gbit: f64,
    /// Cores busy (both ends).
    pub cores: f64,
}

const CHUNK: usize = 64 * 1024;

fn configs() -> anyhow::Result<(ServerConfig, ClientConfig)> {
    let identity = Identity::self_signed(["localhost", "127.0.0.1"])?;
    let hash = identity.certificate_chain().as_slice()[0].hash();
    let server =
        ServerConfig::builder().with_bind_address("127.0.0.1:0".parse()?).with_identity(identity).build();
    let client = ClientConfig::builder().with_bind_default().with_server_certificate_hashes([hash]).build();
    Ok((server, client))
}

fn result(bytes: u64, start: Instant, c0: procstat::CpuSample) -> Bulk {
    let seconds = start.elapsed().as_secs_f64();
    let (cpu, cores) = procstat::used(c0, procstat::cpu(None));
    let gbit = bytes as f64 * 8.0 / 1e9;
    Bulk { bytes, seconds, gbps: gbit / seconds, cpu_s_per_gbit: cpu / gbit, cores }
}

/// Raw quinn: one unidirectional stream for `secs`.
pub async fn quinn_bulk(secs: f64) -> anyhow::Result<Bulk> {
    let (server_cfg, client_cfg) = configs()?;
    let server = quinn::Endpoint::server(server_cfg.quic_config().clone(), "127.0.0.1:0".parse()?)?;
    let addr: SocketAddr = server.local_addr()?;
    let mut client = quinn::Endpoint::client("127.0.0.1:0".parse()?)?;
    client.set_default_client_config(client_cfg.quic_config().clone());
    let receiver = tokio::spawn(async move {
        let conn = server.accept().await.ok_or_else(|| anyhow::anyhow!("no connection"))?.await?;
        let mut recv = conn.accept_uni().await?;
        let mut buf = vec![0u8; CHUNK];
        let mut total = 0u64;
        while let Some(n) = recv.read(&mut buf).await? {
            total += n as u64;
        }
        Ok::<_, anyhow::Error>(total)
    });
    let conn = client.connect(addr, "localhost")?.await?;
    let mut send = conn.open_uni().await?;
    let chunk = vec![0x5au8; CHUNK];
    let (start, c0) = (Instant::now(), procstat::cpu(None));
    while start.elapsed() < Duration::from_secs_f64(secs) {
        send.write_all(&chunk).await?;
    }
    send.finish()?;
    let total = receiver.await??;
    let r = result(total, start, c0);
    conn.close(0u32.into(), b"done");
    client.wait_idle().await;
    Ok(r)
}

/// wtransport: one unidirectional WebTransport stream for `secs`.
pub async fn wtransport_bulk(secs: f64) -> anyhow::Result<Bulk> {
    let (server_cfg, client_cfg) = configs()?;
    let server = Endpoint::server(server_cfg)?;
    let port = server.local_addr()?.port();
    let receiver = tokio::spawn(async move {
        let conn = server.accept().await.await?.accept().await?;
        let mut recv = conn.accept_uni().await?;
        let mut buf = vec![0u8; CHUNK];
        let mut total = 0u64;
        while let Some(n) = recv.read(&mut buf).await? {
            total += n as u64;
        }
        Ok::<_, anyhow::Error>(total)
    });
    let client = Endpoint::client(client_cfg)?;
    let conn = client.connect(format!("https://127.0.0.1:{port}/")).await?;
    let mut send = conn.open_uni().await?.await?;
    let chunk = vec![0x5au8; CHUNK];
    let (start, c0) = (Instant::now(), procstat::cpu(None));
    while start.elapsed() < Duration::from_secs_f64(secs) {
        send.write_all(&chunk).await?;
    }
    send.finish().await?;
    let total = receiver.await??;
    let r = result(total, start, c0);
    conn.close(0u32.into(), b"done");
    Ok(r)
}
