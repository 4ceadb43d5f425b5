//! Host-visible parameters. IDs are short and stable: never rename one, or saved sessions and
//! automation lose it. Values are plain (dB, fraction); smoothing happens in the engine
//! ([`crate::dsp::chain`]) so the plugin, the offline renderer and the tests share it.

use std::sync::Arc;

use nice_plug::prelude::*;

use crate::dsp::chain::Settings;

/// Gain parameter range in dB, shared with the editor.
pub fn gain_range_db() -> FloatRange {
    FloatRange::Linear {
        min: -24.0,
        max: 24.0,
    }
}

/// All of FluxForge's parameters.
#[derive(Params)]
pub struct FluxForgeParams {
    /// Gain before all processing, dB.
    #[id = "in_gain"]
    pub input_gain: FloatParam,
    /// Gain after all processing, dB.
    #[id = "out_gain"]
    pub output_gain: FloatParam,
    /// Reverb dry/wet mix, 0..1 (shown in percent).
    #[id = "mix"]
    pub mix: FloatParam,
    /// Host bypass; flagged so hosts map their bypass button to it.
    #[id = "bypass"]
    pub bypass: BoolParam,
}

impl Default for FluxForgeParams {
    fn default() -> Self {
        let d = Settings::default();
        Self {
            input_gain: FloatParam::new("Input", d.input_gain_db, gain_range_db())
                .with_unit(" dB")
                .with_step_size(0.1),
            output_gain: FloatParam::new("Output", d.output_gain_db, gain_range_db())
                .with_unit(" dB")
                .with_step_size(0.1),
            mix: FloatParam::new("Mix", d.mix, FloatRange::Linear { min: 0.0, max: 1.0 })
                .with_unit("%")
                .with_value_to_string(formatters::v2s_f32_percentage(1))
                .with_string_to_value(formatters::s2v_f32_percentage()),
            bypass: BoolParam::new("Bypass", false).make_bypass(),
        }
    }
}

impl FluxForgeParams {
    /// The engine settings these parameters currently describe.
    pub fn settings(&self) -> Settings {
        Settings {
            input_gain_db: self.input_gain.value(),
            output_gain_db: self.output_gain.value(),
            mix: self.mix.value(),
            bypass: self.bypass.value(),
        }
    }
}

/// Shared handle type.
pub type SharedParams = Arc<FluxForgeParams>;
