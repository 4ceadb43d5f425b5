//! Presets and parameter values by ID: one format for the plugin and the renderer.
//!
//! Every parameter is reached through the plugin's own parameter objects
//! ([`FluxForgeParams`]), so ranges, steps, units, enum spellings and value text exist once,
//! in `crate::params`. A preset file is JSON:
//!
//! ```json
//! { "format": "fluxforge-preset", "version": 1,
//!   "name": "Vocal Plate", "author": "", "category": "Vocals", "notes": "",
//!   "params": { "mix": 0.22, "room": "Plate", "sat_mode": "Warm", "eq_on_1": true, ... },
//!   "ir": { ...the embedded IR, as in the plugin state... } }
//! ```
//!
//! Values are plain (in the units `--list-params` shows), enums by variant name, switches as
//! booleans; the text the plugin displays ("30 %", "2.5 kHz", "-6 dB") is accepted too.
//! Unknown keys and out-of-range values are reported, not fatal (out-of-range values are
//! clamped). `ir` is present when the preset carries its own IR (`room` = "Loaded File").
//! A file with no `format` key is read as the renderer's earlier flat preset (parameter IDs
//! at the top level).
//!
//! Parameters are reached through [`crate::params::access`] (no raw parameter pointers here).

use std::collections::BTreeMap;
use std::path::Path;

use nice_plug::prelude::Param;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::ir_state::StoredIr;
use crate::params::access::{params_of, Kind, ParamRef};
use crate::params::{FluxForgeParams, PresetRef, MONITORING_IDS};

/// The `format` of a preset file.
pub const FORMAT: &str = "fluxforge-preset";
/// The version this code writes.
pub const VERSION: u32 = 1;

/// What mix lock keeps when a preset loads: dry/wet mix and output gain.
pub const MIX_LOCK_IDS: [&str; 2] = ["mix", "out_gain"];

/// A preset.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Preset {
    /// Always [`FORMAT`].
    pub format: String,
    /// Format version ([`VERSION`]).
    pub version: u32,
    /// Display name.
    #[serde(default)]
    pub name: String,
    /// Who made it.
    #[serde(default)]
    pub author: String,
    /// Browser category ("Vocals", "Drums", "Spaces", ...).
    #[serde(default)]
    pub category: String,
    /// What it is for.
    #[serde(default)]
    pub notes: String,
    /// Plain values by parameter ID.
    pub params: BTreeMap<String, Value>,
    /// The preset's own IR, if it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ir: Option<StoredIr>,
    /// The EQ match curve (dB on the long-term spectrum's grid), if it has one; a preset
    /// without one loads without a match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub match_curve: Option<Vec<f32>>,
}

impl Preset {
    /// Every parameter's current value.
    pub fn capture(params: &FluxForgeParams) -> Self {
        let values = params_of(params)
            .into_iter()
            .filter(|(id, _)| !MONITORING_IDS.contains(&id.as_str()))
            .map(|(id, p)| (id, plain_json(&p)))
            .collect();
        Self {
            params: values,
            match_curve: params.match_curve.get().map(|c| c.to_vec()),
            ..Self::empty()
        }
    }

    /// A preset that sets nothing.
    pub fn empty() -> Self {
        Self {
            format: FORMAT.into(),
            version: VERSION,
            name: String::new(),
            author: String::new(),
            category: String::new(),
            notes: String::new(),
            params: BTreeMap::new(),
            ir: None,
            match_curve: None,
        }
    }

    /// Loads the preset: every parameter it names takes its value, every other one its
    /// default (a preset is a whole sound), except the IDs in `keep` (mix lock), which keep
    /// their current values. The monitoring parameters ([`MONITORING_IDS`]) take their
    /// defaults whatever the preset says (a loaded preset plays its mix). Returns what was
    /// unknown or clamped.
    pub fn apply_keeping(&self, params: &FluxForgeParams, keep: &[&str]) -> Vec<String> {
        let mut notes = Vec::new();
        for (id, p) in params_of(params) {
            let monitoring = MONITORING_IDS.contains(&id.as_str());
            if !keep.contains(&id.as_str()) && (!self.params.contains_key(&id) || monitoring) {
                p.reset();
            }
        }
        for (id, v) in &self.params {
            if keep.contains(&id.as_str()) || MONITORING_IDS.contains(&id.as_str()) {
                continue;
            }
            match set(params, id, v) {
                Ok(None) => {}
                Ok(Some(note)) => notes.push(note),
                Err(e) => notes.push(e),
            }
        }
        let curve = self
            .match_curve
            .as_deref()
            .and_then(crate::dsp::eq_match::sanitize);
        if self.match_curve.is_some() && curve.is_none() {
            notes.push("match curve: not one value per point, ignored".into());
        }
        if params.match_curve.get() != curve {
            params.match_curve.put(curve.as_ref());
        }
        notes
    }

