//! The CLAP entry point: the framework's plugin factory and wrapper, with the plugin object
//! put behind a thin front ([`Front`]) whose state extension repairs what it loads.
//!
//! The front is a `clap_plugin` that shares the wrapper's `plugin_data` (so every extension
//! the wrapper hands out works when the host calls it with the front's pointer) and forwards
//! each call to the wrapper's own functions. Only `get_extension("clap.state")` differs: it
//! returns [`STATE`], whose `load` reads the whole stream, passes the JSON through
//! [`super::repair_state`] and gives the wrapper the result as an in-memory stream. The
//! forwarding adds one indirect call to `process()`, nothing else on the audio thread, except
//! where a host passes fewer input ports than the plugin declares (see [`process`]).
//!
//! The front adds the audio-ports-activation extension ([`PORTS_ACTIVATION`]: the host's
//! word about the sidechain port, see [`crate::shared::ports`]) and the preset-load
//! extension ([`PRESET_LOAD`]): a host loads a preset it
//! listed through the entry's preset-discovery factory ([`super::preset_discovery`]); the
//! preset becomes a state ([`state_for_load`]) loaded like a session's.
//!
//! # Safety
//!
//! Every `unsafe` here rests on the CLAP ABI contract and on this module's layout:
//! 1. **Provenance.** Every `clap_plugin` pointer the host passes to a front function is one
//!    that [`create_plugin`] returned: a boxed [`Front`], `#[repr(C)]` with the
//!    `clap_plugin` first, so the pointer is also the front's. Its `inner` points to the
//!    wrapper's own `clap_plugin`, which the wrapper keeps alive until its `destroy`; the
//!    front is freed right after that, in the front's `destroy`, the host's last call.
//! 2. **Forwarding contract.** A front function calls the wrapper's function of the same
//!    name with the wrapper's plugin object and the host's other arguments unchanged. The
//!    host's guarantees for the call (valid pointers for its duration, the thread CLAP names
//!    for it: `process`, `reset` and `start_processing` on the audio thread, the rest on the
//!    main thread) are therefore exactly those the wrapper's function requires.
//! 3. **Streams and strings** from the host are valid for the call only; nothing here keeps
//!    them. Strings are NUL-terminated (CLAP).

use std::ffi::{c_char, c_void, CStr};
use std::sync::{Arc, OnceLock};

use clap_sys::audio_buffer::clap_audio_buffer;
use clap_sys::entry::clap_plugin_entry;
use clap_sys::ext::audio_ports_activation::{
    clap_plugin_audio_ports_activation, CLAP_EXT_AUDIO_PORTS_ACTIVATION,
    CLAP_EXT_AUDIO_PORTS_ACTIVATION_COMPAT,
};
use clap_sys::ext::preset_load::{
    clap_host_preset_load, clap_plugin_preset_load, CLAP_EXT_PRESET_LOAD,
    CLAP_EXT_PRESET_LOAD_COMPAT,
};
use clap_sys::ext::state::{clap_plugin_state, CLAP_EXT_STATE};
use clap_sys::factory::plugin_factory::{clap_plugin_factory, CLAP_PLUGIN_FACTORY_ID};
use clap_sys::factory::preset_discovery::{
    clap_preset_discovery_factory, clap_preset_discovery_location_kind,
    CLAP_PRESET_DISCOVERY_FACTORY_ID, CLAP_PRESET_DISCOVERY_FACTORY_ID_COMPAT,
};
use clap_sys::host::clap_host;
use clap_sys::plugin::{clap_plugin, clap_plugin_descriptor};
use clap_sys::process::{clap_process, clap_process_status, CLAP_PROCESS_ERROR};
use clap_sys::stream::{clap_istream, clap_ostream};
use clap_sys::version::CLAP_VERSION;
use nice_plug::wrapper::clap::{PluginDescriptor, Wrapper};
use nice_plug::wrapper::setup_logger;

use super::preset_discovery;
use super::{repair_state, MAX_STATE_BYTES};
use crate::plugin::FluxForge;
use crate::preset::state_for_load;
use crate::shared::{ports, PortWord};

