#!/usr/bin/env bash
# Runs every test of the project: formatting, lints, and the whole workspace test suite
# (unit, integration over real WebTransport on loopback, doc tests).
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== cargo clippy -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings

echo "== cargo test"
cargo test --workspace --locked

echo "== client-js: install, lint (types, circular imports, no any), unit tests"
(
  cd client-js
  npm ci --no-audit --no-fund
  npm run lint
  npm test
  echo "== client-js: browser tests (real Chromium against the real server)"
  npm run test:e2e
)

echo "== fuzz targets: build (own workspace) and replay past crashes"
cargo build --manifest-path fuzz/Cargo.toml --locked --bins --target-dir target/fuzz
for r in fuzz/regressions/*; do
  t="$(basename "$r")"; t="${t%%-*}"
  target/fuzz/debug/"$t" "$r" >/dev/null 2>&1 || { echo "fuzz regression $r fails" >&2; exit 1; }
  echo "replayed $r"
done
