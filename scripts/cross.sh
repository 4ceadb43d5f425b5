#!/usr/bin/env bash
# FluxForge on the platforms other than the build machine's (see docs/PLATFORMS.md):
#
#   scripts/cross.sh setup [TARGET...]   install what cross builds need (rust targets, linkers,
#                                        Wine, qemu-user), only what is missing
#   scripts/cross.sh test TARGET [all]   build the library's tests for TARGET and run them there
#                                        (Windows under Wine, aarch64 under qemu-user); without
#                                        `all`, the smoke subset CI runs
#   scripts/cross.sh renders TARGET [all] render the demo phrase (and with `all` every factory
#                                        preset) with TARGET's renderer and compare each file
#                                        with the build machine's render of the same thing
#   scripts/cross.sh clap-host TARGET    the CLAP host tests against TARGET's bundle, in a
#                                        test host built for TARGET
#   scripts/cross.sh check-macos         type-check for both macOS architectures (every target
#                                        for Apple Silicon, library and binaries for Intel)
#   scripts/cross.sh asm                 count the vector instructions of each aarch64 kernel
#   scripts/cross.sh screenshots-windows the Windows standalone under Wine on a virtual X
#                                        display: both editor pages saved to docs/
#
# TARGET: x86_64-pc-windows-gnu or aarch64-unknown-linux-gnu. Tests and renders of cross
# targets build in the `cross` profile (Cargo.toml: release code generation without LTO),
# so they share one dependency build; release archives are built by scripts/release.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

WINDOWS=x86_64-pc-windows-gnu
ARM=aarch64-unknown-linux-gnu
MACS=(aarch64-apple-darwin x86_64-apple-darwin)

# shellcheck source=apt.sh
. scripts/apt.sh
# shellcheck source=xwindow.sh
. scripts/xwindow.sh

rust_target() {
  rustup target list --installed 2>/dev/null | grep -qx "$1" || rustup target add "$1"
}

setup() {
  local targets=("$@")
  [ ${#targets[@]} -gt 0 ] || targets=("$WINDOWS" "$ARM")
  ./scripts/deps.sh build
  for t in "${targets[@]}"; do
    rust_target "$t"
    case "$t" in
      "$WINDOWS") apt_install gcc-mingw-w64-x86-64 wine64 ;;
      "$ARM") apt_install gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user ;;
      *-apple-darwin) ;;
      *) echo "unknown target $t" >&2; exit 2 ;;
    esac
  done
}

# Runs a program built for TARGET (the same runners cargo uses, .cargo/config.toml).
run_on() {
  local t=$1
  shift
  case "$t" in
    "$WINDOWS") scripts/cross/wine-run.sh "$@" ;;
    "$ARM") qemu-aarch64 -L /usr/aarch64-linux-gnu -E LD_LIBRARY_PATH=/usr/aarch64-linux-gnu/lib "$@" ;;
    *) "$@" ;;
  esac
}

exe() {
  case "$1" in
    "$WINDOWS") echo "target/$1/cross/$2.exe" ;;
    native) echo "target/release/$2" ;;
    *) echo "target/$1/cross/$2" ;;
  esac
}

# The DSP and unit tests that make the smoke subset: every DSP module (the SIMD levels of the
# target included), the state and preset readers, the audio-file front.
SMOKE=(dsp:: state_repair:: preset:: ir_file:: params:: worker::)

cmd_test() {
  local t=$1 scope=${2:-smoke}
  setup "$t"
  local filters=()
  [ "$scope" = all ] || filters=("${SMOKE[@]}")
  build_for "$t"
  # The library's own tests (the editor's GUI tests need a display: not run here).
  cargo test --profile cross --lib --target "$t" -- --skip editor:: "${filters[@]}"
}

# Builds TARGET's library tests and renderer in one cargo call. Naming an integration test
# (render_cli, which runs the renderer) makes cargo resolve features with the dev-dependencies
# for the renderer too, so the renderer and the tests share every dependency build; a
# separate `cargo build --bin` would build the GUI stack a second time with other features.
build_for() {
  cargo test --profile cross --target "$1" --lib --test render_cli --no-run
}