/// The front the host sees. `plugin` must stay the first field: the host's pointer to it is
/// the pointer to the whole front.
#[repr(C)]
struct Front {
    plugin: clap_plugin,
    inner: *const clap_plugin,
    /// The host of this instance (valid until the instance is destroyed).
    host: *const clap_host,
    /// What the host says about the sidechain port, shared with the plugin.
    sidechain: Arc<PortWord>,
}

/// The front of a host pointer, and the wrapper's plugin object behind it.
unsafe fn inner(plugin: *const clap_plugin) -> Option<&'static clap_plugin> {
    if plugin.is_null() {
        return None;
    }
    // SAFETY: a non-null `plugin` is a pointer `create_plugin` gave the host (contract, point
    // 1), so it points to a live `Front`; its `inner` is the wrapper's plugin object, alive
    // until the front's `destroy`.
    unsafe { (*(plugin as *const Front)).inner.as_ref() }
}

unsafe extern "C" fn init(p: *const clap_plugin) -> bool {
    // SAFETY: forwarding contract (module documentation).
    unsafe { inner(p).and_then(|i| i.init.map(|f| f(i))).unwrap_or(false) }
}

unsafe extern "C" fn destroy(p: *const clap_plugin) {
    // SAFETY: forwarding contract; `destroy` is the host's last call on this instance (CLAP),
    // so the front, boxed in `create_plugin`, is freed exactly once, after the wrapper has
    // destroyed itself.
    unsafe {
        if let Some(i) = inner(p) {
            if let Some(f) = i.destroy {
                f(i);
            }
            drop(Box::from_raw(p as *mut Front));
        }
    }
}

unsafe extern "C" fn activate(p: *const clap_plugin, rate: f64, min: u32, max: u32) -> bool {
    // SAFETY: forwarding contract (module documentation).
    unsafe {
        inner(p)
            .and_then(|i| i.activate.map(|f| f(i, rate, min, max)))
            .unwrap_or(false)
    }
}

unsafe extern "C" fn deactivate(p: *const clap_plugin) {
    // SAFETY: forwarding contract (module documentation).
    unsafe {
        if let Some(f) = inner(p).and_then(|i| i.deactivate.map(|f| (f, i))) {
            (f.0)(f.1);
        }
    }
}

unsafe extern "C" fn start_processing(p: *const clap_plugin) -> bool {
    // SAFETY: forwarding contract (module documentation).
    unsafe {
        inner(p)
            .and_then(|i| i.start_processing.map(|f| f(i)))
            .unwrap_or(false)
    }
}

unsafe extern "C" fn stop_processing(p: *const clap_plugin) {
    // SAFETY: forwarding contract (module documentation).
    unsafe {
        if let Some(f) = inner(p).and_then(|i| i.stop_processing.map(|f| (f, i))) {
            (f.0)(f.1);
        }
    }
}

unsafe extern "C" fn reset(p: *const clap_plugin) {
    // SAFETY: forwarding contract (module documentation).
    unsafe {
        if let Some(f) = inner(p).and_then(|i| i.reset.map(|f| (f, i))) {
            (f.0)(f.1);
        }
    }
}

/// Input ports the plugin declares: the main input and the sidechain.
const INPUT_PORTS: usize = 2;

/// Forwards `process`. A host that passes only the main input port (one that does not route
/// sidechains) would make the framework look for the sidechain port one entry past the
/// host's array (its bound check is `index > count`); such a call is forwarded with a copy of
/// the process data whose input list has an empty sidechain port added (no channels, read as
/// silence). The copy lives on the stack: nothing is allocated.
unsafe extern "C" fn process(
    p: *const clap_plugin,
    data: *const clap_process,
) -> clap_process_status {
    // SAFETY: forwarding contract; non-null `data` is the host's process data for this call,
    // whose `audio_inputs` holds `audio_inputs_count` buffers (CLAP); the padded copy lives on
    // this stack frame until the forwarded call returns.
    unsafe {
        let Some((f, i)) = inner(p).and_then(|i| i.process.map(|f| (f, i))) else {
            return CLAP_PROCESS_ERROR;
        };
        if data.is_null() {
            return f(i, data);
        }
        let d = &*data;
        let given = d.audio_inputs_count as usize;
        if given == 0 || given >= INPUT_PORTS || d.audio_inputs.is_null() {
            return f(i, data);
        }
        let empty = clap_audio_buffer {
            data32: std::ptr::null_mut(),
            data64: std::ptr::null_mut(),
            channel_count: 0,
            latency: 0,
            constant_mask: 0,
        };
        let mut ports = [empty; INPUT_PORTS];
        ports[..given].copy_from_slice(std::slice::from_raw_parts(d.audio_inputs, given));
        let mut padded = *d;
        padded.audio_inputs = ports.as_ptr();
        padded.audio_inputs_count = INPUT_PORTS as u32;
        f(i, &padded)
    }
}

