//! CLAP preset discovery: the factory a host asks for the presets it lists in its own
//! browser, and the lookup the preset-load extension ([`super::clap_entry`]) uses to find
//! the preset a host picked.
//!
//! One provider declares two locations: the factory bank, inside the plugin (location kind
//! `PLUGIN`; each preset's load key is its name), and the user preset folder
//! ([`crate::user_presets::folder`], kind `FILE`; one preset per `.json` file, which the host
//! finds by walking the folder for the declared file type). Every preset names the plugin's
//! CLAP ID, its author, its notes as the description, its category as a feature, and the
//! favourite flag for the presets the user starred in the editor.
//!
//! # Safety
//!
//! Every `unsafe` here rests on the CLAP ABI contract for this factory:
//! 1. **Provenance.** Every `clap_preset_discovery_provider` pointer the host passes to a
//!    provider function is one [`create`] returned: a boxed [`Provider`], `#[repr(C)]` with the
//!    `clap_preset_discovery_provider` first; it lives until the provider's `destroy`, the
//!    host's last call with it.
//! 2. **Host objects.** The indexer given to `create` and the metadata receiver given to
//!    `get_metadata` are the host's, valid for the provider's life and for the call
//!    respectively, with the host's own functions (null functions are skipped). Strings the
//!    host passes are NUL-terminated or null.
//! 3. **Our strings.** Every string handed to the host is a `CString` or a `'static` `CStr`
//!    alive for the duration of the host's call that receives it (CLAP copies what it keeps).

use std::ffi::{c_char, c_void, CStr, CString};
use std::path::{Path, PathBuf};

use clap_sys::factory::preset_discovery::{
    clap_preset_discovery_factory, clap_preset_discovery_filetype, clap_preset_discovery_indexer,
    clap_preset_discovery_location, clap_preset_discovery_location_kind,
    clap_preset_discovery_metadata_receiver, clap_preset_discovery_provider,
    clap_preset_discovery_provider_descriptor, CLAP_PRESET_DISCOVERY_IS_FACTORY_CONTENT,
    CLAP_PRESET_DISCOVERY_IS_FAVORITE, CLAP_PRESET_DISCOVERY_IS_USER_CONTENT,
    CLAP_PRESET_DISCOVERY_LOCATION_FILE, CLAP_PRESET_DISCOVERY_LOCATION_PLUGIN,
};
use clap_sys::timestamp::{clap_timestamp, CLAP_TIMESTAMP_UNKNOWN};
use clap_sys::universal_plugin_id::clap_universal_plugin_id;
use clap_sys::version::CLAP_VERSION;

use crate::factory_presets;
use crate::params::PresetRef;
use crate::preset::Preset;
use crate::user_presets;

/// The provider's ID.
const PROVIDER_ID: &CStr = c"audio.fluxforge.presets";
/// The file extension of a user preset.
const EXTENSION: &CStr = c"json";

/// The preset a host's location and load key name, with what the session records of it.
pub fn resolve(
    kind: clap_preset_discovery_location_kind,
    location: Option<&CStr>,
    load_key: Option<&CStr>,
) -> Result<(Preset, PresetRef), String> {
    match kind {
        CLAP_PRESET_DISCOVERY_LOCATION_PLUGIN => {
            let key = load_key
                .ok_or("a factory preset needs a load key")?
                .to_string_lossy();
            let preset = factory_presets::find(&key)
                .ok_or_else(|| format!("no factory preset is called \"{key}\""))?;
            let source = PresetRef {
                name: preset.name.clone(),
                file: None,
            };
            Ok((preset, source))
        }
        CLAP_PRESET_DISCOVERY_LOCATION_FILE => {
            let path = location
                .map(path_of)
                .ok_or("a preset file location needs a path")?;
            let mut preset = Preset::load(&path)?;
            if preset.name.trim().is_empty() {
                preset.name = stem(&path);
            }
            let source = PresetRef {
                name: preset.name.clone(),
                file: Some(path),
            };
            Ok((preset, source))
        }
        other => Err(format!("unknown preset location kind {other}")),
    }
}

