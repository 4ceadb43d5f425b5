//! The offline renderer as a user runs it: formats are preserved, bad input gives one clear
//! line and a non-zero exit, presets round-trip, and it matches the engine.

use std::path::{Path, PathBuf};
use std::process::Command;

use fluxforge::ir_file::{write_wav_file, WavEncoding};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_fluxforge-render"))
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("fluxforge-render-test-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d.join(name)
}

fn write(path: &Path, channels: u16, bits: u16, float: bool, frames: usize) {
    let encoding = if float {
        WavEncoding::Float
    } else {
        WavEncoding::Int(bits)
    };
    let samples = (0..frames * channels as usize).map(|i| ((i as f64 * 0.05).sin() * 0.5) as f32);
    write_wav_file(path, channels, 44_100, encoding, samples).unwrap();
}

fn fails_with(args: &[&str], needle: &str) {
    let out = bin().args(args).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{args:?} should fail");
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(err.contains(needle), "{err:?} should mention {needle:?}");
}

#[test]
fn preserves_format_and_makes_mono_stereo() {
    for (ch, bits, float) in [(2u16, 16u16, false), (1, 24, false), (2, 32, true)] {
        let (src, dst) = (
            tmp(&format!("in{ch}{bits}.wav")),
            tmp(&format!("out{ch}{bits}.wav")),
        );
        write(&src, ch, bits, float, 4410);
        let st = bin()
            .args([
                src.to_str().unwrap(),
                dst.to_str().unwrap(),
                "--tail",
                "0.5",
                "--quiet",
            ])
            .status()
            .unwrap();
        assert!(st.success());
        let r = hound::WavReader::open(&dst).unwrap();
        let s = r.spec();
        assert_eq!(
            (s.channels, s.bits_per_sample, s.sample_rate),
            (2, bits, 44_100)
        );
        assert_eq!(
            r.duration() as usize,
            4410 + 22_050,
            "input plus 0.5 s of tail"
        );
    }
}

#[test]
fn bad_input_gives_one_clear_line() {
    let out = tmp("o.wav");
    let o = out.to_str().unwrap();
    fails_with(&["/no/such/file.wav", o], "cannot read");
    let junk = tmp("junk.wav");
    std::fs::write(&junk, b"this is not audio").unwrap();
    fails_with(&[junk.to_str().unwrap(), o], "not a readable WAV");
    let three = tmp("three.wav");
    write(&three, 3, 16, false, 100);
    fails_with(&[three.to_str().unwrap(), o], "3 channels");
    let trunc = tmp("trunc.wav");
    write(&trunc, 2, 16, false, 1000);
    let bytes = std::fs::read(&trunc).unwrap();
    std::fs::write(&trunc, &bytes[..bytes.len() - 1001]).unwrap();
    let r = bin().args([trunc.to_str().unwrap(), o]).output().unwrap();
    assert!(
        !r.status.success(),
        "truncated data is an error, not silence"
    );
    fails_with(&["a.wav"], "expected an input and an output");
    fails_with(
        &["a.wav", "b.wav", "--mix", "lots"],
        "--mix: mix: cannot use \"lots\"",
    );
    fails_with(&["a.wav", "b.wav", "--frobnicate"], "unknown option");
    let badpreset = tmp("bad.json");
    std::fs::write(&badpreset, "[1, 2]").unwrap();
    fails_with(
        &["a.wav", "b.wav", "--preset", badpreset.to_str().unwrap()],
        "invalid preset",
    );
}

