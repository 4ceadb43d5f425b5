#!/usr/bin/env bash
# The plugin's convolver against zita-convolver, cell by cell, in one run pinned to one core.
# Installs zita-convolver's development package when it is missing (Debian/Ubuntu), builds the
# C++ harness in benches/zita/, then runs `cargo bench --bench convolution -- zita`.
# Extra arguments go to the bench (`--quick`: shorter runs).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=apt.sh
. scripts/apt.sh
apt_install libzita-convolver-dev g++ util-linux
mkdir -p target/zita
g++ -O2 -o target/zita/zita_cells benches/zita/zita_cells.cpp -lzita-convolver -lpthread
cargo bench --bench convolution --no-run
FLUXFORGE_ZITA_CELLS="$PWD/target/zita/zita_cells" taskset -c 0 \
    cargo bench --bench convolution -- zita "$@"
