"""Rewrites a PCM WAV as 32-bit float (same rate and channels): the renderer writes its
output in its input's format, so a float input makes float renders that compare exactly."""
import struct
import sys
import wave

src, dst = sys.argv[1], sys.argv[2]
with wave.open(src, "rb") as w:
    ch, width, rate, n = w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes()
    raw = w.readframes(n)
scale = 1.0 / (1 << (8 * width - 1))
samples = []
for i in range(0, len(raw), width):
    b = raw[i:i + width]
    v = int.from_bytes(b, "little", signed=True) if width > 1 else b[0] - 128
    samples.append(v * scale)
data = struct.pack("<%df" % len(samples), *samples)
fmt = struct.pack("<HHIIHH", 3, ch, rate, rate * ch * 4, ch * 4, 32)
with open(dst, "wb") as f:
    f.write(b"RIFF" + struct.pack("<I", 4 + 8 + len(fmt) + 8 + len(data)) + b"WAVE")
    f.write(b"fmt " + struct.pack("<I", len(fmt)) + fmt)
    f.write(b"data" + struct.pack("<I", len(data)) + data)
