//! Host-visible parameters. IDs are short and stable: never rename one, or saved sessions and
//! automation lose it. Values are plain (dB, fraction); smoothing happens in the engine
//! ([`crate::dsp::chain`]) so the plugin, the offline renderer and the tests share it.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use nice_plug::prelude::*;

use crate::dsp::chain::Settings;
use crate::dsp::ducker::DuckSettings;
use crate::dsp::dynamic_eq::{BandSettings, BANDS};
use crate::dsp::ir_edit::{IrEdits, HIGH_CUT_OFF_HZ, LEVEL_OFF_DB, LOW_CUT_OFF_HZ};
use crate::dsp::saturator::{Oversampling, SaturatorSettings};
use crate::dsp::spectral::SpectralSettings;
use crate::ir_state::IrField;
use crate::match_state::MatchField;
use crate::state_repair::StateReport;

pub mod access;
mod describe;
mod kinds;
mod ranges;
pub mod remote;
pub mod text;

pub use describe::description;
pub use kinds::*;
pub use ranges::{
    decay_high_range_hz, decay_low_range_hz, drive_range_db, eq_freq_range, eq_gain_range,
    gain_range_db, high_cut_range_hz, low_cut_range_hz, predelay_range_ms, q_range,
    stretch_range_pct, MAX_PREDELAY_MS,
};
use ranges::{
    float, ms_range, ratio_range, unit_range, DB, LEVEL, LIN, MS0, MS1, PCT0, PCT_OF_FRACTION,
};
use text::Unit;

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
    /// The dynamics act per frequency bin inside the band's shape.
    #[id = "eq_spec"]
    pub spectral: BoolParam,
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
    /// Steepness of the cuts.
    #[id = "eq_slope"]
    pub slope: EnumParam<CutSlope>,
    /// Stereo placement (what the band processes and listens to).
    #[id = "eq_place"]
    pub placement: EnumParam<StereoPlacement>,
    /// What the band's detector listens to.
    #[id = "eq_source"]
    pub source: EnumParam<DetectorInput>,
}

impl BandParams {
    /// The parameters of band `i` (0-based), named "Band {i+1} ...".
    pub fn new(i: usize) -> Self {
        let d = BandSettings::default_for(i);
        let kind = BandType::from(d.kind);
        let name = |s: &str| format!("Band {} {s}", i + 1);
        Self {
            enabled: BoolParam::new(name("On"), d.enabled),
            kind: EnumParam::new(name("Type"), kind),
            freq: float(
                name("Freq"),
                d.freq_hz,
                eq_freq_range(),
                Unit::Hz { off: None },
                None,
            ),
            gain: float(name("Gain"), d.gain_db, eq_gain_range(), DB, Some(0.1)),
            // Continuous: the Butterworth default (0.707) is off any 0.01 grid.
            q: float(name("Q"), d.q, q_range(), Unit::Q, None),
            dynamics: EnumParam::new(name("Dynamics"), BandDynamics::Off),
            spectral: BoolParam::new(name("Spectral"), d.spectral),
            threshold: float(
                name("Threshold"),
                d.threshold_db,
                FloatRange::Linear {
                    min: -60.0,
                    max: 0.0,
                },
                DB,
                Some(0.1),
            ),
            ratio: float(
                name("Ratio"),
                d.ratio,
                ratio_range(),
                Unit::Ratio,
                Some(0.01),
            ),
            attack: float(
                name("Attack"),
                d.attack_ms,
                ms_range(0.5, 200.0),
                MS1,
                Some(0.1),
            ),
            release: float(
                name("Release"),
                d.release_ms,
                ms_range(5.0, 2000.0),
                MS0,
                Some(1.0),
            ),
            range: float(
                name("Range"),
                d.range_db,
                FloatRange::Linear {
                    min: 0.0,
                    max: 24.0,
                },
                DB,
                Some(0.1),
            ),
            slope: EnumParam::new(name("Slope"), CutSlope::from(d.slope)),
            placement: EnumParam::new(name("Placement"), StereoPlacement::from(d.placement)),
            source: EnumParam::new(name("Detector"), DetectorInput::from(d.source)),
        }
    }

