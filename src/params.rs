//! Host-visible parameters. IDs are short and stable: never rename one, or saved sessions and
//! automation lose it. Values are plain (dB, fraction); smoothing happens in the engine
//! ([`crate::dsp::chain`]) so the plugin, the offline renderer and the tests share it.

use std::sync::Arc;

use nice_plug::prelude::*;

use crate::dsp::chain::Settings;
use crate::dsp::dynamic_eq::{BandKind, BandSettings, DynamicMode, BANDS};
use crate::dsp::ir_edit::{IrEdits, HIGH_CUT_OFF_HZ, LOW_CUT_OFF_HZ};
use crate::dsp::saturator::{CharacterMode, SaturatorSettings};
use crate::dsp::spectral_dynamics::{SpectralMode, SpectralSettings};
use crate::ir_state::IrField;

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
    /// The IR loaded from a file (stored, with its samples, in the session).
    #[name = "Loaded File"]
    File,
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
            Room::File => "Loaded File",
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
            Room::File,
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

/// Stretch range, percent.
pub fn stretch_range_pct() -> FloatRange {
    FloatRange::Linear {
        min: 50.0,
        max: 200.0,
    }
}

/// Low-cut range, Hz (the bottom value means off).
pub fn low_cut_range_hz() -> FloatRange {
    FloatRange::Skewed {
        min: LOW_CUT_OFF_HZ,
        max: 1000.0,
        factor: FloatRange::skew_factor(-1.0),
    }
}

/// High-cut range, Hz (the top value means off).
pub fn high_cut_range_hz() -> FloatRange {
    FloatRange::Skewed {
        min: 1000.0,
        max: HIGH_CUT_OFF_HZ,
        factor: FloatRange::skew_factor(-1.0),
    }
}

/// EQ band shape as a host enum (order saved in sessions: append only).
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum BandType {
    /// Peaking bell.
    Bell,
    /// Low shelf.
    #[name = "Low Shelf"]
    LowShelf,
    /// High shelf.
    #[name = "High Shelf"]
    HighShelf,
    /// 12 dB/oct high-pass.
    #[name = "Low Cut"]
    LowCut,
    /// 12 dB/oct low-pass.
    #[name = "High Cut"]
    HighCut,
}

impl From<BandType> for BandKind {
    fn from(t: BandType) -> Self {
        match t {
            BandType::Bell => BandKind::Bell,
            BandType::LowShelf => BandKind::LowShelf,
            BandType::HighShelf => BandKind::HighShelf,
            BandType::LowCut => BandKind::LowCut,
            BandType::HighCut => BandKind::HighCut,
        }
    }
}

/// A band's dynamic behaviour as a host enum.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum BandDynamics {
    /// Static.
    Off,
    /// Cut when the band is loud.
    Down,
    /// Boost when the band is loud.
    Up,
}

/// Spectral dynamics direction as a host enum.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpectralDirection {
    /// Compress what is above the threshold curve.
    Down,
    /// Raise what is below it.
    Up,
}

/// EQ frequency range, Hz (shared with the editor).
pub fn eq_freq_range() -> FloatRange {
    FloatRange::Skewed {
        min: 20.0,
        max: 20_000.0,
        factor: FloatRange::skew_factor(-2.0),
    }
}

/// EQ gain range, dB.
pub fn eq_gain_range() -> FloatRange {
    FloatRange::Linear {
        min: -24.0,
        max: 24.0,
    }
}

fn ms_range(min: f32, max: f32) -> FloatRange {
    FloatRange::Skewed {
        min,
        max,
        factor: FloatRange::skew_factor(-1.5),
    }
}

/// One dynamic EQ band's parameters (IDs get the band number appended: `eq_freq_1`).
#[derive(Params)]
pub struct BandParams {
    /// Band in the signal path.
    #[id = "eq_on"]
    pub enabled: BoolParam,
    /// Shape.
    #[id = "eq_type"]
    pub kind: EnumParam<BandType>,
    /// Frequency, Hz.
    #[id = "eq_freq"]
    pub freq: FloatParam,
    /// Static gain, dB.
    #[id = "eq_gain"]
    pub gain: FloatParam,
    /// Q.
    #[id = "eq_q"]
    pub q: FloatParam,
    /// Dynamic behaviour.
    #[id = "eq_dyn"]
    pub dynamics: EnumParam<BandDynamics>,
    /// Detector threshold, dBFS.
    #[id = "eq_thresh"]
    pub threshold: FloatParam,
    /// Ratio.
    #[id = "eq_ratio"]
    pub ratio: FloatParam,
    /// Attack, ms.
    #[id = "eq_attack"]
    pub attack: FloatParam,
    /// Release, ms.
    #[id = "eq_release"]
    pub release: FloatParam,
    /// Largest dynamic change, dB.
    #[id = "eq_range"]
    pub range: FloatParam,
}

