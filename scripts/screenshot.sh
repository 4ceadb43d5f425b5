#!/usr/bin/env bash
# Starts the standalone FluxForge (no audio device: --backend dummy) under a virtual X server
# and saves a PNG of the editor window to docs/editor.png (or the path given as $1); with
# FLUXFORGE_EDITOR_PAGE=dynamics it shows the EQ & Dynamics page.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-docs/editor.png}
./scripts/deps.sh gui
cargo build --release --features standalone --bin fluxforge-standalone

display=:97
Xvfb "$display" -screen 0 1280x900x24 +extension GLX +render -nolisten tcp >/dev/null 2>&1 &
xvfb=$!
trap 'kill $app $xvfb 2>/dev/null || true' EXIT
sleep 1
DISPLAY=$display FLUXFORGE_EDITOR_PAGE=${FLUXFORGE_EDITOR_PAGE:-} target/release/fluxforge-standalone --backend dummy >/tmp/fluxforge-standalone.log 2>&1 &
app=$!
win=""
for _ in $(seq 1 40); do
  sleep 0.5
  win=$(DISPLAY=$display xwininfo -root -tree 2>/dev/null | awk '/FluxForge/ {print $1; exit}')
  [ -n "$win" ] && break
done
if [ -z "$win" ]; then
  echo "the editor window did not appear; log:" >&2
  cat /tmp/fluxforge-standalone.log >&2
  exit 1
fi
sleep 2 # let egui draw a few frames
mkdir -p "$(dirname "$out")"
DISPLAY=$display import -window "$win" "$out"
echo "saved $out"
