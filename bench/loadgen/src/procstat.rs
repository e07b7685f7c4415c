//! CPU and memory of a process from `/proc`: user + system time (clock ticks) and resident set.

use std::time::Instant;

/// Clock ticks per second of `/proc/<pid>/stat` (USER_HZ, 100 on every Linux we run on).
const TICKS_PER_SECOND: f64 = 100.0;

/// One reading of a process's CPU time.
#[derive(Debug, Clone, Copy)]
pub struct CpuSample {
    /// user + system seconds since the process started.
    pub cpu_s: f64,
    /// When read.
    pub at: Instant,
}

/// CPU seconds (user + system) of `pid` (`None`: this process).
pub fn cpu(pid: Option<u32>) -> CpuSample {
    let path = match pid {
        Some(p) => format!("/proc/{p}/stat"),
        None => "/proc/self/stat".into(),
    };
    let at = Instant::now();
    let text = std::fs::read_to_string(path).unwrap_or_default();
    // Fields after the command name (which may contain spaces) start after the last ')'.
    let rest = text.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    // rest[0] is field 3 (state); utime is field 14, stime field 15.
    let tick = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    CpuSample { cpu_s: (tick(11) + tick(12)) / TICKS_PER_SECOND, at }
}

/// CPU seconds used between two samples, and the cores that is (CPU seconds per wall second).
pub fn used(a: CpuSample, b: CpuSample) -> (f64, f64) {
    let cpu = (b.cpu_s - a.cpu_s).max(0.0);
    let wall = b.at.duration_since(a.at).as_secs_f64().max(1e-9);
    (cpu, cpu / wall)
}

/// Resident set size of `pid` in KiB (`None`: this process).
pub fn rss_kb(pid: Option<u32>) -> u64 {
    let path = match pid {
        Some(p) => format!("/proc/{p}/status"),
        None => "/proc/self/status".into(),
    };
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// What the machine is: cores, CPU model, memory, kernel.
pub fn machine() -> serde_json::Value {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|v| v.trim_start_matches([' ', '\t', ':']).to_string())
        .unwrap_or_default();
    let mem_kb: u64 = std::fs::read_to_string("/proc/meminfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0);
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    serde_json::json!({
        "cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
        "cpu_model": model,
        "memory_gib": (mem_kb as f64 / 1048576.0 * 10.0).round() / 10.0,
        "kernel": kernel.trim(),
    })
}

/// Busy and total jiffies of the whole machine (all cores), from `/proc/stat`.
pub fn machine_ticks() -> (f64, f64) {
    let text = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let Some(line) = text.lines().find(|l| l.starts_with("cpu ")) else { return (0.0, 0.0) };
    let v: Vec<f64> = line.split_whitespace().skip(1).filter_map(|x| x.parse().ok()).collect();
    let total: f64 = v.iter().take(8).sum();
    // idle + iowait are not busy.
    let idle = v.get(3).copied().unwrap_or(0.0) + v.get(4).copied().unwrap_or(0.0);
    (total - idle, total)
}

/// Cores busy machine-wide between two [`machine_ticks`] readings over `wall_s`.
pub fn machine_cores(a: (f64, f64), b: (f64, f64), wall_s: f64) -> f64 {
    (b.0 - a.0) / TICKS_PER_SECOND / wall_s.max(1e-9)
}

/// UDP datagrams dropped for a full receive buffer, machine-wide (`/proc/net/snmp`).
pub fn udp_rcvbuf_errors() -> u64 {
    let text = std::fs::read_to_string("/proc/net/snmp").unwrap_or_default();
    let mut lines = text.lines().filter(|l| l.starts_with("Udp:"));
    let (Some(names), Some(values)) = (lines.next(), lines.next()) else { return 0 };
    names
        .split_whitespace()
        .zip(values.split_whitespace())
        .find(|(n, _)| *n == "RcvbufErrors")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0)
}

/// The 1-minute load average.
pub fn loadavg() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .next()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}