impl BandParams {
    /// The parameters of band `i` (0-based), named "Band {i+1} ...".
    pub fn new(i: usize) -> Self {
        let d = BandSettings::default_for(i);
        let kind = match d.kind {
            BandKind::LowShelf => BandType::LowShelf,
            BandKind::HighShelf => BandType::HighShelf,
            BandKind::LowCut => BandType::LowCut,
            BandKind::HighCut => BandType::HighCut,
            BandKind::Bell => BandType::Bell,
        };
        let name = |s: &str| format!("Band {} {s}", i + 1);
        Self {
            enabled: BoolParam::new(name("On"), d.enabled),
            kind: EnumParam::new(name("Type"), kind),
            freq: FloatParam::new(name("Freq"), d.freq_hz, eq_freq_range())
                .with_unit(" Hz")
                .with_step_size(0.1),
            gain: FloatParam::new(name("Gain"), d.gain_db, eq_gain_range())
                .with_unit(" dB")
                .with_step_size(0.1),
            q: FloatParam::new(
                name("Q"),
                d.q,
                FloatRange::Skewed {
                    min: 0.1,
                    max: 18.0,
                    factor: FloatRange::skew_factor(-2.0),
                },
            )
            .with_step_size(0.01),
            dynamics: EnumParam::new(name("Dynamics"), BandDynamics::Off),
            threshold: FloatParam::new(
                name("Threshold"),
                d.threshold_db,
                FloatRange::Linear {
                    min: -60.0,
                    max: 0.0,
                },
            )
            .with_unit(" dB")
            .with_step_size(0.1),
            ratio: FloatParam::new(name("Ratio"), d.ratio, ratio_range()).with_step_size(0.1),
            attack: FloatParam::new(name("Attack"), d.attack_ms, ms_range(0.5, 200.0))
                .with_unit(" ms")
                .with_step_size(0.1),
            release: FloatParam::new(name("Release"), d.release_ms, ms_range(5.0, 2000.0))
                .with_unit(" ms")
                .with_step_size(1.0),
            range: FloatParam::new(
                name("Range"),
                d.range_db,
                FloatRange::Linear {
                    min: 0.0,
                    max: 24.0,
                },
            )
            .with_unit(" dB")
            .with_step_size(0.1),
        }
    }

    /// The band settings these parameters describe.
    pub fn settings(&self) -> BandSettings {
        BandSettings {
            enabled: self.enabled.value(),
            kind: self.kind.value().into(),
            freq_hz: self.freq.value(),
            gain_db: self.gain.value(),
            q: self.q.value(),
            dynamic: match self.dynamics.value() {
                BandDynamics::Off => DynamicMode::Off,
                BandDynamics::Down => DynamicMode::Down,
                BandDynamics::Up => DynamicMode::Up,
            },
            threshold_db: self.threshold.value(),
            ratio: self.ratio.value(),
            attack_ms: self.attack.value(),
            release_ms: self.release.value(),
            range_db: self.range.value(),
        }
    }
}