cmd_renders() {
  local t=$1 scope=${2:-smoke}
  setup "$t"
  cargo build --release --bin fluxforge-render
  build_for "$t"
  local dir=target/cross-renders/$t
  rm -rf "$dir" && mkdir -p "$dir/native" "$dir/target"
  local native target
  native=$(exe native fluxforge-render)
  target=$(exe "$t" fluxforge-render)
  "$native" --make-demo-input "$dir/dry-pcm.wav"
  python3 scripts/cross/to_float_wav.py "$dir/dry-pcm.wav" "$dir/dry.wav"
  local names=("demo")
  if [ "$scope" = all ]; then
    while IFS= read -r f; do names+=("$f"); done < <(cd presets && ls */*.json | sed 's/\.json$//')
  else
    names+=("Spaces/Piano Hall" "Drums/Big Drums Crush" "Mix Repair/De-Ess" "Character/Tape Saturation")
  fi
  for name in "${names[@]}"; do
    local flags=(--quiet --tail 1)
    [ "$name" = demo ] && flags+=(--mix 0.35) || flags+=(--preset "presets/$name.json")
    local out=${name//\//_}.wav
    "$native" "$dir/dry.wav" "$dir/native/$out" "${flags[@]}"
    run_on "$t" "$target" "$dir/dry.wav" "$dir/target/$out" "${flags[@]}"
  done
  FLUXFORGE_CROSS_RENDERS="$dir" cargo test --test cross_renders -- --nocapture
}

cmd_clap_host() {
  local t=$1
  setup "$t"
  # The bundler always writes target/bundled/: keep this machine's bundles aside meanwhile.
  local keep=target/bundled-native
  rm -rf "$keep" && mkdir -p "$keep"
  cp -r target/bundled/. "$keep/" 2>/dev/null || true
  rm -rf target/bundled
  cargo xtask bundle fluxforge --profile cross --target "$t"
  local bundle="target/bundled-$t"
  rm -rf "$bundle" && mkdir -p "$bundle"
  cp -r target/bundled/FluxForge.clap target/bundled/FluxForge.vst3 "$bundle/"
  rm -rf target/bundled && mv "$keep" target/bundled
  # The Windows test host is a Windows executable: give it a Windows path to the bundle.
  local path="$bundle/FluxForge.clap"
  [ "$t" = "$WINDOWS" ] && path="Z:$(realpath "$path" | tr / '\\')"
  FLUXFORGE_CLAP="$path" cargo test --profile cross --target "$t" --test clap_host -- --test-threads=1
}

# Every target (tests and benches included) for Apple Silicon; the library and binaries for
# Intel Macs, whose code differs from Apple Silicon's only in the library's architecture cfgs.
cmd_check_macos() {
  for t in "${MACS[@]}"; do rust_target "$t"; done
  echo "== cargo check --all-targets --target ${MACS[0]}"
  cargo check --all-targets --target "${MACS[0]}"
  echo "== cargo check --lib --bins --target ${MACS[1]}"
  cargo check --lib --bins --target "${MACS[1]}"
}

# Counts NEON vector instructions (operands on v registers: `.4s`, `.2d`, `q` loads) in the
# aarch64 library's kernels (release code generation, the cross profile): the dispatcher's NEON and baseline entry points of every
# SIMD kernel. A kernel that did not vectorise shows (almost) none.
cmd_asm() {
  setup "$ARM"
  apt_install binutils-aarch64-linux-gnu
  cargo build --profile cross --lib --target "$ARM"
  local so="target/$ARM/cross/libfluxforge.so"
  aarch64-linux-gnu-objdump -d --no-show-raw-insn -C "$so" | python3 scripts/cross/count_vector.py
}

# The Windows standalone (the `cross` profile) under Wine on a virtual X display, in demo mode
# with no audio device: each editor page saved as docs/editor-windows-<page>.png.
cmd_screenshots_windows() {
  setup "$WINDOWS"
  ./scripts/deps.sh gui
  cargo build --profile cross --target "$WINDOWS" --features standalone --bin fluxforge-standalone
  local app
  app=$(exe "$WINDOWS" fluxforge-standalone)
  local display=:96
  Xvfb "$display" -screen 0 1600x1000x24 +extension GLX +render -nolisten tcp >/dev/null 2>&1 &
  local xvfb=$!
  local pid=""
  trap 'kill $pid $xvfb 2>/dev/null || true' RETURN
  sleep 1
  for page in reverb dynamics; do
    local preset="Vocal Plate"
    [ "$page" = dynamics ] && preset="De-Harsh Vocal"
    DISPLAY=$display FLUXFORGE_DEMO=1 FLUXFORGE_DEMO_PRESET="$preset" FLUXFORGE_EDITOR_PAGE=$page \
      scripts/cross/wine-run.sh "$app" --backend dummy >target/wine-standalone.log 2>&1 &
    pid=$!
    local win
    win=$(wait_for_window "$display" '/"FluxForge"/' 120 target/wine-standalone.log) || return 1
    sleep 6 # the demo phrase plays: spectra, curves and meters move
    DISPLAY=$display import -window "$win" "docs/editor-windows-$page.png"
    echo "saved docs/editor-windows-$page.png"
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    # Wine keeps its server a moment after the program: let it go before the next page.
    WINEPREFIX=${WINEPREFIX:-target/wine-prefix} wineserver -k 2>/dev/null || true
    pid=""
  done
}

case "${1:-}" in
  setup) shift; setup "$@" ;;
  screenshots-windows) cmd_screenshots_windows ;;
  test) cmd_test "$2" "${3:-smoke}" ;;
  renders) cmd_renders "$2" "${3:-smoke}" ;;
  clap-host) cmd_clap_host "$2" ;;
  check-macos) cmd_check_macos ;;
  asm) cmd_asm ;;
  *) sed -n '2,20p' "$0"; exit 2 ;;
esac