#[test]
fn renders_with_a_factory_ir_and_refuses_bad_ones() {
    let src = tmp("ir_in.wav");
    write(&src, 2, 24, false, 4410);
    let out = tmp("ir_out.wav");
    let cathedral = Path::new(env!("CARGO_MANIFEST_DIR")).join("impulses/Cathedral.wav");
    let st = bin()
        .args([
            src.to_str().unwrap(),
            out.to_str().unwrap(),
            "--ir",
            cathedral.to_str().unwrap(),
            "--quiet",
        ])
        .status()
        .unwrap();
    assert!(st.success());
    // The cathedral's 7.5 s tail (resampled from 48 to 44.1 kHz) is appended.
    let r = hound::WavReader::open(&out).unwrap();
    assert_eq!(
        r.duration() as usize,
        4410 + (7.5f64 * 44_100.0).ceil() as usize
    );
    let silent = tmp("silent_ir.wav");
    write_wav_file(&silent, 1, 48_000, WavEncoding::Int(16), [0.0; 100]).unwrap();
    fails_with(
        &[
            src.to_str().unwrap(),
            out.to_str().unwrap(),
            "--ir",
            silent.to_str().unwrap(),
        ],
        "silent",
    );
    let three = tmp("three_ir.wav");
    write(&three, 3, 16, false, 100);
    fails_with(
        &[
            src.to_str().unwrap(),
            out.to_str().unwrap(),
            "--ir",
            three.to_str().unwrap(),
        ],
        "3 channels",
    );
}

#[test]
fn preset_round_trip_gives_the_same_render() {
    let src = tmp("p_in.wav");
    write(&src, 2, 32, true, 8000);
    let (a, b, preset) = (tmp("p_a.wav"), tmp("p_b.wav"), tmp("p.json"));
    let s = |p: &PathBuf| p.to_str().unwrap().to_string();
    let st = bin()
        .args([
            s(&src),
            s(&a),
            "--mix".into(),
            "0.7".into(),
            "--in-gain".into(),
            "-4".into(),
            "--save-preset".into(),
            s(&preset),
            "--quiet".into(),
        ])
        .status()
        .unwrap();
    assert!(st.success());
    let st = bin()
        .args([
            s(&src),
            s(&b),
            "--preset".into(),
            s(&preset),
            "--quiet".into(),
        ])
        .status()
        .unwrap();
    assert!(st.success());
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
}

/// Writes a mono 32-bit float WAV at 48 kHz.
fn write_f32(path: &Path, samples: &[f32]) {
    write_wav_file(path, 1, 48_000, WavEncoding::Float, samples.iter().copied()).unwrap();
}

#[test]
fn ir_edit_flags_move_the_taps_where_expected() {
    // IR: taps at 100 (1.0) and 900 (0.5), 2000 samples. Input: a delta. Mix 1, no auto-gain.
    let mut ir = vec![0.0f32; 2000];
    ir[100] = 1.0;
    ir[900] = 0.5;
    let (irp, src) = (tmp("edit_ir.wav"), tmp("edit_in.wav"));
    write_f32(&irp, &ir);
    let mut x = vec![0.0f32; 100];
    x[0] = 1.0;
    write_f32(&src, &x);
    let render = |name: &str, flags: &[&str]| -> Vec<f32> {
        let out = tmp(name);
        let mut args = vec![
            src.to_str().unwrap(),
            out.to_str().unwrap(),
            "--ir",
            irp.to_str().unwrap(),
            "--mix",
            "1",
            "--no-ir-auto-gain",
            "--quiet",
        ];
        args.extend_from_slice(flags);
        assert!(bin().args(&args).status().unwrap().success(), "{flags:?}");
        let mut r = hound::WavReader::open(&out).unwrap();
        r.samples::<f32>().step_by(2).map(Result::unwrap).collect()
    };
    let taps = |y: &[f32]| -> Vec<usize> { (0..y.len()).filter(|&i| y[i].abs() > 0.2).collect() };
    assert_eq!(taps(&render("e0.wav", &[])), vec![100, 900]);
    // Pre-delay 10 ms = 480 samples.
    assert_eq!(
        taps(&render("e1.wav", &["--predelay", "10"])),
        vec![580, 1380]
    );
    // Reverse: k -> 1999 - k.
    assert_eq!(taps(&render("e2.wav", &["--reverse"])), vec![1099, 1899]);
    // Trim 1 ms = 48 samples.
    assert_eq!(taps(&render("e3.wav", &["--trim", "1"])), vec![52, 852]);
    // Length 25 % keeps 500 samples: the second tap is gone.
    assert_eq!(taps(&render("e4.wav", &["--length", "25"])), vec![100]);
    // Wet level -6 dB halves both taps.
    let y = render("e5.wav", &["--wet-level", "-6.0206"]);
    assert!((y[100] - 0.5).abs() < 1e-3 && (y[900] - 0.25).abs() < 1e-3);
    // Bad values are refused with one line.
    fails_with(
        &[src.to_str().unwrap(), "o.wav", "--stretch", "abc"],
        "--stretch: ir_stretch: cannot use \"abc\"",
    );
    fails_with(
        &[src.to_str().unwrap(), "o.wav", "--room", "garage"],
        "room: unknown choice \"garage\" (Small Room, Medium Room",
    );
}

