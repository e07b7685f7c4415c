//! The smallest embedded Dark Tower server: the reference server's library builder with an
//! in-memory meeting store, on loopback ports the OS chooses. Prints one JSON line with the
//! bound addresses and the development API key, then serves until Ctrl-C or SIGTERM.
//!
//! ```sh
//! cargo run -p dark-tower-examples --bin embedded_server -- --data-dir /tmp/dt
//! ```

use std::sync::Arc;

use clap::Parser;
use dark_tower_core::store::MemoryMeetingStore;
use dark_tower_server::{ServerBuilder, ServerConfig};

#[derive(Parser)]
struct Args {
    /// Where the development API key and the signing keys are kept.
    #[arg(long, default_value = "./embedded-data")]
    data_dir: std::path::PathBuf,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let server = ServerBuilder::new(ServerConfig::ephemeral(args.data_dir))
        .store(Arc::new(MemoryMeetingStore::default()))
        .start()
        .await?;
    println!("{}", server.ready_line());
    server.wait().await;
    Ok(())
}