/// A host's path string as a path (UTF-8, as CLAP specifies; lossy otherwise).
fn path_of(s: &CStr) -> PathBuf {
    PathBuf::from(s.to_string_lossy().into_owned())
}

fn stem(path: &Path) -> String {
    path.file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("Untitled")
        .to_string()
}

/// A string for the host: interior NULs (which a preset's JSON text could hold) dropped.
fn c(s: &str) -> CString {
    CString::new(s.replace('\0', "")).unwrap_or_default()
}

static DESCRIPTOR: clap_preset_discovery_provider_descriptor =
    clap_preset_discovery_provider_descriptor {
        clap_version: CLAP_VERSION,
        id: PROVIDER_ID.as_ptr(),
        name: c"FluxForge presets".as_ptr(),
        vendor: c"FluxForge".as_ptr(),
    };

/// A provider the host created. `raw` must stay the first field.
#[repr(C)]
struct Provider {
    raw: clap_preset_discovery_provider,
    indexer: *const clap_preset_discovery_indexer,
}

unsafe extern "C" fn count(_factory: *const clap_preset_discovery_factory) -> u32 {
    1
}

unsafe extern "C" fn get_descriptor(
    _factory: *const clap_preset_discovery_factory,
    index: u32,
) -> *const clap_preset_discovery_provider_descriptor {
    if index == 0 {
        &DESCRIPTOR
    } else {
        std::ptr::null()
    }
}

unsafe extern "C" fn create(
    _factory: *const clap_preset_discovery_factory,
    indexer: *const clap_preset_discovery_indexer,
    provider_id: *const c_char,
) -> *const clap_preset_discovery_provider {
    if indexer.is_null() || provider_id.is_null() {
        return std::ptr::null();
    }
    // SAFETY: a non-null `provider_id` is NUL-terminated (contract, point 2).
    if unsafe { CStr::from_ptr(provider_id) } != PROVIDER_ID {
        return std::ptr::null();
    }
    let provider = Box::new(Provider {
        raw: clap_preset_discovery_provider {
            desc: &DESCRIPTOR,
            provider_data: std::ptr::null_mut(),
            init: Some(init),
            destroy: Some(destroy),
            get_metadata: Some(get_metadata),
            get_extension: Some(get_extension),
        },
        indexer,
    });
    Box::into_raw(provider) as *const clap_preset_discovery_provider
}

/// The provider behind a host pointer.
unsafe fn provider<'a>(p: *const clap_preset_discovery_provider) -> Option<&'a Provider> {
    // SAFETY: a non-null `p` is a pointer `create` returned, still alive (contract, point 1).
    unsafe { (p as *const Provider).as_ref() }
}

/// Declares the file type and the two locations.
unsafe extern "C" fn init(p: *const clap_preset_discovery_provider) -> bool {
    // SAFETY: contract, points 1-3: the indexer is the host's, alive as long as the provider;
    // the strings outlive each call.
    unsafe {
        let Some(indexer) = provider(p).and_then(|p| p.indexer.as_ref()) else {
            return false;
        };
        let filetype = clap_preset_discovery_filetype {
            name: c"FluxForge preset".as_ptr(),
            description: c"A FluxForge preset (JSON)".as_ptr(),
            file_extension: EXTENSION.as_ptr(),
        };
        if let Some(declare) = indexer.declare_filetype {
            if !declare(indexer, &filetype) {
                return false;
            }
        }
        let Some(declare) = indexer.declare_location else {
            return false;
        };
        let factory = clap_preset_discovery_location {
            flags: CLAP_PRESET_DISCOVERY_IS_FACTORY_CONTENT,
            name: c"FluxForge factory presets".as_ptr(),
            kind: CLAP_PRESET_DISCOVERY_LOCATION_PLUGIN,
            location: std::ptr::null(),
        };
        if !declare(indexer, &factory) {
            return false;
        }
        if let Some(folder) = user_presets::folder() {
            let path = c(&folder.to_string_lossy());
            let user = clap_preset_discovery_location {
                flags: CLAP_PRESET_DISCOVERY_IS_USER_CONTENT,
                name: c"FluxForge user presets".as_ptr(),
                kind: CLAP_PRESET_DISCOVERY_LOCATION_FILE,
                location: path.as_ptr(),
            };
            // A host that refuses the folder still lists the factory bank.
            declare(indexer, &user);
        }
        true
    }
}

