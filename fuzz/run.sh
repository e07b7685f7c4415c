#!/usr/bin/env bash
# Runs every fuzz target for a bounded time with libFuzzer's coverage instrumentation (stable
# `-C` flags, no nightly needed), keeping each target's corpus in fuzz/corpus/<target>.
#   fuzz/run.sh [seconds per target, default 60] [target ...]
set -euo pipefail
cd "$(dirname "$0")"
secs="${1:-60}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(media_frame signal_message router meeting)
export RUSTFLAGS="--cfg fuzzing -Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
 -Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
 -Cllvm-args=-sanitizer-coverage-trace-compares -Cdebug-assertions -Coverflow-checks"
# An explicit --target keeps the flags off build scripts and proc macros (as cargo-fuzz does).
triple="$(rustc -vV | sed -n 's/^host: //p')"
cargo build --release --target "$triple" --target-dir target/instrumented --bins
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t"
  # Past crashes first: each must now pass.
  for r in regressions/"$t"-*; do
    [ -e "$r" ] && "target/instrumented/$triple/release/$t" "$r" >/dev/null 2>&1 || { [ -e "$r" ] && { echo "regression $r fails"; exit 1; }; }
  done
  echo "== $t ($secs s)"
  "target/instrumented/$triple/release/$t" "corpus/$t" -max_total_time="$secs" -print_final_stats=1 2>&1 | tail -n 12
done
