//! Presets a host can see: the entry's preset-discovery factory lists the factory bank and
//! the user folder, and the preset-load extension loads what the host picked, as a DAW's
//! preset browser does.

use std::ffi::CString;

use clack_extensions::preset_discovery::prelude::*;
use clack_host::prelude::HostError;

use super::common::*;

#[derive(Default)]
struct Indexer {
    filetypes: Vec<(String, Option<String>)>,
    locations: Vec<(String, Flags, Option<String>)>,
}

impl IndexerImpl for Indexer {
    fn declare_filetype(&mut self, t: FileType) -> Result<(), HostError> {
        self.filetypes.push((
            t.name.to_string_lossy().into(),
            t.file_extension.map(|e| e.to_string_lossy().into()),
        ));
        Ok(())
    }
    fn declare_location(&mut self, l: LocationInfo) -> Result<(), HostError> {
        let path = match l.location {
            Location::Plugin => None,
            Location::File { path } => Some(path.to_string_lossy().into()),
        };
        self.locations
            .push((l.name.to_string_lossy().into(), l.flags, path));
        Ok(())
    }
    fn declare_soundpack(&mut self, _: Soundpack) -> Result<(), HostError> {
        Ok(())
    }
}

#[derive(Debug, Default, Clone)]
struct Found {
    name: String,
    load_key: Option<String>,
    plugin_ids: Vec<(String, String)>,
    flags: u32,
    creators: Vec<String>,
    description: String,
    features: Vec<String>,
    modified: Option<u64>,
}

#[derive(Default)]
struct Receiver {
    presets: Vec<Found>,
    errors: Vec<String>,
}

impl Receiver {
    fn last(&mut self) -> &mut Found {
        self.presets.last_mut().expect("begin_preset first")
    }
}

impl MetadataReceiverImpl for Receiver {
    fn on_error(&mut self, _code: i32, message: Option<&CStr>) {
        self.errors
            .push(message.map_or(String::new(), |m| m.to_string_lossy().into()));
    }
    fn begin_preset(
        &mut self,
        name: Option<&CStr>,
        load_key: Option<&CStr>,
    ) -> Result<(), HostError> {
        self.presets.push(Found {
            name: name.map_or(String::new(), |n| n.to_string_lossy().into()),
            load_key: load_key.map(|k| k.to_string_lossy().into()),
            ..Found::default()
        });
        Ok(())
    }
    fn add_plugin_id(&mut self, id: UniversalPluginId) {
        let entry = (
            id.abi.to_string_lossy().into(),
            id.id.to_string_lossy().into(),
        );
        self.last().plugin_ids.push(entry);
    }
    fn set_soundpack_id(&mut self, _: &CStr) {}
    fn set_flags(&mut self, flags: Flags) {
        self.last().flags = flags.bits();
    }
    fn add_creator(&mut self, c: &CStr) {
        self.last().creators.push(c.to_string_lossy().into());
    }
    fn set_description(&mut self, d: &CStr) {
        self.last().description = d.to_string_lossy().into();
    }
    fn set_timestamps(&mut self, _created: Option<Timestamp>, modified: Option<Timestamp>) {
        self.last().modified = modified.map(|t| t.seconds_since_epoch());
    }
    fn add_feature(&mut self, f: &CStr) {
        self.last().features.push(f.to_string_lossy().into());
    }
    fn add_extra_info(&mut self, _: &CStr, _: &CStr) {}
}

fn host_info() -> HostInfo {
    HostInfo::new(
        "FluxForge test host",
        "FluxForge",
        "https://fluxforge.audio",
        "1.0",
    )
    .unwrap()
}

fn provider() -> Provider<Indexer> {
    let entry = load_entry();
    let factory = entry
        .get_factory::<PresetDiscoveryFactory>()
        .expect("the entry has a preset-discovery factory");
    let descriptors: Vec<_> = factory.provider_descriptors().collect();
    assert_eq!(descriptors.len(), 1, "one provider");
    let id = descriptors[0].id().expect("provider id");
    assert!(descriptors[0].name().is_some() && descriptors[0].vendor().is_some());
    Provider::instantiate(Indexer::default(), entry, id, &host_info()).expect("provider")
}

