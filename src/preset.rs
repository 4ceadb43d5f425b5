//! Presets for the offline renderer: a JSON object keyed by parameter ID (the same IDs the
//! host sees), with plain values in the user's units. Unknown keys are rejected so a typo
//! does not silently fall back to a default.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::dsp::chain::Settings;
use crate::dsp::ir_edit::{IrEdits, HIGH_CUT_OFF_HZ, LOW_CUT_OFF_HZ};
use crate::dsp::saturator::{CharacterMode, SaturatorSettings};

/// The renderer's preset file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Preset {
    /// Input gain, dB (`in_gain`).
    pub in_gain: f32,
    /// Output gain, dB (`out_gain`).
    pub out_gain: f32,
    /// Mix 0..1 (`mix`).
    pub mix: f32,
    /// Bypass (`bypass`).
    pub bypass: bool,
    /// Character mode (`sat_mode`): "clean", "subtle", "warm" or "tape".
    pub sat_mode: String,
    /// Drive, dB (`sat_drive`).
    pub sat_drive: f32,
    /// Saturator trim, dB (`sat_trim`).
    pub sat_trim: f32,
    /// Automatic gain compensation (`sat_auto`).
    pub sat_auto: bool,
    /// Saturator mix 0..1 (`sat_mix`).
    pub sat_mix: f32,
    /// 2x oversampling (`sat_os`).
    pub sat_os: bool,
    /// Wet width 0..2 (`wet_width`).
    pub wet_width: f32,
    /// Wet level, dB (`wet_level`).
    pub wet_level: f32,
    /// IR pre-delay, ms (`ir_predelay`).
    pub ir_predelay: f32,
    /// IR start trim, ms (`ir_trim`).
    pub ir_trim: f32,
    /// IR length, percent (`ir_length`).
    pub ir_length: f32,
    /// IR reversed (`ir_reverse`).
    pub ir_reverse: bool,
    /// IR stretch, percent (`ir_stretch`).
    pub ir_stretch: f32,
    /// IR decay, percent (`ir_decay`).
    pub ir_decay: f32,
    /// IR low cut, Hz (`ir_lowcut`).
    pub ir_lowcut: f32,
    /// IR high cut, Hz (`ir_highcut`).
    pub ir_highcut: f32,
    /// IR energy normalisation (`ir_autogain`).
    pub ir_autogain: bool,
}

/// Parses a character mode name (case-insensitive).
pub fn parse_mode(s: &str) -> Option<CharacterMode> {
    match s.to_ascii_lowercase().as_str() {
        "clean" => Some(CharacterMode::Clean),
        "subtle" => Some(CharacterMode::Subtle),
        "warm" => Some(CharacterMode::Warm),
        "tape" => Some(CharacterMode::Tape),
        _ => None,
    }
}

/// The name [`parse_mode`] reads back.
pub fn mode_name(m: CharacterMode) -> &'static str {
    match m {
        CharacterMode::Clean => "clean",
        CharacterMode::Subtle => "subtle",
        CharacterMode::Warm => "warm",
        CharacterMode::Tape => "tape",
    }
}

impl Default for Preset {
    fn default() -> Self {
        Self::from_settings(&Settings::default(), &IrEdits::default())
    }
}

impl Preset {
    /// The preset for these settings and IR edits.
    pub fn from_settings(s: &Settings, e: &IrEdits) -> Self {
        let c = &s.character;
        Self {
            in_gain: s.input_gain_db,
            out_gain: s.output_gain_db,
            mix: s.mix,
            bypass: s.bypass,
            sat_mode: mode_name(c.mode).to_string(),
            sat_drive: c.drive_db,
            sat_trim: c.trim_db,
            sat_auto: c.auto_gain,
            sat_mix: c.mix,
            sat_os: c.oversample,
            wet_width: s.width,
            wet_level: s.wet_level_db,
            ir_predelay: e.predelay_ms,
            ir_trim: e.trim_ms,
            ir_length: e.length_pct,
            ir_reverse: e.reverse,
            ir_stretch: e.stretch_pct,
            ir_decay: e.decay_pct,
            ir_lowcut: e.low_cut_hz,
            ir_highcut: e.high_cut_hz,
            ir_autogain: e.auto_gain,
        }
    }