fn ratio_range() -> FloatRange {
    FloatRange::Skewed {
        min: 1.0,
        max: 20.0,
        factor: FloatRange::skew_factor(-1.5),
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

    /// Silence before the reverb, ms (0-500). Re-renders the IR in the background.
    #[id = "ir_predelay"]
    pub predelay: FloatParam,
    /// Removed from the start of the IR, ms. Re-renders.
    #[id = "ir_trim"]
    pub trim: FloatParam,
    /// Part of the IR kept after the trim, percent; a cut fades out. Re-renders.
    #[id = "ir_length"]
    pub length: FloatParam,
    /// Play the IR backwards. Re-renders.
    #[id = "ir_reverse"]
    pub reverse: BoolParam,
    /// Time scale of the IR, percent (50-200). Re-renders.
    #[id = "ir_stretch"]
    pub stretch: FloatParam,
    /// Decay time relative to the IR's own, percent (25-200). Re-renders.
    #[id = "ir_decay"]
    pub decay: FloatParam,
    /// High-pass on the IR, Hz (20 = off). Re-renders.
    #[id = "ir_lowcut"]
    pub low_cut: FloatParam,
    /// Low-pass on the IR, Hz (20 kHz = off). Re-renders.
    #[id = "ir_highcut"]
    pub high_cut: FloatParam,
    /// Energy normalisation of the IR so different IRs sound equally loud. Re-renders.
    #[id = "ir_autogain"]
    pub ir_auto_gain: BoolParam,
    /// Stereo width of the reverb (mid/side), 0..2 (shown in percent). Smoothed, not rendered.
    #[id = "wet_width"]
    pub width: FloatParam,
    /// Level of the reverb, dB. Smoothed, not rendered.
    #[id = "wet_level"]
    pub wet_level: FloatParam,

    /// Dynamic EQ bands 1-5.
    #[nested(array, group = "EQ Band")]
    pub bands: [BandParams; BANDS],
    /// Spectral dynamics on.
    #[id = "spec_on"]
    pub spec_on: BoolParam,
    /// Spectral dynamics direction.
    #[id = "spec_mode"]
    pub spec_mode: EnumParam<SpectralDirection>,
    /// Threshold at 1 kHz, dBFS.
    #[id = "spec_thresh"]
    pub spec_threshold: FloatParam,
    /// Threshold tilt, dB/octave.
    #[id = "spec_tilt"]
    pub spec_tilt: FloatParam,
    /// Ratio.
    #[id = "spec_ratio"]
    pub spec_ratio: FloatParam,
    /// Knee width, dB.
    #[id = "spec_knee"]
    pub spec_knee: FloatParam,
    /// Largest gain change, dB.
    #[id = "spec_range"]
    pub spec_range: FloatParam,
    /// Attack, ms.
    #[id = "spec_attack"]
    pub spec_attack: FloatParam,
    /// Release, ms.
    #[id = "spec_release"]
    pub spec_release: FloatParam,
    /// Smoothing across frequency, octaves.
    #[id = "spec_res"]
    pub spec_resolution: FloatParam,

    /// The loaded IR file with its samples (compressed), recalled with the session.
    #[persist = "ir"]
    pub ir: IrField,
}

impl Default for FluxForgeParams {
    fn default() -> Self {
        let d = Settings::default();
        let e = IrEdits::default();
        let sd = SpectralSettings::default();
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
            predelay: FloatParam::new(
                "Pre-delay",
                e.predelay_ms,
                FloatRange::Linear {
                    min: 0.0,
                    max: 500.0,
                },
            )
            .with_unit(" ms")
            .with_step_size(1.0),
            trim: FloatParam::new(
                "Start Trim",
                e.trim_ms,
                FloatRange::Linear {
                    min: 0.0,
                    max: 1000.0,
                },
            )
            .with_unit(" ms")
            .with_step_size(1.0),
            length: FloatParam::new(
                "Length",
                e.length_pct,
                FloatRange::Linear {
                    min: 1.0,
                    max: 100.0,
                },
            )
            .with_unit(" %")
            .with_step_size(0.5),
            reverse: BoolParam::new("Reverse", e.reverse),
            stretch: FloatParam::new("Stretch", e.stretch_pct, stretch_range_pct())
                .with_unit(" %")
                .with_step_size(1.0),
            decay: FloatParam::new(
                "Decay",
                e.decay_pct,
                FloatRange::Linear {
                    min: 25.0,
                    max: 200.0,
                },
            )
            .with_unit(" %")
            .with_step_size(1.0),
            low_cut: FloatParam::new("Low Cut", e.low_cut_hz, low_cut_range_hz())
                .with_unit(" Hz")
                .with_step_size(1.0)
                .with_value_to_string(Arc::new(|v| {
                    if v <= LOW_CUT_OFF_HZ {
                        "Off".into()
                    } else {
                        format!("{v:.0}")
                    }
                })),
            high_cut: FloatParam::new("High Cut", e.high_cut_hz, high_cut_range_hz())
                .with_unit(" Hz")
                .with_step_size(10.0)
                .with_value_to_string(Arc::new(|v| {
                    if v >= HIGH_CUT_OFF_HZ {
                        "Off".into()
                    } else {
                        format!("{v:.0}")
                    }
                })),
            ir_auto_gain: BoolParam::new("IR Auto Gain", e.auto_gain),
            width: FloatParam::new("Width", d.width, FloatRange::Linear { min: 0.0, max: 2.0 })
                .with_unit("%")
                .with_value_to_string(formatters::v2s_f32_percentage(0))
                .with_string_to_value(formatters::s2v_f32_percentage()),
            wet_level: FloatParam::new(
                "Wet Level",
                d.wet_level_db,
                FloatRange::Linear {
                    min: -36.0,
                    max: 12.0,
                },
            )
            .with_unit(" dB")
            .with_step_size(0.1),
            bands: std::array::from_fn(BandParams::new),
            spec_on: BoolParam::new("Spectral On", sd.enabled),
            spec_mode: EnumParam::new("Spectral Mode", SpectralDirection::Down),
            spec_threshold: FloatParam::new(
                "Spectral Threshold",
                sd.threshold_db,
                FloatRange::Linear {
                    min: -80.0,
                    max: 0.0,
                },
            )
            .with_unit(" dB")
            .with_step_size(0.1),
            spec_tilt: FloatParam::new(
                "Spectral Tilt",
                sd.tilt_db,
                FloatRange::Linear {
                    min: -6.0,
                    max: 6.0,
                },
            )
            .with_unit(" dB/oct")
            .with_step_size(0.1),
            spec_ratio: FloatParam::new("Spectral Ratio", sd.ratio, ratio_range())
                .with_step_size(0.1),
            spec_knee: FloatParam::new(
                "Spectral Knee",
                sd.knee_db,
                FloatRange::Linear {
                    min: 0.0,
                    max: 24.0,
                },
            )
            .with_unit(" dB")
            .with_step_size(0.1),
            spec_range: FloatParam::new(
                "Spectral Range",
                sd.range_db,
                FloatRange::Linear {
                    min: 0.0,
                    max: 24.0,
                },
            )
            .with_unit(" dB")
            .with_step_size(0.1),
            spec_attack: FloatParam::new("Spectral Attack", sd.attack_ms, ms_range(1.0, 500.0))
                .with_unit(" ms")
                .with_step_size(0.1),
            spec_release: FloatParam::new(
                "Spectral Release",
                sd.release_ms,
                ms_range(10.0, 3000.0),
            )
            .with_unit(" ms")
            .with_step_size(1.0),
            spec_resolution: FloatParam::new(
                "Spectral Resolution",
                sd.resolution_oct,
                FloatRange::Linear { min: 0.0, max: 1.0 },
            )
            .with_unit(" oct")
            .with_step_size(0.01),
            ir: IrField::default(),
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
            width: self.width.value(),
            wet_level_db: self.wet_level.value(),
            eq: std::array::from_fn(|i| self.bands[i].settings()),
            spectral: SpectralSettings {
                enabled: self.spec_on.value(),
                mode: match self.spec_mode.value() {
                    SpectralDirection::Down => SpectralMode::Down,
                    SpectralDirection::Up => SpectralMode::Up,
                },
                threshold_db: self.spec_threshold.value(),
                tilt_db: self.spec_tilt.value(),
                ratio: self.spec_ratio.value(),
                knee_db: self.spec_knee.value(),
                range_db: self.spec_range.value(),
                attack_ms: self.spec_attack.value(),
                release_ms: self.spec_release.value(),
                resolution_oct: self.spec_resolution.value(),
            },
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

impl FluxForgeParams {
    /// The IR edits these parameters currently describe.
    pub fn ir_edits(&self) -> IrEdits {
        IrEdits {
            predelay_ms: self.predelay.value(),
            trim_ms: self.trim.value(),
            length_pct: self.length.value(),
            reverse: self.reverse.value(),
            stretch_pct: self.stretch.value(),
            decay_pct: self.decay.value(),
            low_cut_hz: self.low_cut.value(),
            high_cut_hz: self.high_cut.value(),
            auto_gain: self.ir_auto_gain.value(),
        }
    }
}

/// Shared handle type.
pub type SharedParams = Arc<FluxForgeParams>;