/// Reads a rendered WAV's samples (interleaved).
fn samples(path: &Path) -> Vec<f32> {
    let mut r = hound::WavReader::open(path).unwrap();
    r.samples::<f32>().map(Result::unwrap).collect()
}

/// A short render with `flags`: 0.3 s of seeded noise, loud for 0.1 s then 28 dB softer
/// (so detectors attack and release), through the small room with 0.2 s of tail.
fn short_render(name: &str, flags: &[String]) -> Vec<f32> {
    let src = tmp("every_in.wav");
    if !src.exists() {
        let mut rng = fluxforge::dsp::rng::Rng::new(5);
        let x: Vec<f32> = (0..2 * 14_400)
            .map(|i| (rng.bipolar() * if i < 2 * 4800 { 0.5 } else { 0.02 }) as f32)
            .collect();
        write_wav_file(&src, 2, 48_000, WavEncoding::Float, x).unwrap();
    }
    let out = tmp(name);
    let mut args = vec![
        src.to_str().unwrap().to_string(),
        out.to_str().unwrap().to_string(),
        "--room".into(),
        "small-room".into(),
        "--tail".into(),
        "0.2".into(),
        "--quiet".into(),
    ];
    args.extend_from_slice(flags);
    let o = bin().args(&args).output().unwrap();
    assert!(
        o.status.success(),
        "{flags:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    samples(&out)
}

/// What each parameter needs around it to be heard (its section switched on), and the
/// parameters that cannot change this input's output by themselves.
fn context(id: &str) -> Vec<String> {
    let mut c: Vec<&str> = vec!["mix=0.5"];
    if let Some(band) = id
        .strip_prefix("eq_")
        .and_then(|r| r.rsplit_once('_'))
        .map(|(_, b)| b)
    {
        // A dynamic bell, or a low cut at 300 Hz for the slope; the type's own test starts
        // from the band's default type.
        let shape = if id.starts_with("eq_slope") {
            vec![
                format!("eq_type_{band}=Low Cut"),
                format!("eq_freq_{band}=300"),
            ]
        } else if id.starts_with("eq_type") {
            vec![]
        } else if id.starts_with("eq_freq") {
            vec![format!("eq_type_{band}=Bell")]
        } else {
            // At 1 kHz, where the test noise has energy in every band.
            vec![
                format!("eq_type_{band}=Bell"),
                format!("eq_freq_{band}=1000"),
            ]
        };
        let owned = [
            format!("eq_on_{band}=on"),
            format!("eq_gain_{band}=6"),
            format!("eq_dyn_{band}=down"),
            format!("eq_thresh_{band}=-40"),
            format!("eq_range_{band}=12"),
        ];
        return owned
            .into_iter()
            .chain(shape)
            .filter(|s| !s.starts_with(&format!("{id}=")))
            .chain(["mix=0.5".to_string()])
            .collect();
    }
    if id.starts_with("spec_") && id != "spec_on" {
        c.extend(["spec_on=on", "spec_thresh=-50"]);
    }
    if id.starts_with("sat_") && id != "sat_mode" {
        c.push("sat_mode=Warm");
    }
    if id.starts_with("duck_") && id != "duck_depth" {
        c.push("duck_depth=12");
    }
    match id {
        "ir_hold" => c.push("ir_decay=50"),
        // A crossover moves only where the bands decay differently.
        "ir_dxlow" => c.push("ir_dlow=50"),
        "ir_dxhigh" => c.push("ir_dhigh=50"),
        "ir_split" => c.push("ir_late=-12"),
        "eq_where" => c.extend(["eq_on_3=on", "eq_gain_3=12"]),
        // The factor of the oversampling switch (a render follows the playback choice).
        "sat_os_factor" => c.push("sat_os=on"),
        _ => {}
    }
    c.into_iter().map(String::from).collect()
}

#[test]
fn every_parameter_is_reachable_and_changes_the_output() {
    let list = bin().arg("--list-params").output().unwrap();
    assert!(list.status.success());
    let table = String::from_utf8(list.stdout).unwrap();
    let params = fluxforge::params::FluxForgeParams::default();
    use nice_plug::prelude::Params;
    let ids: Vec<String> = params
        .param_map()
        .into_iter()
        .map(|(id, _, _)| id)
        .collect();
    assert!(ids.len() >= 154);
    for id in &ids {
        assert!(
            table
                .lines()
                .any(|l| l.split_whitespace().next() == Some(id)),
            "{id} listed"
        );
    }
    // Parameters that are silent at these settings by design (documented in docs/MANUAL.md).
    let silent: &[&str] = &[];
    let mut unchanged = Vec::new();
    for (k, id) in ids.iter().enumerate() {
        let mut ctx: Vec<String> = context(id)
            .into_iter()
            .flat_map(|s| ["--set".to_string(), s])
            .collect();
        if id.contains("source") {
            // A detector source is heard with a sidechain: loud noise throughout.
            let sc = tmp("every_sidechain.wav");
            if !sc.exists() {
                let mut rng = fluxforge::dsp::rng::Rng::new(6);
                let x: Vec<f32> = (0..2 * 14_400)
                    .map(|_| 0.5 * rng.bipolar() as f32)
                    .collect();
                write_wav_file(&sc, 2, 48_000, WavEncoding::Float, x).unwrap();
            }
            ctx.extend(["--sidechain".to_string(), sc.to_str().unwrap().to_string()]);
        }
        if id == "match_amount" {
            // The amount scales a match curve: one from a dark reference.
            let dark = tmp("every_match_reference.wav");
            if !dark.exists() {
                write_f32(&dark, &low_passed_noise(48_000, 9));
            }
            ctx.extend([
                "--match-reference".to_string(),
                dark.to_str().unwrap().to_string(),
            ]);
        }
        if id == "ir_predelay_sync" {
            // A note value plays at a tempo (without one, the milliseconds do).
            ctx.extend(["--tempo".to_string(), "120".to_string()]);
        }
        let base = short_render(&format!("base_{k}.wav"), &ctx);
        // A value far from the default: the other end of the range.
        let (_, ptr, _) = params
            .param_map()
            .into_iter()
            .find(|(i, _, _)| i == id)
            .unwrap();
        // SAFETY: `ptr` comes from `param_map()` of a parameter object that outlives this use:
        // nice-plug's parameter pointers point into that object.
        let d = unsafe { ptr.default_normalized_value() };
        let n = if d > 0.5 { 0.1 } else { 0.9 };
        // SAFETY: `ptr` comes from `param_map()` of a parameter object that outlives this use:
        // nice-plug's parameter pointers point into that object.
        let text = unsafe { ptr.normalized_value_to_string(n, true) };
        let mut flags = ctx.clone();
        flags.extend(["--set".to_string(), format!("{id}={text}")]);
        let moved = short_render(&format!("moved_{k}.wav"), &flags);
        if base == moved {
            unchanged.push(id.clone());
        }
    }
    assert_eq!(unchanged, silent, "parameters with no effect on the render");
}

#[test]
fn a_saved_preset_reproduces_every_parameter_bit_exactly() {
    let mut flags: Vec<String> = Vec::new();
    for s in [
        "mix=0.4",
        "eq_on_2=on",
        "eq_freq_2=2.5 kHz",
        "eq_gain_2=-4",
        "spec_on=on",
        "sat_mode=tape",
        "sat_drive=12",
        "ir_predelay=15",
        "wet_width=1.4",
        "room=plate",
    ] {
        flags.extend(["--set".to_string(), s.to_string()]);
    }
    let preset = tmp("all.json");
    let mut save = flags.clone();
    save.extend([
        "--save-preset".to_string(),
        preset.to_str().unwrap().to_string(),
    ]);
    let a = short_render("preset_a.wav", &save);
    let text = std::fs::read_to_string(&preset).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["format"], "fluxforge-preset");
    use nice_plug::prelude::Params;
    let n = fluxforge::params::FluxForgeParams::default()
        .param_map()
        .len();
    assert_eq!(
        v["params"].as_object().unwrap().len(),
        n - fluxforge::params::MONITORING_IDS.len(),
        "every parameter saved but the listen mode"
    );
    assert!(v["params"].get("listen").is_none());
    assert_eq!(v["params"]["sat_mode"], "Tape");
    let b = short_render(
        "preset_b.wav",
        &["--preset".to_string(), preset.to_str().unwrap().to_string()],
    );
    assert!(a == b, "the preset reproduces the render");
    // Unknown IDs name the closest one; bad values are refused with the parameter's ID.
    fails_with(
        &["a.wav", "b.wav", "--set", "eq_frq_2=100"],
        "did you mean \"eq_freq_2\"",
    );
    fails_with(
        &["a.wav", "b.wav", "--set", "sat_mode=fuzzy"],
        "Clean, Subtle, Warm, Tape",
    );
}

