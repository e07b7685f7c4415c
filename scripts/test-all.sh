#!/usr/bin/env bash
# Runs every test of the project: formatting, lints, and the whole workspace test suite
# (unit, integration over real WebTransport on loopback, doc tests).
#
# The server's `postgres` feature is on for the lints and the tests, so the PostgreSQL store is
# tested in the same build: its tests need the PostgreSQL at DATABASE_URL (default
# postgres://postgres@127.0.0.1:5432/test) and fail if it is unreachable.
set -euo pipefail
cd "$(dirname "$0")/.."
export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== cargo clippy -D warnings (with the postgres feature; then the server without optional features)"
cargo clippy --workspace --all-targets --locked --features dark-tower-server/postgres -- -D warnings
cargo clippy -p dark-tower-server --all-targets --locked --no-default-features -- -D warnings

echo "== cargo test (with the postgres feature, against DATABASE_URL)"
cargo test --workspace --locked --features dark-tower-server/postgres

echo "== deploy/: Kubernetes manifests and Dockerfile validated offline, deployed config accepted"
deploy/check.sh

echo "== client-js: install, lint (types, circular imports, no any), unit tests"
(
  cd client-js
  npm ci --no-audit --no-fund
  npm run lint
  npm test
  echo "== client-js: the committed demo build (embedded in the server) matches the sources"
  npm run check:demo-build
  echo "== client-js: npm pack installs into a fresh project and type-checks"
  npm run check:pack
  echo "== client-js: browser tests (real Chromium against the real server)"
  npm run test:e2e
)

echo "== bench/: the load generator builds (own workspace and lock file; its numbers are not tests)"
cargo build --manifest-path bench/Cargo.toml --locked --bins --target-dir target

echo "== fuzz targets: build (own workspace) and replay past crashes"
cargo build --manifest-path fuzz/Cargo.toml --locked --bins --target-dir target/fuzz
for r in fuzz/regressions/*; do
  t="$(basename "$r")"; t="${t%%-*}"
  target/fuzz/debug/"$t" "$r" >/dev/null 2>&1 || { echo "fuzz regression $r fails" >&2; exit 1; }
  echo "replayed $r"
done
