//! The factory bank as a user meets it: every preset renders finite, sounds different from
//! every other one, stays within a documented level window, and the plugin (loaded through
//! its state) plays each one exactly as the renderer does.

mod common;
use common::*;

use fluxforge::factory_presets::bank;

use fluxforge::preset::Preset;

/// The level window: a preset's output level over a test phrase relative to the input's
/// (RMS over the whole render), dB.
const LEVEL_WINDOW_DB: (f64, f64) = (-6.0, 3.0);

/// 0.6 s of phrase: noise bursts with a pitched tone under them (broadband and tonal
/// content, loud and soft parts), then 0.9 s for the tail.
fn phrase() -> [Vec<f32>; 2] {
    let rate = 48_000.0;
    let n = (1.5 * rate) as usize;
    let mut rng = Rng::new(77);
    let mut x = [vec![0.0f32; n], vec![0.0f32; n]];
    for i in 0..(0.6 * rate) as usize {
        let t = i as f64 / rate;
        let env = (-(t % 0.15) / 0.04).exp();
        let tone = 0.2 * (2.0 * std::f64::consts::PI * 220.0 * t).sin();
        for (c, ch) in x.iter_mut().enumerate() {
            ch[i] = (env * (0.35 * rng.bipolar() + tone * if c == 0 { 1.0 } else { 0.8 })) as f32;
        }
    }
    x
}

/// The preset rendered by the offline renderer (`--preset NAME`).
fn rendered(preset: &Preset, input: &[Vec<f32>; 2]) -> [Vec<f32>; 2] {
    let dir = std::env::temp_dir().join(format!("fluxforge-factory-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (src, dst) = (dir.join("in.wav"), dir.join(format!("{}.wav", preset.name)));
    if !src.exists() {
        let frames = input[0].iter().zip(&input[1]).flat_map(|(a, b)| [*a, *b]);
        fluxforge::ir_file::write_wav_file(
            &src,
            2,
            48_000,
            fluxforge::ir_file::WavEncoding::Float,
            frames,
        )
        .unwrap();
    }
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_fluxforge-render"))
        .args([
            src.to_str().unwrap(),
            dst.to_str().unwrap(),
            "--preset",
            &preset.name,
            "--tail",
            "0",
            "--quiet",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}: {}",
        preset.name,
        String::from_utf8_lossy(&out.stderr)
    );
    let mut r = hound::WavReader::open(&dst).unwrap();
    let s: Vec<f32> = r.samples::<f32>().map(Result::unwrap).collect();
    [
        s.iter().step_by(2).copied().collect(),
        s.iter().skip(1).step_by(2).copied().collect(),
    ]
}

fn rms_db(x: &[Vec<f32>; 2]) -> f64 {
    let e: f64 = x.iter().flatten().map(|v| (*v as f64).powi(2)).sum();
    10.0 * (e / (2 * x[0].len()) as f64).log10()
}

#[test]
fn every_factory_preset_is_finite_distinct_level_safe_and_plays_in_the_plugin_as_rendered() {
    let input = phrase();
    let in_db = rms_db(&input);
    let bank = bank();
    let mut outputs: Vec<(String, [Vec<f32>; 2])> = Vec::new();
    let mut report = String::new();
    for preset in &bank {
        let want = rendered(preset, &input);
        assert!(
            want.iter().flatten().all(|v| v.is_finite()),
            "{}",
            preset.name
        );
        let level = rms_db(&want) - in_db;
        report += &format!("{:<22} {:+5.1} dB\n", preset.name, level);
        assert!(
            (LEVEL_WINDOW_DB.0..=LEVEL_WINDOW_DB.1).contains(&level),
            "{}: {level:+.1} dB against the input is outside the window {LEVEL_WINDOW_DB:?}",
            preset.name
        );
        // The plugin, loaded with the preset's state before activation.
        let mut inst = new_instance(load_entry());
        let state = serde_json::to_vec(&preset.to_state()).unwrap();
        assert!(load_state(&mut inst, &state), "{}", preset.name);
        let proc = inst.activate(|_, _| (), config(48_000.0, 512)).unwrap();
        let mut proc = proc.start_processing().unwrap();
        let got = run(&mut proc, &input, &mut || 512, &[]);
        inst.deactivate(proc.stop_processing());
        let err = max_diff(&got, &want);
        assert!(
            err < 1e-4,
            "{}: the plugin differs from the renderer by {err}",
            preset.name
        );
        outputs.push((preset.name.clone(), want));
    }
    eprintln!("{report}");
    for (i, (a, x)) in outputs.iter().enumerate() {
        for (b, y) in &outputs[i + 1..] {
            let d = max_diff(x, y);
            assert!(d > 1e-3, "{a} and {b} sound the same (max diff {d})");
        }
    }
}
