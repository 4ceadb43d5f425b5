//! Reading a plugin state that comes back damaged, and telling the user what was lost.
//!
//! A host session stores the plugin state as JSON (`version`, `params` keyed by parameter ID,
//! `fields` keyed by persisted-field name; the embedded IR is the `ir` field). The framework
//! reads it all-or-nothing: one malformed value, a truncated file or a field of a type it does
//! not know throws the whole state away. The host entry points ([`crate::host`]) pass every
//! state through [`prepare`] first:
//!
//! - a state that reads strictly is passed on as it is (with an empty report);
//! - otherwise every known parameter and field is looked up by its key wherever it is, and
//!   taken only if its value is complete and well-formed and followed by a delimiter. One damaged
//!   byte costs at most the entries it touches; a cut costs what follows it. Parameters that are
//!   not recovered keep their current values;
//! - what was dropped is written to the log and handed to the editor through the
//!   [`REPORT_FIELD`] field ([`StateReport`]), so the user sees it.
//!
//! Unknown keys (a state from a later version) are ignored, never fatal. Every value read,
//! strictly or not, is then brought into its parameter's range ([`Schema::clamp`]): the
//! framework stores a state's plain value as given, so an out-of-range or non-finite value
//! would otherwise reach the DSP (a gain of 1e5 dB plays NaN). A finite value outside the
//! range takes the nearest end, a non-finite one the default, an enum index past the last
//! variant the last one; each change is named in the report. The host fronts and the
//! renderer (`--state`) both read states through [`read`], so they play one state alike.
//!
//! A state saved by an earlier version lacks the parameters added since; each takes the
//! value that version played with ([`ADDED`]), not whatever the instance held.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use nice_plug::params::persist::PersistentField;
use nice_plug::plugin::ParamValue;
use nice_plug::prelude::{Param, Params, PluginState};

use crate::params::access::{params_of, Kind, ParamRef};
use serde::de::DeserializeOwned;

/// The persisted field through which a load reports what it dropped ([`StateReport`]).
pub const REPORT_FIELD: &str = "state-report";

/// Parameter IDs and persisted-field names the plugin knows: what a damaged state is searched
/// for.
#[derive(Clone, Debug, Default)]
pub struct Schema {
    /// Parameter IDs.
    pub params: Vec<String>,
    /// Persisted-field names, [`REPORT_FIELD`] excluded.
    pub fields: Vec<String>,
    /// The plain range of each numeric parameter by ID (a parameter without one is not
    /// clamped).
    pub ranges: BTreeMap<String, Range>,
}

/// The plain values a numeric parameter may hold, as a state stores them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Range {
    /// A float parameter.
    Float { lo: f32, hi: f32, default: f32 },
    /// An integer parameter, or an enum's variant index.
    Int { lo: i32, hi: i32, default: i32 },
}

impl Range {
    /// The range of parameter `p` (`None` for switches).
    fn of(p: &ParamRef) -> Option<Self> {
        match p.kind() {
            Kind::Float(f) => {
                let (a, b) = (p.preview_plain(0.0), p.preview_plain(1.0));
                Some(Range::Float {
                    lo: a.min(b),
                    hi: a.max(b),
                    default: f.default_plain_value(),
                })
            }
            Kind::Int(i) => Some(Range::Int {
                lo: p.preview_plain(0.0).round() as i32,
                hi: p.preview_plain(1.0).round() as i32,
                default: i.default_plain_value(),
            }),
            Kind::Enum => {
                let last = p.step_count().unwrap_or(0) as i32;
                Some(Range::Int {
                    lo: 0,
                    hi: last,
                    default: (p.default_normalized() * last as f32).round() as i32,
                })
            }
            Kind::Bool(_) => None,
        }
    }

