#!/usr/bin/env bash
# Runs the whole FluxForge test suite:
#   1. the plugin built in debug with nice-plug's assert_process_allocs, under the CLAP host
#      test (any allocation in process() aborts it);
#   2. unit, DSP and real-time tests, and the CLAP host tests on the release bundle; the DSP
#      unit tests again on the baseline (non-AVX2) kernels;
#   3. the release VST3 under pedalboard, checked against the offline renderer.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
./scripts/deps.sh test

echo "== allocation-checked debug bundle"
cargo xtask bundle fluxforge --features assert_process_allocs
mkdir -p target/alloc-check
cp target/bundled/FluxForge.clap target/alloc-check/FluxForge.clap
FLUXFORGE_CLAP=target/alloc-check/FluxForge.clap cargo test --test clap_host --test clap_recall

echo "== release bundles and renderer"
cargo xtask bundle fluxforge --release
cargo build --release --bin fluxforge-render

echo "== Rust tests"
cargo test --workspace

echo "== DSP unit tests on the baseline kernels (the path of CPUs without AVX2/FMA)"
FLUXFORGE_SIMD=baseline cargo test --lib -- dsp::

echo "== VST3 host tests (pedalboard)"
.venv/bin/python -m pytest -q tests/vst3_host.py

echo "== whole suite took $(( $(date +%s) - start )) s"
