"""Host-level tests of the bundled VST3 (target/bundled/FluxForge.vst3) through Spotify's
pedalboard, the way a DAW loads it. Run by scripts/test.sh inside the project's venv.

The reference is the offline renderer (target/release/fluxforge-render), which drives the same
engine: matching it proves the VST3 adds no latency and applies the parameters.
"""

import os
import struct
import subprocess
import tempfile

import numpy as np
import pedalboard
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VST3 = os.path.join(ROOT, "target", "bundled", "FluxForge.vst3")
RENDER = os.path.join(ROOT, "target", "release", "fluxforge-render")
RATE = 48000


def params_table():
    """The parameter table as the renderer prints it (`--list-params`): by ID, the plain
    range (lo, hi) or the list of choices. Ranges and spellings live in the plugin only."""
    out = subprocess.run([RENDER, "--list-params"], check=True, capture_output=True, text=True)
    table = {}
    for line in out.stdout.splitlines()[1:]:
        pid, rest = line[:15].strip(), line[39:]
        if ".." in rest.split("  ")[0]:
            lo, hi = rest.split()[0], rest.split()[2]
            table[pid] = (float(lo), float(hi))
        else:
            table[pid] = [c.strip() for c in rest.split("  ")[0].split(",")]
    return table


TABLE = params_table() if os.path.exists(RENDER) else {}


def raw(pid, value):
    """The normalized value pedalboard sets for `value` of parameter `pid`: a choice by name
    (case, spaces and dashes ignored), or a plain value of the linear parameters these tests
    move (gains, drive, pre-delay)."""
    entry = TABLE[pid]
    if isinstance(entry, list):
        fold = lambda s: s.lower().replace(" ", "").replace("-", "")
        names = [fold(c) for c in entry]
        return names.index(fold(value)) / (len(names) - 1)
    lo, hi = entry
    return (value - lo) / (hi - lo)


def gain_raw(db):
    return raw("in_gain", db)


@pytest.fixture
def plugin():
    assert os.path.isdir(VST3), "bundle first: cargo xtask bundle fluxforge --release"
    return pedalboard.load_plugin(VST3)


def apply(plugin, **raw):
    """Sets parameters by normalized value and lets the plugin receive them: VST3 delivers
    parameter changes inside the next process call, so run one short block of silence."""
    for name, value in raw.items():
        plugin.parameters[name].raw_value = value
    plugin.process(np.zeros((2, 64), np.float32), RATE, buffer_size=64, reset=True)


def noise(n, seed):
    rng = np.random.default_rng(seed)
    return (0.25 * rng.uniform(-1, 1, size=(2, n))).astype(np.float32)


def write_float_wav(path, x, rate):
    """Minimal 32-bit float WAV writer (format tag 3), interleaved."""
    data = np.ascontiguousarray(x.T, dtype="<f4").tobytes()
    ch = x.shape[0]
    fmt = struct.pack("<HHIIHH", 3, ch, rate, rate * ch * 4, ch * 4, 32)
    with open(path, "wb") as f:
        f.write(b"RIFF" + struct.pack("<I", 4 + 8 + len(fmt) + 8 + len(data)) + b"WAVE")
        f.write(b"fmt " + struct.pack("<I", len(fmt)) + fmt)
        f.write(b"data" + struct.pack("<I", len(data)) + data)


def read_float_wav(path):
    with open(path, "rb") as f:
        b = f.read()
    assert b[:4] == b"RIFF" and b[8:12] == b"WAVE"
    pos, ch = 12, None
    while pos < len(b):
        cid, size = b[pos:pos + 4], struct.unpack("<I", b[pos + 4:pos + 8])[0]
        body = b[pos + 8:pos + 8 + size]
        if cid == b"fmt ":
            tag, ch = struct.unpack("<HH", body[:4])
            # 3 = IEEE float; 0xFFFE = extensible, whose sub-format GUID starts with the tag.
            if tag == 0xFFFE:
                tag = struct.unpack("<H", body[24:26])[0]
            assert tag == 3
        elif cid == b"data":
            return np.frombuffer(body, dtype="<f4").reshape(-1, ch).T
        pos += 8 + size + (size & 1)
    raise AssertionError("no data chunk")


