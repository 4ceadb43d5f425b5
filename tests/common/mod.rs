//! The host harness shared by the CLAP host tests: loading the bundle with clack-host as a
//! DAW does, processing with events, parameters by name, state save/load, and the crate's own
//! engine as the reference every output is compared with.
#![allow(dead_code, unused_imports)]

pub use std::ffi::CStr;
pub use std::path::PathBuf;

pub use clack_extensions::latency::PluginLatency;
pub use clack_extensions::params::{ParamInfoBuffer, PluginParams};
pub use clack_extensions::preset_discovery::prelude::{HostPresetLoad, Location};
pub use clack_extensions::preset_discovery::HostPresetLoadImpl;
pub use clack_extensions::state::PluginState;
pub use clack_host::events::event_types::{ParamValueEvent, TransportEvent};
pub use clack_host::events::io::EventBuffer;
pub use clack_host::events::EventFlags;
pub use clack_host::events::Pckn;
pub use clack_host::prelude::*;
pub use clack_host::utils::ClapId;

pub use fluxforge::dsp::chain::{Engine, Settings};
pub use fluxforge::dsp::convolver::Kernel;
pub use fluxforge::dsp::ir_edit::IrEdits;
pub use fluxforge::dsp::rng::Rng;
pub use fluxforge::ir_file::IrData;
pub use fluxforge::ir_source::Source;
pub use fluxforge::ir_state::StoredIr;
pub use fluxforge::params::Room;
pub use nice_plug::prelude::Enum;
pub use std::sync::Arc;

pub struct Shared;
impl SharedHandler<'_> for Shared {
    fn request_restart(&self) {}
    fn request_process(&self) {}
    fn request_callback(&self) {}
}
pub struct TestHost;
impl HostHandlers for TestHost {
    type Shared<'a> = Shared;
    type MainThread<'a> = TestMain;
    type AudioProcessor<'a> = ();
    fn declare_extensions(builder: &mut HostExtensions<Self>, _shared: &Self::Shared<'_>) {
        builder.register::<HostPresetLoad>();
    }
}

/// The host's main-thread side: what the plugin told its preset-load extension, as
/// `loaded <location> <key>` or `error <location> <key>: <message>` lines.
#[derive(Default)]
pub struct TestMain {
    pub preset_events: std::cell::RefCell<Vec<String>>,
}
impl MainThreadHandler<'_> for TestMain {}

fn describe_location(location: Location, load_key: Option<&CStr>) -> String {
    let loc = match location {
        Location::Plugin => "plugin".to_string(),
        Location::File { path } => format!("file {}", path.to_string_lossy()),
    };
    format!(
        "{loc} {}",
        load_key.map_or("-".into(), |k| k.to_string_lossy().into_owned())
    )
}

impl HostPresetLoadImpl for TestMain {
    fn on_error(
        &self,
        location: Location,
        load_key: Option<&CStr>,
        _os_error: i32,
        message: Option<&CStr>,
    ) {
        self.preset_events.borrow_mut().push(format!(
            "error {}: {}",
            describe_location(location, load_key),
            message.map_or("".into(), |m| m.to_string_lossy().into_owned())
        ));
    }
    fn loaded(&self, location: Location, load_key: Option<&CStr>) {
        self.preset_events
            .borrow_mut()
            .push(format!("loaded {}", describe_location(location, load_key)));
    }
}

/// The six factory rooms, shortest first.
pub const FACTORY_ROOMS: [Room; 6] = [
    Room::SmallRoom,
    Room::MediumRoom,
    Room::Chamber,
    Room::Plate,
    Room::LargeHall,
    Room::Cathedral,
];

/// The bundle under test: `$FLUXFORGE_CLAP` if set (the test script points it at a debug build
/// with nice-plug's `assert_process_allocs`, which aborts on any allocation in `process()`),
/// otherwise the release bundle.
pub fn bundle_path() -> PathBuf {
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
pub fn load_entry() -> &'static PluginEntry {
    static ENTRY: std::sync::OnceLock<PluginEntry> = std::sync::OnceLock::new();
    // SAFETY: loading our own plugin library, which runs no code at load beyond the CLAP entry.
    ENTRY.get_or_init(|| unsafe { PluginEntry::load(bundle_path()).expect("CLAP entry loads") })
}