    /// `v` brought into the range (`None`: it already is).
    pub fn clamp(&self, v: &ParamValue) -> Option<ParamValue> {
        match (*self, v) {
            (Range::Float { lo, hi, default }, ParamValue::F32(x)) => {
                let c = if x.is_finite() {
                    x.clamp(lo, hi)
                } else {
                    default
                };
                (c.to_bits() != x.to_bits()).then_some(ParamValue::F32(c))
            }
            (Range::Int { lo, hi, .. }, ParamValue::I32(x)) => {
                let c = (*x).clamp(lo, hi);
                (c != *x).then_some(ParamValue::I32(c))
            }
            _ => None,
        }
    }
}

impl Schema {
    /// The schema of a parameter object.
    pub fn of(params: &dyn Params) -> Self {
        Self {
            params: params
                .param_map()
                .into_iter()
                .map(|(id, _, _)| id)
                .collect(),
            fields: params
                .serialize_fields()
                .into_keys()
                .filter(|k| k != REPORT_FIELD)
                .collect(),
            ranges: params_of(params)
                .into_iter()
                .filter_map(|(id, p)| Range::of(&p).map(|r| (id, r)))
                .collect(),
        }
    }

    /// Brings every parameter value of `state` into its range; returns what was changed
    /// ("in_gain: 100000 -> 24"), in parameter-ID order.
    pub fn clamp(&self, state: &mut PluginState) -> Vec<String> {
        let mut changed = Vec::new();
        for (id, v) in state.params.iter_mut() {
            let Some(c) = self.ranges.get(id).and_then(|r| r.clamp(v)) else {
                continue;
            };
            changed.push(format!("{id}: {} -> {}", show(v), show(&c)));
            *v = c;
        }
        changed
    }
}

fn show(v: &ParamValue) -> String {
    match v {
        ParamValue::F32(x) => format!("{x}"),
        ParamValue::I32(x) => format!("{x}"),
        ParamValue::Bool(b) => format!("{b}"),
        ParamValue::String(s) => format!("{s:?}"),
    }
}

/// A state as read, with a report of what could not be read (`None`: nothing was lost).
#[derive(Debug)]
pub struct Salvage {
    /// What will be loaded.
    pub state: PluginState,
    /// What was dropped, for the user.
    pub report: Option<String>,
    /// Whether anything at all was read.
    pub usable: bool,
}

/// Reads `bytes` strictly if they allow it, else recovers every entry of `schema` that is
/// intact.
/// Every value read is brought into its range ([`Schema::clamp`]); a clamped value is named in
/// the report.
pub fn read(bytes: &[u8], schema: &Schema) -> Salvage {
    let mut salvage = read_values(bytes, schema);
    fill_added(&mut salvage.state, ADDED);
    // A session opens playing its mix, whatever was being listened to when it was saved: each
    // monitoring parameter at its first variant (Normal).
    for id in crate::params::MONITORING_IDS {
        salvage.state.params.remove(id);
        if schema.params.iter().any(|p| p == id) {
            salvage
                .state
                .params
                .insert(id.to_string(), nice_plug::plugin::ParamValue::I32(0));
        }
    }
    let clamped = schema.clamp(&mut salvage.state);
    if !clamped.is_empty() {
        let text = describe_clamped(&clamped);
        salvage.report = Some(match salvage.report.take() {
            Some(r) => format!("{r} {text}"),
            None => text,
        });
    }
    salvage
}

/// A parameter a release added: a session saved by an earlier version does not have it, and
/// plays as that version did, which is the parameter at `before`. Without this, the framework
/// would leave such a parameter at whatever the instance held when the session loaded (it
/// sets only the values a state has), so one old session could sound different in two
/// instances.
#[derive(Clone, Copy, Debug)]
pub struct Added {
    /// The parameter's ID.
    pub id: &'static str,
    /// The first version that saves it (`major.minor.patch`).
    pub since: (u32, u32, u32),
    /// Its value for a session saved before `since`.
    pub before: Before,
}