    /// The band settings these parameters describe.
    pub fn settings(&self) -> BandSettings {
        BandSettings {
            enabled: self.enabled.value(),
            kind: self.kind.value().into(),
            slope: self.slope.value().into(),
            placement: self.placement.value().into(),
            source: self.source.value().into(),
            freq_hz: self.freq.value(),
            gain_db: self.gain.value(),
            q: self.q.value(),
            dynamic: self.dynamics.value().into(),
            spectral: self.spectral.value(),
            threshold_db: self.threshold.value(),
            ratio: self.ratio.value(),
            attack_ms: self.attack.value(),
            release_ms: self.release.value(),
            range_db: self.range.value(),
        }
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
    /// Oversampling around the saturator while playing (on/off; its factor is `sat_os_factor`).
    #[id = "sat_os"]
    pub oversample: BoolParam,
    /// The factor of `sat_os` (2x, 4x).
    #[id = "sat_os_factor"]
    pub os_factor: EnumParam<OsFactor>,
    /// Oversampling around the saturator in offline renders (as playback, off, 2x, 4x).
    #[id = "sat_os_render"]
    pub os_render: EnumParam<RenderOs>,

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
    /// The pre-delay as a note value at the host's tempo (Off: `ir_predelay` in ms; without a
    /// tempo from the host, too). Re-renders when the tempo changes.
    #[id = "ir_predelay_sync"]
    pub predelay_sync: EnumParam<PredelayNote>,
    /// Decay time relative to the IR's own, percent (25-200). Re-renders.
    #[id = "ir_decay"]
    pub decay: FloatParam,
    /// Decay time of the IR's low band (below `ir_dxlow`) relative to its own, percent
    /// (25-200), after the early/late split. Re-renders.
    #[id = "ir_dlow"]
    pub decay_low: FloatParam,
    /// Decay time of the IR's mid band relative to its own, percent. Re-renders.
    #[id = "ir_dmid"]
    pub decay_mid: FloatParam,
    /// Decay time of the IR's high band (above `ir_dxhigh`) relative to its own, percent.
    /// Re-renders.
    #[id = "ir_dhigh"]
    pub decay_high: FloatParam,
    /// Crossover between the low and mid decay bands, Hz. Re-renders.
    #[id = "ir_dxlow"]
    pub decay_low_hz: FloatParam,
    /// Crossover between the mid and high decay bands, Hz. Re-renders.
    #[id = "ir_dxhigh"]
    pub decay_high_hz: FloatParam,
    /// High-pass on the IR, Hz (20 = off). Re-renders.
    #[id = "ir_lowcut"]
    pub low_cut: FloatParam,
    /// Low-pass on the IR, Hz (20 kHz = off). Re-renders.
    #[id = "ir_highcut"]
    pub high_cut: FloatParam,
    /// Energy normalisation of the IR so different IRs sound equally loud. Re-renders.
    #[id = "ir_autogain"]
    pub ir_auto_gain: BoolParam,
    /// Fade-in at the start of the IR, ms. Re-renders.
    #[id = "ir_attack"]
    pub ir_attack: FloatParam,
    /// Time before the decay shaping starts, ms. Re-renders.
    #[id = "ir_hold"]
    pub ir_hold: FloatParam,
    /// Level of the IR's early part, dB (bottom = silent). Re-renders.
    #[id = "ir_early"]
    pub ir_early: FloatParam,
    /// Level of the IR's tail, dB (bottom = silent). Re-renders.
    #[id = "ir_late"]
    pub ir_late: FloatParam,
    /// Early/late split, ms (0 = the IR's measured mixing time). Re-renders.
    #[id = "ir_split"]
    pub ir_split: FloatParam,
    /// Stereo width of the reverb (mid/side), 0..2 (shown in percent). Smoothed, not rendered.
    #[id = "wet_width"]
    pub width: FloatParam,
    /// Level of the reverb, dB. Smoothed, not rendered.
    #[id = "wet_level"]
    pub wet_level: FloatParam,

    /// Dynamic EQ bands 1-8.
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
    /// What the spectral analysis listens to.
    #[id = "spec_source"]
    pub spec_source: EnumParam<DetectorInput>,
    /// Where the EQ & dynamics section sits (crossfades).
    #[id = "eq_where"]
    pub eq_placement: EnumParam<EqPosition>,
    /// What the output plays: the mix, the EQ & dynamics delta, or the reverb alone
    /// (crossfades). A monitoring aid: presets leave it out and a loaded state resets it.
    #[id = "listen"]
    pub listen: EnumParam<ListenMode>,

    /// Ducking: dry peak level above which the wet signal is turned down, dBFS.
    #[id = "duck_thresh"]
    pub duck_threshold: FloatParam,
    /// Ducking: largest reduction of the wet signal, dB (0 = off).
    #[id = "duck_depth"]
    pub duck_depth: FloatParam,
    /// Ducking: release time constant, ms.
    #[id = "duck_release"]
    pub duck_release: FloatParam,
    /// Ducking: one gain for the whole wet signal, or per frequency where the dry signal is
    /// loud (crossfades).
    #[id = "duck_mode"]
    pub duck_mode: EnumParam<DuckKind>,

    /// EQ match: how much of the learned curve is applied (0-200 %; smoothed).
    #[id = "match_amount"]
    pub match_amount: FloatParam,

    /// The loaded IR file with its samples (compressed), recalled with the session.
    #[persist = "ir"]
    pub ir: IrField,
    /// The EQ match curve (dB on the long-term spectrum's grid; `None`: no match), recalled
    /// with the session.
    #[persist = "eq-match"]
    pub match_curve: MatchField,
    /// Keep mix and output gain when a preset loads (per instance, saved with the session).
    #[persist = "mix-lock"]
    pub mix_lock: AtomicBool,
    /// The preset loaded last (by the editor or the host), saved with the session.
    #[persist = "preset"]
    pub preset: std::sync::RwLock<Option<PresetRef>>,
    /// The editor's size (logical points) and scale, `[width, height, scale]`, recalled with
    /// the session (`None` until the editor has been open).
    #[persist = "editor-size"]
    pub editor_size: std::sync::RwLock<Option<[f32; 3]>>,
    /// What the last state load could not read (never saved; see [`crate::state_repair`]).
    #[persist = "state-report"]
    pub state_report: StateReport,
    /// The host's tempo, BPM (0: none known), as the audio thread last heard it: what a synced
    /// pre-delay is computed from. Not saved.
    pub host_tempo: atomic_float::AtomicF32,
}

/// Which preset is loaded: its name and, for a user preset, its file (`None`: the factory
/// bank). Saved with the session (the `preset` field), so the editor and a reopened session
/// name the preset, whether the editor or the host loaded it.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PresetRef {
    /// The preset's name.
    pub name: String,
    /// Its file, for a user preset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<std::path::PathBuf>,
}

