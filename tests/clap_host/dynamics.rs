//! EQ & dynamics through the host: zero latency in every mode, placements and ducking
//! reaching the engine, the sidechain port driving the detectors.

use super::common::*;

/// A named state (parameter values by ID) and the engine settings it must give.
type Case<'a> = (&'a str, Vec<(&'a str, serde_json::Value)>, Settings);

#[test]
fn dynamic_eq_and_spectral_dynamics_add_no_latency_in_any_mode() {
    use fluxforge::dsp::dynamic_eq::{BandKind, DynamicMode};
    use fluxforge::dsp::spectral::SpectralMode;
    // (state values by parameter id, the same settings for the engine reference)
    let b = |v: f32| serde_json::json!({ "bool": v > 0.5 });
    let cases: Vec<Case> = {
        let mut static_bell = Settings::default();
        static_bell.eq[2].enabled = true;
        static_bell.eq[2].gain_db = 6.0;
        let mut dyn_band = static_bell;
        dyn_band.eq[2].dynamic = DynamicMode::Down;
        dyn_band.eq[2].threshold_db = -30.0;
        let mut spectral_band = dyn_band;
        spectral_band.eq[2].spectral = true;
        let mut cut = Settings::default();
        cut.eq[0].enabled = true;
        cut.eq[0].kind = BandKind::LowCut;
        let mut down = Settings::default();
        down.spectral.enabled = true;
        down.spectral.threshold_db = -30.0;
        let mut up = down;
        up.spectral.mode = SpectralMode::Up;
        vec![
            (
                "static bell",
                vec![("eq_on_3", b(1.0)), ("eq_gain_3", f(6.0))],
                static_bell,
            ),
            (
                "dynamic band",
                vec![
                    ("eq_on_3", b(1.0)),
                    ("eq_gain_3", f(6.0)),
                    ("eq_dyn_3", serde_json::json!({ "i32": 1 })),
                    ("eq_thresh_3", f(-30.0)),
                ],
                dyn_band,
            ),
            (
                "spectral band",
                vec![
                    ("eq_on_3", b(1.0)),
                    ("eq_gain_3", f(6.0)),
                    ("eq_dyn_3", serde_json::json!({ "i32": 1 })),
                    ("eq_thresh_3", f(-30.0)),
                    ("eq_spec_3", b(1.0)),
                ],
                spectral_band,
            ),
            (
                "low cut",
                vec![
                    ("eq_on_1", b(1.0)),
                    ("eq_type_1", serde_json::json!({ "i32": 3 })),
                ],
                cut,
            ),
            (
                "spectral down",
                vec![("spec_on", b(1.0)), ("spec_thresh", f(-30.0))],
                down,
            ),
            (
                "spectral up",
                vec![
                    ("spec_on", b(1.0)),
                    ("spec_thresh", f(-30.0)),
                    ("spec_mode", serde_json::json!({ "i32": 1 })),
                ],
                up,
            ),
        ]
    };
    let len = 48_000;
    let sine: Vec<f32> = (0..len)
        .map(|n| (0.3 * (std::f64::consts::TAU * 997.0 * n as f64 / 48_000.0).sin()) as f32)
        .collect();
    let t0 = 30_000;
    for (name, values, mut settings) in cases {
        settings.mix = 0.0; // dry: the EQ and dynamics alone
        let mut values = values;
        values.push(("mix", f(0.0)));
        let mut inst = new_instance(load_entry());
        let mut state: serde_json::Value = serde_json::from_slice(&save_state(&mut inst)).unwrap();
        for (id, v) in &values {
            assert!(state["params"].get(*id).is_some(), "{name}: param id {id}");
            state["params"][*id] = v.clone();
        }
        assert!(load_state(&mut inst, &serde_json::to_vec(&state).unwrap()));
        let proc = inst.activate(|_, _| (), config(48_000.0, 256)).unwrap();
        let latency = inst
            .plugin_handle()
            .get_extension::<PluginLatency>()
            .unwrap()
            .get(&inst.plugin_handle());
        assert_eq!(latency, 0, "{name}: reported latency");
        let mut proc = proc.start_processing().unwrap();
        let mut with = sine.clone();
        with[t0] += 0.5;
        let plain = run(&mut proc, &[sine.clone(), sine.clone()], &mut || 256, &[]);
        inst.deactivate(proc.stop_processing());
        let proc = inst.activate(|_, _| (), config(48_000.0, 256)).unwrap();
        let mut proc = proc.start_processing().unwrap();
        let mut rng = Rng::new(8);
        let hit = run(
            &mut proc,
            &[with.clone(), with.clone()],
            &mut || rng.range(1, 256),
            &[],
        );
        inst.deactivate(proc.stop_processing());
        // The plugin is the engine (whatever the host's block sizes).
        let want = reference(48_000.0, &[with.clone(), with], settings, &[]);
        assert!(
            max_diff(&hit, &want) < 1e-5,
            "{name}: {}",
            max_diff(&hit, &want)
        );
        // Measured: the impulse's effect starts at its own sample, not later, not earlier.
        let d: Vec<f32> = hit[0].iter().zip(&plain[0]).map(|(a, b)| a - b).collect();
        assert!(
            d[..t0].iter().all(|v| v.abs() < 1e-6),
            "{name}: nothing before the impulse"
        );
        assert!(
            d[t0].abs() > 0.2,
            "{name}: the impulse comes out at once ({})",
            d[t0]
        );
    }
}

#[test]
fn eq_placement_band_placement_and_ducking_reach_the_engine() {
    use fluxforge::dsp::chain::EqPlacement;
    use fluxforge::dsp::ducker::{DuckMode, DuckSettings};
    use fluxforge::dsp::dynamic_eq::{Placement, Slope};
    use serde_json::json;
    let on = json!({ "bool": true });
    let choice = |i: i32| json!({ "i32": i });
    let mut s = Settings {
        mix: 0.5,
        eq_placement: EqPlacement::Return,
        duck: DuckSettings {
            threshold_db: -30.0,
            depth_db: 12.0,
            release_ms: 300.0,
            // Spectral: the per-frequency ducker runs in the plugin's process() (under the
            // allocation checker in the suite's allocation-checked run).
            mode: DuckMode::Spectral,
        },
        ..Default::default()
    };
    s.eq[2].enabled = true;
    s.eq[2].gain_db = 12.0;
    s.eq[5].enabled = true;
    s.eq[5].freq_hz = 200.0;
    s.eq[5].slope = Slope::Db48;
    s.eq[5].placement = Placement::Side;
    s.eq[7].enabled = true;
    s.eq[7].placement = Placement::Left;
    let values = vec![
        ("mix", f(0.5)),
        ("eq_where", choice(1)),
        ("eq_on_3", on.clone()),
        ("eq_gain_3", f(12.0)),
        ("eq_on_6", on.clone()),
        ("eq_freq_6", f(200.0)),
        ("eq_slope_6", choice(2)),
        ("eq_place_6", choice(4)),
        ("eq_on_8", on.clone()),
        ("eq_place_8", choice(1)),
        ("duck_thresh", f(-30.0)),
        ("duck_depth", f(12.0)),
        ("duck_release", f(300.0)),
        ("duck_mode", choice(1)),
    ];
    // Loud and quiet halves, so the ducker works and releases.
    let mut x = noise(96_000, 21);
    for c in &mut x {
        for v in &mut c[24_000..48_000] {
            *v *= 0.01;
        }
    }
    let play = |values: &[(&str, serde_json::Value)]| {
        let mut inst = new_instance(load_entry());
        let mut state: serde_json::Value = serde_json::from_slice(&save_state(&mut inst)).unwrap();
        for (id, v) in values {
            assert!(state["params"].get(*id).is_some(), "param id {id}");
            state["params"][*id] = v.clone();
        }
        assert!(load_state(&mut inst, &serde_json::to_vec(&state).unwrap()));
        let proc = inst.activate(|_, _| (), config(48_000.0, 512)).unwrap();
        let mut proc = proc.start_processing().unwrap();
        let mut rng = Rng::new(3);
        let out = run(&mut proc, &x, &mut || rng.range(1, 512), &[]);
        inst.deactivate(proc.stop_processing());
        out
    };
    let out = play(&values);
    let want = reference(48_000.0, &x, s, &[]);
    assert!(max_diff(&out, &want) < 1e-5, "{}", max_diff(&out, &want));
    let plain = reference(
        48_000.0,
        &x,
        Settings {
            mix: 0.5,
            ..Default::default()
        },
        &[],
    );
    assert!(max_diff(&out, &plain) > 0.05, "the new settings act");
    // On the return, the EQ leaves the dry signal alone: dry only, the output is the input.
    let mut dry_only = values.clone();
    dry_only[0] = ("mix", f(0.0));
    assert_eq!(play(&dry_only), x, "dry untouched by an EQ on the return");
}

#[test]
fn a_loud_sidechain_compresses_a_quiet_main_signal_through_the_aux_port() {
    use fluxforge::dsp::dynamic_eq::DynamicMode;
    use fluxforge::dsp::DetectorSource;
    // A band at 1 kHz compressing above -30 dBFS, listening to the sidechain; the main input
    // is a 1 kHz sine at -40 dBFS (below the threshold), the sidechain one at -6 dBFS.
    let mut s = Settings {
        mix: 0.0,
        ..Default::default()
    };
    s.eq[2].enabled = true;
    s.eq[2].freq_hz = 1000.0;
    s.eq[2].dynamic = DynamicMode::Down;
    s.eq[2].threshold_db = -30.0;
    s.eq[2].source = DetectorSource::External;
    let values = keyed_band_values();
    let len = 48_000;
    let tone = |db: f64| tone_1k(db, len);
    let x = [tone(-40.0), tone(-40.0)];
    let key = [tone(-6.0), tone(-6.0)];
    let play = |key: Option<&[Vec<f32>; 2]>| {
        let mut inst = new_instance(load_entry());
        let mut state: serde_json::Value = serde_json::from_slice(&save_state(&mut inst)).unwrap();
        for (id, v) in &values {
            assert!(state["params"].get(*id).is_some(), "param id {id}");
            state["params"][*id] = v.clone();
        }
        assert!(load_state(&mut inst, &serde_json::to_vec(&state).unwrap()));
        let proc = inst.activate(|_, _| (), config(48_000.0, 512)).unwrap();
        let mut proc = proc.start_processing().unwrap();
        let mut rng = Rng::new(12);
        let out = run_keyed(&mut proc, &x, key, &mut || rng.range(1, 512), &[]);
        inst.deactivate(proc.stop_processing());
        out
    };
    let level = |y: &[f32]| {
        let tail = &y[len / 2..];
        let rms = |v: &[f32]| (v.iter().map(|a| a * a).sum::<f32>() / v.len() as f32).sqrt();
        20.0 * (rms(tail) / rms(&x[0][len / 2..])).log10()
    };
    let keyed = play(Some(&key));
    // -6 dBFS is 24 dB over the threshold: 4:1 asks for -18 dB, the range allows -12.
    assert!(
        (level(&keyed[0]) + 12.0).abs() < 1.0,
        "{} dB",
        level(&keyed[0])
    );
    assert!((level(&keyed[1]) + 12.0).abs() < 1.0);
    let want = reference_keyed(48_000.0, &x, &key, s);
    assert!(
        max_diff(&keyed, &want) < 1e-5,
        "{}",
        max_diff(&keyed, &want)
    );
    // No sidechain routed (the host passes the main port only): the band listens to the
    // main signal, which stays below the threshold.
    let alone = play(None);
    assert!(level(&alone[0]).abs() < 0.1, "{} dB", level(&alone[0]));
}

#[test]
fn the_hosts_port_activation_decides_whether_the_sidechain_counts() {
    use clack_extensions::audio_ports_activation::{PluginAudioPortsActivation, SampleSize};
    // A band at 1 kHz compressing above -30 dBFS, listening to the sidechain; the main input
    // is a 1 kHz sine at -10 dBFS (20 dB over the threshold).
    let values = keyed_band_values();
    let len = 48_000;
    let tone = |db: f64| tone_1k(db, len);
    let x = [tone(-10.0), tone(-10.0)];
    let silent = [vec![0.0f32; len], vec![0.0f32; len]];
    let loud = [tone(-6.0), tone(-6.0)];
    let half = |v: &[Vec<f32>; 2], second: bool| {
        let r = if second { len / 2..len } else { 0..len / 2 };
        [v[0][r.clone()].to_vec(), v[1][r].to_vec()]
    };
    let level = |y: &[f32], x: &[f32]| {
        let rms = |v: &[f32]| (v.iter().map(|a| a * a).sum::<f32>() / v.len() as f32).sqrt();
        let q = y.len() / 2;
        20.0 * (rms(&y[q..]) / rms(&x[q..])).log10()
    };
    // Plays the first half with the host's `word` (set while inactive) and `key`, then
    // the second half after `then` is said while processing.
    let play = |word: Option<bool>, key: &[Vec<f32>; 2], then: Option<bool>| {
        let mut inst = new_instance(load_entry());
        let mut state: serde_json::Value = serde_json::from_slice(&save_state(&mut inst)).unwrap();
        for (id, v) in &values {
            state["params"][*id] = v.clone();
        }
        assert!(load_state(&mut inst, &serde_json::to_vec(&state).unwrap()));
        let ext = inst
            .plugin_handle()
            .get_extension::<PluginAudioPortsActivation>()
            .expect("audio-ports-activation extension");
        assert!(ext.can_activate_while_processing(&inst.plugin_handle()));
        if let Some(w) = word {
            let mut h = inst.inactive_plugin_handle().unwrap();
            assert!(ext.set_active_audio_inactive(&mut h, true, 1, w, SampleSize::Float32));
            assert!(
                !ext.set_active_audio_inactive(&mut h, true, 1, w, SampleSize::Float64),
                "64-bit buffers are refused"
            );
            assert!(
                !ext.set_active_audio_inactive(&mut h, true, 0, false, SampleSize::Float32),
                "the main input stays active"
            );
            assert!(!ext.set_active_audio_inactive(&mut h, true, 2, true, SampleSize::Float32));
        }
        let proc = inst.activate(|_, _| (), config(48_000.0, 512)).unwrap();
        let mut proc = proc.start_processing().unwrap();
        let a = run_keyed(
            &mut proc,
            &half(&x, false),
            Some(&half(key, false)),
            &mut || 256,
            &[],
        );
        if let Some(w) = then {
            let mut h = proc.plugin_handle();
            assert!(ext.set_active_audio_active(&mut h, true, 1, w, SampleSize::Unspecified));
        }
        let b = run_keyed(
            &mut proc,
            &half(&x, true),
            Some(&half(key, true)),
            &mut || 256,
            &[],
        );
        inst.deactivate(proc.stop_processing());
        (a, b)
    };
    // The host says nothing: a silent sidechain falls back to the main signal (compresses).
    let (fallback, _) = play(None, &silent, None);
    let g = level(&fallback[0], &half(&x, false)[0]);
    assert!(g < -6.0, "fallback compresses: {g} dB");
    // Connected and silent: the band hears silence, no reduction; then the host
    // disconnects the port while processing and the band falls back to the main signal.
    let (connected, after) = play(Some(true), &silent, Some(false));
    let g = level(&connected[0], &half(&x, false)[0]);
    assert!(
        g.abs() < 0.1,
        "a connected silent sidechain releases: {g} dB"
    );
    let g = level(&after[0], &half(&x, true)[0]);
    assert!(g < -6.0, "disconnected while playing: {g} dB");
    // Not connected: even a loud signal on the port is ignored; the output is the
    // fallback's, sample for sample.
    let (ignored, _) = play(Some(false), &loud, None);
    assert_eq!(ignored, fallback, "an inactive port is no sidechain");
}

#[test]
fn an_eq_match_curve_in_a_state_is_heard_at_once_without_latency_and_checked() {
    use fluxforge::dsp::eq_match::MAX_DB;
    use fluxforge::dsp::long_term_spectrum::{point_hz, POINTS};
    // A tilt of -3 dB per octave about 1 kHz with a bump at 2 kHz.
    let curve: Vec<f32> = (0..POINTS)
        .map(|i| {
            let f = point_hz(i);
            let bump = 6.0 * (-((f / 2000.0).log2() / 0.5).powi(2)).exp();
            -3.0 * (f / 1000.0).log2() + bump
        })
        .collect();
    let mut rng = Rng::new(17);
    let len = 48_000;
    let x: Vec<f32> = (0..len).map(|_| 0.2 * rng.bipolar() as f32).collect();
    let t0 = 30_000;
    let mut with = x.clone();
    with[t0] += 0.5;
    let run_with = |fields: serde_json::Value, input: &Vec<f32>| {
        let mut inst = new_instance(load_entry());
        let mut state: serde_json::Value = serde_json::from_slice(&save_state(&mut inst)).unwrap();
        state["params"]["mix"] = f(0.0);
        state["fields"]["eq-match"] = fields;
        assert!(load_state(&mut inst, &serde_json::to_vec(&state).unwrap()));
        let proc = inst.activate(|_, _| (), config(48_000.0, 256)).unwrap();
        let mut proc = proc.start_processing().unwrap();
        let mut rng = Rng::new(3);
        let out = run(
            &mut proc,
            &[input.clone(), input.clone()],
            &mut || rng.range(1, 256),
            &[],
        );
        inst.deactivate(proc.stop_processing());
        (out, save_state(&mut inst))
    };
    let text = |v: &serde_json::Value| serde_json::Value::String(v.to_string());
    let (plain, _) = run_with(text(&serde_json::json!(curve)), &x);
    let (hit, saved) = run_with(text(&serde_json::json!(curve)), &with);
    // The plugin is the engine with the same design, from the first sample.
    let want = matched_dry(&curve, &with);
    assert!(max_diff(&hit, &want) < 1e-5, "{}", max_diff(&hit, &want));
    // And it is the curve: the output is not the input.
    let moved = hit[0]
        .iter()
        .zip(&with)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    assert!(moved > 0.05, "{moved}");
    // Zero latency: an impulse's effect starts at its sample.
    let d: Vec<f32> = hit[0].iter().zip(&plain[0]).map(|(a, b)| a - b).collect();
    assert!(d[..t0].iter().all(|v| v.abs() < 1e-6));
    // (The filter's first tap is 0.35: the impulse of 0.5 comes out at 0.18 at once.)
    assert!(d[t0].abs() > 0.1, "{}", d[t0]);
    // The curve is saved back.
    let saved: serde_json::Value = serde_json::from_slice(&saved).unwrap();
    let back: Vec<f32> =
        serde_json::from_str(saved["fields"]["eq-match"].as_str().unwrap()).unwrap();
    assert_eq!(back, curve);
    // A damaged curve: values out of range are clamped (it plays, never NaN), one of the
    // wrong length is dropped (no match: the dry signal).
    let mut bad = curve.clone();
    bad[10] = 1e30;
    bad[20] = -1e30;
    let (out, saved) = run_with(text(&serde_json::json!(bad)), &x);
    assert!(out[0].iter().all(|v| v.is_finite()));
    let saved: serde_json::Value = serde_json::from_slice(&saved).unwrap();
    let kept: Vec<f32> =
        serde_json::from_str(saved["fields"]["eq-match"].as_str().unwrap()).unwrap();
    assert_eq!((kept[10], kept[20], kept[30]), (MAX_DB, -MAX_DB, curve[30]));
    let (short, saved) = run_with(text(&serde_json::json!([1.0, 2.0])), &x);
    assert!(
        max_diff(&short, &[x.clone(), x.clone()]) < 1e-6,
        "no match: dry"
    );
    let saved: serde_json::Value = serde_json::from_slice(&saved).unwrap();
    assert_eq!(saved["fields"]["eq-match"].as_str(), Some("null"));
}

#[test]
fn an_eq_match_curve_loaded_while_playing_crossfades_in_and_lands_on_the_match() {
    use fluxforge::dsp::long_term_spectrum::{point_hz, POINTS};
    let curve: Vec<f32> = (0..POINTS)
        .map(|i| if point_hz(i) < 1000.0 { 6.0 } else { -6.0 })
        .collect();
    let mut inst = new_instance(load_entry());
    let mut state: serde_json::Value = serde_json::from_slice(&save_state(&mut inst)).unwrap();
    state["params"]["mix"] = f(0.0);
    assert!(load_state(&mut inst, &serde_json::to_vec(&state).unwrap()));
    let proc = inst.activate(|_, _| (), config(48_000.0, 256)).unwrap();
    let mut proc = proc.start_processing().unwrap();
    let mut rng = Rng::new(23);
    let len = 48_000 * 3;
    let x: Vec<f32> = (0..len).map(|_| 0.2 * rng.bipolar() as f32).collect();
    let split = 9_600;
    let first = run(
        &mut proc,
        &[x[..split].to_vec(), x[..split].to_vec()],
        &mut || 256,
        &[],
    );
    assert_eq!(first[0], x[..split], "no curve yet: the dry signal");
    // The host loads a session with a curve while the plugin plays (the allocation-checked
    // build aborts on any allocation on the audio thread).
    state["fields"]["eq-match"] = serde_json::Value::String(serde_json::json!(curve).to_string());
    assert!(load_state(&mut inst, &serde_json::to_vec(&state).unwrap()));
    let mut rest = [Vec::new(), Vec::new()];
    let mut pos = split;
    while pos < len {
        let end = (pos + 4_800).min(len);
        let out = run(
            &mut proc,
            &[x[pos..end].to_vec(), x[pos..end].to_vec()],
            &mut || 256,
            &[],
        );
        rest[0].extend_from_slice(&out[0]);
        pos = end;
        // Real time: the design is made on the worker meanwhile.
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    inst.deactivate(proc.stop_processing());
    // No step larger than the signal's own (noise at 0.2 through at most +6 dB: 0.8 between
    // samples at most, allowing the filter's overshoot).
    let mut all = first[0].clone();
    all.extend_from_slice(&rest[0]);
    assert!(all.iter().all(|v| v.is_finite()));
    let worst = all
        .windows(2)
        .map(|w| (w[1] - w[0]).abs())
        .fold(0.0f32, f32::max);
    assert!(worst < 2.0, "{worst}");
    // The last second is the match: the engine with the same design from the start (the
    // filter's memory of before the design has died away by then).
    let want = matched_dry(&curve, &x);
    let tail = len - 48_000;
    let diff = all[tail..]
        .iter()
        .zip(&want[0][tail..])
        .map(|(p, q)| (p - q).abs())
        .fold(0.0f32, f32::max);
    assert!(diff < 1e-4, "{diff}");
    let moved = all[tail..]
        .iter()
        .zip(&x[tail..])
        .map(|(p, q)| (p - q).abs())
        .fold(0.0f32, f32::max);
    assert!(moved > 0.05, "the match is heard: {moved}");
}

/// The engine's dry output (mix 0) for `x` on both channels with the EQ match `curve`
/// designed at 48 kHz and playing from the first sample.
fn matched_dry(curve: &[f32], x: &[f32]) -> [Vec<f32>; 2] {
    use fluxforge::dsp::eq_match::MatchDesign;
    let settings = Settings {
        mix: 0.0,
        ..Default::default()
    };
    let mut e = Engine::new(48_000.0, None, &settings);
    let checked: [f32; fluxforge::dsp::long_term_spectrum::POINTS] =
        std::array::from_fn(|i| curve[i]);
    e.set_match(&MatchDesign::new(&checked, 48_000.0));
    e.reset();
    let mut out = [x.to_vec(), x.to_vec()];
    let [a, b] = &mut out;
    e.process(&mut [&mut a[..], &mut b[..]]);
    out
}
