//! The VST3 edit controller as a host drives it, through the bundle's own COM interfaces (a
//! minimal host written here on the `vst3` bindings): a value the host sets on the controller
//! reads back at once, also while the processor runs (Steinberg's validator checks this in
//! its bypass persistence test), and a state load replaces it.
#![cfg(all(target_os = "linux", target_arch = "x86_64"))]

use std::ffi::c_void;
use std::path::PathBuf;

use vst3::Steinberg::Vst::ParameterInfo_::ParameterFlags_;
use vst3::Steinberg::Vst::*;
use vst3::Steinberg::*;
use vst3::{ComPtr, Interface};

#[path = "common/mod.rs"]
mod common;
use common::{keyed_band_values, tone_1k};

/// The release VST3 bundle's Linux library (`cargo xtask bundle fluxforge --release`), or
/// `$FLUXFORGE_VST3`.
fn library() -> PathBuf {
    std::env::var_os("FLUXFORGE_VST3").map_or_else(
        || {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("target/bundled/FluxForge.vst3/Contents/x86_64-linux/FluxForge.so")
        },
        PathBuf::from,
    )
}

struct Instance {
    component: ComPtr<IComponent>,
    controller: ComPtr<IEditController>,
    processor: ComPtr<IAudioProcessor>,
    /// The process mode set up last.
    mode: std::cell::Cell<i32>,
    _lib: libloading::Library,
}

impl Instance {
    fn new() -> Self {
        // SAFETY: our own plugin library; its initialisers only set up logging.
        let lib = unsafe { libloading::Library::new(library()) }.expect("VST3 library loads");
        // SAFETY: the VST3 module entry points have these signatures (the SDK's).
        let factory = unsafe {
            let entry: libloading::Symbol<unsafe extern "C" fn(*mut c_void) -> bool> =
                lib.get(b"ModuleEntry").unwrap();
            assert!(entry(std::ptr::null_mut()));
            let get: libloading::Symbol<unsafe extern "system" fn() -> *mut c_void> =
                lib.get(b"GetPluginFactory").unwrap();
            ComPtr::<IPluginFactory>::from_raw(get() as *mut IPluginFactory).expect("a factory")
        };
        // SAFETY: `info` and `obj` are live out-parameters; the IDs are the factory's own
        // class ID and the SDK's interface ID.
        let component = unsafe {
            let mut info: PClassInfo = std::mem::zeroed();
            assert_eq!(factory.getClassInfo(0, &mut info), kResultOk);
            let mut obj: *mut c_void = std::ptr::null_mut();
            let iid = IComponent::IID;
            assert_eq!(
                factory.createInstance(info.cid.as_ptr(), iid.as_ptr() as FIDString, &mut obj),
                kResultOk
            );
            ComPtr::<IComponent>::from_raw(obj as *mut IComponent).expect("a component")
        };
        // SAFETY: a live component; the plugin takes no host context.
        let r = unsafe { component.initialize(std::ptr::null_mut()) };
        assert_eq!(r, kResultOk);
        let controller = component
            .cast::<IEditController>()
            .expect("single component");
        let processor = component
            .cast::<IAudioProcessor>()
            .expect("an audio processor");
        Self {
            component,
            controller,
            processor,
            mode: std::cell::Cell::new(ProcessModes_::kRealtime as i32),
            _lib: lib,
        }
    }

    /// Sets up, activates and starts processing, as a host does before playback.
    fn start(&self) {
        self.start_in(ProcessModes_::kRealtime as i32);
    }

    /// [`Self::start`] in a process mode (`kOffline` for a bounce).
    fn start_in(&self, mode: i32) {
        let mut setup = ProcessSetup {
            processMode: mode,
            symbolicSampleSize: SymbolicSampleSizes_::kSample32 as i32,
            maxSamplesPerBlock: 512,
            sampleRate: 48_000.0,
        };
        self.mode.set(mode);
        // SAFETY: live interfaces; `setup` outlives the call.
        unsafe {
            assert_eq!(self.processor.setupProcessing(&mut setup), kResultOk);
            assert_eq!(self.component.setActive(1), kResultOk);
            assert_eq!(self.processor.setProcessing(1), kResultOk);
        }
    }

    fn stop(&self) {
        // SAFETY: live interfaces, started by `start`.
        unsafe {
            self.processor.setProcessing(0);
            self.component.setActive(0);
        }
    }