impl Default for FluxForgeParams {
    fn default() -> Self {
        let d = Settings::default();
        let e = IrEdits::default();
        let sd = SpectralSettings::default();
        Self {
            input_gain: float("Input", d.input_gain_db, gain_range_db(), DB, Some(0.1)),
            output_gain: float("Output", d.output_gain_db, gain_range_db(), DB, Some(0.1)),
            mix: float("Mix", d.mix, unit_range(), PCT_OF_FRACTION, None),
            bypass: BoolParam::new("Bypass", false).make_bypass(),
            room: EnumParam::new("Room", Room::MediumRoom),
            character: EnumParam::new("Character", Character::Clean),
            drive: float(
                "Drive",
                d.character.drive_db,
                drive_range_db(),
                DB,
                Some(0.1),
            ),
            sat_trim: float(
                "Drive Trim",
                d.character.trim_db,
                gain_range_db(),
                DB,
                Some(0.1),
            ),
            auto_gain: BoolParam::new("Auto Gain", d.character.auto_gain),
            drive_mix: float(
                "Drive Mix",
                d.character.mix,
                unit_range(),
                PCT_OF_FRACTION,
                None,
            ),
            oversample: BoolParam::new("Oversample", d.character.oversample != Oversampling::Off),
            os_factor: EnumParam::new(
                "Oversample Factor",
                if d.character.oversample == Oversampling::X4 {
                    OsFactor::X4
                } else {
                    OsFactor::X2
                },
            ),
            os_render: EnumParam::new(
                "Render Oversample",
                match d.character.render_oversample {
                    None => RenderOs::AsPlayback,
                    Some(Oversampling::Off) => RenderOs::Off,
                    Some(Oversampling::X2) => RenderOs::X2,
                    Some(Oversampling::X4) => RenderOs::X4,
                },
            ),
            predelay: float(
                "Pre-delay",
                e.predelay_ms,
                predelay_range_ms(),
                MS0,
                Some(1.0),
            ),
            trim: float("Start Trim", e.trim_ms, LIN(0.0, 1000.0), MS0, Some(1.0)),
            length: float(
                "Length",
                e.length_pct,
                LIN(1.0, 100.0),
                Unit::Percent { decimals: 1 },
                Some(0.5),
            ),
            reverse: BoolParam::new("Reverse", e.reverse),
            predelay_sync: EnumParam::new("Pre-delay Sync", PredelayNote::Off),
            stretch: float(
                "Stretch",
                e.stretch_pct,
                stretch_range_pct(),
                PCT0,
                Some(1.0),
            ),
            decay: float("Decay", e.decay_pct, LIN(25.0, 200.0), PCT0, Some(1.0)),
            decay_low: float(
                "Low Decay",
                e.decay_low_pct,
                LIN(25.0, 200.0),
                PCT0,
                Some(1.0),
            ),
            decay_mid: float(
                "Mid Decay",
                e.decay_mid_pct,
                LIN(25.0, 200.0),
                PCT0,
                Some(1.0),
            ),
            decay_high: float(
                "High Decay",
                e.decay_high_pct,
                LIN(25.0, 200.0),
                PCT0,
                Some(1.0),
            ),
            decay_low_hz: float(
                "Low Decay Freq",
                e.decay_low_hz,
                decay_low_range_hz(),
                Unit::Hz { off: None },
                Some(1.0),
            ),
            decay_high_hz: float(
                "High Decay Freq",
                e.decay_high_hz,
                decay_high_range_hz(),
                Unit::Hz { off: None },
                Some(10.0),
            ),
            low_cut: float(
                "Low Cut",
                e.low_cut_hz,
                low_cut_range_hz(),
                Unit::Hz {
                    off: Some(LOW_CUT_OFF_HZ),
                },
                Some(1.0),
            ),
            high_cut: float(
                "High Cut",
                e.high_cut_hz,
                high_cut_range_hz(),
                Unit::Hz {
                    off: Some(HIGH_CUT_OFF_HZ),
                },
                Some(10.0),
            ),
            ir_auto_gain: BoolParam::new("IR Auto Gain", e.auto_gain),
            ir_attack: float(
                "IR Attack",
                e.attack_ms,
                ms_range(0.0, 500.0),
                MS1,
                Some(0.1),
            ),
            ir_hold: float("IR Hold", e.hold_ms, ms_range(0.0, 2000.0), MS1, Some(0.1)),
            ir_early: float(
                "Early Level",
                e.early_db,
                LIN(LEVEL_OFF_DB, 6.0),
                LEVEL,
                Some(0.1),
            ),
            ir_late: float(
                "Late Level",
                e.late_db,
                LIN(LEVEL_OFF_DB, 6.0),
                LEVEL,
                Some(0.1),
            ),
            ir_split: float(
                "Early/Late Split",
                e.split_ms,
                LIN(0.0, 300.0),
                Unit::MsAuto { decimals: 0 },
                Some(1.0),
            ),
            width: float(
                "Width",
                d.width,
                LIN(0.0, 2.0),
                Unit::Fraction { decimals: 0 },
                None,
            ),
            wet_level: float("Wet Level", d.wet_level_db, LIN(-36.0, 12.0), DB, Some(0.1)),
            bands: std::array::from_fn(BandParams::new),
            spec_on: BoolParam::new("Spectral On", sd.enabled),
            spec_mode: EnumParam::new("Spectral Mode", SpectralDirection::Down),
            spec_threshold: float(
                "Spectral Threshold",
                sd.threshold_db,
                LIN(-80.0, 0.0),
                DB,
                Some(0.1),
            ),
            spec_tilt: float(
                "Spectral Tilt",
                sd.tilt_db,
                LIN(-6.0, 6.0),
                Unit::DbPerOct { decimals: 1 },
                Some(0.1),
            ),
            spec_ratio: float(
                "Spectral Ratio",
                sd.ratio,
                ratio_range(),
                Unit::Ratio,
                Some(0.01),
            ),
            spec_knee: float("Spectral Knee", sd.knee_db, LIN(0.0, 24.0), DB, Some(0.1)),
            spec_range: float("Spectral Range", sd.range_db, LIN(0.0, 24.0), DB, Some(0.1)),
            spec_attack: float(
                "Spectral Attack",
                sd.attack_ms,
                ms_range(1.0, 500.0),
                MS1,
                Some(0.1),
            ),
            spec_release: float(
                "Spectral Release",
                sd.release_ms,
                ms_range(10.0, 3000.0),
                MS0,
                Some(1.0),
            ),
            spec_resolution: float(
                "Spectral Resolution",
                sd.resolution_oct,
                unit_range(),
                Unit::Octaves,
                None,
            ),
            spec_source: EnumParam::new("Spectral Detector", DetectorInput::from(sd.source)),
            eq_placement: EnumParam::new("EQ Placement", EqPosition::from(d.eq_placement)),
            listen: EnumParam::new("Listen", ListenMode::from(d.listening)),
            duck_threshold: float(
                "Duck Threshold",
                d.duck.threshold_db,
                LIN(-60.0, 0.0),
                DB,
                Some(0.1),
            ),
            duck_depth: float("Duck Depth", d.duck.depth_db, LIN(0.0, 24.0), DB, Some(0.1)),
            duck_release: float(
                "Duck Release",
                d.duck.release_ms,
                ms_range(50.0, 2000.0),
                MS0,
                Some(1.0),
            ),
            duck_mode: EnumParam::new("Duck Mode", DuckKind::from(d.duck.mode)),
            match_amount: float(
                "Match Amount",
                d.match_amount,
                LIN(0.0, crate::dsp::eq_match::MAX_AMOUNT),
                PCT_OF_FRACTION,
                None,
            ),
            ir: IrField::default(),
            match_curve: MatchField::default(),
            mix_lock: AtomicBool::new(false),
            preset: std::sync::RwLock::new(None),
            editor_size: std::sync::RwLock::new(None),
            state_report: StateReport::default(),
            host_tempo: atomic_float::AtomicF32::new(0.0),
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
                mode: self.spec_mode.value().into(),
                threshold_db: self.spec_threshold.value(),
                tilt_db: self.spec_tilt.value(),
                ratio: self.spec_ratio.value(),
                knee_db: self.spec_knee.value(),
                range_db: self.spec_range.value(),
                attack_ms: self.spec_attack.value(),
                release_ms: self.spec_release.value(),
                resolution_oct: self.spec_resolution.value(),
                source: self.spec_source.value().into(),
            },
            match_amount: self.match_amount.value(),
            character: SaturatorSettings {
                mode: self.character.value().into(),
                drive_db: self.drive.value(),
                trim_db: self.sat_trim.value(),
                auto_gain: self.auto_gain.value(),
                mix: self.drive_mix.value(),
                oversample: self.os_factor.value().with(self.oversample.value()),
                render_oversample: self.os_render.value().choice(),
            },
            eq_placement: self.eq_placement.value().into(),
            listening: self.listen.value().into(),
            duck: DuckSettings {
                threshold_db: self.duck_threshold.value(),
                depth_db: self.duck_depth.value(),
                release_ms: self.duck_release.value(),
                mode: self.duck_mode.value().into(),
            },
        }
    }
}

