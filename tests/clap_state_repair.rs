//! A damaged session state, loaded through the built CLAP plugin: every parameter and the
//! embedded IR whose bytes are intact come back; a state from a later version loads what it
//! knows.

mod common;
use common::*;

use std::collections::BTreeMap;

use fluxforge::params::FluxForgeParams;
use nice_plug::prelude::{ParamPtr, Params as _};

/// A state with the test IR embedded and every float parameter away from its default, as
/// JSON; the parameters' display names by ID.
fn rich_state() -> (Vec<u8>, BTreeMap<String, String>) {
    let stored = StoredIr::encode(&test_ir(2, 48_000, 0.3, 21), "hall.wav");
    let mut state: serde_json::Value =
        serde_json::from_slice(&state_with_ir(&stored, &[])).unwrap();
    let params = FluxForgeParams::default();
    let mut names = BTreeMap::new();
    for (i, (id, ptr, _)) in params.param_map().into_iter().enumerate() {
        names.insert(id.clone(), unsafe { ptr.name() }.to_string());
        let entry = &mut state["params"][&id];
        if let (Some(_), ParamPtr::FloatParam(_)) = (entry.get("f32"), ptr) {
            let d = unsafe { ptr.default_normalized_value() };
            let n = (d + 0.2 + 0.5 * ((i as f32 * 0.618) % 1.0)) % 1.0;
            *entry = serde_json::json!({ "f32": unsafe { ptr.preview_plain(n) } });
        }
    }
    // In the order the plugin writes it: version, parameters, fields.
    let ordered: nice_plug::prelude::PluginState = serde_json::from_value(state).unwrap();
    (serde_json::to_vec(&ordered).unwrap(), names)
}

/// Byte span of each entry in `json` (key quote to the delimiter after its value) by key.
fn spans(json: &[u8]) -> BTreeMap<String, (usize, usize)> {
    let v: serde_json::Value = serde_json::from_slice(json).unwrap();
    let text = std::str::from_utf8(json).unwrap();
    let mut out = BTreeMap::new();
    for section in ["params", "fields"] {
        for k in v[section].as_object().unwrap().keys() {
            let key = format!("\"{k}\":");
            let at = text.find(&key).unwrap_or_else(|| panic!("{key}"));
            let rest = &json[at + key.len()..];
            let mut stream =
                serde_json::Deserializer::from_slice(rest).into_iter::<serde_json::Value>();
            stream.next().unwrap().unwrap();
            out.insert(k.clone(), (at, at + key.len() + stream.byte_offset() + 1));
        }
    }
    out
}

fn values(
    inst: &mut PluginInstance<TestHost>,
    p: &Params,
    names: &BTreeMap<String, String>,
) -> BTreeMap<String, f64> {
    names
        .keys()
        .map(|id| (id.clone(), p.value(inst, id)))
        .collect()
}

fn ir_field(inst: &mut PluginInstance<TestHost>) -> serde_json::Value {
    let saved: serde_json::Value = serde_json::from_slice(&save_state(inst)).unwrap();
    saved["fields"]["ir"].clone()
}

/// Loads `bytes` into a fresh instance; checks every entry `intact` says is untouched.
fn check(
    bytes: &[u8],
    reference: &BTreeMap<String, f64>,
    reference_ir: &serde_json::Value,
    names: &BTreeMap<String, String>,
    intact: impl Fn(&str) -> bool,
    what: &str,
) -> usize {
    let mut inst = new_instance(load_entry());
    let p = Params::get(&mut inst);
    load_state(&mut inst, bytes);
    let got = values(&mut inst, &p, names);
    let mut kept = 0;
    for (id, v) in &got {
        if intact(id) {
            assert_eq!(*v, reference[id], "{what}: intact parameter {id}");
            kept += 1;
        }
    }
    if intact("ir") {
        assert_eq!(&ir_field(&mut inst), reference_ir, "{what}: embedded IR");
    }
    kept
}

/// The parameter values and the IR field of an instance that loaded `json` cleanly.
fn clean_load(
    json: &[u8],
    names: &BTreeMap<String, String>,
) -> (BTreeMap<String, f64>, serde_json::Value) {
    let mut inst = new_instance(load_entry());
    let p = Params::get(&mut inst);
    assert!(load_state(&mut inst, json));
    (values(&mut inst, &p, names), ir_field(&mut inst))
}