/// A scratch folder named with spaces and non-ASCII letters, as users name them.
fn scratch(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("FluxForge Presets é {tag} {}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn the_host_lists_the_factory_bank_and_the_user_folder() {
    let mut provider = provider();
    let indexer = provider.indexer();
    assert_eq!(
        indexer.filetypes,
        [("FluxForge preset".to_string(), Some("json".to_string()))]
    );
    assert_eq!(indexer.locations.len(), 2, "{:?}", indexer.locations);
    let (_, flags, path) = &indexer.locations[0];
    assert!(path.is_none() && flags.contains(Flags::IS_FACTORY_CONTENT));
    let (_, flags, path) = &indexer.locations[1];
    assert!(flags.contains(Flags::IS_USER_CONTENT));
    let user = PathBuf::from(path.as_ref().expect("the user folder is a file location"));
    assert_eq!(user, fluxforge::user_presets::folder().unwrap());

    let mut r = Receiver::default();
    provider.get_metadata(Location::Plugin, &mut r);
    let bank = fluxforge::factory_presets::bank();
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    assert_eq!(r.presets.len(), bank.len());
    for (found, p) in r.presets.iter().zip(&bank) {
        assert_eq!(found.name, p.name);
        assert_eq!(found.load_key.as_deref(), Some(p.name.as_str()));
        assert_eq!(
            found.plugin_ids,
            [("clap".to_string(), "audio.fluxforge.fluxforge".to_string())]
        );
        assert!(found.flags & Flags::IS_FACTORY_CONTENT.bits() != 0);
        assert_eq!(found.description, p.notes);
        assert_eq!(found.features, [p.category.to_lowercase()]);
        assert_eq!(found.creators.len(), 1);
    }

    // Every listed preset loads through the preset-load extension with its location and key
    // (what a validator's load-every-preset check does).
    let mut inst = new_instance(load_entry());
    let params = Params::get(&mut inst);
    let load = inst
        .plugin_handle()
        .get_extension::<PluginPresetLoad>()
        .expect("preset-load extension");
    for (found, p) in r.presets.iter().zip(&bank) {
        let key = CString::new(found.load_key.clone().unwrap()).unwrap();
        load.load_from_location(&inst.plugin_handle(), Location::Plugin, Some(&key))
            .unwrap_or_else(|_| panic!("{} loads", found.name));
        expect_values(&mut inst, &params, p);
    }

    // A user preset file, found by the host's walk of the folder.
    let dir = scratch("list");
    let file = dir.join("Drum Bus Ämbience.json");
    let mut p = fluxforge::factory_presets::find("Drum Room").unwrap();
    p.name = "Drum Bus Ämbience".into();
    p.category = "Drums".into();
    p.save(&file).unwrap();
    let path = CString::new(file.to_string_lossy().as_bytes()).unwrap();
    let mut r = Receiver::default();
    provider.get_metadata(Location::File { path: &path }, &mut r);
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    assert_eq!(r.presets.len(), 1);
    let found = &r.presets[0];
    assert_eq!(found.name, "Drum Bus Ämbience");
    assert_eq!(found.load_key, None, "one preset per file");
    assert!(found.flags & Flags::IS_USER_CONTENT.bits() != 0);
    assert!(found.modified.is_some_and(|t| t > 0));

    // A damaged file is reported, not listed.
    std::fs::write(&file, "{ not json").unwrap();
    let mut r = Receiver::default();
    provider.get_metadata(Location::File { path: &path }, &mut r);
    assert!(r.presets.is_empty());
    assert_eq!(r.errors.len(), 1);
    assert!(
        r.errors[0].contains("Drum Bus Ämbience.json"),
        "{:?}",
        r.errors
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Checks that the values a host reads back are the ones loading `preset` sets (the CLAP
/// wrapper reports continuous parameters normalized and stepped ones by index).
fn expect_values(
    inst: &mut PluginInstance<TestHost>,
    p: &Params,
    preset: &fluxforge::preset::Preset,
) {
    use nice_plug::prelude::Params as _;
    let scratch = fluxforge::params::FluxForgeParams::default();
    assert!(preset.apply(&scratch).is_empty());
    let map = scratch.param_map();
    for id in [
        "mix",
        "ir_predelay",
        "room",
        "sat_mode",
        "sat_drive",
        "eq_on_1",
        "eq_freq_2",
        "out_gain",
    ] {
        let (_, ptr, _) = map.iter().find(|(i, _, _)| i == id).expect(id);
        // SAFETY: `ptr` points into `scratch`, alive for this loop.
        let (norm, steps) =
            unsafe { (ptr.unmodulated_normalized_value() as f64, ptr.step_count()) };
        let want = steps.map_or(norm, |s| (norm * s as f64).round());
        let got = p.value(inst, id);
        assert!(
            (got - want).abs() <= 1e-4,
            "{}: {id} = {got}, the preset sets {want}",
            preset.name
        );
    }
}

#[test]
fn the_host_loads_a_listed_preset_and_hears_of_it() {
    let entry = load_entry();
    let mut inst = new_instance(entry);
    let p = Params::get(&mut inst);
    let load = inst
        .plugin_handle()
        .get_extension::<PluginPresetLoad>()
        .expect("preset-load extension");

    // A factory preset by its load key.
    load.load_from_location(
        &inst.plugin_handle(),
        Location::Plugin,
        Some(c"Vocal Plate"),
    )
    .expect("loads");
    let vocal = fluxforge::factory_presets::find("Vocal Plate").unwrap();
    expect_values(&mut inst, &p, &vocal);
    let events = inst.access_handler(|h| h.preset_events.take());
    assert_eq!(events, ["loaded plugin Vocal Plate"]);
    let saved: serde_json::Value =
        serde_json::from_slice(&save_state(&mut inst)).expect("state is JSON");
    let field: serde_json::Value =
        serde_json::from_str(saved["fields"]["preset"].as_str().unwrap()).unwrap();
    assert_eq!(field["name"], "Vocal Plate", "the session names the preset");

    // A user preset file.
    let dir = scratch("load");
    let file = dir.join("Mein Raum.json");
    let mut mine = fluxforge::factory_presets::find("Drum Room").unwrap();
    mine.name = "Mein Raum".into();
    mine.params.insert("mix".into(), serde_json::json!(0.61));
    mine.save(&file).unwrap();
    let path = CString::new(file.to_string_lossy().as_bytes()).unwrap();
    load.load_from_location(&inst.plugin_handle(), Location::File { path: &path }, None)
        .expect("loads the file");
    expect_values(&mut inst, &p, &mine);
    assert!((p.value(&mut inst, "mix") - normalized("mix", 0.61)).abs() < 1e-6);
    let events = inst.access_handler(|h| h.preset_events.take());
    assert_eq!(events, [format!("loaded file {} -", file.display())]);

    // What cannot load is refused with a message; the sound stays as it was.
    assert!(load
        .load_from_location(
            &inst.plugin_handle(),
            Location::Plugin,
            Some(c"No Such Preset")
        )
        .is_err());
    std::fs::write(&file, "{").unwrap();
    assert!(load
        .load_from_location(&inst.plugin_handle(), Location::File { path: &path }, None)
        .is_err());
    expect_values(&mut inst, &p, &mine);
    let events = inst.access_handler(|h| h.preset_events.take());
    assert_eq!(events.len(), 2, "{events:?}");
    assert!(
        events[0].starts_with("error plugin No Such Preset: ")
            && events[0].contains("No Such Preset\""),
        "{events:?}"
    );
    assert!(events[1].contains("Mein Raum.json"), "{events:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_preset_loaded_while_playing_reaches_the_sound() {
    // Two instances play the same input; one loads a preset after the first block run.
    let entry = load_entry();
    let input = noise(9600, 3);
    let mut last = Vec::new();
    for load_it in [false, true] {
        let mut inst = new_instance(entry);
        let proc = inst.activate(|_, _| (), config(48_000.0, 512)).unwrap();
        let mut proc = proc.start_processing().unwrap();
        let mut out = run(&mut proc, &input, &mut || 512, &[]);
        if load_it {
            let load = inst
                .plugin_handle()
                .get_extension::<PluginPresetLoad>()
                .unwrap();
            load.load_from_location(
                &inst.plugin_handle(),
                Location::Plugin,
                Some(c"Big Drums Crush"),
            )
            .expect("loads while processing");
        }
        // The state reaches the audio thread at the next block; the parameters glide there.
        for _ in 0..4 {
            out = run(&mut proc, &input, &mut || 512, &[]);
        }
        last.push(out);
        inst.deactivate(proc.stop_processing());
    }
    assert!(
        max_diff(&last[0], &last[1]) > 1e-2,
        "the preset changed the sound: {}",
        max_diff(&last[0], &last[1])
    );
}