unsafe extern "C" fn get_extension(p: *const clap_plugin, id: *const c_char) -> *const c_void {
    // SAFETY: a non-null `id` is a NUL-terminated string from the host (CLAP); the rest is the
    // forwarding contract.
    unsafe {
        if !id.is_null() {
            let id = CStr::from_ptr(id);
            if id == CLAP_EXT_STATE {
                return &STATE as *const clap_plugin_state as *const c_void;
            }
            if id == CLAP_EXT_PRESET_LOAD || id == CLAP_EXT_PRESET_LOAD_COMPAT {
                return &PRESET_LOAD as *const clap_plugin_preset_load as *const c_void;
            }
            if id == CLAP_EXT_AUDIO_PORTS_ACTIVATION || id == CLAP_EXT_AUDIO_PORTS_ACTIVATION_COMPAT
            {
                return &PORTS_ACTIVATION as *const clap_plugin_audio_ports_activation
                    as *const c_void;
            }
        }
        inner(p)
            .and_then(|i| i.get_extension.map(|f| f(i, id)))
            .unwrap_or(std::ptr::null())
    }
}

unsafe extern "C" fn on_main_thread(p: *const clap_plugin) {
    // SAFETY: forwarding contract (module documentation).
    unsafe {
        if let Some(f) = inner(p).and_then(|i| i.on_main_thread.map(|f| (f, i))) {
            (f.0)(f.1);
        }
    }
}

/// The state extension of the front.
static STATE: clap_plugin_state = clap_plugin_state {
    save: Some(state_save),
    load: Some(state_load),
};

/// The wrapper's own state extension.
unsafe fn inner_state(i: &clap_plugin) -> Option<&'static clap_plugin_state> {
    let f = i.get_extension?;
    // SAFETY: the wrapper's `get_extension` returns null or a pointer to its static
    // `clap_plugin_state`.
    unsafe { (f(i, CLAP_EXT_STATE.as_ptr()) as *const clap_plugin_state).as_ref() }
}

unsafe extern "C" fn state_save(p: *const clap_plugin, stream: *const clap_ostream) -> bool {
    // SAFETY: forwarding contract (module documentation).
    unsafe {
        inner(p)
            .and_then(|i| Some((inner_state(i)?.save?, i)))
            .is_some_and(|(save, i)| save(i, stream))
    }
}

/// Reads the whole state (the framework's layout: the JSON length as 8 little-endian bytes,
/// then the JSON), repairs the JSON and loads the result. Returns false, after the report has
/// reached the editor, when nothing at all could be read.
unsafe extern "C" fn state_load(p: *const clap_plugin, stream: *const clap_istream) -> bool {
    // SAFETY: forwarding contract; the host's `stream` is valid for this call (null is handled
    // by `as_ref`).
    unsafe {
        let Some(i) = inner(p) else { return false };
        let Some(load) = inner_state(i).and_then(|s| s.load) else {
            return false;
        };
        let Some(bytes) = stream.as_ref().and_then(read_all) else {
            nice_plug::nice_error!("Could not read the state stream");
            return false;
        };
        let body = bytes.get(8..).unwrap_or(&[]);
        let declared = bytes
            .get(..8)
            .map(|b| u64::from_le_bytes(b.try_into().unwrap_or_default()) as usize)
            .unwrap_or(0);
        let json = if declared <= body.len() {
            &body[..declared]
        } else {
            body
        };
        load_json(i, load, json)
    }
}

