//! A damaged session state, loaded through the built CLAP plugin: every parameter and the
//! embedded IR whose bytes are intact come back; a state from a later version loads what it
//! knows.

mod common;
use common::*;

use std::collections::BTreeMap;

use fluxforge::params::FluxForgeParams;
use fluxforge::state_repair::{Range, Schema};
use nice_plug::prelude::{Param as _, ParamPtr, Params as _};

/// A state with the test IR embedded and every float parameter away from its default, as
/// JSON; the parameters' display names by ID.
fn rich_state() -> (Vec<u8>, BTreeMap<String, String>) {
    let stored = StoredIr::encode(&test_ir(2, 48_000, 0.3, 21), "hall.wav");
    let mut state: serde_json::Value =
        serde_json::from_slice(&state_with_ir(&stored, &[])).unwrap();
    let params = FluxForgeParams::default();
    let mut names = BTreeMap::new();
    for (i, (id, ptr, _)) in params.param_map().into_iter().enumerate() {
        // SAFETY: `ptr` comes from `param_map()` of a parameter object that outlives this use:
        // nice-plug's parameter pointers point into that object.
        names.insert(id.clone(), unsafe { ptr.name() }.to_string());
        let entry = &mut state["params"][&id];
        if let (Some(_), ParamPtr::FloatParam(_)) = (entry.get("f32"), ptr) {
            // SAFETY: `ptr` comes from `param_map()` of a parameter object that outlives this
            // use: nice-plug's parameter pointers point into that object.
            let d = unsafe { ptr.default_normalized_value() };
            let n = (d + 0.2 + 0.5 * ((i as f32 * 0.618) % 1.0)) % 1.0;
            // SAFETY: `ptr` comes from `param_map()` of a parameter object that outlives this
            // use: nice-plug's parameter pointers point into that object.
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

/// What a state's JSON may carry where a float belongs: far past any range, infinite (1e400
/// reads as infinity or not at all), not a number, and 2^32 and 2^64.
const BAD_FLOATS: [&str; 7] = [
    "1e30",
    "-1e30",
    "1e400",
    "-1e400",
    "NaN",
    "4294967296",
    "18446744073709551616",
];
/// What it may carry where an integer or an enum's index belongs.
const BAD_INTS: [&str; 2] = ["2147483647", "-2147483648"];

/// The plain value a state's value `text` must load as: the nearest end of the range, or the
/// default where the value is not a finite number.
fn expected(range: Range, text: &str) -> f64 {
    let x: f64 = text.parse().unwrap();
    match range {
        Range::Float { lo, hi, default } => {
            let x = x as f32;
            if x.is_finite() {
                x.clamp(lo, hi) as f64
            } else {
                default as f64
            }
        }
        Range::Int { lo, hi, .. } => (x as i64).clamp(lo as i64, hi as i64) as f64,
    }
}

/// A saved value as a number (as the plugin holds it: f32 or i32).
fn plain(v: &serde_json::Value) -> f64 {
    let x = v
        .get("f32")
        .or_else(|| v.get("i32"))
        .and_then(serde_json::Value::as_f64)
        .unwrap_or_else(|| panic!("numeric value expected: {v}"));
    f64::from(x as f32)
}

#[test]
fn every_parameter_out_of_range_in_a_state_loads_clamped_and_plays_finite() {
    let params = FluxForgeParams::default();
    let schema = Schema::of(&params);
    let mut inst = new_instance(load_entry());
    let base = save_state(&mut inst);
    let base_json: serde_json::Value = serde_json::from_slice(&base).unwrap();
    let proc = inst.activate(|_, _| (), config(48_000.0, 512)).unwrap();
    let mut proc = proc.start_processing().unwrap();
    // A -12 dBFS peak tone.
    let tone: Vec<f32> = (0..512).map(|i| 0.25 * (i as f32 * 0.0573).sin()).collect();
    let input = [tone.clone(), tone];
    let peak_of = |out: &[Vec<f32>; 2]| {
        out.iter().flatten().fold(0.0f32, |m, x| {
            if x.is_finite() {
                m.max(x.abs())
            } else {
                f32::INFINITY
            }
        })
    };
    // The loudest a single parameter's range allows: +24 dB (the largest gain any one
    // control adds) over the defaults' output, with a margin.
    proc.reset();
    let default_peak = peak_of(&run(&mut proc, &input, &mut || 512, &[]));
    let ceiling = default_peak * 15.85 * 1.5;
    let mut cases = 0;
    let mut reported = 0;
    for (id, ptr, _) in params.param_map() {
        let (key, bad): (&str, &[&str]) = match ptr {
            ParamPtr::FloatParam(_) => ("f32", &BAD_FLOATS),
            ParamPtr::IntParam(_) | ParamPtr::EnumParam(_) => ("i32", &BAD_INTS),
            ParamPtr::BoolParam(_) => continue,
        };
        let range = schema.ranges[&id];
        for text in bad {
            let mut state = base_json.clone();
            state["params"][&id] = serde_json::json!({ key: "@" });
            let json = serde_json::to_string(&state)
                .unwrap()
                .replace("\"@\"", text);
            // Back to the defaults, then the bad state.
            assert!(load_state(&mut inst, &base));
            load_state(&mut inst, json.as_bytes());
            let saved: serde_json::Value = serde_json::from_slice(&save_state(&mut inst)).unwrap();
            let got = plain(&saved["params"][&id]);
            // A monitoring parameter (the listen mode) loads at its default whatever the
            // state says; any other is clamped.
            let want = if fluxforge::params::MONITORING_IDS.contains(&id.as_str()) {
                0.0
            } else {
                expected(range, text)
            };
            assert_eq!(got, want, "{id} = {text}: loaded as {got}");
            // The renderer reads the same state to the same value.
            let salvage = fluxforge::state_repair::read(json.as_bytes(), &schema);
            reported += usize::from(salvage.report.is_some_and(|r| r.contains(&id)));
            let rendered = FluxForgeParams::default();
            fluxforge::preset::apply_state_values(&salvage.state, &rendered);
            let (_, rptr, _) = rendered
                .param_map()
                .into_iter()
                .find(|(i, _, _)| *i == id)
                .unwrap();
            // SAFETY: `rptr` points into `rendered`, alive here.
            let r = unsafe {
                match rptr {
                    // A float's plain value exactly (it is stored as given).
                    ParamPtr::FloatParam(p) => f64::from((*p).unmodulated_plain_value()),
                    _ => f64::from(rptr.preview_plain(rptr.unmodulated_normalized_value())),
                }
            };
            assert_eq!(r, got, "{id} = {text}: renderer {r}, plugin {got}");
            // And it plays finite, at a level the range allows.
            // From a clean start, so no earlier case's tail is heard (CLAP reset).
            proc.reset();
            let peak = peak_of(&run(&mut proc, &input, &mut || 512, &[]));
            assert!(
                peak < ceiling,
                "{id} = {text}: output peak {peak} (defaults {default_peak})"
            );
            cases += 1;
        }
    }
    assert!(cases > 700, "{cases} cases");
    // Every value that read as a number and was out of range is named in the report.
    assert!(reported * 2 > cases, "{reported} of {cases} reported");
    inst.deactivate(proc.stop_processing());
}
