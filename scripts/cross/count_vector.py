"""Counts aarch64 vector instructions per function in `objdump -d -C` output (stdin).

A NEON instruction names vector registers with an arrangement (v3.4s, v0.2d, v1.16b ...) or
128-bit q registers. Prints, for the functions of fluxforge's DSP that hold any, the total
instruction count, the vector instruction count and the fused multiply-adds (fmla/fmls on
vectors), largest first; then checks that the SIMD kernels vectorised.
"""
import re
import sys

VECTOR = re.compile(r"\bv\d+\.(?:2s|4s|2d|4h|8h|8b|16b)\b|\bq\d+\b")
FMA = re.compile(r"^\s*[0-9a-f]+:\s+fml[as]\s+v\d+\.(?:4s|2d)")
HEAD = re.compile(r"^[0-9a-f]+ <(.*)>:$")

# By name; a generic function's instances (demangled without their type parameters) add up,
# and `instances` counts them.
functions = {}
instances = {}
name = None
for line in sys.stdin:
    m = HEAD.match(line)
    if m:
        name = m.group(1)
        functions.setdefault(name, [0, 0, 0])
        instances[name] = instances.get(name, 0) + 1
        continue
    if name is None or not re.match(r"^\s*[0-9a-f]+:\s", line):
        continue
    f = functions[name]
    f[0] += 1
    if VECTOR.search(line.split(":", 1)[1]):
        f[1] += 1
    if FMA.match(line):
        f[2] += 1

dsp = {n: c for n, c in functions.items() if "fluxforge::dsp::" in n and c[1] > 0}
print("| function (instances) | instructions | vector | fused multiply-add (vector) |")
print("|---|---:|---:|---:|")
for n, (total, vec, fma) in sorted(dsp.items(), key=lambda kv: -kv[1][1])[:25]:
    short = n if len(n) < 110 else n[:107] + "..."
    print(f"| `{short}` ({instances[n]}) | {total} | {vec} | {fma} |")

# The kernels written for the dispatcher (the FIR, the complex MAC, the shapers) are inlined
# into the NEON level's entry point, one instance per kernel: together they must run on
# vector fused multiply-adds.
neon = functions.get("fluxforge::dsp::simd::run_neon", [0, 0, 0])
total_vec = sum(c[1] for c in dsp.values())
print(f"\n{len(dsp)} DSP functions hold {total_vec} vector instructions; the NEON level's "
      f"{instances.get('fluxforge::dsp::simd::run_neon', 0)} kernel instances: "
      f"{neon[0]} instructions, {neon[1]} vector, {neon[2]} vector fused multiply-adds")
if neon[2] == 0:
    print("the NEON kernels did not vectorise with fused multiply-add")
    sys.exit(1)
