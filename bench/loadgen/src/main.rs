//! `loadgen`: Dark Tower's load generator and benchmark suite. See bench/README.md.
//!
//! ```text
//! loadgen suite --mode quick --out bench/results      # everything, writes latest.json/.md/.svg
//! loadgen b1 --target ours --n 100 --secs 10          # one run, JSON on stdout
//! ```

mod b0;
mod moq;
mod ours;
mod payload;
mod procstat;
mod report;
mod sframe;
mod stats;
mod svg;
mod workloads;

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};
use workloads::Target;

#[derive(Parser)]
#[command(name = "loadgen", about = "Dark Tower load generator and benchmark suite")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq, Debug)]
enum Mode {
    Quick,
    Full,
}

#[derive(Clone, Copy, ValueEnum)]
enum TargetArg {
    Ours,
    Moq,
}

#[derive(Subcommand)]
enum Cmd {
    /// Every workload; writes latest.json, latest.md and the plots into --out.
    Suite {
        #[arg(long, value_enum, default_value_t = Mode::Quick)]
        mode: Mode,
        #[arg(long, default_value = "bench/results")]
        out: PathBuf,
        /// Skip moq-relay (when it is not built).
        #[arg(long)]
        no_peer: bool,
    },
    /// One B1 fan-out run.
    B1 {
        #[arg(long, value_enum, default_value_t = TargetArg::Ours)]
        target: TargetArg,
        #[arg(long, default_value_t = 100)]
        n: usize,
        #[arg(long, default_value_t = 10.0)]
        secs: f64,
    },
    /// One B2 meeting run.
    B2 {
        #[arg(long, default_value_t = 10)]
        m: usize,
        #[arg(long, default_value_t = 10.0)]
        secs: f64,
    },
    /// B5 joins under B1 load.
    B5 {
        #[arg(long, default_value_t = 50)]
        background: usize,
        #[arg(long, default_value_t = 100)]
        joins: usize,
        #[arg(long, default_value_t = 4)]
        concurrency: usize,
    },
    /// B7 slow subscriber.
    B7 {
        #[arg(long, default_value_t = 20)]
        n: usize,
        #[arg(long, default_value_t = 10.0)]
        secs: f64,
    },
    /// B0 transport floor.
    B0 {
        #[arg(long, default_value_t = 3.0)]
        secs: f64,
    },
    /// SFrame encrypt/decrypt cost per frame.
    Sframe,
    /// Re-renders latest.md from a latest.json (after a change to the report).
    Render {
        #[arg(long, default_value = "bench/results")]
        out: PathBuf,
    },
    /// SFU memory per idle subscriber (joined, subscribed to nothing).
    Idle {
        #[arg(long, value_enum, default_value_t = TargetArg::Ours)]
        target: TargetArg,
        #[arg(long, default_value_t = 100)]
        n: usize,
    },
}

fn print(v: &impl serde::Serialize) {
    println!("{}", serde_json::to_string_pretty(v).unwrap_or_default());
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // moq's QUIC stack wants a process-wide rustls provider; wtransport brings its own config.
    let _ = moq_tokio::crypto::install_default();
    match Cli::parse().command {
        Cmd::Suite { mode, out, no_peer } => report::suite(mode == Mode::Full, out, no_peer).await?,
        Cmd::B1 { target, n, secs } => {
            let t = match target {
                TargetArg::Ours => Target::Ours,
                TargetArg::Moq => Target::MoqRelay,
            };
            print(&workloads::b1(t, n, secs).await?);
        }
        Cmd::B2 { m, secs } => print(&workloads::b2(m, secs).await?),
        Cmd::B5 { background, joins, concurrency } => {
            print(&workloads::b5(background, joins, concurrency).await?)
        }
        Cmd::B7 { n, secs } => print(&workloads::b7(n, secs, 0.3).await?),
        Cmd::B0 { secs } => {
            print(&b0::quinn_bulk(secs).await?);
            print(&b0::wtransport_bulk(secs).await?);
        }
        Cmd::Sframe => print(&sframe::run(0.3)?),
        Cmd::Render { out } => {
            let r: serde_json::Value = serde_json::from_slice(&std::fs::read(out.join("latest.json"))?)?;
            std::fs::write(out.join("latest.md"), report::markdown(&r))?;
        }
        Cmd::Idle { target: TargetArg::Ours, n } => print(&workloads::idle_ours(n).await?),
        Cmd::Idle { target: TargetArg::Moq, n } => print(&workloads::idle_moq(n).await?),
    }
    Ok(())
}