#[test]
fn a_host_state_renders_what_the_session_plays() {
    // A state as a host saves it (CLAP framing: length, then JSON), with the values the
    // plugin stores (plain, enums by index).
    let json = serde_json::json!({
        "version": "0.1.0",
        "params": {
            "mix": { "f32": 0.8 }, "room": { "i32": 3 }, "eq_on_1": { "bool": true },
            "eq_gain_1": { "f32": -6.0 }, "sat_mode": { "i32": 2 }
        },
        "fields": { "ir": "null" }
    });
    let body = serde_json::to_vec(&json).unwrap();
    let mut framed = (body.len() as u64).to_le_bytes().to_vec();
    framed.extend_from_slice(&body);
    let state = tmp("session.state");
    std::fs::write(&state, &framed).unwrap();
    let a = short_render(
        "state_a.wav",
        &["--state".to_string(), state.to_str().unwrap().to_string()],
    );
    let flags: Vec<String> = [
        "mix=0.8",
        "room=plate",
        "eq_on_1=on",
        "eq_gain_1=-6",
        "sat_mode=warm",
    ]
    .iter()
    .flat_map(|s| ["--set".to_string(), s.to_string()])
    .collect();
    // --room small-room of short_render comes first; the state's room overrides it.
    let b = short_render("state_b.wav", &flags);
    assert!(a == b, "the state renders as the same settings given by ID");
}