/// A plain value of [`Added::before`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Before {
    /// A float parameter's plain value.
    Float(f32),
    /// An integer parameter's value or an enum's variant index.
    Int(i32),
    /// A switch.
    Bool(bool),
}

/// Every parameter added since the first release, in the order they came.
pub const ADDED: &[Added] = &[
    // 0.2.0: 4x oversampling. 0.1.0's only oversampling factor was 2x (index 0).
    Added {
        id: "sat_os_factor",
        since: (0, 2, 0),
        before: Before::Int(0),
    },
    // 0.2.0: the render oversampling. 0.1.0 rendered as it played (As Playback, index 0).
    Added {
        id: "sat_os_render",
        since: (0, 2, 0),
        before: Before::Int(0),
    },
    // 0.3.0: frequency-dependent decay. Before, every band decayed as the IR's own (100 %;
    // the crossovers then change nothing, their defaults are given for a complete state).
    Added {
        id: "ir_dlow",
        since: (0, 3, 0),
        before: Before::Float(100.0),
    },
    Added {
        id: "ir_dmid",
        since: (0, 3, 0),
        before: Before::Float(100.0),
    },
    Added {
        id: "ir_dhigh",
        since: (0, 3, 0),
        before: Before::Float(100.0),
    },
    Added {
        id: "ir_dxlow",
        since: (0, 3, 0),
        before: Before::Float(300.0),
    },
    Added {
        id: "ir_dxhigh",
        since: (0, 3, 0),
        before: Before::Float(4000.0),
    },
    // 0.3.0: the tempo-synced pre-delay. Before, the pre-delay was in milliseconds (Off).
    Added {
        id: "ir_predelay_sync",
        since: (0, 3, 0),
        before: Before::Int(0),
    },
    // 0.3.0: spectral ducking. Before, ducking was broadband (index 0).
    Added {
        id: "duck_mode",
        since: (0, 3, 0),
        before: Before::Int(0),
    },
    // 0.4.0: spectral dynamics per EQ band. Before, a band's dynamics acted on the whole band.
    spectral_band("eq_spec_1"),
    spectral_band("eq_spec_2"),
    spectral_band("eq_spec_3"),
    spectral_band("eq_spec_4"),
    spectral_band("eq_spec_5"),
    spectral_band("eq_spec_6"),
    spectral_band("eq_spec_7"),
    spectral_band("eq_spec_8"),
    // 0.5.0: EQ match. A session before it has no curve, so the amount changes nothing; it
    // is given for a complete state.
    Added {
        id: "match_amount",
        since: (0, 5, 0),
        before: Before::Float(1.0),
    },
];

/// A band's Spectral switch, added in 0.4.0 (off before).
const fn spectral_band(id: &'static str) -> Added {
    Added {
        id,
        since: (0, 4, 0),
        before: Before::Bool(false),
    }
}

/// `major.minor.patch` of a version string (a suffix such as `-beta` ignored).
fn parse_version(v: &str) -> Option<(u32, u32, u32)> {
    let mut parts = v.trim().split(['.', '-', '+']);
    let mut next = || parts.next()?.parse::<u32>().ok();
    Some((next()?, next()?, next()?))
}

/// Gives a state saved by an earlier version the value of each parameter added since, as
/// that version played it (see [`Added`]). A state without a readable version (a preset
/// turned into a state, a hand-made one) is left as it is.
fn fill_added(state: &mut PluginState, added: &[Added]) {
    let Some(saved_by) = parse_version(&state.version) else {
        return;
    };
    for a in added {
        if saved_by < a.since && !state.params.contains_key(a.id) {
            let v = match a.before {
                Before::Float(x) => ParamValue::F32(x),
                Before::Int(x) => ParamValue::I32(x),
                Before::Bool(x) => ParamValue::Bool(x),
            };
            state.params.insert(a.id.to_string(), v);
        }
    }
}

