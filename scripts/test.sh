#!/usr/bin/env bash
# Runs the whole FluxForge test suite:
#   1. formatting and lints (rustfmt, clippy with warnings as errors);
#   2. one test build (the `test` profile: optimised, with debug assertions) with nice-plug's
#      `assert_process_allocs`: its cdylib is the allocation-checked plugin, run under the CLAP
#      host tests (any allocation in process() aborts them);
#   3. the release bundles and renderer;
#   4. unit, DSP and real-time tests, and the CLAP host tests on the release bundle; the DSP
#      unit tests again on the baseline (non-AVX2) kernels;
#   5. the release VST3 under pedalboard, checked against the offline renderer;
#   6. the other platforms (docs/PLATFORMS.md): aarch64 Linux under qemu-user and Windows
#      under Wine, each the smoke subset of the library's tests and renders compared with this
#      machine's; macOS type-checked for both architectures.
# Every cargo call of steps 2-4 uses the same profile and features, so the test build is
# compiled once. Prints the time of each step at the end. FLUXFORGE_SKIP_CROSS=1 leaves out
# step 6.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
timings=()

step() {
  local name=$1 t0
  shift
  echo "== $name"
  t0=$(date +%s)
  "$@"
  timings+=("$(printf '%5d s  %s' $(($(date +%s) - t0)) "$name")")
}

lints() {
  cargo fmt --all --check
  cargo clippy --workspace --all-targets --features standalone -- -D warnings
}

# The features of every test-profile cargo call (one build serves them all): the allocation
# checker, and the standalone (tests/window_drop.rs opens its real window).
TEST=(--features "assert_process_allocs standalone")

test_build() {
  cargo test "${TEST[@]}" --no-run
}

# The test build's cdylib (built with the allocation checker) as a CLAP bundle; on Linux a CLAP
# bundle is the shared library itself.
alloc_checked() {
  mkdir -p target/alloc-check
  cp target/debug/deps/libfluxforge.so target/alloc-check/FluxForge.clap
  FLUXFORGE_CLAP=target/alloc-check/FluxForge.clap cargo test "${TEST[@]}" --test clap_host --test clap_recall
}

release_build() {
  # Builds the library and the binaries (the renderer among them) of the package.
  cargo xtask bundle fluxforge --release
}

cross_platform() {
  local t=$1
  ./scripts/cross.sh test "$t"
  ./scripts/cross.sh renders "$t"
}

step "dependencies" ./scripts/deps.sh test
step "formatting and lints" lints
step "test build (allocation-checked)" test_build
step "release bundles and renderer" release_build
step "allocation-checked plugin under the CLAP host tests" alloc_checked
step "Rust tests" cargo test "${TEST[@]}"
step "DSP unit tests on the baseline kernels" env FLUXFORGE_SIMD=baseline cargo test "${TEST[@]}" --lib -- dsp::
step "VST3 host tests (pedalboard)" .venv/bin/python -m pytest -q tests/vst3_host.py
if [ "${FLUXFORGE_SKIP_CROSS:-0}" != 1 ]; then
  step "aarch64 Linux under qemu-user: smoke tests and renders" cross_platform aarch64-unknown-linux-gnu
  step "Windows under Wine: smoke tests and renders" cross_platform x86_64-pc-windows-gnu
  step "macOS type-check (aarch64 and x86_64)" ./scripts/cross.sh check-macos
fi

echo "== per-step times"
printf '%s\n' "${timings[@]}"
echo "== whole suite took $(($(date +%s) - start)) s"
