//! Host-level tests of the bundled CLAP plugin (`target/bundled/FluxForge.clap`), loaded with
//! clack-host exactly as a DAW loads it. Build the bundle first:
//! `cargo xtask bundle fluxforge --release` (the test script does).
//!
//! The reference for every output is the crate's own [`Engine`] run directly with the same
//! settings, so these tests fail if the plugin adds latency, ignores automation or bypass,
//! loses state, or depends on the host's block sizes. This file holds the basics (descriptor,
//! engine match, block sizes, automation, bypass, character, state); `ir.rs` and
//! `dynamics.rs` hold the impulse-response and the EQ & dynamics topics, `remote.rs` the
//! controller pages, `presets.rs` the presets a host lists and loads. One test binary.
#[path = "../common/mod.rs"]
mod common;
mod dynamics;
mod ir;
#[cfg(target_os = "linux")] // counts threads in /proc
mod lifetime;
#[cfg(target_os = "linux")] // reads its memory in /proc
mod many;
mod offline;
mod presets;
mod remote;
#[cfg(all(target_os = "linux", target_pointer_width = "64"))] // thread CPU time
mod soak;

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
            ev.push(&event(0, p.id("mix"), 1.0));
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
    let (mix, out_gain, bypass) = (p.id("mix"), p.id("out_gain"), p.id("bypass"));
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
        (0, p.id("sat_mode"), 2.0),
        (0, p.id("sat_drive"), normalized("sat_drive", 24.0)),
        (0, p.id("sat_os"), 1.0),
    ];
    let out = run(&mut proc, &input, &mut || 512, &events);
    let mut s = Settings::default();
    s.character.mode = fluxforge::dsp::saturator::CharacterMode::Warm;
    s.character.drive_db = 24.0;
    s.character.oversample = true.into();
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
    let (mix, in_gain) = (p.id("mix"), p.id("in_gain"));

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
    assert!((p.value(&mut inst, "mix") - 0.65).abs() < 1e-6);
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
    assert!((p.value(&mut inst, "mix") - 0.1).abs() < 1e-6);
    state_ext
        .load(&inst.plugin_handle(), &mut &saved[..])
        .expect("loads");
    assert!(
        (p.value(&mut inst, "mix") - 0.65).abs() < 1e-6,
        "mix restored"
    );
    assert!(
        (p.value(&mut inst, "in_gain") - gain_norm(-6.0)).abs() < 1e-6,
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
    assert!((p.value(&mut inst, "mix") - 0.65).abs() < 1e-6);
}