/// A 16-bit big-endian AIFF of `samples` (interleaved, `ch` channels) at 44.1 kHz.
fn aiff16(ch: u16, samples: &[f32]) -> Vec<u8> {
    let frames = samples.len() / ch as usize;
    let mut comm = Vec::new();
    comm.extend(ch.to_be_bytes());
    comm.extend((frames as u32).to_be_bytes());
    comm.extend(16u16.to_be_bytes());
    // 44100 as an 80-bit extended: exponent 16383 + 15, mantissa 44100 << 48.
    comm.extend((16383u16 + 15).to_be_bytes());
    comm.extend((44_100u64 << 48).to_be_bytes());
    let mut ssnd = vec![0u8; 8];
    for v in samples {
        ssnd.extend(
            fluxforge::ir_file::quantize(*v, 16)
                .clamp(-32768, 32767)
                .to_be_bytes()[2..]
                .iter(),
        );
    }
    let mut body = b"AIFF".to_vec();
    for (id, chunk) in [(b"COMM", comm), (b"SSND", ssnd)] {
        body.extend(id);
        body.extend((chunk.len() as u32).to_be_bytes());
        body.extend(chunk);
    }
    let mut out = b"FORM".to_vec();
    out.extend((body.len() as u32).to_be_bytes());
    out.extend(body);
    out
}

