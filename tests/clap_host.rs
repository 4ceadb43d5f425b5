//! Host-level tests of the bundled CLAP plugin (`target/bundled/FluxForge.clap`), loaded with
//! clack-host exactly as a DAW loads it. Build the bundle first:
//! `cargo xtask bundle fluxforge --release` (the test script does).
//!
//! The reference for every output is the crate's own [`Engine`] run directly with the same
//! settings, so these tests fail if the plugin adds latency, ignores automation or bypass,
//! loses state, or depends on the host's block sizes.

use std::ffi::CStr;
use std::path::PathBuf;

use clack_extensions::latency::PluginLatency;
use clack_extensions::params::{ParamInfoBuffer, PluginParams};
use clack_extensions::state::PluginState;
use clack_host::events::event_types::ParamValueEvent;
use clack_host::events::io::EventBuffer;
use clack_host::events::Pckn;
use clack_host::prelude::*;
use clack_host::utils::ClapId;

use fluxforge::dsp::chain::{Engine, Settings};
use fluxforge::dsp::convolver::Kernel;
use fluxforge::dsp::rng::Rng;
use fluxforge::params::Room;

struct Shared;
impl SharedHandler<'_> for Shared {
    fn request_restart(&self) {}
    fn request_process(&self) {}
    fn request_callback(&self) {}
}
struct TestHost;
impl HostHandlers for TestHost {
    type Shared<'a> = Shared;
    type MainThread<'a> = ();
    type AudioProcessor<'a> = ();
}

/// The bundle under test: `$FLUXFORGE_CLAP` if set (the test script points it at a debug build
/// with nice-plug's `assert_process_allocs`, which aborts on any allocation in `process()`),
/// otherwise the release bundle.
fn bundle_path() -> PathBuf {
    let p = std::env::var_os("FLUXFORGE_CLAP")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bundled/FluxForge.clap")
        });
    assert!(
        p.exists(),
        "{} is missing: run `cargo xtask bundle fluxforge --release` first",
        p.display()
    );
    p
}

/// The entry is loaded once per process and never unloaded: unloading a plugin library while
/// another test's instance (or the framework's helper threads) still runs is what a DAW never
/// does either.
fn load_entry() -> &'static PluginEntry {
    static ENTRY: std::sync::OnceLock<PluginEntry> = std::sync::OnceLock::new();
    // SAFETY: loading our own plugin library, which runs no code at load beyond the CLAP entry.
    ENTRY.get_or_init(|| unsafe { PluginEntry::load(bundle_path()).expect("CLAP entry loads") })
}

fn new_instance(entry: &PluginEntry) -> PluginInstance<TestHost> {
    let info = HostInfo::new(
        "FluxForge test host",
        "FluxForge",
        "https://fluxforge.audio",
        "1.0",
    )
    .unwrap();
    PluginInstance::<TestHost>::new(
        |_| Shared,
        |_| (),
        entry,
        c"audio.fluxforge.fluxforge",
        &info,
    )
    .expect("instantiates")
}

/// Parameter ids and ranges by name.
struct Params {
    ext: PluginParams,
    ids: Vec<(String, ClapId)>,
}

impl Params {
    fn get(inst: &mut PluginInstance<TestHost>) -> Self {
        let handle = inst.plugin_handle();
        let ext = handle
            .get_extension::<PluginParams>()
            .expect("params extension");
        let mut ids = Vec::new();
        let mut buf = ParamInfoBuffer::new();
        for i in 0..ext.count(&handle) {
            let info = ext.get_info(&handle, i, &mut buf).expect("param info");
            let name = String::from_utf8_lossy(info.name).to_string();
            ids.push((name, info.id));
        }
        Self { ext, ids }
    }
    fn id(&self, name: &str) -> ClapId {
        self.ids
            .iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("param {name}"))
            .1
    }
    fn value(&self, inst: &mut PluginInstance<TestHost>, name: &str) -> f64 {
        self.ext
            .get_value(&inst.plugin_handle(), self.id(name))
            .unwrap()
    }
}

/// Normalized (0..1) value of a gain in dB over the -24..24 dB range.
fn gain_norm(db: f32) -> f64 {
    ((db + 24.0) / 48.0) as f64
}

fn event(time: u32, id: ClapId, value: f64) -> ParamValueEvent {
    ParamValueEvent::new(time, id, Pckn::match_all(), value)
}

/// Processes stereo `input` in calls of the given sizes (cycled), delivering each event in
/// the call that contains its absolute sample time.
fn run(
    proc: &mut StartedPluginAudioProcessor<TestHost>,
    input: &[Vec<f32>; 2],
    sizes: &mut dyn FnMut() -> usize,
    events: &[(usize, ClapId, f64)],
) -> [Vec<f32>; 2] {
    let len = input[0].len();
    let mut out = [vec![0.0f32; len], vec![0.0f32; len]];
    let mut in_ports = AudioPorts::with_capacity(2, 1);
    let mut out_ports = AudioPorts::with_capacity(2, 1);
    let mut pos = 0;
    while pos < len {
        let n = sizes().clamp(1, len - pos);
        let mut ev = EventBuffer::new();
        for &(t, id, v) in events {
            if t >= pos && t < pos + n {
                ev.push(&event((t - pos) as u32, id, v));
            }
        }
        let mut in_l = input[0][pos..pos + n].to_vec();
        let mut in_r = input[1][pos..pos + n].to_vec();
        let (ol, or) = out.split_at_mut(1);
        let inputs = in_ports.with_input_buffers([AudioPortBuffer {
            latency: 0,
            channels: AudioPortBufferType::f32_input_only(
                [
                    InputChannel::variable(&mut in_l[..]),
                    InputChannel::variable(&mut in_r[..]),
                ]
                .into_iter(),
            ),
        }]);
        let mut outputs = out_ports.with_output_buffers([AudioPortBuffer {
            latency: 0,
            channels: AudioPortBufferType::f32_output_only(
                [&mut ol[0][pos..pos + n], &mut or[0][pos..pos + n]].into_iter(),
            ),
        }]);
        let mut out_events = EventBuffer::new();
        proc.process(
            &inputs,
            &mut outputs,
            &InputEvents::from_buffer(&ev),
            &mut OutputEvents::from_buffer(&mut out_events),
            None,
            None,
        )
        .expect("process");
        pos += n;
    }
    out
}

