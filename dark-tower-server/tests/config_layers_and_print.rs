//! Configuration layers through the real binary: defaults < TOML file < `DARK_TOWER__…`
//! environment < flags; `config print` shows the effective result with secrets redacted; bad
//! configurations stop the start with a message naming the key; `config.example.toml` loads.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_dark-tower-server");

fn temp_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("dark-tower-config-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

/// Runs the binary with no inherited `DARK_TOWER…` variables, plus `env`.
fn run(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(BIN);
    for (k, _) in std::env::vars() {
        if k.starts_with("DARK_TOWER") {
            cmd.env_remove(k);
        }
    }
    cmd.args(args).envs(env.iter().copied()).output().expect("binary runs")
}

fn print(args: &[&str], env: &[(&str, &str)]) -> toml::Table {
    // Server flags come before the subcommand.
    let mut all = args.to_vec();
    all.extend_from_slice(&["config", "print"]);
    let out = run(&all, env);
    assert!(out.status.success(), "config print fails: {}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).expect("utf-8");
    text.parse::<toml::Table>().expect("config print writes TOML")
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write");
    p
}

#[test]
fn each_layer_overrides_the_one_below() {
    let dir = temp_dir("layers");
    let file = write(
        &dir,
        "server.toml",
        r#"
http = "127.0.0.1:8100"
admin = "127.0.0.1:9100"
resume_grace = "45s"
public_host = "from-file.example.com"

[http_limits]
burst = 7

[webhooks]
urls = ["https://hooks.example.com/dt"]
secret = "webhook-secret-from-file"
"#,
    );
    let file = file.to_str().expect("utf-8");

    // Defaults only.
    let defaults = print(&[], &[]);
    assert_eq!(defaults["http"].as_str(), Some("127.0.0.1:8080"));
    assert_eq!(defaults["resume_grace"].as_str(), Some("20s"));
    assert_eq!(defaults["store"]["kind"].as_str(), Some("sqlite"));

    // File over defaults.
    let c = print(&["--config", file], &[]);
    assert_eq!(c["http"].as_str(), Some("127.0.0.1:8100"));
    assert_eq!(c["resume_grace"].as_str(), Some("45s"));
    assert_eq!(c["http_limits"]["burst"].as_integer(), Some(7));
    assert_eq!(
        c["http_limits"]["requests_per_second"].as_integer(),
        Some(50),
        "untouched keys keep defaults"
    );

    // Environment over the file.
    let env = [
        ("DARK_TOWER__HTTP", "127.0.0.1:8200"),
        ("DARK_TOWER__HTTP_LIMITS__BURST", "9"),
        ("DARK_TOWER__STORE__KIND", "postgres"),
        ("DARK_TOWER__STORE__URL", "postgres://app:hunter2@db.internal:5432/dt"),
    ];
    let c = print(&["--config", file], &env);
    assert_eq!(c["http"].as_str(), Some("127.0.0.1:8200"));
    assert_eq!(c["admin"].as_str(), Some("127.0.0.1:9100"), "the file still applies where env is silent");
    assert_eq!(c["http_limits"]["burst"].as_integer(), Some(9));
    assert_eq!(c["store"]["kind"].as_str(), Some("postgres"));

    // Flags over the environment; the config file may also come from DARK_TOWER_CONFIG.
    let mut env2 = env.to_vec();
    env2.push(("DARK_TOWER_CONFIG", file));
    let c = print(&["--http", "127.0.0.1:8300", "--resume-grace-secs", "5", "--store", "memory"], &env2[..2]);
    assert_eq!(c["http"].as_str(), Some("127.0.0.1:8300"));
    assert_eq!(c["resume_grace"].as_str(), Some("5s"));
    assert_eq!(c["store"]["kind"].as_str(), Some("memory"));
    let c = print(&[], &env2);
    assert_eq!(c["public_host"].as_str(), Some("from-file.example.com"), "DARK_TOWER_CONFIG names the file");

    // Several files layer in order (settings, then a secrets file, as mounted in deploy/).
    let secrets = write(
        &dir,
        "secrets.toml",
        "[webhooks]\nsecret = \"from-secrets-file\"\n[[auth.api_keys]]\nkey = \"APIprod\"\nsecret = \"0123456789abcdef0123456789abcdef\"\n",
    );
    let c = print(&["--config", file, "--config", secrets.to_str().expect("utf-8")], &[]);
    assert_eq!(c["http"].as_str(), Some("127.0.0.1:8100"), "the first file still applies");
    assert_eq!(c["auth"]["api_keys"][0]["key"].as_str(), Some("APIprod"));
    assert_eq!(c["auth"]["api_keys"][0]["secret"].as_str(), Some("<redacted>"));

    // Secrets never print.
    let out = run(&["config", "print", "--config", file], &env);
    let text = String::from_utf8(out.stdout).expect("utf-8");
    assert!(!text.contains("hunter2"), "database password printed:\n{text}");
    assert!(!text.contains("webhook-secret-from-file"), "webhook secret printed:\n{text}");
    assert!(text.contains("<redacted>"));
}

#[test]
fn bad_configuration_stops_the_start_with_a_clear_message() {
    let dir = temp_dir("bad");
    type Env<'a> = Vec<(&'a str, &'a str)>;
    let cases: Vec<(String, Env, &str)> = vec![
        (write(&dir, "unknown.toml", "htp = \"127.0.0.1:1\"\n").display().to_string(), vec![], "htp"),
        (write(&dir, "type.toml", "resume_grace = \"soon\"\n").display().to_string(), vec![], "resume_grace"),
        (
            write(&dir, "tls.toml", "[tls]\ncert = \"/nonexistent/cert.pem\"\n").display().to_string(),
            vec![],
            "tls: set both cert and key",
        ),
        (
            write(&dir, "key.toml", "[[auth.api_keys]]\nkey = \"k1\"\nsecret = \"short\"\n")
                .display()
                .to_string(),
            vec![],
            "auth.api_keys[0]",
        ),
        (
            write(&dir, "ok.toml", "").display().to_string(),
            vec![("DARK_TOWER__STORE__KIND", "postgres")],
            "store.url",
        ),
        (
            write(&dir, "hooks.toml", "[webhooks]\nurls = [\"ftp://x\"]\nsecret = \"s\"\n")
                .display()
                .to_string(),
            vec![],
            "webhooks.urls",
        ),
    ];
    for (file, env, needle) in cases {
        let out = run(&["--config", &file, "--http", "127.0.0.1:0", "--admin", "127.0.0.1:0"], &env);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{file}: started anyway; stderr: {stderr}");
        assert!(stderr.contains(needle), "{file}: the message does not name {needle:?}: {stderr}");
    }
    let out = run(&["--config", "/nonexistent/dark-tower.toml", "config", "print"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/dark-tower.toml"));
}

#[test]
fn the_example_configuration_loads() {
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/../config.example.toml");
    let c = print(&["--config", example], &[]);
    assert_eq!(c["http"].as_str(), Some("127.0.0.1:8080"));
}
