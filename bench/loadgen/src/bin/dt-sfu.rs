//! `dt-sfu DATA_DIR`: the Dark Tower reference server (GC + MC + MH in one process, memory store,
//! loopback, OS-chosen ports) as the SFU process under test. Prints the server's JSON ready line
//! on stdout and runs until its standard input closes (the load generator holds it open).

use dark_tower_server::{ServerBuilder, ServerConfig, StoreConfig};
use tokio::io::AsyncReadExt;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let dir = std::env::args().nth(1).ok_or_else(|| anyhow::anyhow!("usage: dt-sfu DATA_DIR"))?;
    let mut config = ServerConfig::ephemeral(&dir);
    config.store = StoreConfig::Memory;
    // Hundreds of load-generator clients join from one address: the per-address HTTP limit that
    // protects a deployment would refuse most of them (429) and the run would measure fewer.
    config.http_limits.requests_per_second = 0;
    let server = ServerBuilder::new(config).start().await?;
    println!("{}", server.ready_line());
    let mut stdin = tokio::io::stdin();
    let mut buf = [0u8; 64];
    loop {
        tokio::select! {
            n = stdin.read(&mut buf) => if matches!(n, Ok(0) | Err(_)) { break },
            _ = tokio::signal::ctrl_c() => break,
        }
    }
    server.shutdown().await;
    Ok(())
}