pub fn new_instance(entry: &PluginEntry) -> PluginInstance<TestHost> {
    let info = HostInfo::new(
        "FluxForge test host",
        "FluxForge",
        "https://fluxforge.audio",
        "1.0",
    )
    .unwrap();
    PluginInstance::<TestHost>::new(
        |_| Shared,
        |_| TestMain::default(),
        entry,
        c"audio.fluxforge.fluxforge",
        &info,
    )
    .expect("instantiates")
}

/// The plugin's parameters as a host sees them, found by their string IDs.
pub struct Params {
    pub ext: PluginParams,
    /// `(string ID, CLAP id)` of every parameter, in the plugin's order.
    pub ids: Vec<(String, ClapId)>,
}

/// The CLAP id the framework gives a string parameter ID: a 31-bit multiplicative hash of
/// its bytes. [`Params::get`] checks every ID against the ids the plugin reports.
fn clap_id_of(id: &str) -> u32 {
    let hash = id
        .bytes()
        .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(b as u32));
    hash & !(1 << 31)
}

impl Params {
    pub fn get(inst: &mut PluginInstance<TestHost>) -> Self {
        use nice_plug::prelude::Params as _;
        let handle = inst.plugin_handle();
        let ext = handle
            .get_extension::<PluginParams>()
            .expect("params extension");
        let mut reported = Vec::new();
        let mut buf = ParamInfoBuffer::new();
        for i in 0..ext.count(&handle) {
            reported.push(ext.get_info(&handle, i, &mut buf).expect("param info").id);
        }
        let ids: Vec<(String, ClapId)> = fluxforge::params::FluxForgeParams::default()
            .param_map()
            .into_iter()
            .map(|(id, _, _)| {
                let clap = ClapId::new(clap_id_of(&id));
                assert!(reported.contains(&clap), "parameter {id} is not reported");
                (id, clap)
            })
            .collect();
        assert_eq!(
            ids.len(),
            reported.len(),
            "every reported parameter has an ID"
        );
        Self { ext, ids }
    }
    pub fn id(&self, id: &str) -> ClapId {
        self.ids
            .iter()
            .find(|(n, _)| n == id)
            .unwrap_or_else(|| panic!("param {id}"))
            .1
    }
    pub fn value(&self, inst: &mut PluginInstance<TestHost>, id: &str) -> f64 {
        self.ext
            .get_value(&inst.plugin_handle(), self.id(id))
            .unwrap()
    }
}

/// Normalized (0..1) value of a gain in dB over the -24..24 dB range.
pub fn gain_norm(db: f32) -> f64 {
    ((db + 24.0) / 48.0) as f64
}

/// The normalized value (what a CLAP host sends for a continuous parameter) of `plain` for
/// parameter `id`, from the plugin's own parameter objects.
pub fn normalized(id: &str, plain: f32) -> f64 {
    use nice_plug::prelude::Params as _;
    let params = fluxforge::params::FluxForgeParams::default();
    let (_, ptr, _) = params
        .param_map()
        .into_iter()
        .find(|(i, _, _)| i == id)
        .unwrap_or_else(|| panic!("parameter {id}"));
    // SAFETY: `ptr` comes from `param_map()` of a parameter object that outlives this use:
    // nice-plug's parameter pointers point into that object.
    unsafe { ptr.preview_normalized(plain) as f64 }
}

pub fn event(time: u32, id: ClapId, value: f64) -> ParamValueEvent {
    ParamValueEvent::new(time, id, Pckn::match_all(), value)
}

/// Processes stereo `input` in calls of the given sizes (cycled), delivering each event in
/// the call that contains its absolute sample time.
pub fn run(
    proc: &mut StartedPluginAudioProcessor<TestHost>,
    input: &[Vec<f32>; 2],
    sizes: &mut dyn FnMut() -> usize,
    events: &[(usize, ClapId, f64)],
) -> [Vec<f32>; 2] {
    run_keyed(proc, input, None, sizes, events)
}

/// [`run`] with a stereo sidechain on the second input port (without one, the host passes
/// the main input port only, as a host that routes no sidechain may).
pub fn run_keyed(
    proc: &mut StartedPluginAudioProcessor<TestHost>,
    input: &[Vec<f32>; 2],
    key: Option<&[Vec<f32>; 2]>,
    sizes: &mut dyn FnMut() -> usize,
    events: &[(usize, ClapId, f64)],
) -> [Vec<f32>; 2] {
    run_at_tempo(proc, input, key, None, sizes, events)
}

