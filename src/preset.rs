//! Presets for the offline renderer: a JSON object keyed by parameter ID (the same IDs the
//! host sees), with plain values in the user's units. Unknown keys are rejected so a typo
//! does not silently fall back to a default.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::dsp::chain::Settings;

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
}

impl Default for Preset {
    fn default() -> Self {
        Self::from_settings(&Settings::default())
    }
}

impl Preset {
    /// The preset for these settings.
    pub fn from_settings(s: &Settings) -> Self {
        Self {
            in_gain: s.input_gain_db,
            out_gain: s.output_gain_db,
            mix: s.mix,
            bypass: s.bypass,
        }
    }

    /// The settings this preset describes, clamped to the parameter ranges.
    pub fn settings(&self) -> Settings {
        let finite = |v: f32, d: f32| if v.is_finite() { v } else { d };
        Settings {
            input_gain_db: finite(self.in_gain, 0.0).clamp(-24.0, 24.0),
            output_gain_db: finite(self.out_gain, 0.0).clamp(-24.0, 24.0),
            mix: finite(self.mix, 0.3).clamp(0.0, 1.0),
            bypass: self.bypass,
        }
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
        };
        let text = serde_json::to_string(&p).unwrap();
        assert_eq!(serde_json::from_str::<Preset>(&text).unwrap(), p);
        assert!(serde_json::from_str::<Preset>(r#"{"mixx": 0.5}"#).is_err());
        let partial: Preset = serde_json::from_str(r#"{"mix": 2.0}"#).unwrap();
        assert_eq!(partial.settings().mix, 1.0);
    }
}