#[test]
fn truncated_and_corrupted_states_keep_every_intact_value_and_the_ir() {
    let (json, names) = rich_state();
    let spans = spans(&json);
    let defaults = {
        let mut inst = new_instance(load_entry());
        let p = Params::get(&mut inst);
        values(&mut inst, &p, &names)
    };
    let (reference, reference_ir) = clean_load(&json, &names);
    assert!(reference_ir
        .as_str()
        .is_some_and(|s| s.contains("hall.wav")));
    let changed = names
        .keys()
        .filter(|id| reference[*id] != defaults[*id])
        .count();
    assert!(
        changed >= 60,
        "only {changed} parameters differ from their defaults"
    );

    let (ir_start, _) = spans["ir"];
    let params_end = spans
        .iter()
        .filter(|(k, _)| names.contains_key(*k))
        .map(|(_, s)| s.1)
        .max()
        .unwrap();
    // Cuts inside the parameters, then one inside the IR (after every parameter).
    let ir_cut = ir_start + (json.len() - ir_start) / 2;
    for (i, cut) in (1..=8)
        .map(|i| (i, params_end * i / 9))
        .chain([(9, ir_cut)])
    {
        let kept = check(
            &json[..cut],
            &reference,
            &reference_ir,
            &names,
            |id| spans[id].1 <= cut,
            &format!("cut at {cut}"),
        );
        assert!(
            kept * 9 >= (i - 1) * names.len() * 8 / 10,
            "cut at {cut}: kept {kept}"
        );
        if cut == ir_cut {
            assert_eq!(kept, names.len());
        }
    }
    // One damaged byte at a time, in the parameters, in the IR's header and in its samples.
    let mut rng = Rng::new(99);
    let mut offsets: Vec<usize> = (0..10).map(|_| rng.range(20, params_end)).collect();
    offsets.extend([ir_start + 3, ir_start + 40, json.len() - 200]);
    for at in offsets {
        for bad in [b'"', b'}', b'\\', 0xff] {
            let mut b = json.clone();
            if b[at] == bad {
                continue;
            }
            b[at] = bad;
            let kept = check(
                &b,
                &reference,
                &reference_ir,
                &names,
                |id| !(spans[id].0..spans[id].1).contains(&at),
                &format!("byte {at} = {bad}"),
            );
            assert!(kept + 1 >= names.len(), "byte {at}: kept {kept}");
        }
    }
}

#[test]
fn a_state_from_a_later_version_loads_what_it_knows() {
    let (json, names) = rich_state();
    let (reference, reference_ir) = clean_load(&json, &names);

    let mut later: serde_json::Value = serde_json::from_slice(&json).unwrap();
    later["version"] = serde_json::json!("9.0.0");
    later["params"]["eq_band6_freq"] = serde_json::json!({ "f32": 1000.0 });
    later["params"]["mix"] = serde_json::json!({ "f64": 0.25 });
    later["fields"]["preset-name"] = serde_json::json!("\"Vocal Plate\"");
    later["ab"] = serde_json::json!({ "slot": "B" });
    let bytes = serde_json::to_vec(&later).unwrap();
    let kept = check(
        &bytes,
        &reference,
        &reference_ir,
        &names,
        |id| id != "mix",
        "later version",
    );
    assert_eq!(kept, names.len() - 1);
    // Purely additive: loads as a whole.
    later["params"]["mix"] = serde_json::json!({ "f32": 0.25 });
    let mut inst = new_instance(load_entry());
    assert!(load_state(&mut inst, &serde_json::to_vec(&later).unwrap()));
    assert_eq!(ir_field(&mut inst), reference_ir);
}

#[test]
fn garbage_is_refused_and_changes_nothing() {
    let (json, names) = rich_state();
    let mut inst = new_instance(load_entry());
    let p = Params::get(&mut inst);
    assert!(load_state(&mut inst, &json));
    let before = values(&mut inst, &p, &names);
    assert!(!load_state(&mut inst, b"\x00\x01 not a state"));
    assert_eq!(values(&mut inst, &p, &names), before);
}