    /// The ID of the first parameter whose flags contain `flag`, or whose title is `title`.
    fn find(&self, flag: i32, title: &str) -> ParamID {
        // SAFETY: a live controller; `info` is a live out-parameter.
        unsafe {
            for i in 0..self.controller.getParameterCount() {
                let mut info: ParameterInfo = std::mem::zeroed();
                assert_eq!(self.controller.getParameterInfo(i, &mut info), kResultOk);
                let name: String = String::from_utf16_lossy(
                    &info
                        .title
                        .iter()
                        .take_while(|c| **c != 0)
                        .copied()
                        .collect::<Vec<_>>(),
                );
                if info.flags & flag != 0 || name == title {
                    return info.id;
                }
            }
        }
        panic!("no parameter {title}")
    }

    fn get(&self, id: ParamID) -> f64 {
        // SAFETY: a live controller.
        unsafe { self.controller.getParamNormalized(id) }
    }

    fn set(&self, id: ParamID, v: f64) {
        // SAFETY: a live controller.
        let r = unsafe { self.controller.setParamNormalized(id, v) };
        assert_eq!(r, kResultOk);
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        // SAFETY: a live component; the host's last call.
        unsafe { self.component.terminate() };
    }
}

#[test]
fn controller_values_read_back_at_once_while_processing_and_a_state_load_replaces_them() {
    let inst = Instance::new();
    let bypass = inst.find(ParameterFlags_::kIsBypass, "Bypass");
    let mix = inst.find(0, "Mix");
    assert_ne!(bypass, mix);

    // Stopped: the framework takes a value at once.
    inst.set(mix, 0.25);
    assert!((inst.get(mix) - 0.25).abs() < 1e-6);

    // Processing: the change would reach the processor with the next block; the controller
    // still shows it now.
    inst.start();
    inst.set(bypass, 1.0);
    assert_eq!(inst.get(bypass), 1.0, "bypass read back while processing");
    inst.set(mix, 0.75);
    assert!(
        (inst.get(mix) - 0.75).abs() < 1e-6,
        "mix read back while processing"
    );
    inst.set(bypass, 0.0);
    assert_eq!(inst.get(bypass), 0.0, "a second set replaces the first");

    // A state load replaces what was set: the state saved before the changes comes back.
    inst.stop();
    inst.set(mix, 0.25);
    let saved = save(&inst);
    inst.start();
    inst.set(mix, 0.9);
    assert!((inst.get(mix) - 0.9).abs() < 1e-6);
    inst.stop();
    load(&inst, saved);
    assert!(
        (inst.get(mix) - 0.25).abs() < 1e-6,
        "the loaded state's mix"
    );
}

/// A minimal read/write `IBStream` over a vector, for `getState`/`setState`.
struct Stream {
    data: std::cell::RefCell<Vec<u8>>,
    at: std::cell::Cell<usize>,
}

impl vst3::Class for Stream {
    type Interfaces = (IBStream,);
}

impl IBStreamTrait for Stream {
    unsafe fn read(&self, buffer: *mut c_void, n: int32, read: *mut int32) -> tresult {
        let data = self.data.borrow();
        let k = (data.len() - self.at.get()).min(n.max(0) as usize);
        // SAFETY: the caller's buffer holds `n >= k` bytes; `read` is null or live.
        unsafe {
            std::ptr::copy_nonoverlapping(data.as_ptr().add(self.at.get()), buffer as *mut u8, k);
            if !read.is_null() {
                *read = k as int32;
            }
        }
        self.at.set(self.at.get() + k);
        kResultOk
    }
    unsafe fn write(&self, buffer: *mut c_void, n: int32, written: *mut int32) -> tresult {
        // SAFETY: the caller's buffer holds `n` bytes; `written` is null or live.
        unsafe {
            let bytes = std::slice::from_raw_parts(buffer as *const u8, n.max(0) as usize);
            self.data.borrow_mut().extend_from_slice(bytes);
            if !written.is_null() {
                *written = n;
            }
        }
        kResultOk
    }
    unsafe fn seek(&self, pos: int64, mode: int32, result: *mut int64) -> tresult {
        let len = self.data.borrow().len() as i64;
        let base = match mode as i64 {
            m if m == IBStream_::IStreamSeekMode_::kIBSeekSet as i64 => 0,
            m if m == IBStream_::IStreamSeekMode_::kIBSeekCur as i64 => self.at.get() as i64,
            _ => len,
        };
        self.at.set((base + pos).clamp(0, len) as usize);
        if !result.is_null() {
            // SAFETY: `result` is non-null and live.
            unsafe { *result = self.at.get() as i64 };
        }
        kResultOk
    }
    unsafe fn tell(&self, pos: *mut int64) -> tresult {
        if !pos.is_null() {
            // SAFETY: `pos` is non-null and live.
            unsafe { *pos = self.at.get() as i64 };
        }
        kResultOk
    }
}