fn describe_clamped(clamped: &[String]) -> String {
    const SHOWN: usize = 6;
    let shown: Vec<&str> = clamped.iter().take(SHOWN).map(String::as_str).collect();
    format!(
        "{} saved value{} out of range, set to the nearest valid value ({}{}).",
        clamped.len(),
        if clamped.len() == 1 { " was" } else { "s were" },
        shown.join(", "),
        if clamped.len() > SHOWN { ", ..." } else { "" }
    )
}

/// [`read`] before clamping.
fn read_values(bytes: &[u8], schema: &Schema) -> Salvage {
    if let Ok(state) = serde_json::from_slice::<PluginState>(bytes) {
        return Salvage {
            state,
            report: None,
            usable: true,
        };
    }
    let keys = key_positions(bytes);
    let find = |key: &str| keys.get(key.as_bytes()).map(Vec::as_slice).unwrap_or(&[]);
    let version = value_at::<String>(bytes, find("version")).unwrap_or_default();
    let mut params = BTreeMap::new();
    let mut lost = Vec::new();
    for id in &schema.params {
        match value_at::<ParamValue>(bytes, find(id)) {
            Some(v) => {
                params.insert(id.clone(), v);
            }
            None => lost.push(id.as_str()),
        }
    }
    let mut fields = BTreeMap::new();
    let mut lost_fields = Vec::new();
    for key in &schema.fields {
        // A field's value is itself JSON; a damaged one would be refused by its reader anyway.
        let v = value_at::<String>(bytes, find(key))
            .filter(|s| serde_json::from_str::<serde::de::IgnoredAny>(s).is_ok());
        match v {
            Some(v) => {
                fields.insert(key.clone(), v);
            }
            None => lost_fields.push(key.as_str()),
        }
    }
    let report = describe(schema, &lost, &lost_fields);
    Salvage {
        usable: !(params.is_empty() && fields.is_empty()),
        state: PluginState {
            version,
            params,
            fields,
        },
        report: Some(report),
    }
}

/// The bytes to hand to the framework for `bytes` (the report stored in them as
/// [`REPORT_FIELD`], empty when nothing was lost, so the editor's line always describes the
/// latest load), with the report and whether anything was read.
pub fn prepare(bytes: &[u8], schema: &Schema) -> (Vec<u8>, Salvage) {
    let mut salvage = read(bytes, schema);
    let text = salvage.report.clone().unwrap_or_default();
    salvage.state.fields.insert(
        REPORT_FIELD.to_string(),
        serde_json::to_string(&text).unwrap_or_default(),
    );
    let out = serde_json::to_vec(&salvage.state).unwrap_or_else(|_| bytes.to_vec());
    (out, salvage)
}

fn describe(schema: &Schema, lost: &[&str], lost_fields: &[&str]) -> String {
    const SHOWN: usize = 6;
    let total = schema.params.len();
    if lost.len() == total && lost_fields.len() == schema.fields.len() {
        return "The saved state could not be read; nothing was loaded and the current settings \
                are kept."
            .to_string();
    }
    let mut s = format!(
        "The saved state was damaged: {} of {total} parameters recovered",
        total - lost.len()
    );
    if !lost.is_empty() {
        let shown: Vec<&str> = lost.iter().take(SHOWN).copied().collect();
        s += &format!(
            "; {} kept their current values ({}{})",
            lost.len(),
            shown.join(", "),
            if lost.len() > SHOWN { ", ..." } else { "" }
        );
    }
    for f in lost_fields {
        s += &if *f == "ir" {
            "; the embedded IR could not be read".to_string()
        } else {
            format!("; the \"{f}\" data could not be read")
        };
    }
    s + "."
}

