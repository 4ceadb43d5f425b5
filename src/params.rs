//! Host-visible parameters. IDs are short and stable: never rename one, or saved sessions and
//! automation lose it. Values are plain (dB, fraction); smoothing happens in the engine
//! ([`crate::dsp::chain`]) so the plugin, the offline renderer and the tests share it.

use std::sync::Arc;

use nice_plug::prelude::*;

use crate::dsp::chain::Settings;
use crate::dsp::saturator::{CharacterMode, SaturatorSettings};

/// The character mode as a host enum (its order is saved in sessions: append only).
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Character {
    /// Bit-exact pass-through.
    Clean,
    /// Transformer-style, odd harmonics.
    Subtle,
    /// Tube-style, even and odd harmonics.
    Warm,
    /// Tape-style soft knee with high-frequency softening.
    Tape,
}

impl From<Character> for CharacterMode {
    fn from(c: Character) -> Self {
        match c {
            Character::Clean => CharacterMode::Clean,
            Character::Subtle => CharacterMode::Subtle,
            Character::Warm => CharacterMode::Warm,
            Character::Tape => CharacterMode::Tape,
        }
    }
}

/// The factory room the reverb uses (order is saved in sessions: append only). The names
/// match [`crate::dsp::ir_gen::factory_rooms`].
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Room {
    /// 0.8 s.
    #[name = "Small Room"]
    SmallRoom,
    /// 1.6 s (the default).
    #[name = "Medium Room"]
    MediumRoom,
    /// 2.5 s.
    Chamber,
    /// 3.0 s.
    Plate,
    /// 4.0 s.
    #[name = "Large Hall"]
    LargeHall,
    /// 7.5 s.
    Cathedral,
}

impl Room {
    /// Display name, as in the factory room list.
    pub fn name(self) -> &'static str {
        match self {
            Room::SmallRoom => "Small Room",
            Room::MediumRoom => "Medium Room",
            Room::Chamber => "Chamber",
            Room::Plate => "Plate",
            Room::LargeHall => "Large Hall",
            Room::Cathedral => "Cathedral",
        }
    }

    /// Index of this room (the enum's order).
    pub fn index(self) -> usize {
        self as usize
    }

    /// The room with this index, if any.
    pub fn from_index(i: usize) -> Option<Self> {
        [
            Room::SmallRoom,
            Room::MediumRoom,
            Room::Chamber,
            Room::Plate,
            Room::LargeHall,
            Room::Cathedral,
        ]
        .get(i)
        .copied()
    }
}

/// Drive range in dB, shared with the editor.
pub fn drive_range_db() -> FloatRange {
    FloatRange::Linear {
        min: 0.0,
        max: 36.0,
    }
}

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
    /// Factory room; a change loads it in the background and crossfades to it.
    #[id = "room"]
    pub room: EnumParam<Room>,
    /// Host bypass; flagged so hosts map their bypass button to it.
    #[id = "bypass"]
    pub bypass: BoolParam,
    /// Saturation character.
    #[id = "sat_mode"]
    pub character: EnumParam<Character>,
    /// Drive into the saturator, dB.
    #[id = "sat_drive"]
    pub drive: FloatParam,
    /// Saturator output trim, dB.
    #[id = "sat_trim"]
    pub sat_trim: FloatParam,
    /// Automatic gain compensation of the saturator (unity at -12 dBFS).
    #[id = "sat_auto"]
    pub auto_gain: BoolParam,
    /// Saturator wet/dry mix, 0..1.
    #[id = "sat_mix"]
    pub drive_mix: FloatParam,
    /// 2x oversampling around the saturator.
    #[id = "sat_os"]
    pub oversample: BoolParam,
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
            room: EnumParam::new("Room", Room::MediumRoom),
            character: EnumParam::new("Character", Character::Clean),
            drive: FloatParam::new("Drive", d.character.drive_db, drive_range_db())
                .with_unit(" dB")
                .with_step_size(0.1),
            sat_trim: FloatParam::new("Drive Trim", d.character.trim_db, gain_range_db())
                .with_unit(" dB")
                .with_step_size(0.1),
            auto_gain: BoolParam::new("Auto Gain", d.character.auto_gain),
            drive_mix: FloatParam::new(
                "Drive Mix",
                d.character.mix,
                FloatRange::Linear { min: 0.0, max: 1.0 },
            )
            .with_unit("%")
            .with_value_to_string(formatters::v2s_f32_percentage(1))
            .with_string_to_value(formatters::s2v_f32_percentage()),
            oversample: BoolParam::new("Oversample", d.character.oversample),
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
            character: SaturatorSettings {
                mode: self.character.value().into(),
                drive_db: self.drive.value(),
                trim_db: self.sat_trim.value(),
                auto_gain: self.auto_gain.value(),
                mix: self.drive_mix.value(),
                oversample: self.oversample.value(),
            },
        }
    }
}

/// Shared handle type.
pub type SharedParams = Arc<FluxForgeParams>;