/// Repairs `json` (a plugin state) and gives the result to the wrapper's `load`. False when
/// nothing at all could be read or the wrapper refused it.
///
/// # Safety
///
/// `i` is the wrapper's plugin object and `load` its state extension's `load`, called on the
/// main thread (forwarding contract).
unsafe fn load_json(
    i: &clap_plugin,
    load: unsafe extern "C" fn(*const clap_plugin, *const clap_istream) -> bool,
    json: &[u8],
) -> bool {
    let (repaired, usable) = repair_state(json);
    let mut framed = (repaired.len() as u64).to_le_bytes().to_vec();
    framed.extend_from_slice(&repaired);
    let mut cursor = Cursor {
        data: &framed,
        at: 0,
    };
    let memory = clap_istream {
        ctx: &mut cursor as *mut Cursor as *mut c_void,
        read: Some(cursor_read),
    };
    // SAFETY: `cursor` and `memory` live on this stack frame until `load`, which reads the
    // stream only during the call, returns; the rest is this function's contract.
    unsafe { load(i, &memory) && usable }
}

/// The wrapper's state now, as the framework's JSON.
///
/// # Safety
///
/// As for [`load_json`], with the state extension's `save`.
unsafe fn current_json(
    i: &clap_plugin,
    save: unsafe extern "C" fn(*const clap_plugin, *const clap_ostream) -> bool,
) -> Option<Vec<u8>> {
    let mut out: Vec<u8> = Vec::new();
    let stream = clap_ostream {
        ctx: &mut out as *mut Vec<u8> as *mut c_void,
        write: Some(vec_write),
    };
    // SAFETY: `out` and `stream` live on this stack frame until `save` returns; the rest is
    // this function's contract.
    if !unsafe { save(i, &stream) } {
        return None;
    }
    let declared = u64::from_le_bytes(out.get(..8)?.try_into().ok()?) as usize;
    out.get(8..8 + declared).map(<[u8]>::to_vec)
}

unsafe extern "C" fn vec_write(
    stream: *const clap_ostream,
    buffer: *const c_void,
    size: u64,
) -> i64 {
    // SAFETY: `stream` is the `clap_ostream` `current_json` built, whose `ctx` is its live
    // `Vec`; the wrapper's `buffer` holds `size` readable bytes (CLAP's write contract).
    unsafe {
        let Some(out) = stream
            .as_ref()
            .and_then(|s| (s.ctx as *mut Vec<u8>).as_mut())
        else {
            return -1;
        };
        if out.len() > MAX_STATE_BYTES {
            return -1;
        }
        out.extend_from_slice(std::slice::from_raw_parts(
            buffer as *const u8,
            size as usize,
        ));
        size as i64
    }
}

/// The audio-ports-activation extension of the front: the host's word about the sidechain
/// input reaches the plugin ([`PortWord`]).
static PORTS_ACTIVATION: clap_plugin_audio_ports_activation = clap_plugin_audio_ports_activation {
    can_activate_while_processing: Some(can_activate_while_processing),
    set_active: Some(set_port_active),
};

/// The port's state is one atomic the audio thread reads per block, so hosts may change it
/// while processing.
unsafe extern "C" fn can_activate_while_processing(_p: *const clap_plugin) -> bool {
    true
}

/// Input port 1 (the sidechain) follows the host; the main ports stay active (deactivating
/// them is refused); 64-bit buffers are refused (the plugin processes 32-bit floats). One
/// atomic store: safe on the audio thread.
unsafe extern "C" fn set_port_active(
    p: *const clap_plugin,
    is_input: bool,
    port_index: u32,
    is_active: bool,
    sample_size: u32,
) -> bool {
    if p.is_null() || sample_size == 64 {
        return false;
    }
    // SAFETY: a non-null `p` is a pointer `create_plugin` gave the host (contract, point 1).
    let front = unsafe { &*(p as *const Front) };
    match (is_input, port_index) {
        (true, 1) => {
            front.sidechain.set(is_active);
            true
        }
        (_, 0) => is_active,
        _ => false,
    }
}

/// The preset-load extension of the front.
static PRESET_LOAD: clap_plugin_preset_load = clap_plugin_preset_load {
    from_location: Some(preset_from_location),
};

