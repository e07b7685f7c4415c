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