impl FluxForgeParams {
    /// The pre-delay, milliseconds: the synced note value at the host's tempo (at most the
    /// Pre-delay range's end), else the Pre-delay parameter.
    pub fn predelay_ms(&self) -> f32 {
        let tempo = self.host_tempo.load(std::sync::atomic::Ordering::Relaxed) as f64;
        match self.predelay_sync.value().ms(tempo) {
            Some(ms) => (ms as f32).min(MAX_PREDELAY_MS),
            None => self.predelay.value(),
        }
    }

    /// Sets the host's tempo (the audio thread, from the transport; the renderer's `--tempo`).
    /// Lock-free.
    pub fn set_host_tempo(&self, bpm: Option<f64>) {
        let bpm = bpm.filter(|b| b.is_finite() && *b > 0.0).unwrap_or(0.0) as f32;
        if self.host_tempo.load(std::sync::atomic::Ordering::Relaxed) != bpm {
            self.host_tempo
                .store(bpm, std::sync::atomic::Ordering::Relaxed);
        }
    }

    /// The IR edits these parameters currently describe.
    pub fn ir_edits(&self) -> IrEdits {
        IrEdits {
            predelay_ms: self.predelay_ms(),
            trim_ms: self.trim.value(),
            length_pct: self.length.value(),
            reverse: self.reverse.value(),
            stretch_pct: self.stretch.value(),
            decay_pct: self.decay.value(),
            decay_low_pct: self.decay_low.value(),
            decay_mid_pct: self.decay_mid.value(),
            decay_high_pct: self.decay_high.value(),
            decay_low_hz: self.decay_low_hz.value(),
            decay_high_hz: self.decay_high_hz.value(),
            low_cut_hz: self.low_cut.value(),
            high_cut_hz: self.high_cut.value(),
            auto_gain: self.ir_auto_gain.value(),
            attack_ms: self.ir_attack.value(),
            hold_ms: self.ir_hold.value(),
            early_db: self.ir_early.value(),
            late_db: self.ir_late.value(),
            split_ms: self.ir_split.value(),
        }
    }
}

/// Monitoring parameters (listen modes): what the user hears while working, not part of a
/// sound. Presets neither save nor load them, and a loaded state sets them to their defaults,
/// so a session never opens playing a delta or the reverb alone.
pub const MONITORING_IDS: [&str; 1] = ["listen"];

/// Shared handle type.
pub type SharedParams = Arc<FluxForgeParams>;

#[cfg(test)]
mod tests;
