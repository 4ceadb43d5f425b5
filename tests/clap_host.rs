//! Host-level tests of the bundled CLAP plugin (`target/bundled/FluxForge.clap`), loaded with
//! clack-host exactly as a DAW loads it. Build the bundle first:
//! `cargo xtask bundle fluxforge --release` (the test script does).
//!
//! The reference for every output is the crate's own [`Engine`] run directly with the same
//! settings, so these tests fail if the plugin adds latency, ignores automation or bypass,
//! loses state, or depends on the host's block sizes.
mod common;
use common::*;

#[test]
fn descriptor_is_complete() {
    let entry = load_entry();
    let factory = entry.get_plugin_factory().expect("plugin factory");
    let d = factory.plugin_descriptors().next().expect("one plugin");
    assert_eq!(d.id().unwrap(), c"audio.fluxforge.fluxforge");
    assert_eq!(d.name().unwrap(), c"FluxForge");
    let features: Vec<&CStr> = d.features().collect();
    for f in [
        c"audio-effect",
        c"reverb",
        c"equalizer",
        c"distortion",
        c"stereo",
    ] {
        assert!(features.contains(&f), "feature {f:?} in {features:?}");
    }
}

#[test]
fn matches_the_engine_at_every_rate_and_block_size_with_zero_latency() {
    let entry = load_entry();
    for rate in [44_100.0, 48_000.0, 96_000.0] {
        for max in [64u32, 512, 4096] {
            let mut inst = new_instance(entry);
            let p = Params::get(&mut inst);
            // Wet only from the first sample: set the mix while inactive.
            let mut ev = EventBuffer::new();
            ev.push(&event(0, p.id("Mix"), 1.0));
            let mut out_ev = EventBuffer::new();
            p.ext.flush(
                &mut inst.inactive_plugin_handle().unwrap(),
                &InputEvents::from_buffer(&ev),
                &mut OutputEvents::from_buffer(&mut out_ev),
            );
            let stopped = inst
                .activate(|_, _| (), config(rate, max))
                .expect("activates");
            let latency = inst
                .plugin_handle()
                .get_extension::<PluginLatency>()
                .expect("latency ext");
            assert_eq!(
                latency.get(&inst.plugin_handle()),
                0,
                "reported latency at {rate} Hz / {max}"
            );
            let mut proc = stopped.start_processing().expect("starts");

            // Delta impulse, wet only: the IR must start at sample 0.
            let mut delta = [vec![0.0f32; 6000], vec![0.0f32; 6000]];
            delta[0][0] = 1.0;
            delta[1][0] = 1.0;
            let mut rng = Rng::new(rate as u64 + max as u64);
            let out = run(&mut proc, &delta, &mut || rng.range(1, max as usize), &[]);
            let want = reference(
                rate as f32,
                &delta,
                Settings {
                    mix: 1.0,
                    ..Default::default()
                },
                &[],
            );
            assert!(out[0][0].abs() > 0.1, "onset at sample 0: {}", out[0][0]);
            assert!(
                max_diff(&out, &want) < 1e-5,
                "delta response at {rate}/{max}: {}",
                max_diff(&out, &want)
            );

            inst.deactivate(proc.stop_processing());
        }
    }
}

#[test]
fn varying_block_sizes_give_the_same_output() {
    let entry = load_entry();
    let input = noise(48_000, 5);
    let mut outs = Vec::new();
    for seed in [1u64, 2] {
        let mut inst = new_instance(entry);
        let proc = inst.activate(|_, _| (), config(48_000.0, 4096)).unwrap();
        let mut proc = proc.start_processing().unwrap();
        let mut rng = Rng::new(seed);
        let mut sizes = move || {
            if seed == 1 {
                rng.range(1, 4096)
            } else {
                [1, 3, 64, 4096, 17][rng.range(0, 4)]
            }
        };
        outs.push(run(&mut proc, &input, &mut sizes, &[]));
        inst.deactivate(proc.stop_processing());
    }
    let want = reference(48_000.0, &input, Settings::default(), &[]);
    assert!(max_diff(&outs[0], &outs[1]) < 1e-5);
    assert!(
        max_diff(&outs[0], &want) < 1e-5,
        "{}",
        max_diff(&outs[0], &want)
    );
}

