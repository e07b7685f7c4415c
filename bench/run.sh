#!/usr/bin/env bash
# Runs the benchmark suite: `bench/run.sh quick` (a few minutes) or `bench/run.sh full`.
# Writes bench/results/latest.json, latest.md and the plots (b1_*.svg).
#
# Builds moq-relay (bench/build-peers.sh, once) and the load generator (release, target dir
# bench/target). Set NO_PEER=1 to skip moq-relay.
set -euo pipefail
mode="${1:-quick}"
case "$mode" in quick|full) ;; *) echo "usage: $0 quick|full" >&2; exit 2;; esac
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here/.."

peer_flag=()
if [[ "${NO_PEER:-0}" != 1 ]]; then
  if ! "$here/build-peers.sh"; then
    echo "run.sh: moq-relay did not build; measuring Dark Tower alone" >&2
    peer_flag=(--no-peer)
  fi
else
  peer_flag=(--no-peer)
fi

locked=()
[[ -f "$here/Cargo.lock" ]] && locked=(--locked)
CARGO_TARGET_DIR="$here/target" cargo build --release "${locked[@]}" --manifest-path "$here/Cargo.toml" --bins

# Hundreds of subscribers, each with its own sockets.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
# BENCH_NICE=-5 (root) runs the suite, SFU and peers at a higher priority than other work
# sharing the cores, which makes latency figures less noisy on a busy machine.
nice_cmd=()
[[ -n "${BENCH_NICE:-}" ]] && nice_cmd=(nice -n "$BENCH_NICE")
DT_BENCH_DIR="$here" "${nice_cmd[@]}" "$here/target/release/loadgen" suite --mode "$mode" --out "$here/results" "${peer_flag[@]}"
echo "run.sh: wrote $here/results/latest.json and latest.md"
