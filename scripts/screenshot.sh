#!/usr/bin/env bash
# Screenshots of the editor with live content: starts the standalone FluxForge in demo mode
# (it plays the demo phrase in a loop in place of its input; no audio device: --backend
# dummy) under a virtual X server and saves each page at 100 % and 200 % to docs/:
#   docs/editor-reverb-100.png, docs/editor-reverb-200.png,
#   docs/editor-dynamics-100.png, docs/editor-dynamics-200.png
# The reverb page starts on the "Vocal Plate" preset, the EQ & Dynamics page on "De-Harsh
# Vocal" (spectral compression: its threshold curve and live gain change show).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=xwindow.sh
. scripts/xwindow.sh
./scripts/deps.sh gui
cargo build --release --features standalone --bin fluxforge-standalone

display=:97
Xvfb "$display" -screen 0 2400x1400x24 +extension GLX +render -nolisten tcp >/dev/null 2>&1 &
xvfb=$!
app=""
trap 'kill $app $xvfb 2>/dev/null || true' EXIT
sleep 1

# shoot PAGE SCALE PRESET OUT
shoot() {
  DISPLAY=$display FLUXFORGE_DEMO=1 FLUXFORGE_DEMO_PRESET="$3" FLUXFORGE_EDITOR_PAGE="$1" \
    FLUXFORGE_EDITOR_SCALE="$2" target/release/fluxforge-standalone --backend dummy \
    >/tmp/fluxforge-standalone.log 2>&1 &
  app=$!
  local win
  win=$(wait_for_window "$display" '/FluxForge/' 40 /tmp/fluxforge-standalone.log) || exit 1
  sleep 4 # the phrase plays: spectra, curves and meters move
  mkdir -p "$(dirname "$4")"
  DISPLAY=$display import -window "$win" "$4"
  echo "saved $4"
  kill "$app" 2>/dev/null || true
  wait "$app" 2>/dev/null || true
  app=""
}

for scale in 1 2; do
  pct=$((scale * 100))
  shoot reverb "$scale" "Vocal Plate" "docs/editor-reverb-$pct.png"
  shoot dynamics "$scale" "De-Harsh Vocal" "docs/editor-dynamics-$pct.png"
done