    /// [`Preset::apply_keeping`] with nothing kept.
    pub fn apply(&self, params: &FluxForgeParams) -> Vec<String> {
        self.apply_keeping(params, &[])
    }

    /// The plugin state this preset loads as (over defaults): every parameter as the plugin
    /// saves it, and the preset's IR. What a host recalls after the preset was loaded.
    pub fn to_state(&self) -> nice_plug::prelude::PluginState {
        use nice_plug::plugin::ParamValue;
        let params = FluxForgeParams::default();
        self.apply(&params);
        let values = params_of(&params)
            .into_iter()
            .map(|(id, p)| {
                let v = match p.kind() {
                    Kind::Float(f) => ParamValue::F32(f.unmodulated_plain_value()),
                    Kind::Int(i) => ParamValue::I32(i.unmodulated_plain_value()),
                    Kind::Bool(b) => ParamValue::Bool(b.unmodulated_plain_value()),
                    Kind::Enum => ParamValue::I32(p.plain().round() as i32),
                };
                (id, v)
            })
            .collect();
        let mut fields = BTreeMap::new();
        fields.insert(
            "ir".to_string(),
            serde_json::to_string(&self.ir).unwrap_or_else(|_| "null".into()),
        );
        fields.insert(
            MATCH_FIELD.to_string(),
            serde_json::to_string(&params.match_curve.get().map(|c| c.to_vec()))
                .unwrap_or_else(|_| "null".into()),
        );
        nice_plug::prelude::PluginState {
            version: String::new(),
            params: values,
            fields,
        }
    }

    /// Reads preset text (the current format or the renderer's earlier flat one).
    pub fn parse(text: &str) -> Result<Self, String> {
        let v: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let Value::Object(map) = v else {
            return Err("not a JSON object".into());
        };
        match map.get("format") {
            None => Ok(Self {
                params: map.into_iter().collect(),
                ..Self::empty()
            }),
            // A later version's extra keys are ignored; its parameters are read as known.
            Some(Value::String(f)) if f == FORMAT => {
                serde_json::from_value(Value::Object(map)).map_err(|e| e.to_string())
            }
            Some(other) => Err(format!("not a FluxForge preset (format {other})")),
        }
    }

    /// Reads a preset file, with a one-line error naming the file.
    pub fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read preset {}: {e}", path.display()))?;
        Self::parse(&text).map_err(|e| format!("invalid preset {}: {e}", path.display()))
    }

    /// Writes the preset as pretty JSON.
    pub fn save(&self, path: &Path) -> Result<(), String> {
        let text = serde_json::to_string_pretty(self).map_err(|e| e.to_string())?;
        std::fs::write(path, text + "\n")
            .map_err(|e| format!("cannot write preset {}: {e}", path.display()))
    }
}

/// The persisted field that holds the loaded [`PresetRef`].
pub const PRESET_FIELD: &str = "preset";
/// The persisted field that holds mix lock.
pub const MIX_LOCK_FIELD: &str = "mix-lock";
/// The persisted field that holds the embedded IR.
pub const IR_FIELD: &str = "ir";

/// The persisted field of the EQ match curve.
pub const MATCH_FIELD: &str = "eq-match";

/// The state that loads `preset` over `current` (the instance's state now), as the editor's
/// preset bar loads it: every parameter takes the preset's value or its default, except mix
/// and output gain when `current` has mix lock on; the preset's IR replaces the embedded one
/// only when the preset has one; `source` becomes the loaded preset; the other fields
/// (mix lock, the editor's size) are kept. What a host's preset load hands the framework.
pub fn state_for_load(
    preset: &Preset,
    current: &nice_plug::prelude::PluginState,
    source: &PresetRef,
) -> nice_plug::prelude::PluginState {
    let mut state = preset.to_state();
    let locked = current
        .fields
        .get(MIX_LOCK_FIELD)
        .is_some_and(|v| v.trim() == "true");
    if locked {
        for id in MIX_LOCK_IDS {
            if let Some(v) = current.params.get(id) {
                state.params.insert(id.to_string(), v.clone());
            }
        }
    }
    let mut fields = current.fields.clone();
    if preset.ir.is_some() {
        if let Some(ir) = state.fields.remove(IR_FIELD) {
            fields.insert(IR_FIELD.to_string(), ir);
        }
    }
    // The preset's EQ match curve (or none) replaces the session's.
    if let Some(m) = state.fields.remove(MATCH_FIELD) {
        fields.insert(MATCH_FIELD.to_string(), m);
    }
    fields.insert(
        PRESET_FIELD.to_string(),
        serde_json::to_string(&Some(source)).unwrap_or_else(|_| "null".into()),
    );
    state.fields = fields;
    state.version = current.version.clone();
    state
}

