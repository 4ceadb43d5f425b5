#!/usr/bin/env bash
# Installs what FluxForge's build and tests need, only what is missing:
#   scripts/deps.sh build    system packages for building the plugin
#   scripts/deps.sh test     + the Python venv (.venv) with pedalboard for the VST3 host tests,
#                              Xvfb, Mesa and ALSA/JACK for the standalone's real-window test
#   scripts/deps.sh gui      + tools for editor screenshots
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-build}

pkgs=(pkg-config libx11-dev libxcb1-dev libx11-xcb-dev libxcursor-dev libgl1-mesa-dev libgl-dev)
case "$what" in
  test) pkgs+=(python3-venv xvfb libgl1-mesa-dri libasound2-dev libjack-jackd2-dev) ;;
  gui) pkgs+=(xvfb libgl1-mesa-dri x11-utils x11-apps imagemagick xauth libasound2-dev libjack-jackd2-dev) ;;
esac

# shellcheck source=apt.sh
. scripts/apt.sh
apt_install "${pkgs[@]}"

if ! command -v cargo >/dev/null 2>&1; then
  echo "cargo not found: install Rust (https://rustup.rs) first" >&2
  exit 1
fi

if [ "$what" = test ]; then
  if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
  fi
  if ! .venv/bin/python -c "import pedalboard, numpy, pytest" 2>/dev/null; then
    .venv/bin/pip install -q --disable-pip-version-check pedalboard numpy pytest
  fi
fi