#[test]
fn automation_is_sample_accurate_and_bypass_passes_input() {
    let entry = load_entry();
    let mut inst = new_instance(entry);
    let p = Params::get(&mut inst);
    let proc = inst.activate(|_, _| (), config(48_000.0, 512)).unwrap();
    let mut proc = proc.start_processing().unwrap();
    let input = noise(24_000, 9);
    let (mix, out_gain, bypass) = (p.id("Mix"), p.id("Output"), p.id("Bypass"));
    let events = [
        (1000, out_gain, gain_norm(-12.0)),
        (1000, mix, 0.8),
        (5001, bypass, 1.0),
    ];
    let out = run(&mut proc, &input, &mut || 512, &events);
    let s1 = Settings {
        output_gain_db: -12.0,
        mix: 0.8,
        ..Default::default()
    };
    let s2 = Settings { bypass: true, ..s1 };
    let want = reference(
        48_000.0,
        &input,
        Settings::default(),
        &[(1000, s1), (5001, s2)],
    );
    assert!(
        max_diff(&out, &want) < 1e-5,
        "automation: {}",
        max_diff(&out, &want)
    );
    // Before the change the output is the default mix; after the bypass crossfade it is the input.
    let unaffected = reference(48_000.0, &input, Settings::default(), &[]);
    assert!((0..1000).all(|n| (out[0][n] - unaffected[0][n]).abs() < 1e-5));
    assert!(
        (1010..1100).any(|n| (out[0][n] - unaffected[0][n]).abs() > 1e-3),
        "automation had an effect"
    );
    assert!(
        (5001 + 480..24_000).all(|n| out[0][n] == input[0][n] && out[1][n] == input[1][n]),
        "bypass is a null"
    );
    inst.deactivate(proc.stop_processing());
}

#[test]
fn character_parameters_reach_the_engine() {
    let entry = load_entry();
    let mut inst = new_instance(entry);
    let p = Params::get(&mut inst);
    let proc = inst.activate(|_, _| (), config(48_000.0, 512)).unwrap();
    let mut proc = proc.start_processing().unwrap();
    let input = noise(24_000, 21);
    // The CLAP wrapper exposes continuous parameters normalized (0..1) but stepped ones (enums)
    // by index (`max_value` = 3 here): Warm is 2.
    let events = [
        (0, p.id("Character"), 2.0),
        (0, p.id("Drive"), normalized("sat_drive", 24.0)),
        (0, p.id("Oversample"), 1.0),
    ];
    let out = run(&mut proc, &input, &mut || 512, &events);
    let mut s = Settings::default();
    s.character.mode = fluxforge::dsp::saturator::CharacterMode::Warm;
    s.character.drive_db = 24.0;
    s.character.oversample = true;
    let want = reference(48_000.0, &input, Settings::default(), &[(0, s)]);
    let first_bad = (0..input[0].len()).find(|&n| (out[0][n] - want[0][n]).abs() > 1e-5);
    assert!(
        max_diff(&out, &want) < 1e-5,
        "{} first at {first_bad:?}",
        max_diff(&out, &want)
    );
    let clean = reference(48_000.0, &input, Settings::default(), &[]);
    assert!(
        max_diff(&out, &clean) > 0.01,
        "the character stage is audible"
    );
    inst.deactivate(proc.stop_processing());
}