/// Where each quoted key followed by `:` starts its value, for every key in `bytes`. One pass;
/// every pair of consecutive quotes is tried, so a stray quote only shifts one pair. A key's
/// closing quote must not be escaped (keys inside string values that hold JSON themselves are
/// skipped); its opening one may be, so a damaged delimiter before a key does not cost the key.
fn key_positions(bytes: &[u8]) -> HashMap<&[u8], Vec<usize>> {
    let quotes: Vec<usize> = (0..bytes.len()).filter(|&i| bytes[i] == b'"').collect();
    let mut keys: HashMap<&[u8], Vec<usize>> = HashMap::new();
    for w in quotes.windows(2) {
        let (a, b) = (w[0], w[1]);
        if bytes[b - 1] == b'\\' {
            continue;
        }
        let mut c = b + 1;
        while c < bytes.len() && bytes[c].is_ascii_whitespace() {
            c += 1;
        }
        if bytes.get(c) == Some(&b':') {
            keys.entry(&bytes[a + 1..b]).or_default().push(c + 1);
        }
    }
    keys
}

/// The first value of type `T` at one of `starts` that is complete and followed by `,` or `}`.
fn value_at<T: DeserializeOwned>(bytes: &[u8], starts: &[usize]) -> Option<T> {
    starts.iter().find_map(|&start| {
        let rest = &bytes[start..];
        let mut stream = serde_json::Deserializer::from_slice(rest).into_iter::<T>();
        let value = stream.next()?.ok()?;
        let tail = &rest[stream.byte_offset()..];
        let next = tail.iter().find(|b| !b.is_ascii_whitespace())?;
        matches!(next, b',' | b'}').then_some(value)
    })
}

/// The persisted field that carries a load's report to the editor. It is never saved (a report
/// belongs to the load that made it), so it always serialises as an empty string.
#[derive(Debug, Default)]
pub struct StateReport {
    text: Mutex<String>,
    serial: AtomicU64,
}

impl StateReport {
    /// What the last state load dropped, if anything.
    pub fn get(&self) -> Option<String> {
        let t = self.text.lock().ok()?;
        (!t.is_empty()).then(|| t.clone())
    }

    /// The user has read the report.
    pub fn dismiss(&self) {
        if let Ok(mut t) = self.text.lock() {
            t.clear();
        }
    }

    /// Counts loads that carried a report field.
    pub fn serial(&self) -> u64 {
        self.serial.load(Ordering::Acquire)
    }
}

impl<'a> PersistentField<'a, String> for StateReport {
    fn set(&self, new_value: String) {
        if let Ok(mut t) = self.text.lock() {
            *t = new_value;
        }
        self.serial.fetch_add(1, Ordering::AcqRel);
    }