/// Loads the preset a host picked from what [`preset_discovery`] listed, as the editor's
/// preset bar loads it ([`state_for_load`]: a whole sound, mix lock honoured, the previous
/// sound playing on if anything fails), and tells the host's preset-load extension.
unsafe extern "C" fn preset_from_location(
    p: *const clap_plugin,
    kind: clap_preset_discovery_location_kind,
    location: *const c_char,
    load_key: *const c_char,
) -> bool {
    // SAFETY: forwarding contract; non-null strings are the host's NUL-terminated strings.
    unsafe {
        let Some(i) = inner(p) else { return false };
        let host = (*(p as *const Front)).host;
        let location_s = (!location.is_null()).then(|| CStr::from_ptr(location));
        let key_s = (!load_key.is_null()).then(|| CStr::from_ptr(load_key));
        let result =
            preset_discovery::resolve(kind, location_s, key_s).and_then(|(preset, source)| {
                let state = inner_state(i).ok_or("the plugin has no state extension")?;
                let (Some(save), Some(load)) = (state.save, state.load) else {
                    return Err("the plugin has no state extension".to_string());
                };
                let current = current_json(i, save)
                    .and_then(|j| {
                        serde_json::from_slice::<nice_plug::prelude::PluginState>(&j).ok()
                    })
                    .ok_or("could not read the current state")?;
                let next = state_for_load(&preset, &current, &source);
                let json = serde_json::to_vec(&next).map_err(|e| e.to_string())?;
                if load_json(i, load, &json) {
                    Ok(())
                } else {
                    Err(format!("preset \"{}\" could not be loaded", source.name))
                }
            });
        let host_ext = host_preset_load(host);
        match result {
            Ok(()) => {
                if let Some(f) = host_ext.and_then(|h| h.loaded) {
                    f(host, kind, location, load_key);
                }
                true
            }
            Err(msg) => {
                nice_plug::nice_error!("{msg}");
                if let Some(f) = host_ext.and_then(|h| h.on_error) {
                    let m = std::ffi::CString::new(msg.replace('\0', "")).unwrap_or_default();
                    f(host, kind, location, load_key, 0, m.as_ptr());
                }
                false
            }
        }
    }
}

/// The host's preset-load extension, if it has one.
///
/// # Safety
///
/// `host` is the instance's host pointer (valid until the instance is destroyed), called on
/// the main thread.
unsafe fn host_preset_load(host: *const clap_host) -> Option<&'static clap_host_preset_load> {
    // SAFETY: this function's contract; the host returns null or its extension's static table.
    unsafe {
        let h = host.as_ref()?;
        let get = h.get_extension?;
        [CLAP_EXT_PRESET_LOAD, CLAP_EXT_PRESET_LOAD_COMPAT]
            .into_iter()
            .find_map(|id| (get(host, id.as_ptr()) as *const clap_host_preset_load).as_ref())
    }
}

/// Everything the stream holds, up to [`MAX_STATE_BYTES`] (`None` on a read error).
fn read_all(stream: &clap_istream) -> Option<Vec<u8>> {
    let read = stream.read?;
    let mut out = Vec::new();
    let mut chunk = vec![0u8; 1 << 16];
    loop {
        // SAFETY: `stream` is the host's live stream (borrowed for this call) and `read` its
        // own function; `chunk` has `chunk.len()` writable bytes.
        let n = unsafe {
            read(
                stream,
                chunk.as_mut_ptr() as *mut c_void,
                chunk.len() as u64,
            )
        };
        match n {
            0 => return Some(out),
            n if n < 0 => return None,
            n => out.extend_from_slice(&chunk[..(n as usize).min(chunk.len())]),
        }
        if out.len() > MAX_STATE_BYTES {
            return None;
        }
    }
}

struct Cursor<'a> {
    data: &'a [u8],
    at: usize,
}

unsafe extern "C" fn cursor_read(
    stream: *const clap_istream,
    buffer: *mut c_void,
    size: u64,
) -> i64 {
    // SAFETY: `stream` is the `clap_istream` that `state_load` built, whose `ctx` points to its
    // live `Cursor`; `at + n <= data.len()`, and the host's `buffer` holds at least `size >= n`
    // bytes (CLAP's read contract).
    unsafe {
        let Some(c) = stream
            .as_ref()
            .and_then(|s| (s.ctx as *mut Cursor).as_mut())
        else {
            return -1;
        };
        let n = (c.data.len() - c.at).min(size as usize);
        std::ptr::copy_nonoverlapping(c.data.as_ptr().add(c.at), buffer as *mut u8, n);
        c.at += n;
        n as i64
    }
}

