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
    fails_with(&["a.wav", "b.wav", "--mix", "lots"], "not a number");
    fails_with(&["a.wav", "b.wav", "--frobnicate"], "unknown option");
    let badpreset = tmp("bad.json");
    std::fs::write(&badpreset, "{\"mixx\": 1}").unwrap();
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
        "not a number",
    );
    fails_with(
        &[src.to_str().unwrap(), "o.wav", "--room", "garage"],
        "unknown room",
    );
}