/// The engine run directly: the reference the plugin must match. `changes` are settings that
/// take effect at absolute sample times.
fn reference(
    rate: f32,
    input: &[Vec<f32>; 2],
    initial: Settings,
    changes: &[(usize, Settings)],
) -> [Vec<f32>; 2] {
    reference_in(Room::MediumRoom, rate, input, initial, changes)
}

/// [`reference`] with a given factory room.
fn reference_in(
    room: Room,
    rate: f32,
    input: &[Vec<f32>; 2],
    initial: Settings,
    changes: &[(usize, Settings)],
) -> [Vec<f32>; 2] {
    let plan = fluxforge::plan_for_rate(rate);
    let [l, r] = fluxforge::room_ir(room, rate);
    let k = Kernel::new(&plan, &[&l, &r], 2, 2);
    let mut e = Engine::new(rate, plan, Some(Box::new(k)), &initial);
    let mut out = input.clone();
    let (a, b) = out.split_at_mut(1);
    let mut pos = 0;
    let mut cuts: Vec<usize> = changes.iter().map(|c| c.0).collect();
    cuts.push(input[0].len());
    for (i, &cut) in cuts.iter().enumerate() {
        if cut > pos {
            e.process(&mut [&mut a[0][pos..cut], &mut b[0][pos..cut]]);
            pos = cut;
        }
        if let Some((_, s)) = changes.get(i) {
            e.set_settings(s);
        }
    }
    out
}

fn noise(len: usize, seed: u64) -> [Vec<f32>; 2] {
    let mut rng = Rng::new(seed);
    let mut f = || (0..len).map(|_| 0.25 * rng.bipolar() as f32).collect();
    [f(), f()]
}

fn max_diff(a: &[Vec<f32>; 2], b: &[Vec<f32>; 2]) -> f32 {
    a.iter()
        .zip(b)
        .flat_map(|(x, y)| x.iter().zip(y).map(|(p, q)| (p - q).abs()))
        .fold(0.0, f32::max)
}

fn config(rate: f64, max: u32) -> PluginAudioConfiguration {
    PluginAudioConfiguration {
        sample_rate: rate,
        min_frames_count: 1,
        max_frames_count: max,
    }
}

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
        (0, p.id("Drive"), 24.0 / 36.0),
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
    ev.push(&event(0, p.id("Room"), Room::Cathedral.index() as f64)); // stepped: by index
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

fn max_jump(y: &[f32]) -> f32 {
    y.windows(2)
        .map(|w| (w[1] - w[0]).abs())
        .fold(0.0, f32::max)
}

#[test]
fn changing_the_room_while_playing_crossfades_to_it() {
    let entry = load_entry();
    let mut inst = new_instance(entry);
    let p = Params::get(&mut inst);
    let proc = inst.activate(|_, _| (), config(48_000.0, 480)).unwrap();
    let mut proc = proc.start_processing().unwrap();
    let len = 4 * 48_000;
    let sine: Vec<f32> = (0..len)
        .map(|n| (0.5 * (std::f64::consts::TAU * 440.0 * n as f64 / 48_000.0).sin()) as f32)
        .collect();
    let input = [sine.clone(), sine];
    let room = p.id("Room");
    let mut out = [vec![0.0f32; len], vec![0.0f32; len]];
    // Process in calls of 480 samples, giving the background loader real time to work.
    for (i, start) in (0..len).step_by(480).enumerate() {
        let chunk = [
            input[0][start..start + 480].to_vec(),
            input[1][start..start + 480].to_vec(),
        ];
        let events: Vec<(usize, ClapId, f64)> = if start == 48_000 {
            vec![(0, room, Room::LargeHall.index() as f64)]
        } else {
            vec![]
        };
        let y = run(&mut proc, &chunk, &mut || 480, &events);
        out[0][start..start + 480].copy_from_slice(&y[0]);
        out[1][start..start + 480].copy_from_slice(&y[1]);
        if start >= 48_000 && i < 300 {
            std::thread::sleep(std::time::Duration::from_millis(4));
        }
    }
    let before = reference_in(Room::MediumRoom, 48_000.0, &input, Settings::default(), &[]);
    let after = reference_in(Room::LargeHall, 48_000.0, &input, Settings::default(), &[]);
    let steady = max_jump(&before[0][24_000..]).max(max_jump(&after[0][24_000..]));
    let jump = max_jump(&out[0]);
    assert!(jump <= 1.5 * steady, "swap jump {jump} vs steady {steady}");
    let head = (0..48_000)
        .map(|n| (out[0][n] - before[0][n]).abs())
        .fold(0.0f32, f32::max);
    assert!(head < 1e-5, "unchanged before the switch: {head}");
    // The last second is exactly the new room, its tail included.
    let tail = (3 * 48_000..len)
        .map(|n| (out[0][n] - after[0][n]).abs())
        .fold(0.0f32, f32::max);
    assert!(tail < 1e-4, "ends on the Large Hall: {tail}");
    inst.deactivate(proc.stop_processing());
}
