//! `dark-tower-server`: run the reference server, or mint a token.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use clap::{Parser, Subcommand, ValueEnum};
use dark_tower_core::token::{ApiKey, Role, TokenBuilder};
use dark_tower_server::config::{self, LogFormat, Overrides, StoreKind, StoreOverride};
use dark_tower_server::{ServerBuilder, ServerConfig, devkeys};

#[derive(Parser, Debug)]
#[command(name = "dark-tower-server", version, about = "Dark Tower reference server")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// TOML configuration file (see config.example.toml); repeat to layer several (later
    /// ones win, e.g. settings then secrets). Layers: defaults < files < DARK_TOWER__…
    /// environment variables < flags.
    #[arg(long, global = true, env = "DARK_TOWER_CONFIG", value_delimiter = ',')]
    config: Vec<PathBuf>,
    /// HTTP API address.
    #[arg(long)]
    http: Option<SocketAddr>,
    /// Admin address (/livez, /readyz, /metrics).
    #[arg(long)]
    admin: Option<SocketAddr>,
    /// WebTransport (UDP) address; repeat for several. Default 127.0.0.1:4433 and [::1]:4433.
    #[arg(long)]
    webtransport: Vec<SocketAddr>,
    /// Data directory (development API key, signing keys, SQLite database). Default ./data.
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    /// Where meeting records are kept. Default: sqlite (a file in the data directory) when built
    /// in, else memory.
    #[arg(long, value_enum)]
    store: Option<StoreArg>,
    /// PostgreSQL URL (implies --store postgres), e.g. postgres://user:password@host:5432/db.
    /// Prefer DARK_TOWER__STORE__URL: flags show in the process list.
    #[arg(long)]
    database_url: Option<String>,
    /// Refuse to join meetings that do not exist instead of creating them.
    #[arg(long)]
    no_auto_create: bool,
    /// Host name put in URLs given to clients.
    #[arg(long)]
    public_host: Option<String>,
    /// UDP port put in URLs given to clients, when a NAT or load balancer maps another one.
    #[arg(long)]
    public_port: Option<u16>,
    /// Seconds a participant whose connection dropped may resume before it leaves (0: off).
    #[arg(long)]
    resume_grace_secs: Option<u64>,
    /// Web origin allowed to call the HTTP API (CORS); repeat for several. Default: any origin.
    #[arg(long = "cors-origin")]
    cors_origins: Vec<String>,
    /// Log format on stderr.
    #[arg(long, value_enum)]
    log_format: Option<LogArg>,
}

