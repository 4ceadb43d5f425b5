#!/usr/bin/env bash
# Builds FluxForge's release archives into dist/, one per platform, with SHA-256 sums:
#
#   dist/FluxForge-<version>-x86_64-unknown-linux-gnu.tar.gz
#   dist/FluxForge-<version>-aarch64-unknown-linux-gnu.tar.gz
#   dist/FluxForge-<version>-x86_64-pc-windows-gnu.zip
#   dist/SHA256SUMS
#
# Each archive holds the CLAP and VST3 bundles in the layout that platform's hosts expect
# (VST3: FluxForge.vst3/Contents/<arch>-<os>/...), the offline renderer, the standalone
# application, the README and the manual. Installs what it needs (rust targets, cross linkers) when
# missing. Usage: scripts/release.sh [TARGET...] (default: all three).
set -euo pipefail
cd "$(dirname "$0")/.."

targets=("$@")
[ ${#targets[@]} -gt 0 ] ||
  targets=(x86_64-unknown-linux-gnu aarch64-unknown-linux-gnu x86_64-pc-windows-gnu)

version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)
./scripts/deps.sh build
cross=()
for t in "${targets[@]}"; do
  [ "$t" = x86_64-unknown-linux-gnu ] || cross+=("$t")
done
[ ${#cross[@]} -eq 0 ] || ./scripts/cross.sh setup "${cross[@]}"

# The standalone links the platform's audio APIs: ALSA and JACK on Linux (per architecture).
standalone_deps() {
  case "$1" in
    x86_64-unknown-linux-gnu) ./scripts/deps.sh gui ;;
    aarch64-unknown-linux-gnu)
      if ! dpkg -s libasound2-dev:arm64 libjack-jackd2-dev:arm64 >/dev/null 2>&1; then
        local sudo=""
        [ "$(id -u)" -eq 0 ] || sudo="sudo"
        $sudo dpkg --add-architecture arm64
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
          libasound2-dev:arm64 libjack-jackd2-dev:arm64 >/dev/null
      fi
      export PKG_CONFIG_ALLOW_CROSS=1
      export PKG_CONFIG_PATH=/usr/lib/aarch64-linux-gnu/pkgconfig
      export PKG_CONFIG_SYSROOT_DIR=/
      ;;
  esac
}

rm -rf dist
mkdir -p dist
# The bundler always writes target/bundled/: keep this machine's bundles and put them back.
keep=target/bundled-native
rm -rf "$keep" && mkdir -p "$keep"
cp -r target/bundled/. "$keep/" 2>/dev/null || true
trap 'rm -rf target/bundled && mv "$keep" target/bundled' EXIT
for t in "${targets[@]}"; do
  echo "== $t"
  name="FluxForge-$version-$t"
  stage="target/release-stage/$name"
  rm -rf "$stage" && mkdir -p "$stage"
  native=()
  [ "$t" = x86_64-unknown-linux-gnu ] || native=(--target "$t")
  out="target/$t/release"
  [ "$t" = x86_64-unknown-linux-gnu ] && out=target/release
  exe=""
  case "$t" in *windows*) exe=.exe ;; esac

  # Only this target's binaries in its bundles (the bundler adds to what it finds).
  rm -rf target/bundled
  cargo xtask bundle fluxforge --release "${native[@]}"
  cp -r target/bundled/FluxForge.clap target/bundled/FluxForge.vst3 "$stage/"
  cargo build --release "${native[@]}" --bin fluxforge-render
  cp "$out/fluxforge-render$exe" "$stage/"
  (
    standalone_deps "$t"
    cargo build --release "${native[@]}" --features standalone --bin fluxforge-standalone
  )
  cp "$out/fluxforge-standalone$exe" "$stage/"
  cp README.md "$stage/"
  mkdir -p "$stage/docs" && cp docs/MANUAL.md "$stage/docs/"
  if [ -n "$exe" ]; then
    (cd target/release-stage && rm -f "$name.zip" && python3 -m zipfile -c "$name.zip" "$name")
    mv "target/release-stage/$name.zip" dist/
  else
    tar -C target/release-stage -czf "dist/$name.tar.gz" "$name"
  fi
done
(cd dist && sha256sum -- * > SHA256SUMS)
echo "archives:"
cat dist/SHA256SUMS