def render(x, *flags):
    with tempfile.TemporaryDirectory() as d:
        src, dst = os.path.join(d, "in.wav"), os.path.join(d, "out.wav")
        write_float_wav(src, x, RATE)
        subprocess.run([RENDER, src, dst, "--tail", "0", "--quiet", *flags], check=True)
        return read_float_wav(dst)


def test_loads_lists_parameters_and_reports_zero_latency(plugin):
    names = {p.name for p in plugin.parameters.values()}
    assert {"Input", "Output", "Mix", "Bypass"} <= names
    assert plugin.reported_latency_samples == 0
    assert plugin.is_effect


@pytest.mark.parametrize("block", [1, 64, 512, 8192])
def test_block_sizes_match_the_offline_renderer(plugin, block):
    x = noise(RATE // 2 if block == 1 else RATE * 2, 1)
    apply(plugin, mix=0.6, input_db=gain_raw(-3.0), output_db=gain_raw(2.0))
    y = plugin.process(x, RATE, buffer_size=block, reset=True)
    assert np.isfinite(y).all()
    ref = render(x, "--mix", "0.6", "--in-gain", "-3", "--out-gain", "2")
    assert y.shape == ref.shape
    err = np.abs(y - ref).max()
    assert err < 1e-4, f"block {block}: max diff {err}"


def test_delta_onset_is_at_sample_zero(plugin):
    x = np.zeros((2, 8000), np.float32)
    x[:, 0] = 1.0
    apply(plugin, mix=1.0)
    y = plugin.process(x, RATE, buffer_size=256, reset=True)
    ref = render(x, "--mix", "1")
    assert abs(y[0, 0]) > 0.1, "wet signal starts at sample 0"
    assert np.abs(y - ref).max() < 1e-4


def test_bypass_is_a_null(plugin):
    x = noise(RATE, 2)
    apply(plugin, bypass=1.0)
    y = plugin.process(x, RATE, buffer_size=512, reset=True)
    assert np.array_equal(y, x)


def test_state_round_trip(plugin):
    x = noise(RATE, 3)
    apply(plugin, mix=0.85, output_db=gain_raw(-9.0))
    state = plugin.raw_state
    before = plugin.process(x, RATE, buffer_size=512, reset=True)
    apply(plugin, mix=0.1, output_db=gain_raw(6.0))
    changed = plugin.process(x, RATE, buffer_size=512, reset=True)
    assert np.abs(changed - before).max() > 1e-3
    plugin.raw_state = state
    assert abs(plugin.parameters["mix"].raw_value - 0.85) < 1e-6
    after = plugin.process(x, RATE, buffer_size=512, reset=True)
    assert np.abs(after - before).max() < 1e-6


def test_non_finite_input_does_not_poison_output(plugin):
    x = noise(RATE, 4)
    x[0, 100] = np.nan
    x[1, 200] = np.inf
    apply(plugin, mix=0.5)
    y = plugin.process(x, RATE, buffer_size=512, reset=True)
    assert np.isfinite(y).all()


@pytest.mark.parametrize("mode", ["subtle", "warm", "tape"])
def test_character_modes_match_the_offline_renderer(plugin, mode):
    x = noise(RATE, 5) * 3.0
    apply(plugin, character=raw("sat_mode", mode), drive_db=raw("sat_drive", 18.0), oversample=1.0, mix=0.2)
    y = plugin.process(x, RATE, buffer_size=333, reset=True)
    ref = render(x, "--mode", mode, "--drive", "18", "--oversample", "--mix", "0.2")
    assert np.abs(y - ref).max() < 1e-4
    clean = render(x, "--mix", "0.2")
    assert np.abs(y - clean).max() > 0.05, "the character stage changes the sound"


# --- Session recall while an IR render is pending -------------------------------------------

BLOCK = 512


def room_raw(name):
    return raw("room", name)


class Paced:
    """Plays one long noise input block by block, as a host does in real time (sleeping a
    little per block so the background loader works), recording where each event happened."""

    def __init__(self, plugin, seconds):
        self.plugin = plugin
        self.x = noise(int(seconds * RATE), 21)
        self.y = np.zeros_like(self.x)
        self.pos = 0
        self.marks = []

    def play(self, blocks, mark=None):
        import time

        if mark is not None:
            self.marks.append((self.pos, mark))
        for _ in range(blocks):
            a, b = self.pos, self.pos + BLOCK
            self.y[:, a:b] = self.plugin.process(
                self.x[:, a:b], RATE, buffer_size=BLOCK, reset=(a == 0)
            )
            self.pos = b
            time.sleep(0.003)

    def set(self, **raw):
        # VST3 delivers parameter changes inside the next process call.
        for name, value in raw.items():
            self.plugin.parameters[name].raw_value = value

    def assert_settled(self, start, end, want, what):
        """The last 0.5 s of [start, end) equals the renderer's output for the target."""
        tail = slice(end - RATE // 2, end)
        err = np.abs(self.y[:, tail] - want[:, tail]).max()
        assert err < 1e-4, f"{what}: does not play the selected IR (max diff {err})"


PHASE = 3 * RATE // BLOCK  # blocks per settling phase (3 s of audio; the last 0.5 s is checked)


@pytest.mark.parametrize("delay", [1, 2, 10, 50, 200])
def test_a_state_loaded_while_a_room_renders_plays_its_own_room(delay):
    default_state = pedalboard.load_plugin(VST3).raw_state
    p = pedalboard.load_plugin(VST3)
    s = Paced(p, 20 + (delay + 4 * PHASE) * BLOCK / RATE)
    s.play(20)
    s.set(room=room_raw("cathedral"))
    s.play(delay)
    p.raw_state = default_state
    s.play(PHASE, mark="medium-room")
    for room in ["plate", "small-room", "large-hall"]:
        s.set(room=room_raw(room))
        s.play(PHASE, mark=room)
    n = s.pos
    for i, (start, room) in enumerate(s.marks):
        end = s.marks[i + 1][0] if i + 1 < len(s.marks) else n
        want = render(s.x[:, :n], "--room", room)
        s.assert_settled(start, end, want, f"delay {delay}, then {room}")


@pytest.mark.parametrize("delay", [2, 50])
def test_a_state_loaded_while_an_edit_renders_plays_its_own_edits(delay):
    default_state = pedalboard.load_plugin(VST3).raw_state
    p = pedalboard.load_plugin(VST3)
    name = next(k for k in p.parameters if k.startswith("pre_delay"))
    s = Paced(p, 20 + (delay + 4 * PHASE) * BLOCK / RATE)
    s.play(20)
    s.set(**{name: raw("ir_predelay", 120)})
    s.play(delay)
    p.raw_state = default_state
    s.play(PHASE, mark=0)
    for ms in [40, 200, 10]:
        s.set(**{name: raw("ir_predelay", ms)})
        s.play(PHASE, mark=ms)
    n = s.pos
    for i, (start, ms) in enumerate(s.marks):
        end = s.marks[i + 1][0] if i + 1 < len(s.marks) else n
        want = render(s.x[:, :n], "--predelay", str(ms))
        s.assert_settled(start, end, want, f"delay {delay}, then pre-delay {ms} ms")


# --- Damaged states -----------------------------------------------------------------------
# pedalboard hands the VST3 state over in JUCE's container: "VC2!", the XML's length (u32 LE),
# the XML, a NUL; the plugin's own JSON is the <IComponent> element in JUCE's base64 (the byte
# count, ".", then 6-bit groups of the bit stream, least significant first, over its alphabet).
JUCE_B64 = ".ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+"


def component_json(state):
    import re

    text = re.search(rb"<IComponent>([^<]*)</IComponent>", state).group(1).decode()
    size, data = text.split(".", 1)
    bits = sum(JUCE_B64.index(c) << (6 * i) for i, c in enumerate(data))
    return (bits & ((1 << (8 * int(size))) - 1)).to_bytes(int(size), "little")


def with_component_json(state, js):
    import re

    bits = int.from_bytes(js, "little")
    n = (len(js) * 8 + 5) // 6
    text = f"{len(js)}." + "".join(JUCE_B64[(bits >> (6 * i)) & 63] for i in range(n))
    xml = state[8:].rstrip(b"\x00")
    xml = re.sub(rb"<IComponent>[^<]*</IComponent>", f"<IComponent>{text}</IComponent>".encode(), xml)
    return b"VC2!" + struct.pack("<I", len(xml)) + xml + b"\x00"


def stored_ir(seconds, seed):
    """A decaying-noise stereo IR encoded as the plugin embeds it (f32 LE, byte planes, raw
    DEFLATE, base64)."""
    import base64
    import zlib

    n = int(seconds * RATE)
    rng = np.random.default_rng(seed)
    env = np.exp(-np.arange(n) / (0.08 * RATE))
    ch = [(0.3 * rng.uniform(-1, 1, n) * env).astype("<f4") for _ in range(2)]
    flat = np.concatenate(ch).tobytes()
    planes = b"".join(flat[p::4] for p in range(4))
    z = zlib.compressobj(1, zlib.DEFLATED, -15)
    packed = z.compress(planes) + z.flush()
    return {
        "format": 1, "name": "Test IR", "path": "test.wav", "sample_rate": RATE,
        "channels": 2, "frames": n, "data": base64.b64encode(packed).decode(),
    }


def session_json():
    """A session's JSON: the test IR embedded and selected, mix and output gain moved."""
    import json

    js = json.loads(component_json(pedalboard.load_plugin(VST3).raw_state))
    js["params"]["room"] = {"i32": TABLE["room"].index("Loaded File")}
    js["params"]["mix"] = {"f32": 0.62}
    js["params"]["out_gain"] = {"f32": -4.5}
    js["fields"]["ir"] = json.dumps(stored_ir(0.3, 8), separators=(",", ":"))
    return js


def settled_output(state):
    p = pedalboard.load_plugin(VST3)
    p.raw_state = state
    s = Paced(p, 2.0)
    s.play(int(2.0 * RATE) // BLOCK)
    return p, s.y[:, s.pos - RATE // 2 : s.pos]


def test_a_damaged_state_keeps_its_intact_values_and_ir():
    import json

    base = pedalboard.load_plugin(VST3).raw_state
    js = session_json()
    good = json.dumps(js, separators=(",", ":")).encode()
    p_ref, want = settled_output(with_component_json(base, good))
    _, default_out = settled_output(base)
    assert np.abs(want - default_out).max() > 1e-2, "the session must sound different"
    # One damaged byte in the first parameter's entry (bypass, at its default), and a later
    # version's extra keys and a value type this version does not know.
    i = good.index(b'"bypass":') + len(b'"bypass":')
    damaged = good[:i] + b"}" + good[i + 1 :]
    later = dict(js, ab={"slot": "B"})
    later["params"] = dict(js["params"], eq_band9_gain={"f32": 1.0}, eq_freq_1={"f64": 300.0})
    for what, body in [
        ("damaged byte", damaged),
        ("later version", json.dumps(later, separators=(",", ":")).encode()),
    ]:
        p, got = settled_output(with_component_json(base, body))
        assert abs(p.parameters["mix"].raw_value - p_ref.parameters["mix"].raw_value) < 1e-6, what
        err = np.abs(got - want).max()
        assert err < 1e-5, f"{what}: the recovered session does not play as saved ({err})"
