#!/usr/bin/env bash
# Profile-guided optimisation of FluxForge, measured.
#
#   ./scripts/pgo_build.sh            # build, profile, rebuild, then measure (about 10 minutes)
#   ./scripts/pgo_build.sh --bundle   # also build the plugin bundles with the profile
#
# 1. an instrumented release build of the renderer (target/pgo-gen);
# 2. a representative workload through the whole chain: the demo phrase rendered through
#    every factory preset (dynamic EQ, spectral dynamics, every character mode with and
#    without oversampling, short and long rooms) at host blocks of 64, 256 and 1024;
# 3. `llvm-profdata merge` with the llvm-profdata of rustc's own LLVM (the `llvm-tools`
#    rustup component, installed here if missing; a system llvm-profdata of another
#    version cannot read the profile);
# 4. the optimised build (target/pgo-use), and the plain release build to compare with;
# 5. the measurement: the same renders with both binaries, interleaved, repeated, per
#    workload; it prints CPU seconds per second of audio for each and the ratio.
#
# The PGO build is an option, not the default: docs/BENCHMARKS.md says what it gained here.
set -euo pipefail
cd "$(dirname "$0")/.."

bundle=0
[[ "${1:-}" == "--bundle" ]] && bundle=1

host=$(rustc -vV | sed -n 's/^host: //p')
sysroot=$(rustc --print sysroot)
profdata="$sysroot/lib/rustlib/$host/bin/llvm-profdata"
if [[ ! -x "$profdata" ]]; then
    echo "== installing llvm-tools (llvm-profdata matching rustc's LLVM)"
    rustup component add llvm-tools
fi

data="$PWD/target/pgo-data"
rm -rf "$data"
mkdir -p "$data" out

echo "== instrumented build"
RUSTFLAGS="-Cprofile-generate=$data" cargo build --release --bin fluxforge-render \
    --target-dir target/pgo-gen --quiet
gen=target/pgo-gen/release/fluxforge-render

echo "== workload"
"$gen" --make-demo-input out/pgo-input.wav >/dev/null
mapfile -t presets < <("$gen" --list-presets | awk -F'  +' '{print $2}')
for block in 64 256 1024; do
    for p in "${presets[@]}"; do
        "$gen" out/pgo-input.wav out/pgo-out.wav --preset "$p" --block "$block" >/dev/null
    done
done
"$profdata" merge -o "$data/merged.profdata" "$data"

echo "== optimised build"
RUSTFLAGS="-Cprofile-use=$data/merged.profdata" \
    cargo build --release --bin fluxforge-render --target-dir target/pgo-use --quiet
if [[ $bundle == 1 ]]; then
    RUSTFLAGS="-Cprofile-use=$data/merged.profdata" \
        CARGO_TARGET_DIR=target/pgo-use cargo xtask bundle fluxforge --release
fi
cargo build --release --bin fluxforge-render --quiet
plain=target/release/fluxforge-render
pgo=target/pgo-use/release/fluxforge-render

echo "== measurement (CPU seconds per second of audio; 5 interleaved rounds, median)"
# A longer input for steadier timing: the demo phrase eight times over (about 40 s).
audio_s=$(python3 - <<'EOF'
import struct
data = open("out/pgo-input.wav", "rb").read()
assert data[:4] == b"RIFF" and data[8:12] == b"WAVE"
pos, chunks = 12, []
while pos + 8 <= len(data):
    cid, size = data[pos:pos + 4], struct.unpack("<I", data[pos + 4:pos + 8])[0]
    chunks.append((cid, data[pos + 8:pos + 8 + size]))
    pos += 8 + size + (size & 1)
fmt = dict(chunks)[b"fmt "]
rate, block_align = struct.unpack("<I", fmt[4:8])[0], struct.unpack("<H", fmt[12:14])[0]
out = b"".join(
    c + struct.pack("<I", len(b)) + b + b"\0" * (len(b) & 1)
    for c, b in ((c, b * 8 if c == b"data" else b) for c, b in chunks)
)
open("out/pgo-long.wav", "wb").write(b"RIFF" + struct.pack("<I", 4 + len(out)) + b"WAVE" + out)
print(8 * len(dict(chunks)[b"data"]) / block_align / rate)
EOF
)
workloads=(
    "reverb only (Vocal Hall Long)|--preset vocal-hall-long"
    "dynamic EQ (De-Ess)|--preset de-ess"
    "spectral dynamics (De-Harsh Vocal)|--preset de-harsh-vocal"
    "character, tape + 2x (Tape Saturation)|--preset tape-saturation"
    "everything on|--preset mix-glue-warmth --set sat_mode=Warm --set sat_os=On --set spec_on=On --set eq_on_1=On --set eq_dyn_1=Down --set eq_on_2=On --set eq_dyn_2=Down --set eq_on_3=On --set eq_dyn_3=Down --set eq_on_4=On --set eq_dyn_4=Down --set eq_on_5=On --set eq_dyn_5=Down"
)
cpu() { # command... -> CPU seconds (user + system) it took
    python3 - "$@" <<'EOF'
import resource, subprocess, sys
subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
u = resource.getrusage(resource.RUSAGE_CHILDREN)
print(u.ru_utime + u.ru_stime)
EOF
}
printf '| workload | release | PGO | PGO / release |\n|---|---:|---:|---:|\n'
for w in "${workloads[@]}"; do
    name=${w%%|*}
    read -r -a args <<<"${w#*|}"
    a=()
    b=()
    for _ in 1 2 3 4 5; do
        a+=("$(cpu "$plain" out/pgo-long.wav out/pgo-out.wav "${args[@]}" --block 256)")
        b+=("$(cpu "$pgo" out/pgo-long.wav out/pgo-out.wav "${args[@]}" --block 256)")
    done
    python3 - "$name" "$audio_s" "${a[*]}" "${b[*]}" <<'EOF'
import statistics, sys
name, secs = sys.argv[1], float(sys.argv[2])
a = statistics.median(map(float, sys.argv[3].split())) / secs
b = statistics.median(map(float, sys.argv[4].split())) / secs
print(f"| {name} | {a:.5f} | {b:.5f} | {b / a:.3f} |")
EOF
done