/// Sets every parameter a plugin state holds (read by [`crate::state_repair::read`], so
/// clamped to its range) to the state's value; the others keep theirs. Returns what could not
/// be used. What the renderer does with `--state`, and what a host's load does through the
/// framework: both end in the same plain values.
pub fn apply_state_values(
    state: &nice_plug::prelude::PluginState,
    params: &FluxForgeParams,
) -> Vec<String> {
    use nice_plug::plugin::ParamValue;
    state
        .params
        .iter()
        .filter_map(|(id, v)| {
            let value = match v {
                ParamValue::F32(x) => Value::from(*x as f64),
                ParamValue::I32(x) => Value::from(*x),
                ParamValue::Bool(b) => Value::Bool(*b),
                ParamValue::String(s) => Value::String(s.clone()),
            };
            set(params, id, &value).err()
        })
        .collect()
}

/// A parameter's current plain value as preset JSON.
fn plain_json(p: &ParamRef) -> Value {
    match p.kind() {
        Kind::Float(f) => Value::from(f.unmodulated_plain_value() as f64),
        Kind::Int(i) => Value::from(i.unmodulated_plain_value()),
        Kind::Bool(b) => Value::Bool(b.unmodulated_plain_value()),
        Kind::Enum => Value::String(p.text(p.normalized(), false)),
    }
}

/// Folds a name for matching: lower case, no spaces, dashes or underscores.
fn fold(s: &str) -> String {
    s.chars()
        .filter(|c| !matches!(c, ' ' | '-' | '_'))
        .flat_map(char::to_lowercase)
        .collect()
}

/// The variant names of an enum or stepped parameter, by normalized value.
fn choices(p: &ParamRef) -> Vec<(f32, String)> {
    let steps = p.step_count().unwrap_or(1).max(1);
    (0..=steps)
        .map(|k| {
            let n = k as f32 / steps as f32;
            (n, p.text(n, false))
        })
        .collect()
}

/// Sets parameter `id` from a preset or command-line value: a plain number, the text the
/// plugin shows, an enum variant's name (or index), or a switch's `true`/`false`/`on`/`off`.
/// Returns a note if the value was clamped; an error for an unknown ID or an unusable value.
pub fn set(params: &FluxForgeParams, id: &str, value: &Value) -> Result<Option<String>, String> {
    let all = params_of(params);
    let Some((_, p)) = all.iter().find(|(i, _)| i == id) else {
        return Err(format!(
            "unknown parameter {id:?} (did you mean {:?}? see --list-params)",
            closest(all.iter().map(|(i, _)| i.as_str()), id)
        ));
    };
    let bad = || format!("{id}: cannot use {value} (see --list-params)");
    let normalized = match (p.kind(), value) {
        (Kind::Bool(_), Value::Bool(b)) => f32::from(*b),
        (Kind::Bool(_), Value::String(s)) => match fold(s).as_str() {
            "on" | "true" | "yes" | "1" => 1.0,
            "off" | "false" | "no" | "0" => 0.0,
            _ => return Err(bad()),
        },
        (Kind::Bool(_), Value::Number(n)) => f32::from(n.as_f64() != Some(0.0)),
        (Kind::Enum, Value::String(s)) => choices(p)
            .into_iter()
            .find(|(_, name)| fold(name) == fold(s))
            .map(|(n, _)| n)
            .ok_or_else(|| {
                let names: Vec<String> = choices(p).into_iter().map(|c| c.1).collect();
                format!("{id}: unknown choice {s:?} ({})", names.join(", "))
            })?,
        (Kind::Enum, Value::Number(n)) => {
            let plain = n.as_f64().filter(|v| v.fract() == 0.0).ok_or_else(bad)?;
            p.preview_normalized(plain as f32)
        }
        (Kind::Float(_) | Kind::Int(_), _) => {
            let plain = match value {
                Value::Number(n) => n.as_f64(),
                Value::String(s) => s.trim().parse::<f64>().ok(),
                _ => None,
            };
            match plain {
                Some(v) if v.is_finite() => {
                    // Exactly the plain value (as a state load sets it), clamped to the
                    // range: a preset written from these values reads back bit-exactly.
                    let lo = p.preview_plain(0.0) as f64;
                    let hi = p.preview_plain(1.0) as f64;
                    let c = v.clamp(lo, hi);
                    p.set_plain(c);
                    let tol = 1e-6 * (1.0 + v.abs());
                    return Ok((v < lo - tol || v > hi + tol)
                        .then(|| format!("{id}: {v} is out of range, clamped to {c}")));
                }
                Some(_) => return Err(bad()),
                None => match value {
                    Value::String(s) => p.parse(s).ok_or_else(bad)?,
                    _ => return Err(bad()),
                },
            }
        }
        _ => return Err(bad()),
    };
    p.set_normalized(normalized);
    Ok(None)
}