    /// The IR edits this preset describes, clamped to the parameter ranges.
    pub fn edits(&self) -> IrEdits {
        let d = IrEdits::default();
        let finite = |v: f32, d: f32| if v.is_finite() { v } else { d };
        IrEdits {
            predelay_ms: finite(self.ir_predelay, d.predelay_ms).clamp(0.0, 500.0),
            trim_ms: finite(self.ir_trim, d.trim_ms).clamp(0.0, 1000.0),
            length_pct: finite(self.ir_length, d.length_pct).clamp(1.0, 100.0),
            reverse: self.ir_reverse,
            stretch_pct: finite(self.ir_stretch, d.stretch_pct).clamp(50.0, 200.0),
            decay_pct: finite(self.ir_decay, d.decay_pct).clamp(25.0, 200.0),
            low_cut_hz: finite(self.ir_lowcut, d.low_cut_hz).clamp(LOW_CUT_OFF_HZ, 1000.0),
            high_cut_hz: finite(self.ir_highcut, d.high_cut_hz).clamp(1000.0, HIGH_CUT_OFF_HZ),
            auto_gain: self.ir_autogain,
        }
    }

    /// The settings this preset describes, clamped to the parameter ranges. An unknown mode
    /// name is an error.
    pub fn settings(&self) -> Result<Settings, String> {
        let finite = |v: f32, d: f32| if v.is_finite() { v } else { d };
        let mode = parse_mode(&self.sat_mode).ok_or_else(|| {
            format!(
                "unknown character mode {:?} (clean, subtle, warm, tape)",
                self.sat_mode
            )
        })?;
        let d = SaturatorSettings::default();
        Ok(Settings {
            input_gain_db: finite(self.in_gain, 0.0).clamp(-24.0, 24.0),
            output_gain_db: finite(self.out_gain, 0.0).clamp(-24.0, 24.0),
            mix: finite(self.mix, 0.3).clamp(0.0, 1.0),
            bypass: self.bypass,
            width: finite(self.wet_width, 1.0).clamp(0.0, 2.0),
            wet_level_db: finite(self.wet_level, 0.0).clamp(-36.0, 12.0),
            character: SaturatorSettings {
                mode,
                drive_db: finite(self.sat_drive, d.drive_db).clamp(0.0, 36.0),
                trim_db: finite(self.sat_trim, d.trim_db).clamp(-24.0, 24.0),
                auto_gain: self.sat_auto,
                mix: finite(self.sat_mix, d.mix).clamp(0.0, 1.0),
                oversample: self.sat_os,
            },
            ..Settings::default()
        })
    }

    /// Reads a preset file, with a one-line error naming the file.
    pub fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read preset {}: {e}", path.display()))?;
        serde_json::from_str(&text).map_err(|e| format!("invalid preset {}: {e}", path.display()))
    }

    /// Writes the preset as pretty JSON.
    pub fn save(&self, path: &Path) -> Result<(), String> {
        let text = serde_json::to_string_pretty(self).map_err(|e| e.to_string())?;
        std::fs::write(path, text + "\n")
            .map_err(|e| format!("cannot write preset {}: {e}", path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_typos() {
        let p = Preset {
            in_gain: -3.0,
            out_gain: 2.5,
            mix: 0.75,
            bypass: true,
            sat_mode: "warm".into(),
            ..Default::default()
        };
        let text = serde_json::to_string(&p).unwrap();
        assert_eq!(serde_json::from_str::<Preset>(&text).unwrap(), p);
        assert!(serde_json::from_str::<Preset>(r#"{"mixx": 0.5}"#).is_err());
        let partial: Preset = serde_json::from_str(r#"{"mix": 2.0}"#).unwrap();
        assert_eq!(partial.settings().unwrap().mix, 1.0);
        let bad: Preset = serde_json::from_str(r#"{"sat_mode": "fuzzy"}"#).unwrap();
        assert!(bad.settings().is_err());
    }
}
