#!/usr/bin/env bash
# Builds FluxForge, installs the plugin for the current user and renders a demo:
#   - installs missing system packages (Debian/Ubuntu, as root or with sudo),
#   - bundles the CLAP and VST3 plugins (release),
#   - copies them to ~/.clap and ~/.vst3,
#   - writes out/demo-dry.wav and renders it through FluxForge into out/demo-wet.wav.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/deps.sh build

cargo xtask bundle fluxforge --release
cargo build --release --bin fluxforge-render

mkdir -p "$HOME/.clap" "$HOME/.vst3"
cp target/bundled/FluxForge.clap "$HOME/.clap/"
rm -rf "$HOME/.vst3/FluxForge.vst3"
cp -r target/bundled/FluxForge.vst3 "$HOME/.vst3/"
echo "installed $HOME/.clap/FluxForge.clap and $HOME/.vst3/FluxForge.vst3"

mkdir -p out
target/release/fluxforge-render --make-demo-input out/demo-dry.wav
target/release/fluxforge-render out/demo-dry.wav out/demo-wet.wav --mix 0.35
echo "demo: out/demo-dry.wav (dry) and out/demo-wet.wav (through FluxForge)"