unsafe extern "C" fn destroy(p: *const clap_preset_discovery_provider) {
    if !p.is_null() {
        // SAFETY: `p` is the pointer `create` made with `Box::into_raw`; the host calls
        // `destroy` once, last (contract, point 1).
        drop(unsafe { Box::from_raw(p as *mut Provider) });
    }
}

unsafe extern "C" fn get_extension(
    _p: *const clap_preset_discovery_provider,
    _id: *const c_char,
) -> *const c_void {
    std::ptr::null()
}

/// What the receiver is told about one preset.
struct Entry {
    name: String,
    load_key: Option<String>,
    flags: u32,
    author: String,
    notes: String,
    category: String,
    modified: clap_timestamp,
}

impl Entry {
    fn of(preset: &Preset, load_key: Option<String>, flags: u32) -> Self {
        Self {
            name: preset.name.clone(),
            load_key,
            flags,
            author: if preset.author.trim().is_empty() {
                "FluxForge".into()
            } else {
                preset.author.clone()
            },
            notes: preset.notes.clone(),
            category: preset.category.clone(),
            modified: CLAP_TIMESTAMP_UNKNOWN,
        }
    }

    /// Sends the entry; false when the receiver wants no more.
    ///
    /// # Safety
    ///
    /// `r` is the host's live receiver (contract, point 2).
    unsafe fn send(&self, r: &clap_preset_discovery_metadata_receiver, plugin_id: &CStr) -> bool {
        let name = c(&self.name);
        let key = self.load_key.as_deref().map(c);
        // SAFETY: the receiver and its functions are the host's (this function's contract);
        // every string lives until the end of this function (contract, point 3).
        unsafe {
            let Some(begin) = r.begin_preset else {
                return false;
            };
            if !begin(
                r,
                name.as_ptr(),
                key.as_ref().map_or(std::ptr::null(), |k| k.as_ptr()),
            ) {
                return false;
            }
            if let Some(f) = r.add_plugin_id {
                let id = clap_universal_plugin_id {
                    abi: c"clap".as_ptr(),
                    id: plugin_id.as_ptr(),
                };
                f(r, &id);
            }
            if let Some(f) = r.set_flags {
                f(r, self.flags);
            }
            if let Some(f) = r.add_creator {
                let s = c(&self.author);
                f(r, s.as_ptr());
            }
            if let (Some(f), false) = (r.set_description, self.notes.is_empty()) {
                let s = c(&self.notes);
                f(r, s.as_ptr());
            }
            if let (Some(f), false) = (r.add_feature, self.category.is_empty()) {
                let s = c(&self.category.to_lowercase());
                f(r, s.as_ptr());
            }
            if let (Some(f), true) = (r.set_timestamps, self.modified != CLAP_TIMESTAMP_UNKNOWN) {
                f(r, CLAP_TIMESTAMP_UNKNOWN, self.modified);
            }
        }
        true
    }
}

