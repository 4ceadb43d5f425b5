"""Rewrites a PCM WAV (plain or WAVE_FORMAT_EXTENSIBLE) as 32-bit float, same rate and
channels: the renderer writes its output in its input's format, so a float input makes float
renders that compare exactly."""
import struct
import sys

src, dst = sys.argv[1], sys.argv[2]
raw = open(src, "rb").read()
assert raw[:4] == b"RIFF" and raw[8:12] == b"WAVE", "not a WAV file"
pos, ch, rate, bits, data = 12, None, None, None, None
while pos + 8 <= len(raw):
    cid, size = raw[pos:pos + 4], struct.unpack("<I", raw[pos + 4:pos + 8])[0]
    body = raw[pos + 8:pos + 8 + size]
    if cid == b"fmt ":
        _, ch, rate, _, _, bits = struct.unpack("<HHIIHH", body[:16])
    elif cid == b"data":
        data = body
    pos += 8 + size + (size & 1)
width = bits // 8
scale = 1.0 / (1 << (bits - 1))
samples = [int.from_bytes(data[i:i + width], "little", signed=True) * scale
           for i in range(0, len(data) - width + 1, width)]
out = struct.pack("<%df" % len(samples), *samples)
fmt = struct.pack("<HHIIHH", 3, ch, rate, rate * ch * 4, ch * 4, 32)
with open(dst, "wb") as f:
    f.write(b"RIFF" + struct.pack("<I", 4 + 8 + len(fmt) + 8 + len(out)) + b"WAVE")
    f.write(b"fmt " + struct.pack("<I", len(fmt)) + fmt)
    f.write(b"data" + struct.pack("<I", len(out)) + out)
