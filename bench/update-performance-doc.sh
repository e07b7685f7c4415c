#!/usr/bin/env bash
# Copies the targets table and the B1 side-by-side table of bench/results/latest.md into
# docs/PERFORMANCE.md, between its "latest:begin" and "latest:end" markers.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
md="$root/bench/results/latest.md"
doc="$root/docs/PERFORMANCE.md"
section="$(mktemp)"
# Header lines (title, machine, noise), then everything up to the list of every B1 run.
awk '/^### Every B1 run/ {exit} {sub(/^# Dark Tower benchmarks/, "### Latest"); sub(/^## /, "#### "); print}' "$md" > "$section"
awk -v f="$section" '
  /<!-- latest:begin -->/ { print; while ((getline l < f) > 0) print l; skip = 1; next }
  /<!-- latest:end -->/ { skip = 0 }
  !skip { print }
' "$doc" > "$doc.tmp"
mv "$doc.tmp" "$doc"
rm -f "$section"
echo "updated $doc from $md"
