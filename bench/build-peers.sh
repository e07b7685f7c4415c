#!/usr/bin/env bash
# Builds the peers the benchmark compares against into bench/.peers/ (outside CI, outside the
# main workspace). Pinned versions; only the features the comparison needs.
#
#   moq-relay: the relay of the moq project (moq-lite over QUIC/WebTransport), crates.io.
#              Built with only its QUIC transport (`noq`): no iroh, mDNS clustering, websocket, uds.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
MOQ_RELAY_VERSION="${MOQ_RELAY_VERSION:-0.17.10}"
root="$here/.peers/moq-relay-$MOQ_RELAY_VERSION"
if [[ -x "$root/bin/moq-relay" ]]; then
  echo "moq-relay $MOQ_RELAY_VERSION already built: $root/bin/moq-relay"
  exit 0
fi
mkdir -p "$here/.peers"
# moq-relay's published Cargo.lock names crate versions this registry mirror may not serve
# (webpki-roots 1.0.11 at the time of writing), so it resolves afresh unless PEER_LOCKED=--locked.
# A target dir of its own under bench/.peers keeps peers' artifacts out of the bench target dir.
CARGO_TARGET_DIR="$here/.peers/target" cargo install ${PEER_LOCKED:-} \
  --root "$root" --version "$MOQ_RELAY_VERSION" \
  --no-default-features --features noq \
  -j "${BUILD_JOBS:-2}" moq-relay
echo "built $root/bin/moq-relay"