#[test]
fn reads_aiff_input_through_the_same_front_as_wav() {
    let samples: Vec<f32> = (0..2 * 3000)
        .map(|i| ((i as f64 * 0.031).sin() * 0.4) as f32)
        .collect();
    let (wav_in, aiff_in) = (tmp("front.wav"), tmp("front.aif"));
    write_wav_file(
        &wav_in,
        2,
        44_100,
        WavEncoding::Int(16),
        samples.iter().copied(),
    )
    .unwrap();
    std::fs::write(&aiff_in, aiff16(2, &samples)).unwrap();
    let render = |input: &Path, out: &str| {
        let out = tmp(out);
        let st = bin()
            .args([
                input.to_str().unwrap(),
                out.to_str().unwrap(),
                "--tail",
                "0.2",
                "--quiet",
            ])
            .status()
            .unwrap();
        assert!(st.success(), "{}", input.display());
        std::fs::read(out).unwrap()
    };
    let (a, b) = (
        render(&wav_in, "front-w.wav"),
        render(&aiff_in, "front-a.wav"),
    );
    assert!(a.len() > 44 + 4 * 3000);
    assert!(
        a == b,
        "AIFF input renders exactly as the same samples in WAV"
    );
}

#[test]
fn options_take_their_value_after_a_space_or_an_equals_sign() {
    let (src, a, b) = (tmp("eq-in.wav"), tmp("eq-a.wav"), tmp("eq-b.wav"));
    write(&src, 2, 16, false, 2000);
    let run = |out: &Path, args: &[&str]| {
        let mut all = vec![src.to_str().unwrap(), out.to_str().unwrap(), "--quiet"];
        all.extend_from_slice(args);
        assert!(bin().args(&all).status().unwrap().success(), "{args:?}");
        std::fs::read(out).unwrap()
    };
    let spaced = run(
        &a,
        &["--tail", "0.25", "--in-gain", "-3", "--set", "mix=0.3"],
    );
    let joined = run(&b, &["--tail=0.25", "--in-gain=-3", "--set=mix=0.3"]);
    assert!(spaced == joined);
    let r = hound::WavReader::open(&b).unwrap();
    assert_eq!(r.duration() as usize, 2000 + 11_025);
}

