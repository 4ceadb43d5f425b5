//! Impulse responses through the host: the room recalled at activation, room changes and
//! IR edits crossfaded while playing, the embedded IR and its edits round-tripping through
//! the state bit-exactly, damaged states keeping the previous sound, zero latency with every
//! IR and edit.

use super::common::*;

#[test]
fn room_is_recalled_at_activation() {
    let entry = load_entry();
    let mut inst = new_instance(entry);
    let p = Params::get(&mut inst);
    let mut ev = EventBuffer::new();
    ev.push(&event(0, p.id("room"), Room::Cathedral.to_index() as f64)); // stepped: by index
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
        sine_with_a_change_at_one_second("room", Room::LargeHall.to_index() as f64);
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
        decay_low_pct: 140.0,
        decay_mid_pct: 90.0,
        decay_high_pct: 60.0,
        decay_low_hz: 250.0,
        decay_high_hz: 5000.0,
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
            ("ir_dlow", f(140.0)),
            ("ir_dmid", f(90.0)),
            ("ir_dhigh", f(60.0)),
            ("ir_dxlow", f(250.0)),
            ("ir_dxhigh", f(5000.0)),
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
        ev.push(&event(0, p.id("room"), Room::Cathedral.to_index() as f64));
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
            .get(&inst.plugin_handle());
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
        sine_with_a_change_at_one_second("ir_predelay", normalized("ir_predelay", 120.0));
    let edits = IrEdits {
        predelay_ms: 120.0,
        ..Default::default()
    };
    let before = reference_in(Room::MediumRoom, 48_000.0, &input, Settings::default(), &[]);
    let ir = fluxforge::ir_source::render_ir(&Source::Factory(Room::MediumRoom), 48_000.0, &edits);
    let after = reference_ir(&ir.channels, 48_000.0, &input, Settings::default(), &[]);
    assert_crossfades(&out, &before, &after);
    let p = Params::get(&mut inst);
    assert!((p.value(&mut inst, "ir_predelay") - 0.24).abs() < 1e-6);
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
fn an_lfo_on_decay_never_gaps_and_ends_on_the_final_value() {
    // A host LFO on Decay: 2 Hz for 10 s of audio, one value per 10 ms block (what a host
    // sends for modulation drawn as automation), played at twice real time as a host's
    // engine paces blocks; then Decay holds its final value. Every change asks for a render;
    // the worker coalesces them (at most one per MIN_RENDER_INTERVAL, the newest value wins,
    // tested in `worker.rs`). Here, through the real plugin: the wet signal never drops out
    // (no block without sound, no jump larger than the steady signal's), and the output ends
    // exactly on the final value's IR, its tail included.
    let rate = 48_000usize;
    let block = 480;
    let mut inst = new_instance(load_entry());
    let p = Params::get(&mut inst);
    let (decay, mix) = (p.id("ir_decay"), p.id("mix"));
    let proc = inst
        .activate(|_, _| (), config(48_000.0, block as u32))
        .unwrap();
    let mut proc = proc.start_processing().unwrap();
    let lfo_len = 10 * rate;
    let len = lfo_len + 4 * rate;
    let sine: Vec<f32> = (0..len)
        .map(|n| (0.5 * (std::f64::consts::TAU * 440.0 * n as f64 / 48_000.0).sin()) as f32)
        .collect();
    let input = [sine.clone(), sine];
    // Decay between 60 % and 165 % (normalised 0.2..0.8), then 95 % (0.4) held.
    let lfo = |n: usize| 0.5 + 0.3 * (std::f64::consts::TAU * 2.0 * n as f64 / 48_000.0).sin();
    let final_norm = 0.4;
    let mut out = [vec![0.0f32; len], vec![0.0f32; len]];
    for start in (0..len).step_by(block) {
        let end = (start + block).min(len);
        let chunk = [input[0][start..end].to_vec(), input[1][start..end].to_vec()];
        let mut ev = vec![];
        if start == 0 {
            ev.push((0, mix, 1.0));
        }
        if start < lfo_len {
            ev.push((0, decay, lfo(start)));
        } else if start == lfo_len {
            ev.push((0, decay, final_norm));
        }
        let y = run(&mut proc, &chunk, &mut || block, &ev);
        out[0][start..end].copy_from_slice(&y[0]);
        out[1][start..end].copy_from_slice(&y[1]);
        if start < lfo_len + rate {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    }
    inst.deactivate(proc.stop_processing());
    assert!((p.value(&mut inst, "ir_decay") - final_norm).abs() < 1e-6);

    let wet = Settings {
        mix: 1.0,
        ..Default::default()
    };
    let with_decay = |pct: f32| {
        let edits = IrEdits {
            decay_pct: pct,
            ..Default::default()
        };
        let ir =
            fluxforge::ir_source::render_ir(&Source::Factory(Room::MediumRoom), 48_000.0, &edits);
        reference_ir(&ir.channels, 48_000.0, &input, wet, &[])
    };
    let (short, long) = (with_decay(60.0), with_decay(165.0));
    let steady = rate..lfo_len;
    let rms = |v: &[f32]| (v.iter().map(|a| a * a).sum::<f32>() / v.len() as f32).sqrt();
    let floor = 0.5 * rms(&short[0][steady.clone()]).min(rms(&long[0][steady.clone()]));
    for (k, w) in out[0][rate / 2..].chunks(block).enumerate() {
        assert!(
            rms(w) > floor,
            "block {k} after 0.5 s: {} below half the quieter steady level {floor}",
            rms(w)
        );
    }
    // No click: a 440 Hz sine through any IR and any crossfade between two is a 440 Hz sine
    // whose level and phase move slowly, so its second difference stays within its level
    // times 2(1 - cos w); a step (a dropped or repeated block) is hundreds of times that.
    let w = std::f64::consts::TAU * 440.0 / 48_000.0;
    let smooth = 2.0 * (1.0 - w.cos()) as f32;
    for (k, blk) in out[0][rate / 2..].chunks(block).enumerate() {
        let peak = blk.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        let d2 = blk
            .windows(3)
            .map(|t| (t[2] - 2.0 * t[1] + t[0]).abs())
            .fold(0.0f32, f32::max);
        assert!(
            d2 <= 2.0 * smooth * peak,
            "block {k} after 0.5 s: second difference {d2} for a peak of {peak} (a sine's is {})",
            smooth * peak
        );
    }
    let after = with_decay(95.0);
    let tail = (len - rate..len)
        .map(|n| {
            (out[0][n] - after[0][n])
                .abs()
                .max((out[1][n] - after[1][n]).abs())
        })
        .fold(0.0f32, f32::max);
    assert!(tail < 1e-4, "does not end on the final value's IR: {tail}");
}

#[test]
fn a_synced_pre_delay_lands_on_the_note_at_the_hosts_tempo() {
    // A delta IR (the wet path is the input, delayed by the pre-delay), Mix 100 %, Pre-delay
    // Sync 1/8, Pre-delay 10 ms; offline, so the render for a new tempo is in place before
    // the next impulse. At 90 BPM an eighth is 333.3 ms (16000 samples), at 140 BPM 214.3 ms
    // (10285.7 samples): each impulse's wet onset lands there within one sample, the second
    // after the tempo changed in the same instance. Without a transport: the 10 ms.
    use clack_extensions::render::{PluginRender, RenderMode};
    let mut delta = IrData {
        name: "delta".into(),
        sample_rate: 48_000,
        channels: vec![vec![0.0f32; 256]],
    };
    delta.channels[0][0] = 1.0;
    let stored = StoredIr::encode(&delta, "/no/such/folder/delta.wav");
    let eighth = fluxforge::params::PredelayNote::N8.to_index() as i32;
    let state = state_with_ir(
        &stored,
        &[
            ("mix", f(1.0)),
            ("ir_predelay", f(10.0)),
            ("ir_predelay_sync", serde_json::json!({ "i32": eighth })),
        ],
    );
    let onset = |y: &[f32]| {
        let peak = y.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        y.iter().position(|v| v.abs() > 0.01 * peak).unwrap()
    };
    let impulse_at = |at: usize| {
        let mut x = vec![0.0f32; 48_000];
        x[at] = 1.0;
        [x.clone(), x]
    };
    let mut inst = new_instance(load_entry());
    assert!(load_state(&mut inst, &state));
    inst.plugin_handle()
        .get_extension::<PluginRender>()
        .expect("render extension")
        .set(&inst.plugin_handle(), RenderMode::Offline)
        .expect("offline mode");
    let proc = inst.activate(|_, _| (), config(48_000.0, 512)).unwrap();
    let mut proc = proc.start_processing().unwrap();
    let mut rng = Rng::new(8);
    let mut sizes = || rng.range(1, 512);
    for (tempo, at, want) in [
        (Some(90.0), 9_600, 9_600 + 16_000),
        (Some(140.0), 14_400, 14_400 + 10_286),
        (None, 4_800, 4_800 + 480),
    ] {
        let y = run_at_tempo(&mut proc, &impulse_at(at), None, tempo, &mut sizes, &[]);
        let got = onset(&y[0]);
        assert!(
            got.abs_diff(want) <= 1,
            "{tempo:?} BPM: the wet onset at {got}, the note at {want}"
        );
    }
    inst.deactivate(proc.stop_processing());
}