impl Cli {
    /// The flags that were given, as the top configuration layer.
    fn overrides(&self) -> Overrides {
        let store = match (self.store, &self.database_url) {
            (None, None) => None,
            (kind, url) => Some(StoreOverride {
                kind: Some(match (kind, url) {
                    (Some(StoreArg::Memory), _) => StoreKind::Memory,
                    (Some(StoreArg::Sqlite), _) => StoreKind::Sqlite,
                    _ => StoreKind::Postgres,
                }),
                url: url.clone(),
            }),
        };
        Overrides {
            http: self.http,
            admin: self.admin,
            webtransport: (!self.webtransport.is_empty()).then(|| self.webtransport.clone()),
            webtransport_all_required: (!self.webtransport.is_empty()).then_some(true),
            data_dir: self.data_dir.clone(),
            store,
            auto_create_meetings: self.no_auto_create.then_some(false),
            public_host: self.public_host.clone(),
            public_port: self.public_port,
            cors_origins: (!self.cors_origins.is_empty()).then(|| self.cors_origins.clone()),
            resume_grace: self.resume_grace_secs.map(|s| format!("{s}s")),
            log_format: self.log_format.map(|f| match f {
                LogArg::Pretty => LogFormat::Pretty,
                LogArg::Json => LogFormat::Json,
            }),
        }
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum StoreArg {
    /// In memory: forgotten on exit.
    Memory,
    /// SQLite file `meetings.sqlite3` in the data directory.
    Sqlite,
    /// PostgreSQL at --database-url.
    Postgres,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum LogArg {
    Pretty,
    Json,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// The configuration.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Access tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
}

#[derive(Subcommand, Debug)]
enum ConfigCommand {
    /// Prints the effective configuration (all layers applied) as TOML, secrets redacted.
    Print,
}

#[derive(Subcommand, Debug)]
enum TokenCommand {
    /// Mint a token with the data directory's development API key; prints it alone on stdout.
    Create {
        /// Identity (`sub`).
        #[arg(long)]
        identity: String,
        /// Meeting the token is for.
        #[arg(long)]
        meeting: Option<String>,
        /// Display name.
        #[arg(long)]
        name: Option<String>,
        /// Grant server administration.
        #[arg(long)]
        admin: bool,
        /// Role in the meeting.
        #[arg(long, value_enum, default_value_t = RoleArg::Participant)]
        role: RoleArg,
        /// Lifetime in seconds.
        #[arg(long, default_value_t = 6 * 3600)]
        ttl: u64,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum RoleArg {
    Host,
    Participant,
    Guest,
    Viewer,
}

fn init_logs(format: LogFormat) {
    let mut filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // wtransport logs request headers at debug level, and the signaling and media URLs carry
    // credentials (access token, media ticket): keep it at info whatever RUST_LOG says.
    if let Ok(cap) = "wtransport=info".parse() {
        filter = filter.add_directive(cap);
    }
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match format {
        LogFormat::Pretty => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match config::load(&cli.config, &cli.overrides()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("dark-tower-server: {e}");
            return ExitCode::from(2);
        }
    };
    match &cli.command {
        Some(Command::Token { command }) => return token(&config, command),
        Some(Command::Config { command: ConfigCommand::Print }) => {
            print!("{}", config.to_toml());
            return ExitCode::SUCCESS;
        }
        None => {}
    }
    init_logs(config.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(serve(config))
}

async fn serve(config: ServerConfig) -> ExitCode {
    let server = match ServerBuilder::new(config.clone()).start().await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("dark-tower-server: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Some(key) = &server.api_key {
        eprintln!(
            "\nDark Tower development mode\n  API key:    {}\n  API secret: {}\n  (kept in {})\n  \
             token:      dark-tower-server token create --data-dir {} --identity alice --meeting demo\n",
            key.key,
            key.secret.expose(),
            config.data_dir.join(devkeys::FILE).display(),
            config.data_dir.display(),
        );
    }
    println!("{}", server.ready_line());
    tracing::info!(http = %server.http, admin = %server.admin, webtransport = ?server.webtransport, "listening");
    server.wait().await;
    ExitCode::SUCCESS
}

fn token(config: &ServerConfig, command: &TokenCommand) -> ExitCode {
    let TokenCommand::Create { identity, meeting, name, admin, role, ttl } = command;
    // The first configured API key, else the data directory's development key.
    let key = match config.auth.api_keys.first() {
        Some(k) => ApiKey::from(k),
        None => match devkeys::load_or_create(&config.data_dir) {
            Ok(k) => k,
            Err(e) => {
                eprintln!("dark-tower-server: data directory {}: {e}", config.data_dir.display());
                return ExitCode::FAILURE;
            }
        },
    };
    let role = match role {
        RoleArg::Host => Role::Host,
        RoleArg::Participant => Role::Participant,
        RoleArg::Guest => Role::Guest,
        RoleArg::Viewer => Role::Viewer,
    };
    let mut b = TokenBuilder::new(identity.clone()).role(role).admin(*admin).ttl(Duration::from_secs(*ttl));
    if let Some(m) = meeting {
        b = b.meeting(m.clone());
    }
    if let Some(n) = name {
        b = b.name(n.clone());
    }
    match b.sign(&key, SystemTime::now()) {
        Ok(t) => {
            println!("{t}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("dark-tower-server: {e}");
            ExitCode::FAILURE
        }
    }
}
