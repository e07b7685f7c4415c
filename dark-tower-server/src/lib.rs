//! # dark-tower-server — the reference server
//!
//! Composes the crates into a complete system in one process: the global controller's REST API
//! (`POST /v1/join` for clients; meetings, participants and tokens for the app's backend, see
//! [`http`]), the meeting controller ([`dark_tower_signaling`]) and the media handler
//! ([`dark_tower_sfu`]) behind one WebTransport endpoint, an admin port (`/livez`, `/readyz`,
//! `/metrics`), and the meeting store ([`store`]: SQLite by default, PostgreSQL with the
//! `postgres` feature, or memory). It is also the example of composing the crates:
//! [`ServerBuilder`] starts the same server inside another program.
//!
//! ```no_run
//! # async fn run() -> Result<(), dark_tower_server::ServerError> {
//! use dark_tower_server::{ServerBuilder, ServerConfig};
//!
//! let server = ServerBuilder::new(ServerConfig::ephemeral("./data")).start().await?;
//! println!("join at http://{}/v1/join", server.http);
//! server.wait().await;
//! # Ok(()) }
//! ```

pub mod admin;
pub mod auth;
pub mod config;
pub mod devkeys;
pub mod http;
pub mod metrics;
mod server;
pub mod signing_keys;
pub mod store;
pub mod tls;
pub mod webhooks;
pub mod webtransport;

pub use config::{ServerConfig, StoreConfig};
pub use server::{RunningServer, ServerBuilder, ServerError};