#[test]
fn flush_while_inactive_and_state_round_trip() {
    let entry = load_entry();
    let mut inst = new_instance(entry);
    let p = Params::get(&mut inst);
    let (mix, in_gain) = (p.id("Mix"), p.id("Input"));

    // Flush while inactive.
    let mut ev = EventBuffer::new();
    ev.push(&event(0, mix, 0.65));
    ev.push(&event(0, in_gain, gain_norm(-6.0)));
    let mut out_ev = EventBuffer::new();
    {
        let mut h = inst.inactive_plugin_handle().expect("inactive");
        p.ext.flush(
            &mut h,
            &InputEvents::from_buffer(&ev),
            &mut OutputEvents::from_buffer(&mut out_ev),
        );
    }
    assert!((p.value(&mut inst, "Mix") - 0.65).abs() < 1e-6);
    let settings = Settings {
        mix: 0.65,
        input_gain_db: -6.0,
        ..Default::default()
    };

    let input = noise(20_000, 13);
    let want = reference(48_000.0, &input, settings, &[]);
    let proc = inst.activate(|_, _| (), config(48_000.0, 256)).unwrap();
    let mut proc = proc.start_processing().unwrap();
    let first = run(&mut proc, &input, &mut || 256, &[]);
    assert!(
        max_diff(&first, &want) < 1e-5,
        "flushed values are used: {}",
        max_diff(&first, &want)
    );
    inst.deactivate(proc.stop_processing());

    // Save, change everything, load: values and output come back.
    let state_ext = inst
        .plugin_handle()
        .get_extension::<PluginState>()
        .expect("state ext");
    let mut saved = Vec::new();
    state_ext
        .save(&inst.plugin_handle(), &mut saved)
        .expect("saves");
    let mut ev = EventBuffer::new();
    ev.push(&event(0, mix, 0.1));
    ev.push(&event(0, in_gain, gain_norm(12.0)));
    {
        let mut h = inst.inactive_plugin_handle().unwrap();
        p.ext.flush(
            &mut h,
            &InputEvents::from_buffer(&ev),
            &mut OutputEvents::from_buffer(&mut out_ev),
        );
    }
    assert!((p.value(&mut inst, "Mix") - 0.1).abs() < 1e-6);
    state_ext
        .load(&inst.plugin_handle(), &mut &saved[..])
        .expect("loads");
    assert!(
        (p.value(&mut inst, "Mix") - 0.65).abs() < 1e-6,
        "mix restored"
    );
    assert!(
        (p.value(&mut inst, "Input") - gain_norm(-6.0)).abs() < 1e-6,
        "input gain restored"
    );

    // Deactivate/reactivate cycles repeat exactly.
    for _ in 0..3 {
        let proc = inst.activate(|_, _| (), config(48_000.0, 256)).unwrap();
        let mut proc = proc.start_processing().unwrap();
        let again = run(&mut proc, &input, &mut || 256, &[]);
        assert!(
            again == first,
            "reactivation repeats the first run: {}",
            max_diff(&again, &first)
        );
        inst.deactivate(proc.stop_processing());
    }

    // A corrupt state is refused and leaves the parameters alone.
    assert!(state_ext
        .load(&inst.plugin_handle(), &mut &b"{not json"[..])
        .is_err());
    assert!((p.value(&mut inst, "Mix") - 0.65).abs() < 1e-6);
}

#[test]
fn room_is_recalled_at_activation() {
    let entry = load_entry();
    let mut inst = new_instance(entry);
    let p = Params::get(&mut inst);
    let mut ev = EventBuffer::new();
    ev.push(&event(0, p.id("Room"), Room::Cathedral.to_index() as f64)); // stepped: by index
    let mut out_ev = EventBuffer::new();
    p.ext.flush(
        &mut inst.inactive_plugin_handle().unwrap(),
        &InputEvents::from_buffer(&ev),
        &mut OutputEvents::from_buffer(&mut out_ev),
    );
    let proc = inst.activate(|_, _| (), config(48_000.0, 256)).unwrap();
    let mut proc = proc.start_processing().unwrap();
    let input = noise(48_000, 31);
    let out = run(&mut proc, &input, &mut || 256, &[]);
    let want = reference_in(Room::Cathedral, 48_000.0, &input, Settings::default(), &[]);
    assert!(max_diff(&out, &want) < 1e-5, "{}", max_diff(&out, &want));
    inst.deactivate(proc.stop_processing());
}

#[test]
fn changing_the_room_while_playing_crossfades_to_it() {
    let (_, input, out) =
        sine_with_a_change_at_one_second("Room", Room::LargeHall.to_index() as f64);
    let before = reference_in(Room::MediumRoom, 48_000.0, &input, Settings::default(), &[]);
    let after = reference_in(Room::LargeHall, 48_000.0, &input, Settings::default(), &[]);
    let head = (0..48_000)
        .map(|n| (out[0][n] - before[0][n]).abs())
        .fold(0.0f32, f32::max);
    assert!(head < 1e-5, "unchanged before the switch: {head}");
    assert_crossfades(&out, &before, &after);
}