fn stream(data: Vec<u8>) -> vst3::ComWrapper<Stream> {
    vst3::ComWrapper::new(Stream {
        data: std::cell::RefCell::new(data),
        at: std::cell::Cell::new(0),
    })
}

fn save(inst: &Instance) -> Vec<u8> {
    let s = stream(Vec::new());
    let ptr = s.to_com_ptr::<IBStream>().unwrap();
    // SAFETY: a live component and a live stream.
    let r = unsafe { inst.component.getState(ptr.as_ptr()) };
    assert_eq!(r, kResultOk);
    let data = s.data.borrow().clone();
    assert!(!data.is_empty());
    data
}

fn load(inst: &Instance, data: Vec<u8>) {
    let s = stream(data);
    let ptr = s.to_com_ptr::<IBStream>().unwrap();
    // SAFETY: a live component and a live stream.
    let r = unsafe { inst.component.setState(ptr.as_ptr()) };
    assert_eq!(r, kResultOk);
}

impl Instance {
    /// Processes `main` with `key` on the sidechain bus in blocks of 256; returns the output.
    fn process(&self, main: &[Vec<f32>; 2], key: &[Vec<f32>; 2]) -> [Vec<f32>; 2] {
        let len = main[0].len();
        let mut out = [vec![0.0f32; len], vec![0.0f32; len]];
        let mut pos = 0;
        while pos < len {
            let n = 256.min(len - pos);
            let mut m = [
                main[0][pos..pos + n].to_vec(),
                main[1][pos..pos + n].to_vec(),
            ];
            let mut k = [key[0][pos..pos + n].to_vec(), key[1][pos..pos + n].to_vec()];
            let mut o = [vec![0.0f32; n], vec![0.0f32; n]];
            let mut m_ptrs = [m[0].as_mut_ptr(), m[1].as_mut_ptr()];
            let mut k_ptrs = [k[0].as_mut_ptr(), k[1].as_mut_ptr()];
            let mut o_ptrs = [o[0].as_mut_ptr(), o[1].as_mut_ptr()];
            let bus = |ptrs: &mut [*mut f32; 2]| AudioBusBuffers {
                numChannels: 2,
                silenceFlags: 0,
                __field0: AudioBusBuffers__type0 {
                    channelBuffers32: ptrs.as_mut_ptr(),
                },
            };
            let mut inputs = [bus(&mut m_ptrs), bus(&mut k_ptrs)];
            let mut outputs = [bus(&mut o_ptrs)];
            let mut data = ProcessData {
                processMode: self.mode.get(),
                symbolicSampleSize: SymbolicSampleSizes_::kSample32 as i32,
                numSamples: n as i32,
                numInputs: 2,
                numOutputs: 1,
                inputs: inputs.as_mut_ptr(),
                outputs: outputs.as_mut_ptr(),
                inputParameterChanges: std::ptr::null_mut(),
                outputParameterChanges: std::ptr::null_mut(),
                inputEvents: std::ptr::null_mut(),
                outputEvents: std::ptr::null_mut(),
                processContext: std::ptr::null_mut(),
            };
            // SAFETY: a started processor; every buffer holds `n` samples and outlives the
            // call.
            let r = unsafe { self.processor.process(&mut data) };
            assert_eq!(r, kResultOk);
            for c in 0..2 {
                out[c][pos..pos + n].copy_from_slice(&o[c]);
            }
            pos += n;
            let _ = (&mut m, &mut k);
        }
        out
    }
}

