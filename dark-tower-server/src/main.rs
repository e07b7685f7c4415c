//! `dark-tower-server`: run the reference server, or mint a token.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use clap::{Parser, Subcommand, ValueEnum};
use dark_tower_core::token::{Role, Secret, TokenBuilder};
use dark_tower_server::{ServerBuilder, ServerConfig, StoreConfig, devkeys};

#[derive(Parser, Debug)]
#[command(name = "dark-tower-server", version, about = "Dark Tower reference server")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// HTTP API address.
    #[arg(long)]
    http: Option<SocketAddr>,
    /// Admin address (/livez, /readyz).
    #[arg(long)]
    admin: Option<SocketAddr>,
    /// WebTransport (UDP) address; repeat for several. Default 127.0.0.1:4433 and [::1]:4433.
    #[arg(long)]
    webtransport: Vec<SocketAddr>,
    /// Data directory (development API key, SQLite database).
    #[arg(long, global = true, default_value = "./data")]
    data_dir: PathBuf,
    /// Where meeting records are kept. Default: sqlite (a file in the data directory) when built
    /// in, else memory.
    #[arg(long, value_enum)]
    store: Option<StoreArg>,
    /// PostgreSQL URL for `--store postgres`, e.g. postgres://user:password@host:5432/db.
    #[arg(long, env = "DARK_TOWER__STORE__URL", hide_env_values = true)]
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
    #[arg(long, default_value_t = 20)]
    resume_grace_secs: u64,
    /// Web origin allowed to call the HTTP API (CORS); repeat for several. Default: any origin.
    #[arg(long = "cors-origin")]
    cors_origins: Vec<String>,
    /// Log format on stderr.
    #[arg(long, value_enum, default_value_t = LogFormat::Pretty)]
    log_format: LogFormat,
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
enum LogFormat {
    Pretty,
    Json,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Access tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
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
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match format {
        LogFormat::Pretty => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(Command::Token { command }) = &cli.command {
        return token(&cli, command);
    }
    init_logs(cli.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(serve(cli))
}

async fn serve(cli: Cli) -> ExitCode {
    let mut config = ServerConfig { data_dir: cli.data_dir, ..ServerConfig::default() };
    if let Some(a) = cli.http {
        config.http = a;
    }
    if let Some(a) = cli.admin {
        config.admin = a;
    }
    if !cli.webtransport.is_empty() {
        config.webtransport = cli.webtransport;
        config.webtransport_all_required = true;
    }
    config.store = match (cli.store, cli.database_url) {
        (None, None) => StoreConfig::default(),
        (Some(StoreArg::Memory), None) => StoreConfig::Memory,
        (Some(StoreArg::Sqlite), None) => StoreConfig::Sqlite,
        (Some(StoreArg::Postgres) | None, Some(url)) => StoreConfig::Postgres { url: Secret::new(url) },
        (Some(StoreArg::Postgres), None) => {
            eprintln!("dark-tower-server: --store postgres needs --database-url (or DARK_TOWER__STORE__URL)");
            return ExitCode::FAILURE;
        }
        (Some(_), Some(_)) => {
            eprintln!("dark-tower-server: --database-url is only for --store postgres");
            return ExitCode::FAILURE;
        }
    };
    config.auto_create_meetings = !cli.no_auto_create;
    config.public_host = cli.public_host;
    config.cors_origins = cli.cors_origins;
    config.public_port = cli.public_port;
    config.resume_grace = std::time::Duration::from_secs(cli.resume_grace_secs);
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

fn token(cli: &Cli, command: &TokenCommand) -> ExitCode {
    let TokenCommand::Create { identity, meeting, name, admin, role, ttl } = command;
    let key = match devkeys::load_or_create(&cli.data_dir) {
        Ok(k) => k,
        Err(e) => {
            eprintln!("dark-tower-server: data directory {}: {e}", cli.data_dir.display());
            return ExitCode::FAILURE;
        }
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