#[test]
fn embedded_ir_and_edits_round_trip_through_the_state_bit_exactly() {
    // A true-stereo IR at 44.1 kHz from a path that does not exist on this machine: the
    // embedded copy is what loads (resampled to the session's 48 kHz).
    let ir = test_ir(4, 44_100, 1.5, 77);
    let stored = StoredIr::encode(&ir, "/no/such/folder/Test IR.wav");
    let edits = IrEdits {
        predelay_ms: 30.0,
        trim_ms: 5.0,
        length_pct: 80.0,
        reverse: false,
        stretch_pct: 120.0,
        decay_pct: 70.0,
        low_cut_hz: 100.0,
        high_cut_hz: 8000.0,
        auto_gain: true,
        attack_ms: 3.0,
        hold_ms: 40.0,
        early_db: 2.0,
        late_db: -4.0,
        split_ms: 0.0,
    };
    let state = state_with_ir(
        &stored,
        &[
            ("ir_predelay", f(30.0)),
            ("ir_trim", f(5.0)),
            ("ir_length", f(80.0)),
            ("ir_stretch", f(120.0)),
            ("ir_decay", f(70.0)),
            ("ir_lowcut", f(100.0)),
            ("ir_highcut", f(8000.0)),
            ("ir_attack", f(3.0)),
            ("ir_hold", f(40.0)),
            ("ir_early", f(2.0)),
            ("ir_late", f(-4.0)),
            ("wet_width", f(1.4)),
            ("wet_level", f(-3.0)),
            ("mix", f(0.5)),
        ],
    );
    let settings = Settings {
        mix: 0.5,
        width: 1.4,
        wet_level_db: -3.0,
        ..Default::default()
    };
    let mut input = noise(96_000, 41);
    input[0][0] = 1.0;
    let edited = fluxforge::ir_source::render_ir(
        &Source::File(Arc::new(ir.clone()), String::new()),
        48_000.0,
        &edits,
    );
    let want = reference_ir(&edited.channels, 48_000.0, &input, settings, &[]);

    let play = |state: &[u8]| {
        let mut inst = new_instance(load_entry());
        assert!(load_state(&mut inst, state), "state loads");
        let proc = inst.activate(|_, _| (), config(48_000.0, 512)).unwrap();
        let mut proc = proc.start_processing().unwrap();
        let mut rng = Rng::new(5);
        let out = run(&mut proc, &input, &mut || 1 + rng.range(0, 512), &[]);
        inst.deactivate(proc.stop_processing());
        let saved = save_state(&mut inst);
        (out, saved)
    };
    let (a, saved_a) = play(&state);
    assert!(
        max_diff(&a, &want) < 1e-5,
        "plays the edited IR: {}",
        max_diff(&a, &want)
    );
    // The saved state carries the same IR and edits; a second instance restores them exactly.
    let v: serde_json::Value = serde_json::from_slice(&saved_a).unwrap();
    let back: Option<StoredIr> = serde_json::from_str(v["fields"]["ir"].as_str().unwrap()).unwrap();
    let back = back.expect("IR saved");
    assert_eq!(back.path, "/no/such/folder/Test IR.wav");
    assert_eq!(back.decode().unwrap(), ir, "embedded samples are bit-exact");
    let (b, saved_b) = play(&saved_a);
    assert!(
        a == b,
        "restored output is bit-identical: {}",
        max_diff(&a, &b)
    );
    assert_eq!(
        saved_a, saved_b,
        "the state survives a second round trip byte for byte"
    );
}

#[test]
fn a_damaged_or_absurd_embedded_ir_keeps_the_previous_sound() {
    let good = StoredIr::encode(&test_ir(2, 48_000, 0.5, 3), "x.wav");
    let damaged = [
        StoredIr {
            data: "AAAA".repeat(100),
            ..good.clone()
        },
        StoredIr {
            frames: 1 << 40,
            ..good.clone()
        },
        StoredIr {
            channels: 64,
            ..good.clone()
        },
    ];
    for bad in &damaged {
        // Playing the Cathedral (not the default room, which a fallback would give).
        let mut inst = new_instance(load_entry());
        let p = Params::get(&mut inst);
        let mut ev = EventBuffer::new();
        ev.push(&event(0, p.id("Room"), Room::Cathedral.to_index() as f64));
        p.ext.flush(
            &mut inst.inactive_plugin_handle().unwrap(),
            &InputEvents::from_buffer(&ev),
            &mut OutputEvents::from_buffer(&mut EventBuffer::new()),
        );
        let proc = inst.activate(|_, _| (), config(48_000.0, 256)).unwrap();
        let mut proc = proc.start_processing().unwrap();
        let input = noise(48_000 * 2, 9);
        let want = reference_in(Room::Cathedral, 48_000.0, &input, Settings::default(), &[]);
        let first = [input[0][..48_000].to_vec(), input[1][..48_000].to_vec()];
        let second = [input[0][48_000..].to_vec(), input[1][48_000..].to_vec()];
        let a = run(&mut proc, &first, &mut || 256, &[]);
        // Load a session whose IR is damaged while playing.
        assert!(load_state(&mut inst, &state_with_ir(bad, &[])));
        let mut b = [vec![0.0f32; 48_000], vec![0.0f32; 48_000]];
        for start in (0..48_000).step_by(480) {
            let chunk = [
                second[0][start..start + 480].to_vec(),
                second[1][start..start + 480].to_vec(),
            ];
            let y = run(&mut proc, &chunk, &mut || 480, &[]);
            b[0][start..start + 480].copy_from_slice(&y[0]);
            b[1][start..start + 480].copy_from_slice(&y[1]);
            if start < 48_000 / 4 {
                std::thread::sleep(std::time::Duration::from_millis(2));
            }
        }
        let out = [
            [a[0].clone(), b[0].clone()].concat(),
            [a[1].clone(), b[1].clone()].concat(),
        ];
        assert!(
            max_diff(&out, &want) < 1e-5,
            "the previous IR keeps playing: {}",
            max_diff(&out, &want)
        );
        inst.deactivate(proc.stop_processing());
    }
}