/// The transport a host sends while playing at `bpm` (4/4, at the song's start).
pub fn transport(bpm: f64) -> TransportEvent {
    use clack_host::events::event_types::TransportFlags;
    use clack_host::utils::{BeatTime, SecondsTime};
    TransportEvent {
        header: EventHeader::new_core(0, EventFlags::empty()),
        flags: TransportFlags::HAS_TEMPO
            | TransportFlags::HAS_BEATS_TIMELINE
            | TransportFlags::HAS_TIME_SIGNATURE
            | TransportFlags::IS_PLAYING,
        song_pos_beats: BeatTime::from_int(0),
        song_pos_seconds: SecondsTime::from_int(0),
        tempo: bpm,
        tempo_inc: 0.0,
        loop_start_beats: BeatTime::from_int(0),
        loop_end_beats: BeatTime::from_int(0),
        loop_start_seconds: SecondsTime::from_int(0),
        loop_end_seconds: SecondsTime::from_int(0),
        bar_start: BeatTime::from_int(0),
        bar_number: 0,
        time_signature_numerator: 4,
        time_signature_denominator: 4,
    }
}

/// [`run_keyed`] with the host's transport at `tempo` BPM on every call (`None`: no
/// transport, as a host that is not playing or has none).
pub fn run_at_tempo(
    proc: &mut StartedPluginAudioProcessor<TestHost>,
    input: &[Vec<f32>; 2],
    key: Option<&[Vec<f32>; 2]>,
    tempo: Option<f64>,
    sizes: &mut dyn FnMut() -> usize,
    events: &[(usize, ClapId, f64)],
) -> [Vec<f32>; 2] {
    let transport = tempo.map(transport);
    let len = input[0].len();
    let mut out = [vec![0.0f32; len], vec![0.0f32; len]];
    let mut in_ports = AudioPorts::with_capacity(4, 2);
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
        let (mut key_l, mut key_r) = match key {
            Some(k) => (k[0][pos..pos + n].to_vec(), k[1][pos..pos + n].to_vec()),
            None => (Vec::new(), Vec::new()),
        };
        let (ol, or) = out.split_at_mut(1);
        let main = AudioPortBuffer {
            latency: 0,
            channels: AudioPortBufferType::f32_input_only(
                [
                    InputChannel::variable(&mut in_l[..]),
                    InputChannel::variable(&mut in_r[..]),
                ]
                .into_iter(),
            ),
        };
        let inputs = if key.is_some() {
            let side = AudioPortBuffer {
                latency: 0,
                channels: AudioPortBufferType::f32_input_only(
                    [
                        InputChannel::variable(&mut key_l[..]),
                        InputChannel::variable(&mut key_r[..]),
                    ]
                    .into_iter(),
                ),
            };
            in_ports.with_input_buffers([main, side])
        } else {
            in_ports.with_input_buffers([main])
        };
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
            transport.as_ref(),
        )
        .expect("process");
        pos += n;
    }
    out
}

/// The engine run directly: the reference the plugin must match. `changes` are settings that
/// take effect at absolute sample times.
pub fn reference(
    rate: f32,
    input: &[Vec<f32>; 2],
    initial: Settings,
    changes: &[(usize, Settings)],
) -> [Vec<f32>; 2] {
    reference_in(Room::MediumRoom, rate, input, initial, changes)
}

/// [`reference`] with a given factory room (default edits).
pub fn reference_in(
    room: Room,
    rate: f32,
    input: &[Vec<f32>; 2],
    initial: Settings,
    changes: &[(usize, Settings)],
) -> [Vec<f32>; 2] {
    let ir = fluxforge::ir_source::render_ir(&Source::Factory(room), rate, &IrEdits::default());
    reference_ir(&ir.channels, rate, input, initial, changes)
}

/// [`reference`] with a sidechain (no changes).
pub fn reference_keyed(
    rate: f32,
    input: &[Vec<f32>; 2],
    key: &[Vec<f32>; 2],
    settings: Settings,
) -> [Vec<f32>; 2] {
    let ir = fluxforge::ir_source::render_ir(
        &Source::Factory(Room::MediumRoom),
        rate,
        &IrEdits::default(),
    );
    let refs: Vec<&[f32]> = ir.channels.iter().map(Vec::as_slice).collect();
    let k = fluxforge::ir_source::kernel_for(&refs, 512);
    let mut e = Engine::new(rate, Some(Box::new(k)), &settings);
    let mut out = input.clone();
    let [a, b] = &mut out;
    e.process_keyed(
        &mut [&mut a[..], &mut b[..]],
        Some([&key[0][..], &key[1][..]]),
    );
    out
}