#[test]
fn the_sidechain_bus_counts_as_the_host_activates_it() {
    // A band at 1 kHz compressing above -30 dBFS, listening to the sidechain; the main input a
    // 1 kHz sine at -10 dBFS. The host's `activateBus` on the sidechain decides what the band
    // hears; without it, a silent sidechain falls back to the main signal.
    let len = 24_000;
    let tone = |db: f64| tone_1k(db, len);
    let x = [tone(-10.0), tone(-10.0)];
    let silent = [vec![0.0f32; len], vec![0.0f32; len]];
    let loud = [tone(-6.0), tone(-6.0)];
    let play = |activate: Option<bool>, key: &[Vec<f32>; 2]| {
        let inst = Instance::new();
        let mut state: serde_json::Value =
            serde_json::from_slice(&save(&inst)).expect("JSON state");
        for (id, v) in keyed_band_values() {
            assert!(state["params"].get(id).is_some(), "{id}");
            state["params"][id] = v;
        }
        load(&inst, serde_json::to_vec(&state).unwrap());
        if let Some(on) = activate {
            // SAFETY: a live component, set up before activation as hosts do.
            let r = unsafe {
                inst.component.activateBus(
                    MediaTypes_::kAudio as MediaType,
                    BusDirections_::kInput as BusDirection,
                    1,
                    on as TBool,
                )
            };
            assert_eq!(r, kResultOk);
        }
        inst.start();
        let y = inst.process(&x, key);
        inst.stop();
        y
    };
    let level = |y: &[f32]| {
        let rms = |v: &[f32]| (v.iter().map(|a| a * a).sum::<f32>() / v.len() as f32).sqrt();
        20.0 * (rms(&y[len / 2..]) / rms(&x[0][len / 2..])).log10()
    };
    let fallback = play(None, &silent);
    assert!(level(&fallback[0]) < -6.0, "{} dB", level(&fallback[0]));
    let connected = play(Some(true), &silent);
    assert!(
        level(&connected[0]).abs() < 0.1,
        "an active silent bus releases: {} dB",
        level(&connected[0])
    );
    let off = play(Some(false), &loud);
    assert_eq!(off, fallback, "an inactive bus is no sidechain");
}

#[test]
fn every_recorded_session_opens_and_bounces_in_the_vst3_plugin_as_in_the_renderer() {
    // The sessions every released version saved (`tests/fixtures/sessions/`), opened through
    // `IComponent::setState`: every plain value reads back as saved (and as the CLAP plugin
    // reads it: `tests/sessions.rs`), and an offline bounce of a phrase equals the renderer's
    // output for the same state, sample for sample within 1e-5.
    let work = std::env::temp_dir().join(format!("fluxforge-vst3-sessions-{}", std::process::id()));
    std::fs::create_dir_all(&work).unwrap();
    let rate = 48_000;
    let phrase = rate * 3 / 10;
    let tail = rate / 5;
    let mut x = common::noise(phrase, 77);
    for (c, ch) in x.iter_mut().enumerate() {
        for (n, v) in ch.iter_mut().enumerate() {
            let env = (-((n % 4800) as f32) / 1440.0).exp();
            *v = *v * env
                + 0.2
                    * (std::f32::consts::TAU * (330.0 + 110.0 * c as f32) * n as f32 / 48_000.0)
                        .sin();
        }
    }
    let input = work.join("in.wav");
    let interleaved: Vec<f32> = (0..phrase).flat_map(|n| [x[0][n], x[1][n]]).collect();
    fluxforge::ir_file::write_wav_file(
        &input,
        2,
        rate as u32,
        fluxforge::ir_file::WavEncoding::Float,
        interleaved,
    )
    .unwrap();
    let padded = [
        [x[0].clone(), vec![0.0; tail]].concat(),
        [x[1].clone(), vec![0.0; tail]].concat(),
    ];
    let silent = [vec![0.0f32; phrase + tail], vec![0.0f32; phrase + tail]];
    let mut checked = 0;
    for (version, path) in common::recorded_states() {
        let what = format!("{version}/{}", path.file_name().unwrap().to_string_lossy());
        let bytes = std::fs::read(&path).unwrap();
        let state: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        let inst = Instance::new();
        load(&inst, bytes);
        let saved: serde_json::Value = serde_json::from_slice(&save(&inst)).unwrap();
        for (id, v) in state["params"].as_object().unwrap() {
            assert_eq!(saved["params"][id], *v, "{what}: {id}");
        }
        assert_eq!(saved["fields"]["ir"], state["fields"]["ir"], "{what}: IR");

        inst.start_in(ProcessModes_::kOffline as i32);
        let y = inst.process(&padded, &silent);
        inst.stop();
        let out = work.join("out.wav");
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_fluxforge-render"))
            .arg(&input)
            .arg(&out)
            .args(["--tail", "0.2", "--quiet", "--state"])
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "{what}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let mut r = hound::WavReader::open(&out).unwrap();
        let rendered: Vec<f32> = r.samples::<f32>().map(Result::unwrap).collect();
        assert_eq!(rendered.len(), 2 * (phrase + tail), "{what}: render length");
        let d = (0..phrase + tail)
            .map(|n| {
                (y[0][n] - rendered[2 * n])
                    .abs()
                    .max((y[1][n] - rendered[2 * n + 1]).abs())
            })
            .fold(0.0f32, f32::max);
        assert!(
            d < 1e-5,
            "{what}: the VST3 bounce differs from the renderer by {d}"
        );
        checked += 1;
    }
    assert!(checked >= 16, "{checked} sessions");
    std::fs::remove_dir_all(&work).unwrap();
}