#[test]
fn zero_latency_with_every_ir_and_edit() {
    let mono = StoredIr::encode(&test_ir(1, 96_000, 0.4, 1), "mono.wav");
    let stereo = StoredIr::encode(&test_ir(2, 44_100, 0.4, 2), "stereo.wav");
    let tstereo = StoredIr::encode(&test_ir(4, 48_000, 0.4, 3), "ts.wav");
    // (file, parameter id, plain value): the edits come from the parameters set by the same
    // ids (as presets and the renderer do), so the reference and the state name the same thing.
    use serde_json::json;
    let cases: Vec<(&StoredIr, &str, serde_json::Value)> = vec![
        (&mono, "", json!(null)),
        (&stereo, "", json!(null)),
        (&tstereo, "", json!(null)),
        (&stereo, "ir_predelay", json!(20.0)),
        (&stereo, "ir_trim", json!(2.0)),
        (&stereo, "ir_length", json!(30.0)),
        (&stereo, "ir_reverse", json!(true)),
        (&tstereo, "ir_stretch", json!(170.0)),
        (&stereo, "ir_decay", json!(40.0)),
        (&stereo, "ir_lowcut", json!(300.0)),
        (&mono, "ir_highcut", json!(3000.0)),
        (&stereo, "ir_autogain", json!(false)),
        (&stereo, "ir_attack", json!(2.0)),
        (&stereo, "ir_hold", json!(50.0)),
        (&stereo, "ir_early", json!(4.0)),
        (&tstereo, "ir_late", json!(-12.0)),
        (&stereo, "ir_split", json!(40.0)),
    ];
    let mut delta = [vec![0.0f32; 30_000], vec![0.0f32; 30_000]];
    delta[0][0] = 1.0;
    delta[1][0] = 1.0;
    for (stored, id, plain) in cases {
        let mut values = vec![("mix", f(1.0))];
        let params = fluxforge::params::FluxForgeParams::default();
        if !id.is_empty() {
            let tagged = if plain.is_boolean() {
                json!({ "bool": plain })
            } else {
                json!({ "f32": plain })
            };
            values.push((id, tagged));
            fluxforge::preset::set(&params, id, &plain).unwrap();
        }
        let edits = params.ir_edits();
        let state = state_with_ir(stored, &values);
        let mut inst = new_instance(load_entry());
        assert!(load_state(&mut inst, &state));
        let proc = inst.activate(|_, _| (), config(48_000.0, 128)).unwrap();
        let latency = inst
            .plugin_handle()
            .get_extension::<PluginLatency>()
            .unwrap()
            .get(&mut inst.plugin_handle());
        assert_eq!(latency, 0, "{id}: reported latency");
        let mut proc = proc.start_processing().unwrap();
        let out = run(&mut proc, &delta, &mut || 128, &[]);
        inst.deactivate(proc.stop_processing());
        let ir = fluxforge::ir_source::render_ir(
            &Source::File(Arc::new(stored.decode().unwrap()), String::new()),
            48_000.0,
            &edits,
        );
        let settings = Settings {
            mix: 1.0,
            ..Default::default()
        };
        let want = reference_ir(&ir.channels, 48_000.0, &delta, settings, &[]);
        assert!(
            max_diff(&out, &want) < 1e-5,
            "{id}: {}",
            max_diff(&out, &want)
        );
        // Measured onset: where the edited IR starts, and nowhere earlier.
        let onset = |y: &[f32]| y.iter().position(|v| v.abs() > 1e-4);
        let mid: Vec<f32> = (0..ir.channels[0].len())
            .map(|i| ir.channels.iter().map(|c| c[i].abs()).fold(0.0, f32::max))
            .collect();
        let ir_onset = onset(&mid).unwrap();
        let out_onset = onset(&out[0]).unwrap().min(onset(&out[1]).unwrap());
        assert!(
            out_onset.abs_diff(ir_onset) <= 3,
            "{id}: onset {out_onset} vs IR {ir_onset}"
        );
        if id == "ir_predelay" {
            assert!(out_onset >= 960, "pre-delay of 20 ms: onset {out_onset}");
        } else if id != "ir_reverse" && id != "ir_attack" {
            assert!(out_onset <= 6, "{id}: onset at sample {out_onset}");
        }
    }
}