/// [`reference`] with a given (edited) IR.
pub fn reference_ir(
    ir: &[Vec<f32>],
    rate: f32,
    input: &[Vec<f32>; 2],
    initial: Settings,
    changes: &[(usize, Settings)],
) -> [Vec<f32>; 2] {
    let refs: Vec<&[f32]> = ir.iter().map(Vec::as_slice).collect();
    let k = fluxforge::ir_source::kernel_for(&refs, 512);
    let mut e = Engine::new(rate, Some(Box::new(k)), &initial);
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

pub fn noise(len: usize, seed: u64) -> [Vec<f32>; 2] {
    let mut rng = Rng::new(seed);
    let mut f = || (0..len).map(|_| 0.25 * rng.bipolar() as f32).collect();
    [f(), f()]
}

pub fn max_diff(a: &[Vec<f32>; 2], b: &[Vec<f32>; 2]) -> f32 {
    a.iter()
        .zip(b)
        .flat_map(|(x, y)| x.iter().zip(y).map(|(p, q)| (p - q).abs()))
        .fold(0.0, f32::max)
}

pub fn config(rate: f64, max: u32) -> PluginAudioConfiguration {
    PluginAudioConfiguration {
        sample_rate: rate,
        min_frames_count: 1,
        max_frames_count: max,
    }
}

/// Plays `input` in calls of 480 samples, delivering `events` at the start of the call that
/// begins at sample `at`, and sleeping 4 ms per call for 300 calls from there so that the
/// background loader works in real time, as it would in a host.
pub fn play_paced(
    proc: &mut StartedPluginAudioProcessor<TestHost>,
    input: &[Vec<f32>; 2],
    at: usize,
    events: &[(ClapId, f64)],
) -> [Vec<f32>; 2] {
    let len = input[0].len();
    let mut out = [vec![0.0f32; len], vec![0.0f32; len]];
    for (i, start) in (0..len).step_by(480).enumerate() {
        let end = (start + 480).min(len);
        let chunk = [input[0][start..end].to_vec(), input[1][start..end].to_vec()];
        let ev: Vec<(usize, ClapId, f64)> = if start == at {
            events.iter().map(|&(id, v)| (0, id, v)).collect()
        } else {
            vec![]
        };
        let y = run(proc, &chunk, &mut || 480, &ev);
        out[0][start..end].copy_from_slice(&y[0]);
        out[1][start..end].copy_from_slice(&y[1]);
        if start >= at && i < at / 480 + 300 {
            std::thread::sleep(std::time::Duration::from_millis(4));
        }
    }
    out
}

pub fn max_jump(y: &[f32]) -> f32 {
    y.windows(2)
        .map(|w| (w[1] - w[0]).abs())
        .fold(0.0, f32::max)
}

/// Plays a 0.5-amplitude 440 Hz sine for 4 s at 48 kHz, paced as a host would, while the
/// parameter named `param` moves to the normalised `value` at 1 s. Returns the (deactivated)
/// instance, the input and the output.
pub fn sine_with_a_change_at_one_second(
    param: &str,
    value: f64,
) -> (PluginInstance<TestHost>, [Vec<f32>; 2], [Vec<f32>; 2]) {
    let mut inst = new_instance(load_entry());
    let id = Params::get(&mut inst).id(param);
    let proc = inst.activate(|_, _| (), config(48_000.0, 480)).unwrap();
    let mut proc = proc.start_processing().unwrap();
    let sine: Vec<f32> = (0..4 * 48_000)
        .map(|n| (0.5 * (std::f64::consts::TAU * 440.0 * n as f64 / 48_000.0).sin()) as f32)
        .collect();
    let input = [sine.clone(), sine];
    let out = play_paced(&mut proc, &input, 48_000, &[(id, value)]);
    inst.deactivate(proc.stop_processing());
    (inst, input, out)
}

/// A change while playing crossfades from `before` to `after`: no sample-to-sample jump
/// beyond 1.5x the steady signal's, and the last second exactly `after`, its tail included.
pub fn assert_crossfades(out: &[Vec<f32>; 2], before: &[Vec<f32>; 2], after: &[Vec<f32>; 2]) {
    let steady = max_jump(&before[0][24_000..]).max(max_jump(&after[0][24_000..]));
    let jump = max_jump(&out[0]);
    assert!(jump <= 1.5 * steady, "jump {jump} vs steady {steady}");
    let tail = (3 * 48_000..out[0].len())
        .map(|n| (out[0][n] - after[0][n]).abs())
        .fold(0.0f32, f32::max);
    assert!(tail < 1e-4, "does not end on the new sound: {tail}");
}

/// The plugin's state as JSON (nice-plug's CLAP stream is a little-endian u64 length, then
/// the JSON).
pub fn save_state(inst: &mut PluginInstance<TestHost>) -> Vec<u8> {
    let ext = inst.plugin_handle().get_extension::<PluginState>().unwrap();
    let mut saved = Vec::new();
    ext.save(&inst.plugin_handle(), &mut saved).expect("saves");
    let len = u64::from_le_bytes(saved[..8].try_into().unwrap()) as usize;
    assert_eq!(len, saved.len() - 8);
    saved.split_off(8)
}

/// Loads a JSON state (see [`save_state`]).
pub fn load_state(inst: &mut PluginInstance<TestHost>, json: &[u8]) -> bool {
    let ext = inst.plugin_handle().get_extension::<PluginState>().unwrap();
    let mut bytes = (json.len() as u64).to_le_bytes().to_vec();
    bytes.extend_from_slice(json);
    ext.load(&inst.plugin_handle(), &mut &bytes[..]).is_ok()
}

/// A decaying-noise IR file as decoded: `channels` channels at `rate`, `seconds` long.
pub fn test_ir(channels: usize, rate: u32, seconds: f64, seed: u64) -> IrData {
    let mut rng = Rng::new(seed);
    let n = (seconds * rate as f64) as usize;
    IrData {
        name: "Test IR".into(),
        sample_rate: rate,
        channels: (0..channels)
            .map(|c| {
                (0..n)
                    .map(|i| {
                        let d = if i == 3 * c { 0.9 } else { 0.0 };
                        d + (0.3 * rng.bipolar() * (-(i as f64) / (0.25 * rate as f64)).exp())
                            as f32
                    })
                    .collect()
            })
            .collect(),
    }
}

/// A saved state of a fresh instance with the file IR embedded, `Room` = Loaded File and the
/// given plain parameter values (`{"f32": v}` / `{"bool": b}` by parameter id).
pub fn state_with_ir(stored: &StoredIr, values: &[(&str, serde_json::Value)]) -> Vec<u8> {
    let mut inst = new_instance(load_entry());
    let mut state: serde_json::Value = serde_json::from_slice(&save_state(&mut inst)).unwrap();
    state["params"]["room"] = serde_json::json!({ "i32": Room::File.to_index() });
    for (id, v) in values {
        assert!(state["params"].get(*id).is_some(), "param id {id}");
        state["params"][*id] = v.clone();
    }
    state["fields"]["ir"] =
        serde_json::Value::String(serde_json::to_string(&Some(stored)).unwrap());
    serde_json::to_vec(&state).unwrap()
}

pub fn f(v: f32) -> serde_json::Value {
    serde_json::json!({ "f32": v })
}

/// A 1 kHz sine at `db` dBFS, `len` samples at 48 kHz.
pub fn tone_1k(db: f64, len: usize) -> Vec<f32> {
    let a = 10f64.powf(db / 20.0);
    (0..len)
        .map(|n| (a * (std::f64::consts::TAU * 1000.0 * n as f64 / 48_000.0).sin()) as f32)
        .collect()
}

/// State values (by parameter ID) of the sidechain tests' setting: dry only, band 3 a dynamic
/// bell at 1 kHz compressing (Down) above -30 dBFS, listening to the sidechain.
pub fn keyed_band_values() -> [(&'static str, serde_json::Value); 6] {
    use serde_json::json;
    [
        ("mix", f(0.0)),
        ("eq_on_3", json!({ "bool": true })),
        ("eq_freq_3", f(1000.0)),
        ("eq_dyn_3", json!({ "i32": 1 })),
        ("eq_thresh_3", f(-30.0)),
        ("eq_source_3", json!({ "i32": 1 })),
    ]
}

/// Every recorded session state (`tests/fixtures/sessions/<version>/state-*.json`) as
/// `(version, path)`, in version and name order.
pub fn recorded_states() -> Vec<(String, PathBuf)> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sessions");
    let mut out = Vec::new();
    let mut versions: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("the fixture folder")
        .map(|e| e.unwrap().path())
        .collect();
    versions.sort();
    for dir in versions {
        let version = dir.file_name().unwrap().to_string_lossy().to_string();
        let mut states: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| {
                p.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with("state-")
            })
            .collect();
        states.sort();
        out.extend(states.into_iter().map(|p| (version.clone(), p)));
    }
    out
}