    fn map<F, R>(&self, f: F) -> R
    where
        F: Fn(&String) -> R,
    {
        f(&String::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dsp::rng::Rng;

    /// A state shaped like the framework's: every parameter kind, and a JSON-in-a-string field
    /// holding escaped quotes and a long base64 run.
    fn sample() -> (PluginState, Schema) {
        let mut params = BTreeMap::new();
        let mut ids = Vec::new();
        for i in 0..60 {
            let id = format!("p{i}_{}", ["gain", "freq", "mode", "on"][i % 4]);
            let v = match i % 4 {
                0 | 1 => ParamValue::F32(i as f32 * 0.37 - 3.0),
                2 => ParamValue::String(format!("Variant{i}")),
                _ => ParamValue::Bool(i % 8 == 3),
            };
            params.insert(id.clone(), v);
            ids.push(id);
        }
        let mut rng = Rng::new(3);
        let data: String = (0..3000)
            .map(|_| {
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
                    [rng.range(0, 63)] as char
            })
            .collect();
        let ir = serde_json::to_string(&serde_json::json!({
            "format": 1, "name": "Hall \"B\"", "path": "C:\\irs\\hall.wav", "data": data
        }))
        .unwrap();
        let mut fields = BTreeMap::new();
        fields.insert("ir".to_string(), ir);
        fields.insert("editor-state".to_string(), "{\"open\":false}".to_string());
        let state = PluginState {
            version: "1.0.0".into(),
            params,
            fields: fields.clone(),
        };
        let schema = Schema {
            params: ids,
            fields: fields.into_keys().collect(),
            ranges: BTreeMap::new(),
        };
        (state, schema)
    }

    /// Byte span of each entry, key quote to its delimiter inclusive.
    fn spans(json: &[u8], state: &PluginState) -> Vec<(String, bool, usize, usize)> {
        let mut out = Vec::new();
        let text = std::str::from_utf8(json).unwrap();
        let mut add = |key: &str, value: String, param: bool| {
            let needle = format!("\"{key}\":{value}");
            let at = text.find(&needle).expect("entry is in the text");
            out.push((key.to_string(), param, at, at + needle.len() + 1));
        };
        for (k, v) in &state.params {
            add(k, serde_json::to_string(v).unwrap(), true);
        }
        for (k, v) in &state.fields {
            add(k, serde_json::to_string(v).unwrap(), false);
        }
        out
    }

    fn same(a: &ParamValue, b: &ParamValue) -> bool {
        serde_json::to_string(a).unwrap() == serde_json::to_string(b).unwrap()
    }

    /// Every entry not touched by `damaged` is recovered exactly.
    fn check(
        original: &PluginState,
        schema: &Schema,
        bytes: &[u8],
        damaged: impl Fn(usize, usize) -> bool,
    ) {
        let got = read(bytes, schema);
        let json = serde_json::to_vec(original).unwrap();
        for (key, param, a, b) in spans(&json, original) {
            let intact = !damaged(a, b);
            if param {
                match got.state.params.get(&key) {
                    Some(v) if intact => assert!(same(v, &original.params[&key]), "{key}"),
                    Some(_) => {}
                    None => assert!(!intact, "intact parameter {key} lost"),
                }
            } else if intact {
                assert_eq!(
                    got.state.fields.get(&key),
                    original.fields.get(&key),
                    "{key}"
                );
            }
        }
    }

    #[test]
    fn an_intact_state_passes_unchanged_with_an_empty_report() {
        let (state, schema) = sample();
        let json = serde_json::to_vec(&state).unwrap();
        let s = read(&json, &schema);
        assert!(s.report.is_none());
        assert_eq!(s.state.params.len(), state.params.len());
        let (bytes, salvage) = prepare(&json, &schema);
        assert!(salvage.report.is_none() && salvage.usable);
        let back: PluginState = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(back.fields[REPORT_FIELD], "\"\"");
        assert_eq!(back.fields["ir"], state.fields["ir"]);
    }

    #[test]
    fn truncation_at_any_offset_keeps_every_entry_before_the_cut() {
        let (state, schema) = sample();
        let json = serde_json::to_vec(&state).unwrap();
        for cut in (0..json.len())
            .step_by(7)
            .chain(json.len() - 40..json.len())
        {
            check(&state, &schema, &json[..cut], |_, b| b > cut);
            let (bytes, salvage) = prepare(&json[..cut], &schema);
            assert!(salvage.report.is_some(), "cut at {cut} not reported");
            serde_json::from_slice::<PluginState>(&bytes).expect("prepared state reads strictly");
        }
    }

    #[test]
    fn a_damaged_byte_costs_only_the_entry_it_touches() {
        let (state, schema) = sample();
        let json = serde_json::to_vec(&state).unwrap();
        let mut rng = Rng::new(11);
        for at in (0..json.len()).step_by(5) {
            for bad in [b'"', b'{', b'}', b',', b':', b'\\', 0xff, b'x', b'7'] {
                if json[at] == bad {
                    continue;
                }
                let mut b = json.clone();
                b[at] = bad;
                check(&state, &schema, &b, |s, e| (s..e).contains(&at));
            }
            // And a random byte.
            let mut b = json.clone();
            b[at] = rng.range(0, 255) as u8;
            check(&state, &schema, &b, |s, e| (s..e).contains(&at));
        }
    }

    #[test]
    fn an_older_version_gets_each_later_parameter_as_it_played_it() {
        let added = [
            Added {
                id: "x",
                since: (0, 3, 0),
                before: Before::Float(2.5),
            },
            Added {
                id: "y",
                since: (0, 2, 0),
                before: Before::Bool(true),
            },
        ];
        let state = |version: &str| PluginState {
            version: version.into(),
            params: BTreeMap::new(),
            fields: BTreeMap::new(),
        };
        let has = |s: &PluginState| {
            (
                s.params.get("x").map(|v| serde_json::to_string(v).unwrap()),
                s.params.get("y").map(|v| serde_json::to_string(v).unwrap()),
            )
        };
        let mut old = state("0.1.0");
        fill_added(&mut old, &added);
        assert_eq!(
            has(&old),
            (Some("{\"f32\":2.5}".into()), Some("{\"bool\":true}".into()))
        );
        let mut mid = state("0.2.0-beta");
        fill_added(&mut mid, &added);
        assert_eq!(has(&mid), (Some("{\"f32\":2.5}".into()), None));
        for v in ["0.3.0", "1.0.0", "", "later"] {
            let mut s = state(v);
            fill_added(&mut s, &added);
            assert_eq!(has(&s), (None, None), "{v:?}");
        }
        // A value the old state has (a hand edit) is kept.
        let mut edited = state("0.1.0");
        edited.params.insert("x".into(), ParamValue::F32(1.0));
        fill_added(&mut edited, &added);
        assert_eq!(has(&edited).0, Some("{\"f32\":1.0}".into()));
    }

    #[test]
    fn a_session_saved_while_listening_opens_playing_its_mix() {
        use crate::params::{FluxForgeParams, MONITORING_IDS};
        let params = FluxForgeParams::default();
        let schema = Schema::of(&params);
        for id in MONITORING_IDS {
            assert!(schema.params.iter().any(|p| p == id), "{id} is a parameter");
        }
        let mut state = PluginState {
            version: env!("CARGO_PKG_VERSION").into(),
            params: BTreeMap::new(),
            fields: BTreeMap::new(),
        };
        state.params.insert("listen".into(), ParamValue::I32(1));
        state.params.insert("mix".into(), ParamValue::F32(0.7));
        let got = read(&serde_json::to_vec(&state).unwrap(), &schema);
        assert!(matches!(got.state.params["listen"], ParamValue::I32(0)));
        assert!(matches!(got.state.params["mix"], ParamValue::F32(v) if v == 0.7));
        assert!(got.report.is_none(), "not a repair: {:?}", got.report);
    }

    #[test]
    fn every_added_parameter_exists_and_its_old_value_is_in_range() {
        let params = crate::params::FluxForgeParams::default();
        let schema = Schema::of(&params);
        let current = parse_version(env!("CARGO_PKG_VERSION")).unwrap();
        for a in ADDED {
            assert!(schema.params.iter().any(|p| p == a.id), "{}", a.id);
            assert!(a.since <= current, "{} from a future version", a.id);
            let mut state = PluginState {
                version: "0.0.1".into(),
                params: BTreeMap::new(),
                fields: BTreeMap::new(),
            };
            fill_added(&mut state, ADDED);
            assert!(schema.clamp(&mut state).is_empty(), "{} in range", a.id);
        }
    }

    #[test]
    fn a_later_version_with_new_keys_and_types_loads_what_it_knows() {
        let (state, schema) = sample();
        let mut v: serde_json::Value = serde_json::to_value(&state).unwrap();
        v["params"]["p0_gain"] = serde_json::json!({ "f64": 1.5 });
        v["params"]["new_param"] = serde_json::json!({ "f32": 2.0 });
        v["fields"]["new_field"] = serde_json::json!("{}");
        v["preset"] = serde_json::json!({ "name": "x" });
        let bytes = serde_json::to_vec(&v).unwrap();
        let got = read(&bytes, &schema);
        assert_eq!(got.state.params.len(), state.params.len() - 1);
        assert!(!got.state.params.contains_key("p0_gain"));
        assert_eq!(got.state.fields["ir"], state.fields["ir"]);
        let r = got.report.unwrap();
        assert!(r.contains("59 of 60") && r.contains("p0_gain"), "{r}");
        // Purely additive: strict read, nothing reported.
        v["params"]["p0_gain"] = serde_json::json!({ "f32": 1.5 });
        let got = read(&serde_json::to_vec(&v).unwrap(), &schema);
        assert!(got.report.is_none());
    }

    #[test]
    fn the_report_names_what_was_lost() {
        let (_, schema) = sample();
        let garbage = read(b"garbage", &schema);
        assert!(!garbage.usable);
        let r = garbage.report.unwrap();
        assert!(r.contains("could not be read; nothing was loaded"), "{r}");
        let r = read(br#"{"params":{"p1_freq":{"f32":2.0},"#, &schema)
            .report
            .unwrap();
        assert!(r.contains("1 of 60") && r.contains("embedded IR"), "{r}");
    }

    #[test]
    fn the_report_field_is_never_saved_but_reaches_the_editor() {
        let f = StateReport::default();
        f.set("lost".into());
        assert_eq!(f.get().as_deref(), Some("lost"));
        assert_eq!(f.map(|s| s.clone()), "");
        f.dismiss();
        assert_eq!(f.get(), None);
        f.set("again".into());
        f.set(String::new());
        assert_eq!(f.get(), None);
        assert_eq!(f.serial(), 3);
    }

    #[test]
    fn the_plugin_schema_knows_its_parameters_and_the_ir_and_saves_the_report_field() {
        let params = crate::params::FluxForgeParams::default();
        let schema = Schema::of(&params);
        assert_eq!(schema.params.len(), params.param_map().len());
        assert!(schema.fields.iter().any(|f| f == "ir"));
        assert!(!schema.fields.iter().any(|f| f == REPORT_FIELD));
        assert_eq!(params.serialize_fields()[REPORT_FIELD], "\"\"");
    }

    #[test]
    fn values_out_of_range_are_clamped_and_named_non_finite_ones_take_the_default() {
        let params = crate::params::FluxForgeParams::default();
        let schema = Schema::of(&params);
        let mut state = crate::preset::Preset::empty().to_state();
        let default_mix = state.params["mix"].clone();
        state.params.insert("in_gain".into(), ParamValue::F32(1e5));
        state
            .params
            .insert("out_gain".into(), ParamValue::F32(-1e30));
        state
            .params
            .insert("mix".into(), ParamValue::F32(f32::INFINITY));
        state.params.insert("room".into(), ParamValue::I32(99));
        let changed = schema.clamp(&mut state);
        assert_eq!(changed.len(), 4, "{changed:?}");
        assert!(same(&state.params["in_gain"], &ParamValue::F32(24.0)));
        assert!(same(&state.params["out_gain"], &ParamValue::F32(-24.0)));
        assert!(same(&state.params["mix"], &default_mix));
        let ParamValue::I32(room) = state.params["room"] else {
            panic!("room is an index")
        };
        assert!(room > 0 && room < 99);
        // In range: untouched.
        assert!(schema.clamp(&mut state).is_empty());

        // Through `read`, from text as a host hands it back: reported.
        let mut text = serde_json::to_string(&crate::preset::Preset::empty().to_state()).unwrap();
        text = text.replacen(
            "\"in_gain\":{\"f32\":0.0}",
            "\"in_gain\":{\"f32\":100000.0}",
            1,
        );
        assert!(text.contains("100000"));
        let got = read(text.as_bytes(), &schema);
        assert!(same(&got.state.params["in_gain"], &ParamValue::F32(24.0)));
        let r = got.report.expect("reported");
        assert!(
            r.contains("1 saved value was out of range") && r.contains("in_gain: 100000 -> 24"),
            "{r}"
        );
    }
}