/// The presets at a location, or why there are none.
fn entries(
    kind: clap_preset_discovery_location_kind,
    location: Option<&CStr>,
) -> Result<Vec<Entry>, String> {
    let favourites = user_presets::folder()
        .map(|f| user_presets::favourites(&f))
        .unwrap_or_default();
    let flag = |source: &PresetRef| {
        if favourites.contains(&user_presets::favourite_key(source)) {
            CLAP_PRESET_DISCOVERY_IS_FAVORITE
        } else {
            0
        }
    };
    match kind {
        CLAP_PRESET_DISCOVERY_LOCATION_PLUGIN => Ok(factory_presets::bank()
            .iter()
            .map(|p| {
                let source = PresetRef {
                    name: p.name.clone(),
                    file: None,
                };
                Entry::of(
                    p,
                    Some(p.name.clone()),
                    CLAP_PRESET_DISCOVERY_IS_FACTORY_CONTENT | flag(&source),
                )
            })
            .collect()),
        CLAP_PRESET_DISCOVERY_LOCATION_FILE => {
            let (preset, source) = resolve(kind, location, None)?;
            let mut e = Entry::of(
                &preset,
                None,
                CLAP_PRESET_DISCOVERY_IS_USER_CONTENT | flag(&source),
            );
            e.modified = source
                .file
                .as_deref()
                .and_then(|f| std::fs::metadata(f).ok()?.modified().ok())
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(CLAP_TIMESTAMP_UNKNOWN, |d| d.as_secs());
            Ok(vec![e])
        }
        other => Err(format!("unknown preset location kind {other}")),
    }
}

unsafe extern "C" fn get_metadata(
    _p: *const clap_preset_discovery_provider,
    kind: clap_preset_discovery_location_kind,
    location: *const c_char,
    receiver: *const clap_preset_discovery_metadata_receiver,
) -> bool {
    // SAFETY: contract, point 2: the receiver is the host's for this call; a non-null
    // `location` is NUL-terminated.
    unsafe {
        let Some(r) = receiver.as_ref() else {
            return false;
        };
        let location = (!location.is_null()).then(|| CStr::from_ptr(location));
        match entries(kind, location) {
            Ok(list) => {
                let id = super::clap_entry::plugin_id();
                for e in &list {
                    if !e.send(r, id) {
                        break;
                    }
                }
                true
            }
            Err(msg) => {
                if let Some(f) = r.on_error {
                    let m = c(&msg);
                    f(r, 0, m.as_ptr());
                }
                false
            }
        }
    }
}

/// The preset-discovery factory the CLAP entry hands out.
pub static FACTORY: clap_preset_discovery_factory = clap_preset_discovery_factory {
    count: Some(count),
    get_descriptor: Some(get_descriptor),
    create: Some(create),
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_factory_preset_resolves_by_its_load_key_and_a_file_by_its_path() {
        let listed = entries(CLAP_PRESET_DISCOVERY_LOCATION_PLUGIN, None).unwrap();
        assert_eq!(listed.len(), factory_presets::bank().len());
        for e in &listed {
            let key = c(e.load_key.as_deref().unwrap());
            let (p, source) =
                resolve(CLAP_PRESET_DISCOVERY_LOCATION_PLUGIN, None, Some(&key)).unwrap();
            assert_eq!(p.name, e.name);
            assert_eq!(source.file, None);
            assert!(!e.notes.is_empty() && !e.category.is_empty());
        }
        assert!(resolve(CLAP_PRESET_DISCOVERY_LOCATION_PLUGIN, None, Some(c"Nope")).is_err());
        assert!(resolve(CLAP_PRESET_DISCOVERY_LOCATION_PLUGIN, None, None).is_err());

        let dir = std::env::temp_dir().join(format!("fluxforge-discovery-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("Späte Halle.json");
        let mut p = Preset::empty();
        p.params.insert("mix".into(), serde_json::json!(0.5));
        p.save(&file).unwrap();
        let loc = c(&file.to_string_lossy());
        let (got, source) = resolve(CLAP_PRESET_DISCOVERY_LOCATION_FILE, Some(&loc), None).unwrap();
        assert_eq!(
            got.name, "Späte Halle",
            "an unnamed file is named by its file"
        );
        assert_eq!(source.file.as_deref(), Some(file.as_path()));
        let listed = entries(CLAP_PRESET_DISCOVERY_LOCATION_FILE, Some(&loc)).unwrap();
        assert_eq!(listed.len(), 1);
        assert!(listed[0].modified > 0, "a file has its modification time");
        std::fs::write(&file, "{").unwrap();
        let err = entries(CLAP_PRESET_DISCOVERY_LOCATION_FILE, Some(&loc))
            .err()
            .unwrap();
        assert!(err.contains("Späte Halle.json"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
