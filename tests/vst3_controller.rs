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
            _lib: lib,
        }
    }

    /// Sets up, activates and starts processing, as a host does before playback.
    fn start(&self) {
        let mut setup = ProcessSetup {
            processMode: ProcessModes_::kRealtime as i32,
            symbolicSampleSize: SymbolicSampleSizes_::kSample32 as i32,
            maxSamplesPerBlock: 512,
            sampleRate: 48_000.0,
        };
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