/// The candidate closest to `id` (edit distance).
pub fn closest<'a>(candidates: impl Iterator<Item = &'a str>, id: &str) -> &'a str {
    fn distance(a: &str, b: &str) -> usize {
        let b: Vec<char> = b.chars().collect();
        let mut row: Vec<usize> = (0..=b.len()).collect();
        for (i, ca) in a.chars().enumerate() {
            let mut prev = row[0];
            row[0] = i + 1;
            for (j, cb) in b.iter().enumerate() {
                let cur = row[j + 1];
                row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
                prev = cur;
            }
        }
        row[b.len()]
    }
    candidates.min_by_key(|c| distance(c, id)).unwrap_or("")
}

/// The parameter table, one line per parameter: ID, name, range as plain values (what a
/// number given to `--set` or in a preset means), the same range as the plugin shows it, and
/// the default (plain, then as shown). Choices and switches list their names.
pub fn table(params: &FluxForgeParams) -> String {
    let mut out = format!(
        "{:<15} {:<22} {:<16} {:<30} {}\n",
        "ID", "NAME", "PLAIN RANGE", "SHOWN AS", "DEFAULT"
    );
    for (id, p) in params_of(params) {
        let text = |n: f32| p.text(n, true);
        let d = p.default_normalized();
        let line = match p.kind() {
            Kind::Float(_) | Kind::Int(_) => format!(
                "{:<16} {:<30} {} ({})",
                format!("{} .. {}", p.preview_plain(0.0), p.preview_plain(1.0)),
                format!("{} .. {}", text(0.0), text(1.0)),
                p.default_plain(),
                text(d)
            ),
            Kind::Bool(_) | Kind::Enum => {
                let names: Vec<String> = choices(&p).into_iter().map(|c| c.1).collect();
                format!("{:<46}  {}", names.join(", "), text(d))
            }
        };
        out += &format!("{id:<15} {:<22} {line}\n", p.name());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_neither_save_nor_load_a_listen_mode() {
        use crate::params::ListenMode;
        let params = FluxForgeParams::default();
        set(&params, "listen", &serde_json::json!("Delta")).unwrap();
        assert_eq!(params.listen.value(), ListenMode::Delta);
        let saved = Preset::capture(&params);
        assert!(!saved.params.contains_key("listen"));
        assert!(saved.params.contains_key("mix"));
        // A hand-edited preset naming it: loading leaves listening at Normal.
        let mut edited = saved.clone();
        edited
            .params
            .insert("listen".into(), serde_json::json!("Wet Only"));
        assert!(edited.apply(&params).is_empty());
        assert_eq!(params.listen.value(), ListenMode::Normal);
    }

    #[test]
    fn a_host_load_is_the_editor_load_with_mix_lock_and_the_other_fields_kept() {
        use nice_plug::plugin::ParamValue;
        let vocal = crate::factory_presets::find("Vocal Plate").unwrap();
        let mut current = Preset::empty().to_state();
        current.params.insert("mix".into(), ParamValue::F32(0.9));
        current
            .params
            .insert("out_gain".into(), ParamValue::F32(-3.0));
        current
            .fields
            .insert(IR_FIELD.into(), "{\"kept\":1}".into());
        current
            .fields
            .insert("editor-size".into(), "[900.0,600.0,1.0]".into());
        let source = PresetRef {
            name: vocal.name.clone(),
            file: None,
        };
        for lock in [false, true] {
            current
                .fields
                .insert(MIX_LOCK_FIELD.into(), lock.to_string());
            let next = state_for_load(&vocal, &current, &source);
            let whole = vocal.to_state();
            for (id, v) in &whole.params {
                let kept = lock && MIX_LOCK_IDS.contains(&id.as_str());
                let want = if kept { &current.params[id] } else { v };
                assert_eq!(
                    format!("{:?}", next.params[id]),
                    format!("{want:?}"),
                    "{id} with mix lock {lock}"
                );
            }
            assert_eq!(next.fields[IR_FIELD], "{\"kept\":1}", "no IR in the preset");
            assert_eq!(next.fields["editor-size"], "[900.0,600.0,1.0]");
            assert_eq!(next.fields[MIX_LOCK_FIELD], lock.to_string());
            let named: Option<PresetRef> =
                serde_json::from_str(&next.fields[PRESET_FIELD]).unwrap();
            assert_eq!(named, Some(source.clone()));
        }
        // A preset with its own IR brings it.
        let mut own = vocal.clone();
        own.ir = Some(crate::ir_state::StoredIr::default());
        let next = state_for_load(&own, &current, &source);
        assert_ne!(next.fields[IR_FIELD], "{\"kept\":1}");
    }

    #[test]
    fn capture_and_apply_round_trip_every_parameter() {
        let a = FluxForgeParams::default();
        for (k, (_, p)) in params_of(&a).into_iter().enumerate() {
            let n = ((k as f32 * 0.618) % 1.0 * 0.8 + 0.1).clamp(0.0, 1.0);
            p.set_normalized(n);
        }
        let p = Preset::capture(&a);
        let text = serde_json::to_string(&p).unwrap();
        let b = FluxForgeParams::default();
        assert!(Preset::parse(&text).unwrap().apply(&b).is_empty());
        assert_eq!(Preset::capture(&b), p);
        // Every parameter but the monitoring ones.
        assert_eq!(p.params.len(), params_of(&a).len() - MONITORING_IDS.len());
    }

    #[test]
    fn a_preset_is_a_whole_sound_except_what_mix_lock_keeps() {
        let params = FluxForgeParams::default();
        for (id, v) in [("sat_drive", "20"), ("mix", "0.9"), ("out_gain", "-6")] {
            set(&params, id, &Value::String(v.into())).unwrap();
        }
        let p = Preset::parse(
            r#"{"format": "fluxforge-preset", "version": 1, "params": {"mix": 0.2}}"#,
        )
        .unwrap();
        p.apply_keeping(&params, &["mix", "out_gain"]);
        assert_eq!(params.drive.value(), 6.0, "not named: back to its default");
        assert_eq!(params.mix.value(), 0.9, "kept");
        assert_eq!(params.output_gain.value(), -6.0, "kept");
        p.apply(&params);
        assert_eq!(params.mix.value(), 0.2);
        assert_eq!(params.output_gain.value(), 0.0);
    }

    #[test]
    fn unknown_keys_and_out_of_range_values_are_reported_not_fatal() {
        let p = Preset::parse(r#"{"mixx": 0.5, "in_gain": 99, "sat_mode": "warm", "mix": 0.25}"#)
            .unwrap();
        let params = FluxForgeParams::default();
        let notes = p.apply(&params);
        assert_eq!(notes.len(), 2, "{notes:?}");
        assert!(
            notes.iter().any(|n| n.contains("did you mean \"mix\"")),
            "{notes:?}"
        );
        assert!(
            notes
                .iter()
                .any(|n| n.contains("in_gain: 99 is out of range, clamped to 24")),
            "{notes:?}"
        );
        assert_eq!(params.mix.value(), 0.25);
        assert_eq!(params.input_gain.value(), 24.0);
        assert_eq!(
            params.settings().character.mode,
            crate::dsp::saturator::CharacterMode::Warm
        );
    }

    #[test]
    fn values_are_read_as_plain_numbers_display_text_choices_and_switches() {
        let params = FluxForgeParams::default();
        let s = |id: &str, v: &str| set(&params, id, &Value::String(v.into())).unwrap();
        s("eq_freq_1", "2.5 kHz");
        assert!((params.bands[0].freq.value() - 2500.0).abs() < 1.0);
        s("eq_freq_1", "440");
        assert!((params.bands[0].freq.value() - 440.0).abs() < 0.5);
        s("room", "large-hall");
        assert_eq!(params.room.value(), crate::params::Room::LargeHall);
        s("sat_os", "on");
        assert!(params.oversample.value());
        assert!(set(&params, "sat_os", &Value::String("maybe".into())).is_err());
        let e = set(&params, "rom", &Value::from(1)).unwrap_err();
        assert!(e.contains("did you mean \"room\""), "{e}");
    }
}
