#!/usr/bin/env bash
# Regenerates the factory impulse responses in impulses/ with the project's own generator
# (src/dsp/ir_gen.rs: image-source early reflections + two-band exponentially decaying noise
# tail, decorrelated per channel). Deterministic: the same code gives the same files.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo run --release --bin fluxforge-irgen -- impulses