fn descriptor() -> &'static PluginDescriptor {
    static DESCRIPTOR: OnceLock<PluginDescriptor> = OnceLock::new();
    DESCRIPTOR.get_or_init(PluginDescriptor::for_plugin::<FluxForge>)
}

/// The plugin's CLAP ID.
pub fn plugin_id() -> &'static CStr {
    descriptor().clap_id()
}

unsafe extern "C" fn get_plugin_count(_factory: *const clap_plugin_factory) -> u32 {
    1
}

unsafe extern "C" fn get_plugin_descriptor(
    _factory: *const clap_plugin_factory,
    index: u32,
) -> *const clap_plugin_descriptor {
    if index == 0 {
        descriptor().clap_plugin_descriptor()
    } else {
        std::ptr::null()
    }
}

unsafe extern "C" fn create_plugin(
    _factory: *const clap_plugin_factory,
    host: *const clap_host,
    plugin_id: *const c_char,
) -> *const clap_plugin {
    // SAFETY: a non-null `plugin_id` is a NUL-terminated string (CLAP).
    if plugin_id.is_null() || unsafe { CStr::from_ptr(plugin_id) } != descriptor().clap_id() {
        return std::ptr::null();
    }
    // The plugin the wrapper creates on this thread adopts the word (see `shared::ports`).
    let sidechain = Arc::new(PortWord::default());
    ports::offer(Some(sidechain.clone()));
    // The wrapper's reference is released by its own `destroy`, which the front calls.
    // SAFETY: `host` is the host's pointer for this instance, as the framework's own
    // factory passes it (valid until the instance is destroyed).
    let wrapper = Arc::into_raw(unsafe { Wrapper::<FluxForge>::new(host) });
    ports::offer(None);
    // SAFETY: `wrapper` comes from `Arc::into_raw` just above; its reference is released only
    // by the wrapper's `destroy`.
    let inner = unsafe { (*wrapper).clap_plugin.as_ptr() as *const clap_plugin };
    let front = Box::new(Front {
        plugin: clap_plugin {
            // SAFETY: `inner` is the wrapper's plugin object, alive as long as `wrapper`.
            desc: unsafe { (*inner).desc },
            // SAFETY: as for `desc`.
            plugin_data: unsafe { (*inner).plugin_data },
            init: Some(init),
            destroy: Some(destroy),
            activate: Some(activate),
            deactivate: Some(deactivate),
            start_processing: Some(start_processing),
            stop_processing: Some(stop_processing),
            reset: Some(reset),
            process: Some(process),
            get_extension: Some(get_extension),
            on_main_thread: Some(on_main_thread),
        },
        inner,
        host,
        sidechain,
    });
    Box::into_raw(front) as *const clap_plugin
}

static FACTORY: clap_plugin_factory = clap_plugin_factory {
    get_plugin_count: Some(get_plugin_count),
    get_plugin_descriptor: Some(get_plugin_descriptor),
    create_plugin: Some(create_plugin),
};

extern "C" fn entry_init(_plugin_path: *const c_char) -> bool {
    setup_logger::<FluxForge>();
    true
}

extern "C" fn entry_deinit() {}

extern "C" fn get_factory(factory_id: *const c_char) -> *const c_void {
    // SAFETY: a non-null `factory_id` is a NUL-terminated string (CLAP).
    if factory_id.is_null() {
        return std::ptr::null();
    }
    // SAFETY: as above.
    let id = unsafe { CStr::from_ptr(factory_id) };
    if id == CLAP_PLUGIN_FACTORY_ID {
        &FACTORY as *const clap_plugin_factory as *const c_void
    } else if id == CLAP_PRESET_DISCOVERY_FACTORY_ID
        || id == CLAP_PRESET_DISCOVERY_FACTORY_ID_COMPAT
    {
        &preset_discovery::FACTORY as *const clap_preset_discovery_factory as *const c_void
    } else {
        std::ptr::null()
    }
}

/// The CLAP plugin's entry point.
#[unsafe(no_mangle)]
#[used]
pub static clap_entry: clap_plugin_entry = clap_plugin_entry {
    clap_version: CLAP_VERSION,
    init: Some(entry_init),
    deinit: Some(entry_deinit),
    get_factory: Some(get_factory),
};