#[test]
fn a_state_with_out_of_range_values_renders_as_the_range_ends() {
    // Gains far past their ranges (as a damaged or hand-edited session may hold): the render
    // is the one of the same state with each value at its range end, and stays finite.
    let write_state = |name: &str, values: &str| {
        let text =
            format!(r#"{{"version":"0.1.0","params":{{{values}}},"fields":{{"ir":"null"}}}}"#);
        let path = tmp(name);
        std::fs::write(&path, text).unwrap();
        vec!["--state".to_string(), path.to_str().unwrap().to_string()]
    };
    let bad = short_render(
        "state_bad.wav",
        &write_state(
            "bad.state",
            r#""in_gain":{"f32":100000.0},"out_gain":{"f32":1e30},"wet_level":{"f32":18446744073709551616},"ir_early":{"f32":4294967296},"mix":{"f32":-1e30}"#,
        ),
    );
    let ends = short_render(
        "state_ends.wav",
        &write_state(
            "ends.state",
            r#""in_gain":{"f32":24.0},"out_gain":{"f32":24.0},"wet_level":{"f32":12.0},"ir_early":{"f32":6.0},"mix":{"f32":0.0}"#,
        ),
    );
    assert!(bad.iter().all(|x| x.is_finite()));
    // Input and output gain both at +24 dB on a 0.5 peak: about +42 dBFS, the ranges' own end.
    let peak = bad.iter().fold(0.0f32, |m, x| m.max(x.abs()));
    assert!(peak < 0.5 * 251.0 * 2.0, "peak {peak}");
    assert!(
        bad == ends,
        "out-of-range values render as their range ends"
    );
}

#[test]
fn a_room_captured_with_a_sweep_comes_back_as_a_loadable_ir() {
    // The four steps of the README: make a sweep, play and record it (here: a stereo room of
    // four taps behind a mildly distorting loudspeaker, with noise), capture, load the IR.
    let (sweep, rec, ir) = (tmp("cap-sweep.wav"), tmp("cap-rec.wav"), tmp("cap-ir.wav"));
    let out = bin()
        .args([
            "--make-sweep",
            sweep.to_str().unwrap(),
            "--sweep-seconds",
            "4",
        ])
        .args(["--sweep-silence", "1", "--sweep-level", "-12"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("4.0 s sweep 20 Hz .. 20000 Hz"));
    let s = fluxforge::ir_file::load_audio(&sweep).unwrap();
    assert_eq!((s.sample_rate, s.channels.len()), (48_000, 1));
    assert_eq!(s.channels[0].len(), 5 * 48_000);
    // Taps (delay in samples after the sweep's start, gain), per channel.
    let taps = [
        [(240usize, 0.8f64), (700, -0.4), (1500, 0.25), (3000, 0.1)],
        [(300, 0.7), (900, 0.35), (1700, -0.2), (2600, 0.12)],
    ];
    let mut rng = fluxforge::dsp::rng::Rng::new(21);
    let recorded: Vec<Vec<f32>> = taps
        .iter()
        .map(|room| {
            let played: Vec<f64> = s.channels[0]
                .iter()
                .map(|v| (3.0 * *v as f64).tanh() / 3.0)
                .collect();
            let mut y = vec![0.0f64; played.len() + 4000];
            for (d, g) in room {
                for (i, v) in played.iter().enumerate() {
                    y[i + d] += g * v;
                }
            }
            y.iter()
                .map(|v| (v + 1e-4 * rng.gaussian()) as f32)
                .collect()
        })
        .collect();
    let frames = (0..recorded[0].len()).flat_map(|i| [recorded[0][i], recorded[1][i]]);
    write_wav_file(&rec, 2, 48_000, WavEncoding::Int(24), frames).unwrap();

    let out = bin()
        .args(["--capture"])
        .args([&sweep, &rec, &ir])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("2 channels") && err.contains("direct sound 5.0 ms"),
        "{err}"
    );
    let got = fluxforge::ir_file::load_ir(&ir).expect("the plugin's front reads the IR");
    assert_eq!(got.channels.len(), 2);
    // Trimmed 1 ms before the earliest direct sound (channel 0, 240 samples), peak -1 dBFS,
    // each tap where it was with its gain relative to the loudest (within 0.3 dB).
    let peak = got
        .channels
        .iter()
        .flatten()
        .fold(0.0f32, |m, v| m.max(v.abs()));
    assert!((20.0 * peak.log10() + 1.0).abs() < 0.01, "peak {peak}");
    let start = 240 - 48;
    for (c, room) in taps.iter().enumerate() {
        for (d, g) in room {
            let v = got.channels[c][d - start] as f64 / peak as f64 * 0.8;
            let db = 20.0 * (v / g).abs().log10();
            assert!(
                v.signum() == g.signum() && db.abs() < 0.3,
                "ch {c} tap {d}: {v} vs {g}"
            );
        }
    }
    // A render with it plays.
    let (src, dst) = (tmp("cap-in.wav"), tmp("cap-out.wav"));
    write(&src, 2, 24, false, 4800);
    assert!(bin()
        .args([src.as_path(), dst.as_path()])
        .args(["--ir".as_ref(), ir.as_path(), "--quiet".as_ref()])
        .status()
        .unwrap()
        .success());

    // Wrong inputs: one line each.
    let (sw, rc, o) = (
        sweep.to_str().unwrap(),
        rec.to_str().unwrap(),
        ir.to_str().unwrap(),
    );
    let noise = tmp("cap-noise.wav");
    let n: Vec<f32> = (0..48_000).map(|_| rng.bipolar() as f32 * 0.1).collect();
    write_wav_file(&noise, 1, 48_000, WavEncoding::Float, n).unwrap();
    fails_with(
        &["--capture", noise.to_str().unwrap(), rc, o],
        "not an exponential sine sweep",
    );
    fails_with(
        &["--capture", sw, src.to_str().unwrap(), o],
        "record at the sweep's rate",
    );
    fails_with(&["--capture", sw, rc], "three files");
    let short = tmp("cap-short.wav");
    write_wav_file(
        &short,
        1,
        48_000,
        WavEncoding::Float,
        s.channels[0][..150_000].to_vec(),
    )
    .unwrap();
    fails_with(&["--capture", sw, short.to_str().unwrap(), o], "tail");
    fails_with(&["--make-sweep", o, "--sweep-to", "30000"], "sweep range");
}

/// `len` samples of seeded white noise through a one-pole low-pass at 500 Hz (about 6 dB per
/// octave down above it).
fn low_passed_noise(len: usize, seed: u64) -> Vec<f32> {
    let mut rng = fluxforge::dsp::rng::Rng::new(seed);
    let a = (-std::f32::consts::TAU * 500.0 / 48_000.0).exp();
    let mut y = 0.0f32;
    (0..len)
        .map(|_| {
            y = a * y + (1.0 - a) * 0.8 * rng.bipolar() as f32;
            y
        })
        .collect()
}

#[test]
fn match_reference_moves_the_inputs_tone_onto_the_references() {
    use fluxforge::dsp::long_term_spectrum::{point_hz, LongTermSpectrum, POINTS};
    let spectrum = |x: &[f32]| {
        let mut s = LongTermSpectrum::new(48_000.0);
        s.push([x, x]);
        s.points_db()
    };
    let mut rng = fluxforge::dsp::rng::Rng::new(4);
    let white: Vec<f32> = (0..8 * 48_000)
        .map(|_| 0.2 * rng.bipolar() as f32)
        .collect();
    let dark = low_passed_noise(8 * 48_000, 5);
    let (input, reference, out, preset) = (
        tmp("match_in.wav"),
        tmp("match_ref.wav"),
        tmp("match_out.wav"),
        tmp("match.preset.json"),
    );
    write_f32(&input, &white);
    write_f32(&reference, &dark);
    let run = |args: &[&str]| {
        let o = bin().args(args).output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    };
    let (i, r, o, p) = (
        input.to_str().unwrap(),
        reference.to_str().unwrap(),
        out.to_str().unwrap(),
        preset.to_str().unwrap(),
    );
    run(&[
        i,
        o,
        "--mix",
        "0",
        "--tail",
        "0",
        "--match-reference",
        r,
        "--save-preset",
        p,
        "--quiet",
    ]);
    // The output's long-term spectrum against the reference's: within 1 dB from 50 Hz to
    // 15 kHz (the loudness difference, which the match keeps, taken out).
    let rendered = samples(&out);
    let left: Vec<f32> = rendered.iter().step_by(2).copied().collect();
    let (got, want, before) = (spectrum(&left), spectrum(&dark), spectrum(&white));
    let range: Vec<usize> = (0..POINTS)
        .filter(|&k| (50.0..=15_000.0).contains(&point_hz(k)))
        .collect();
    let spread = |a: &[f32; POINTS], b: &[f32; POINTS]| {
        let d: Vec<f32> = range.iter().map(|&k| a[k] - b[k]).collect();
        let mean = d.iter().sum::<f32>() / d.len() as f32;
        d.iter().map(|v| (v - mean).abs()).fold(0.0f32, f32::max)
    };
    assert!(spread(&before, &want) > 10.0, "the reference differs");
    assert!(spread(&got, &want) < 1.0, "{} dB", spread(&got, &want));
    // The saved preset carries the curve: rendering with it plays the same.
    let again = tmp("match_again.wav");
    run(&[
        i,
        again.to_str().unwrap(),
        "--mix",
        "0",
        "--tail",
        "0",
        "--preset",
        p,
        "--quiet",
    ]);
    assert_eq!(samples(&again), rendered);
    // A silent reference teaches nothing: one clear line.
    let silent = tmp("match_silent.wav");
    write_f32(&silent, &vec![0.0; 48_000]);
    fails_with(
        &[i, o, "--match-reference", silent.to_str().unwrap()],
        "nothing to match",
    );
}