#[test]
fn an_edit_while_playing_crossfades_and_lands_on_the_edited_ir() {
    // Pre-delay 0 -> 120 ms at 1 s (a normalized value).
    let (mut inst, input, out) =
        sine_with_a_change_at_one_second("Pre-delay", normalized("ir_predelay", 120.0));
    let edits = IrEdits {
        predelay_ms: 120.0,
        ..Default::default()
    };
    let before = reference_in(Room::MediumRoom, 48_000.0, &input, Settings::default(), &[]);
    let ir = fluxforge::ir_source::render_ir(&Source::Factory(Room::MediumRoom), 48_000.0, &edits);
    let after = reference_ir(&ir.channels, 48_000.0, &input, Settings::default(), &[]);
    assert_crossfades(&out, &before, &after);
    let p = Params::get(&mut inst);
    assert!((p.value(&mut inst, "Pre-delay") - 0.24).abs() < 1e-6);
}

#[test]
fn dynamic_eq_and_spectral_dynamics_add_no_latency_in_any_mode() {
    use fluxforge::dsp::dynamic_eq::{BandKind, DynamicMode};
    use fluxforge::dsp::spectral::SpectralMode;
    // (state values by parameter id, the same settings for the engine reference)
    let b = |v: f32| serde_json::json!({ "bool": v > 0.5 });
    let cases: Vec<(&str, Vec<(&str, serde_json::Value)>, Settings)> = {
        let mut static_bell = Settings::default();
        static_bell.eq[2].enabled = true;
        static_bell.eq[2].gain_db = 6.0;
        let mut dyn_band = static_bell;
        dyn_band.eq[2].dynamic = DynamicMode::Down;
        dyn_band.eq[2].threshold_db = -30.0;
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
            .get(&mut inst.plugin_handle());
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
fn a_state_from_before_the_ir_existed_loads_with_the_default() {
    // Strip what this version added (the IR field, the edit and EQ parameters) from a state.
    let mut inst = new_instance(load_entry());
    let mut state: serde_json::Value = serde_json::from_slice(&save_state(&mut inst)).unwrap();
    state["fields"].as_object_mut().unwrap().remove("ir");
    state["params"].as_object_mut().unwrap().retain(|id, _| {
        !(id.starts_with("ir_")
            || id.starts_with("eq_")
            || id.starts_with("spec_")
            || id.starts_with("wet_"))
    });
    state["params"]["mix"] = f(0.6);
    let mut inst = new_instance(load_entry());
    assert!(load_state(&mut inst, &serde_json::to_vec(&state).unwrap()));
    let proc = inst.activate(|_, _| (), config(48_000.0, 512)).unwrap();
    let mut proc = proc.start_processing().unwrap();
    let input = noise(30_000, 17);
    let out = run(&mut proc, &input, &mut || 512, &[]);
    inst.deactivate(proc.stop_processing());
    let want = reference(
        48_000.0,
        &input,
        Settings {
            mix: 0.6,
            ..Default::default()
        },
        &[],
    );
    assert!(max_diff(&out, &want) < 1e-5, "{}", max_diff(&out, &want));
}

#[test]
fn eq_placement_band_placement_and_ducking_reach_the_engine() {
    use fluxforge::dsp::chain::EqPlacement;
    use fluxforge::dsp::ducker::DuckSettings;
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
    use serde_json::json;
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
    let values = [
        ("mix", f(0.0)),
        ("eq_on_3", json!({ "bool": true })),
        ("eq_freq_3", f(1000.0)),
        ("eq_dyn_3", json!({ "i32": 1 })),
        ("eq_thresh_3", f(-30.0)),
        ("eq_source_3", json!({ "i32": 1 })),
    ];
    let len = 48_000;
    let tone = |db: f64| -> Vec<f32> {
        let a = 10f64.powf(db / 20.0);
        (0..len)
            .map(|n| (a * (std::f64::consts::TAU * 1000.0 * n as f64 / 48_000.0).sin()) as f32)
            .collect()
    };
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
