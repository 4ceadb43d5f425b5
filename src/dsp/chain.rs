//! The FluxForge signal chain, framework-free: the plugin, the offline renderer, the tests and
//! the benchmarks all drive this one type.
//!
//! ```text
//!  in ─┬─ sanitize ─ input gain ─ [EQ & dynamics] ─ character ─┬──────────────────────────────────────────────── dry ──┐
//!      │                                 └─ convolver ─ [EQ & dynamics] ─ ducking ─ width (M/S) ─ wet level ─ wet ─┴─ mix ─ output gain ─┐
//!      └──────────────────────────────────────────────────── (bypass crossfade) ──────────────────────────────────────┴─ out
//! ```
//!
//! The EQ & dynamics section (EQ match, the bands' spectral dynamics, the dynamic EQ, then
//! spectral dynamics) sits in one of the two
//! places in brackets: on the whole signal before the character stage and the reverb
//! ([`EqPlacement::Input`]) or on the reverb's return only ([`EqPlacement::Return`]). A change of
//! place crossfades over [`PLACEMENT_MS`]: both places run during the fade (each with its own
//! state), weighted by the fade. Ducking turns the wet signal down while the dry signal that
//! feeds the reverb is loud ([`super::ducker`]).
//!
//! Every control is smoothed per sample by a linear ramp ([`Smoother`]), so automation is
//! click-free and the output does not depend on how the host cuts blocks. The chain adds no
//! latency: the convolver is zero-latency and every other stage is memoryless.

use super::biquad::{Coeffs, PairCoeffs, StereoState};
use super::convolver::{Convolver, Kernel};
use super::denormal::DenormalGuard;
use super::ducker::{DuckMode, DuckSettings, Ducker};
use super::dynamic_eq::{BandSettings, DynamicEq, BANDS};
use super::eq_match::{Curve, MatchDesign, MatchEq};
use super::fast_math::db_to_gain;
use super::saturator::{Saturator, SaturatorSettings};
use super::simd::SimdLevel;
use super::smoother::Smoother;
use super::spectral::{SpectralDynamics, SpectralMode, SpectralSettings};
use super::spectral_bands::SpectralBands;
use super::Stage;

/// Number of channels the chain processes (mono input is duplicated by the caller).
pub const CHANNELS: usize = 2;
/// Internal sub-block: the chain works in slices of at most this many samples (as long as
/// the convolver's largest FFT head, so a host block up to it reaches the convolver whole).
const CHUNK: usize = super::convolver::MAX_FFT_HEAD;

/// Largest input sample magnitude the chain accepts: +60 dBFS. A sample beyond it (or
/// non-finite) cannot come from any real signal, only from a corrupt buffer upstream, and is
/// treated as silence, so it cannot fill the reverb tail with +600 dBFS for seconds. Hot
/// signals below it (+24 dBFS floats and far beyond) pass untouched and bit-exactly.
pub const MAX_INPUT_LEVEL: f32 = 1000.0;

/// Smoothing time of gains and mix, milliseconds.
pub const SMOOTH_MS: f32 = 20.0;
/// Bypass crossfade time, milliseconds.
pub const BYPASS_MS: f32 = 10.0;
/// Crossfade time of a change of the EQ & dynamics placement, milliseconds.
pub const PLACEMENT_MS: f32 = 30.0;
/// Crossfade time of a band solo (listen) in and out, milliseconds.
pub const SOLO_MS: f32 = 20.0;
/// Crossfade time of a change of ducking mode, milliseconds.
pub const DUCK_MODE_MS: f32 = 20.0;
/// The output must have been below [`IDLE_FLOOR`] for this long, seconds, for the engine to
/// go idle ([`Engine::idle_after`]).
pub const IDLE_OUT_QUIET_S: f32 = 0.5;
/// What counts as silent output for going idle: -400 dBFS. The filters' tails decay
/// exponentially and reach exact zero only when they underflow (the EQ's states are `f64`),
/// seconds later; below this level nothing of them survives any output format (a 32-bit
/// float file holds them, as numbers of no sound). Idle, the output is exactly zero.
pub const IDLE_FLOOR: f32 = 1e-20;

/// Frequency resolution of the spectral ducking, octaves: a loud component ducks the wet
/// signal over a third of an octave around it.
pub const SPECTRAL_DUCK_RESOLUTION_OCT: f32 = 1.0 / 3.0;
/// Attack time of the spectral ducking, milliseconds (one analysis hop).
pub const SPECTRAL_DUCK_ATTACK_MS: f32 = 5.0;

/// The spectral dynamics that duck the wet signal per frequency: keyed by the dry signal
/// (External), downward, 1 dB per dB the dry signal's level in a band lies above the
/// threshold (an infinite ratio, as the broadband ducker), a 6 dB knee, at most the depth.
pub fn spectral_duck_settings(d: &DuckSettings, enabled: bool) -> SpectralSettings {
    SpectralSettings {
        enabled: enabled && d.depth_db > 0.0,
        mode: SpectralMode::Down,
        threshold_db: d.threshold_db,
        tilt_db: 0.0,
        ratio: f32::INFINITY,
        knee_db: 6.0,
        range_db: d.depth_db,
        attack_ms: SPECTRAL_DUCK_ATTACK_MS,
        release_ms: d.release_ms,
        resolution_oct: SPECTRAL_DUCK_RESOLUTION_OCT,
        source: super::DetectorSource::External,
    }
}

/// What the output plays: the mix, or one part of it to listen to (a monitoring aid; moves
/// crossfade over [`SOLO_MS`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Listening {
    /// The mix.
    Normal,
    /// What the EQ & dynamics section removes or adds: its input minus its output, at the
    /// output gain. Added to the section's output it gives the section's input exactly.
    Delta,
    /// The wet path alone (after ducking, width and wet level, at the output gain), as the mix
    /// at 100 % plays it, whatever Mix is set to.
    WetOnly,
}

/// Where the EQ & dynamics section sits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EqPlacement {
    /// On the whole signal, before the character stage and the reverb.
    Input,
    /// On the reverb's return only (shapes the wet signal; the dry signal is untouched).
    Return,
}

/// The chain's controls, in the units the user sees.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Settings {
    /// Input gain, dB.
    pub input_gain_db: f32,
    /// Output gain, dB.
    pub output_gain_db: f32,
    /// Reverb mix, 0 = dry only, 1 = wet only.
    pub mix: f32,
    /// Host bypass: output equals input (after a short crossfade).
    pub bypass: bool,
    /// Stereo width of the wet signal: the side channel's gain (0 = mono, 1 = as the IR
    /// gives it, 2 = side doubled).
    pub width: f32,
    /// Level of the wet signal, dB.
    pub wet_level_db: f32,
    /// Dynamic EQ bands (before the character stage).
    pub eq: [BandSettings; BANDS],
    /// Per-bin spectral dynamics (after the EQ bands).
    pub spectral: SpectralSettings,
    /// How much of the EQ match curve is applied (0 = none, 1 = the curve, up to 2; the
    /// curve itself comes as a design, [`Engine::set_match`]).
    pub match_amount: f32,
    /// The character (saturation) stage.
    pub character: SaturatorSettings,
    /// Where the EQ & dynamics section sits.
    pub eq_placement: EqPlacement,
    /// Ducking of the wet signal by the dry one.
    pub duck: DuckSettings,
    /// What the output plays.
    pub listening: Listening,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            input_gain_db: 0.0,
            output_gain_db: 0.0,
            mix: 0.3,
            bypass: false,
            width: 1.0,
            wet_level_db: 0.0,
            eq: std::array::from_fn(BandSettings::default_for),
            spectral: SpectralSettings::default(),
            match_amount: 1.0,
            character: SaturatorSettings::default(),
            eq_placement: EqPlacement::Input,
            duck: DuckSettings::default(),
            listening: Listening::Normal,
        }
    }
}

/// The EQ & dynamics section: EQ match, the bands' spectral dynamics, the dynamic EQ, then
/// the spectral dynamics.
struct Section {
    matcher: MatchEq,
    bands: SpectralBands,
    eq: DynamicEq,
    spectral: SpectralDynamics,
}

impl Section {
    fn new(rate: f32, s: &Settings) -> Self {
        Self {
            matcher: MatchEq::new(rate, s.match_amount),
            bands: SpectralBands::new(rate, &s.eq),
            eq: DynamicEq::new(rate, &s.eq),
            spectral: SpectralDynamics::new(rate, &s.spectral),
        }
    }

    fn set_settings(&mut self, s: &Settings) {
        self.matcher.set_amount(s.match_amount);
        self.bands.set_settings(&s.eq);
        self.eq.set_settings(&s.eq);
        self.spectral.set_settings(&s.spectral);
    }

    fn reset(&mut self) {
        self.matcher.reset();
        self.bands.reset();
        self.eq.reset();
        self.spectral.reset();
    }

    fn set_simd_level(&mut self, level: SimdLevel) {
        self.matcher.set_simd_level(level);
        self.bands.set_simd_level(level);
        self.eq.set_simd_level(level);
        self.spectral.set_simd_level(level);
    }

    /// Each band's dynamic gain now, dB: the whole band's, or a spectral band's largest
    /// per-bin change.
    fn band_gain_db(&self) -> [f32; BANDS] {
        let (whole, spectral) = (self.eq.dynamic_gain_db(), self.bands.band_gain_db());
        std::array::from_fn(|b| whole[b] + spectral[b])
    }

    fn process_keyed(&mut self, x: &mut [&mut [f32]; 2], key: Option<[&[f32]; 2]>) {
        self.matcher.process_keyed(x, key);
        self.bands.process_keyed(x, key);
        self.eq.process_keyed(x, key);
        self.spectral.process_keyed(x, key);
    }
    /// Runs on `x` weighted by `w` per sample against the unprocessed `x`, with `tmp` as
    /// scratch (for a placement crossfade).
    fn process_weighted(
        &mut self,
        x: &mut [Vec<f32>; 2],
        tmp: &mut [Vec<f32>; 2],
        w: &[f32],
        key: Option<[&[f32]; 2]>,
    ) {
        let n = w.len();
        for c in 0..2 {
            tmp[c][..n].copy_from_slice(&x[c][..n]);
        }
        let [t0, t1] = tmp;
        self.process_keyed(&mut [&mut t0[..n], &mut t1[..n]], key);
        for c in 0..2 {
            for ((y, t), g) in x[c][..n].iter_mut().zip(&tmp[c][..n]).zip(w) {
                *y += g * (t - *y);
            }
        }
    }
}

stage_by_inherent!(Section);

/// Peak levels of one processed block, linear.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct BlockPeaks {
    /// Peak of the input per channel.
    pub input: [f32; CHANNELS],
    /// Peak of the output per channel.
    pub output: [f32; CHANNELS],
    /// Sum of the squares of the input per channel (for RMS meters).
    pub input_sq: [f32; CHANNELS],
    /// Sum of the squares of the output per channel.
    pub output_sq: [f32; CHANNELS],
}

/// The whole processing chain for one plugin instance.
pub struct Engine {
    /// The EQ & dynamics section at the input and on the return.
    at_input: Section,
    at_return: Section,
    /// Weight of the input place (1 = input, 0 = return), ramped over [`PLACEMENT_MS`].
    place: Smoother,
    ducker: Ducker,
    /// The spectral ducker (runs while the mode is or fades from Spectral) and the mode's
    /// weight (1 = spectral), ramped over [`DUCK_MODE_MS`].
    spectral_duck: SpectralDynamics,
    duck_mode: Smoother,
    /// Band solo.
    listen: Listen,
    /// Weights of the delta and wet-only listening, ramped over [`SOLO_MS`].
    delta_gain: Smoother,
    wet_only_gain: Smoother,
    eq_settings: [BandSettings; BANDS],
    rate: f32,
    saturator: Saturator,
    convolver: Convolver,
    input_gain: Smoother,
    output_gain: Smoother,
    mix: Smoother,
    bypass: Smoother,
    width: Smoother,
    wet_gain: Smoother,
    /// Idle: the input has been silent and the output below [`IDLE_FLOOR`] long enough that every
    /// stage has rung out; the stages were reset and nothing runs until the input sounds
    /// again (see [`Self::idle_after`]).
    idle: bool,
    /// May go idle (tests and benches compare with full processing).
    idle_enabled: bool,
    /// Samples since the last non-zero input sample, and since the last non-zero output one.
    in_quiet: u64,
    out_quiet: u64,
    /// The sidechain has carried sound since the last reset (until then, detectors set to
    /// the sidechain listen to the main signal: a host that connects nothing sends silence).
    key_live: bool,
    /// What the host says about the sidechain port (`None`: nothing; see
    /// [`Self::set_key_connected`]).
    key_word: Option<bool>,
    /// Scratch `[channel][CHUNK]`: the sanitised sidechain, the unprocessed input, the gained
    /// dry signal, the wet signal, a copy for crossfades; `[CHUNK]`: the placement fade.
    key: [Vec<f32>; CHANNELS],
    raw: [Vec<f32>; CHANNELS],
    dry: [Vec<f32>; CHANNELS],
    wet: [Vec<f32>; CHANNELS],
    tmp: [Vec<f32>; CHANNELS],
    /// The section's input minus its output over the current slice (while delta is heard).
    delta: [Vec<f32>; CHANNELS],
    fade: Vec<f32>,
}

impl Engine {
    /// A chain at `sample_rate` Hz with an optional first kernel. Allocates everything it will
    /// ever need (kernels bring their own state).
    pub fn new(sample_rate: f32, kernel: Option<Box<Kernel>>, settings: &Settings) -> Self {
        let mut e = Self {
            at_input: Section::new(sample_rate, settings),
            at_return: Section::new(sample_rate, settings),
            place: Smoother::new(1.0, PLACEMENT_MS, sample_rate),
            ducker: Ducker::new(sample_rate, &settings.duck),
            spectral_duck: SpectralDynamics::new(
                sample_rate,
                &spectral_duck_settings(&settings.duck, false),
            ),
            duck_mode: Smoother::new(0.0, DUCK_MODE_MS, sample_rate),
            listen: Listen::new(sample_rate),
            delta_gain: Smoother::new(0.0, SOLO_MS, sample_rate),
            wet_only_gain: Smoother::new(0.0, SOLO_MS, sample_rate),
            eq_settings: settings.eq,
            rate: sample_rate,
            saturator: Saturator::new(CHANNELS, sample_rate, &settings.character),
            convolver: Convolver::new(CHANNELS, CHANNELS, kernel),
            input_gain: Smoother::new(1.0, SMOOTH_MS, sample_rate),
            output_gain: Smoother::new(1.0, SMOOTH_MS, sample_rate),
            mix: Smoother::new(0.0, SMOOTH_MS, sample_rate),
            bypass: Smoother::new(0.0, BYPASS_MS, sample_rate),
            width: Smoother::new(1.0, SMOOTH_MS, sample_rate),
            wet_gain: Smoother::new(1.0, SMOOTH_MS, sample_rate),
            idle: false,
            idle_enabled: true,
            in_quiet: 0,
            out_quiet: 0,
            key_live: false,
            key_word: None,
            key: std::array::from_fn(|_| vec![0.0; CHUNK]),
            raw: std::array::from_fn(|_| vec![0.0; CHUNK]),
            dry: std::array::from_fn(|_| vec![0.0; CHUNK]),
            wet: std::array::from_fn(|_| vec![0.0; CHUNK]),
            tmp: std::array::from_fn(|_| vec![0.0; CHUNK]),
            delta: std::array::from_fn(|_| vec![0.0; CHUNK]),
            fade: vec![0.0; CHUNK],
        };
        e.set_settings(settings);
        e.snap_to_targets();
        e.set_simd_level(SimdLevel::detect());
        e
    }

    /// Crossfades the EQ match to `design` (copied; no allocation; a design for another rate
    /// is ignored).
    pub fn set_match(&mut self, design: &MatchDesign) {
        self.at_input.matcher.load(design);
        self.at_return.matcher.load(design);
    }

    /// The EQ match curve playing (the newest loaded), dB per point.
    pub fn match_curve(&self) -> &Curve {
        self.at_input.matcher.curve()
    }

    /// Runs every stage's vectorised code at `level` (detected once in [`Self::new`]; tests
    /// and benchmarks pick another; capped at what the CPU supports).
    pub fn set_simd_level(&mut self, level: SimdLevel) {
        self.at_input.set_simd_level(level);
        self.at_return.set_simd_level(level);
        self.convolver.set_simd_level(level);
    }

    /// Sets the targets; changes ramp in over [`SMOOTH_MS`] (bypass over [`BYPASS_MS`]).
    pub fn set_settings(&mut self, s: &Settings) {
        self.input_gain.set_target(db_to_gain(s.input_gain_db));
        self.output_gain.set_target(db_to_gain(s.output_gain_db));
        self.mix.set_target(s.mix.clamp(0.0, 1.0));
        self.bypass.set_target(if s.bypass { 1.0 } else { 0.0 });
        self.width.set_target(s.width.clamp(0.0, 2.0));
        self.wet_gain.set_target(db_to_gain(s.wet_level_db));
        let heard = |l: Listening| if s.listening == l { 1.0 } else { 0.0 };
        self.delta_gain.set_target(heard(Listening::Delta));
        self.wet_only_gain.set_target(heard(Listening::WetOnly));
        self.saturator.set_settings(&s.character);
        self.at_input.set_settings(s);
        self.at_return.set_settings(s);
        self.ducker.set_settings(&s.duck);
        let spectral = if s.duck.mode == DuckMode::Spectral {
            1.0
        } else {
            0.0
        };
        if spectral != self.duck_mode.target() {
            // The mode fading in starts from silence (its state is from its last use).
            if spectral == 0.0 && self.duck_mode.current() == 1.0 {
                self.ducker.reset();
            }
            self.duck_mode.set_target(spectral);
        }
        // The spectral ducker runs while it is heard (also while fading out).
        let heard = spectral == 1.0 || self.duck_mode.current() > 0.0;
        self.spectral_duck
            .set_settings(&spectral_duck_settings(&s.duck, heard));
        self.eq_settings = s.eq;
        let place = match s.eq_placement {
            EqPlacement::Input => 1.0,
            EqPlacement::Return => 0.0,
        };
        if place != self.place.target() {
            // The place fading in starts from silence (its state is from its last use).
            if place == 1.0 && self.place.current() == 0.0 {
                self.at_input.reset();
            } else if place == 0.0 && self.place.current() == 1.0 {
                self.at_return.reset();
            }
            self.place.set_target(place);
        }
    }

    /// Ends every ramp at its target (for a reset or a fresh render).
    pub fn snap_to_targets(&mut self) {
        for s in [
            &mut self.input_gain,
            &mut self.output_gain,
            &mut self.mix,
            &mut self.bypass,
            &mut self.width,
            &mut self.wet_gain,
            &mut self.place,
            &mut self.duck_mode,
            &mut self.delta_gain,
            &mut self.wet_only_gain,
        ] {
            let t = s.target();
            s.reset(t);
        }
    }

    /// Clears all signal state; a following run repeats exactly.
    pub fn reset(&mut self) {
        self.clear_stages();
        self.key_live = false;
        self.idle = false;
        self.in_quiet = 0;
        self.out_quiet = 0;
    }

    /// Clears every stage's signal state and ends every ramp (what [`Self::reset`] and going
    /// idle share).
    fn clear_stages(&mut self) {
        self.convolver.reset();
        self.saturator.reset();
        self.at_input.reset();
        self.at_return.reset();
        self.ducker.reset();
        self.spectral_duck.reset();
        self.listen.state = StereoState::default();
        self.snap_to_targets();
    }

    /// Lets the engine go idle on silence (`true`, the default) or not: tests and benches
    /// compare the two.
    pub fn set_idle_enabled(&mut self, on: bool) {
        self.idle_enabled = on;
        if !on {
            self.idle = false;
        }
    }

    /// The engine is idle (see [`Self::idle_after`]).
    pub fn is_idle(&self) -> bool {
        self.idle
    }

    /// Silent input after which the engine goes idle, samples: the IR's length and one
    /// second more (every other stage's memory is shorter: the spectral FIR's 512 taps, the
    /// filters' ringing; the releases of the gains act on silence). It goes idle at that
    /// sample, or at a multiple of the engine's slice length (`CHUNK`) after it, once the output has been
    /// below [`IDLE_FLOOR`] for the last [`IDLE_OUT_QUIET_S`] too: points fixed by the input, so the
    /// host's block sizes cannot move them.
    pub fn idle_after(&self) -> u64 {
        self.convolver.ir_len() as u64 + self.rate as u64
    }

    /// Idle: writes zeros to the output from `pos` up to the first sounding input sample (at
    /// most `len` samples) and wakes there. Returns how many samples it wrote.
    fn idle_until_sound(
        &mut self,
        channels: &mut [&mut [f32]],
        key: Option<[&[f32]; 2]>,
        pos: usize,
        len: usize,
    ) -> usize {
        let sounding = |i: usize| channels.iter().any(|c| c[pos + i] != 0.0);
        let m = (0..len).find(|&i| sounding(i)).unwrap_or(len);
        for c in channels.iter_mut() {
            c[pos..pos + m].fill(0.0);
        }
        if let Some(k) = key {
            let live = k.iter().any(|c| {
                c[pos..pos + m]
                    .iter()
                    .any(|x| *x != 0.0 && x.abs() <= MAX_INPUT_LEVEL)
            });
            self.key_live |= live;
        }
        // A kernel handed over while idle is in place at once (its crossfade would play
        // silence).
        if self.convolver.handing_over() {
            self.convolver.reset();
        }
        if m < len {
            // Sound: every stage starts from rest at this sample; ramps that moved while idle
            // are at their targets.
            self.idle = false;
            self.in_quiet = 0;
            self.out_quiet = 0;
            self.snap_to_targets();
        }
        m
    }

    /// The host processes offline (a bounce, or the renderer): IR hand-overs happen at a
    /// fixed point whatever the speed, and the character stage uses its render oversampling.
    pub fn set_offline(&mut self, offline: bool) {
        self.convolver.set_offline(offline);
        self.saturator.set_offline(offline);
    }

    /// The convolver, for kernel hand-over.
    pub fn convolver_mut(&mut self) -> &mut Convolver {
        &mut self.convolver
    }

    /// The convolver.
    pub fn convolver(&self) -> &Convolver {
        &self.convolver
    }

    /// The EQ & dynamics section at its current place (the input while the fade is past
    /// its middle toward it).
    fn section(&self) -> &Section {
        if self.place.current() >= 0.5 {
            &self.at_input
        } else {
            &self.at_return
        }
    }

    /// The dynamic EQ (for the editor's curves).
    pub fn eq(&self) -> &DynamicEq {
        &self.section().eq
    }

    /// Each EQ band's dynamic gain now, dB (for the meters and the curves): the whole band's,
    /// or a spectral band's largest per-bin change.
    pub fn band_gain_db(&self) -> [f32; BANDS] {
        self.section().band_gain_db()
    }

    /// The EQ bands' spectral dynamics (for the editor's curve).
    pub fn spectral_bands(&self) -> &SpectralBands {
        &self.section().bands
    }

    /// The spectral dynamics (for the editor's analyzer).
    pub fn spectral(&self) -> &SpectralDynamics {
        &self.section().spectral
    }

    /// Listens to band `band` (an editor action, never saved): the output crossfades over
    /// [`SOLO_MS`] to the band-pass at the band's frequency and Q of the signal the band acts
    /// on (its channel, mid or side; the other lanes silent), and back for `None`.
    pub fn set_solo(&mut self, band: Option<usize>) {
        match band.filter(|&k| k < BANDS) {
            Some(k) => {
                if self.listen.band != Some(k) {
                    if self.listen.gain.current() == 0.0 {
                        self.listen.state = StereoState::default();
                    }
                    self.listen.band = Some(k);
                    self.listen.made_for = None;
                }
                self.listen.gain.set_target(1.0);
            }
            None => self.listen.gain.set_target(0.0),
        }
        if let Some(k) = self.listen.band {
            let s = self.eq_settings[k];
            if self.listen.made_for != Some(s) {
                let c = Coeffs::band_pass(
                    s.freq_hz.clamp(10.0, 0.45 * self.rate) as f64,
                    s.q.clamp(0.1, 40.0) as f64,
                    self.rate as f64,
                );
                self.listen.filter = PairCoeffs::masked(&c, s.placement.lanes());
                self.listen.made_for = Some(s);
            }
        }
    }

    /// The band being listened to (or fading out).
    pub fn solo(&self) -> Option<usize> {
        self.listen.band
    }

    /// A sidechain has carried sound since the last reset, so detectors set to External
    /// listen to it (for the editor).
    pub fn sidechain_live(&self) -> bool {
        self.key_live
    }

    /// What the host says about the sidechain port. `Some(false)`: not connected, the
    /// sidechain input is ignored and detectors set to External listen to the main signal;
    /// `Some(true)`: connected, they listen to it even while it is silent (a silent key
    /// means no reduction); `None` (the host says nothing): a sidechain counts once it has
    /// carried sound.
    pub fn set_key_connected(&mut self, word: Option<bool>) {
        self.key_word = word;
    }

    /// The ducker's current reduction, dB (for the editor's meter).
    pub fn ducking_db(&self) -> f32 {
        if self.duck_mode.target() == 1.0 {
            // Spectral: the deepest reduction of any band.
            -self
                .spectral_duck
                .analysis()
                .1
                .iter()
                .fold(0.0f32, |m, g| m.min(*g))
        } else {
            self.ducker.reduction_db()
        }
    }

    /// Runs the spectral analysis even while the spectral dynamics are off (for an open
    /// editor's analyzer).
    pub fn set_analyzer(&mut self, on: bool) {
        self.at_input.spectral.set_analyzer(on);
        self.at_return.spectral.set_analyzer(on);
    }

    /// Processes two channels in place. Any length; non-finite input samples and samples
    /// beyond [`MAX_INPUT_LEVEL`] are treated as silence so they cannot reach (and poison or
    /// blast) the reverb's state. Returns block peaks.
    ///
    /// # Panics
    /// If there are not exactly [`CHANNELS`] channels of equal length.
    pub fn process(&mut self, channels: &mut [&mut [f32]]) -> BlockPeaks {
        self.process_keyed(channels, None)
    }

    /// [`Self::process`] with a sidechain input (two channels as long as the main ones) for
    /// the detectors set to External. It is sanitised as the main input is; until it carries
    /// a sound, those detectors listen to the main signal.
    ///
    /// # Panics
    /// As [`Self::process`], or if the sidechain's length differs.
    pub fn process_keyed(
        &mut self,
        channels: &mut [&mut [f32]],
        key: Option<[&[f32]; 2]>,
    ) -> BlockPeaks {
        assert_eq!(channels.len(), CHANNELS);
        let len = channels[0].len();
        assert_eq!(channels[1].len(), len);
        if let Some(k) = key {
            assert!(k[0].len() == len && k[1].len() == len);
        }
        let _ftz = DenormalGuard::new();
        let mut peaks = BlockPeaks::default();
        let key = key.filter(|_| self.key_word != Some(false));
        let mut pos = 0;
        while pos < len {
            if self.idle {
                pos += self.idle_until_sound(channels, key, pos, len - pos);
                continue;
            }
            let n = self.slice_len(len - pos);
            self.take_input(channels, key, pos, n, &mut peaks);
            let keyed = key.is_some() && (self.key_live || self.key_word == Some(true));
            // The placement fade of this slice (1 = at the input).
            fill_ramp(&mut self.place, &mut self.fade[..n]);
            let fades = (self.fade[0], self.fade[n - 1]);
            // The band solo listens where the section runs (at the input while the fade is
            // past its middle toward it).
            let solo_at_input = fades.0 >= 0.5;
            // Delta: the section's input minus its output, at whichever place it runs.
            let delta = self.delta_gain.target() > 0.0 || self.delta_gain.current() > 0.0;
            if delta {
                self.delta.iter_mut().for_each(|d| d[..n].fill(0.0));
            }
            if solo_at_input {
                self.listen
                    .take(&self.eq_settings, [&self.dry[0][..n], &self.dry[1][..n]]);
            }
            self.run_section(Place::Input, n, fades, keyed, delta);
            self.character_and_reverb(n);
            if !solo_at_input {
                self.listen
                    .take(&self.eq_settings, [&self.wet[0][..n], &self.wet[1][..n]]);
            }
            self.run_section(Place::Return, n, fades, keyed, delta);
            self.duck(n);
            self.mix_out(channels, pos, n, &mut peaks);
            self.idle_if_due();
            pos += n;
        }
        self.listen.end_if_faded();
        peaks
    }

    /// The length of the next slice: at most [`CHUNK`] and what is left of the call. While the
    /// input is silent past the idle point, slices end on a grid of `CHUNK` samples from that
    /// point, where the engine may go idle (so the host's block sizes cannot move the moment).
    fn slice_len(&self, left: usize) -> usize {
        let after = self.idle_after();
        let to_check = match after.checked_sub(self.in_quiet) {
            Some(d) if d > 0 => d,
            _ => CHUNK as u64 - (self.in_quiet - after) % CHUNK as u64,
        };
        CHUNK.min(left).min(to_check as usize)
    }

    /// Goes idle at a grid point once the input has been silent long enough and the output has
    /// died away (see [`Self::slice_len`]).
    fn idle_if_due(&mut self) {
        let after = self.idle_after();
        if self.idle_enabled
            && self.in_quiet >= after
            && (self.in_quiet - after).is_multiple_of(CHUNK as u64)
            && self.out_quiet as f32 >= IDLE_OUT_QUIET_S * self.rate
        {
            self.idle = true;
            self.clear_stages();
        }
    }

    /// Sanitises `n` input (and sidechain) samples from `pos` into the scratch buffers, meters
    /// them, and applies the input gain into the dry signal.
    fn take_input(
        &mut self,
        channels: &[&mut [f32]],
        key: Option<[&[f32]; 2]>,
        pos: usize,
        n: usize,
        peaks: &mut BlockPeaks,
    ) {
        let mut last_sound = None;
        for (c, (raw, ch)) in self.raw.iter_mut().zip(channels.iter()).enumerate() {
            for (r, x) in raw[..n].iter_mut().zip(&ch[pos..pos + n]) {
                // `!(a <= b)` is also true for NaN.
                *r = if x.abs() <= MAX_INPUT_LEVEL { *x } else { 0.0 };
            }
            let (peak, sq) = peak_and_squares(&raw[..n]);
            peaks.input[c] = peaks.input[c].max(peak);
            peaks.input_sq[c] += sq;
            last_sound = last_sound.max(ch[pos..pos + n].iter().rposition(|x| *x != 0.0));
        }
        self.in_quiet = quiet_after(self.in_quiet, n, last_sound);
        if let Some(k) = key {
            for (kc, sc) in self.key.iter_mut().zip(k) {
                for (d, x) in kc[..n].iter_mut().zip(&sc[pos..pos + n]) {
                    *d = if x.abs() <= MAX_INPUT_LEVEL { *x } else { 0.0 };
                    self.key_live |= *d != 0.0;
                }
            }
        }
        if self.input_gain.is_smoothing() {
            for i in 0..n {
                let g = self.input_gain.next();
                for c in 0..CHANNELS {
                    self.dry[c][i] = self.raw[c][i] * g;
                }
            }
        } else {
            // Steady: the same products, vectorised.
            let g = self.input_gain.current();
            for (d, r) in self.dry.iter_mut().zip(&self.raw) {
                for (y, x) in d[..n].iter_mut().zip(&r[..n]) {
                    *y = x * g;
                }
            }
        }
    }

    /// Ducks `n` samples of the wet signal under the dry one: broadband, spectral, or both
    /// weighted while the mode fades from one to the other.
    fn duck(&mut self, n: usize) {
        fill_ramp(&mut self.duck_mode, &mut self.fade[..n]);
        let (first, last) = (self.fade[0], self.fade[n - 1]);
        let [d0, d1] = &self.dry;
        let key = [&d0[..n], &d1[..n]];
        if first == 0.0 && last == 0.0 {
            let [w0, w1] = &mut self.wet;
            self.ducker
                .process_keyed(&mut [&mut w0[..n], &mut w1[..n]], Some(key));
        } else if first == 1.0 && last == 1.0 {
            let [w0, w1] = &mut self.wet;
            self.spectral_duck
                .process_keyed(&mut [&mut w0[..n], &mut w1[..n]], Some(key));
        } else {
            let [w0, w1] = &mut self.wet;
            let [t0, t1] = &mut self.tmp;
            t0[..n].copy_from_slice(&w0[..n]);
            t1[..n].copy_from_slice(&w1[..n]);
            self.ducker
                .process_keyed(&mut [&mut w0[..n], &mut w1[..n]], Some(key));
            self.spectral_duck
                .process_keyed(&mut [&mut t0[..n], &mut t1[..n]], Some(key));
            for (w, t) in [(w0, t0), (w1, t1)] {
                for ((y, s), g) in w[..n].iter_mut().zip(&t[..n]).zip(&self.fade[..n]) {
                    *y += g * (s - *y);
                }
            }
        }
    }

    /// The EQ & dynamics section at `place` over `n` samples: whole when the placement fade
    /// (`first`, `last` of this slice) is all there, weighted while it moves, not at all when
    /// it is all at the other place.
    fn run_section(
        &mut self,
        place: Place,
        n: usize,
        (first, last): (f32, f32),
        keyed: bool,
        delta: bool,
    ) {
        // The delta gathers the section's input minus its output (both places during a
        // placement fade: the part that does not run adds nothing).
        let signal = match place {
            Place::Input => &self.dry,
            Place::Return => &self.wet,
        };
        if delta {
            for (d, x) in self.delta.iter_mut().zip(signal) {
                d[..n].iter_mut().zip(&x[..n]).for_each(|(d, x)| *d += x);
            }
        }
        self.run_section_only(place, n, (first, last), keyed);
        let signal = match place {
            Place::Input => &self.dry,
            Place::Return => &self.wet,
        };
        if delta {
            for (d, x) in self.delta.iter_mut().zip(signal) {
                d[..n].iter_mut().zip(&x[..n]).for_each(|(d, x)| *d -= x);
            }
        }
    }

    /// The character stage on the dry signal, then the reverb of it into the wet signal.
    fn character_and_reverb(&mut self, n: usize) {
        let [d0, d1] = &mut self.dry;
        self.saturator
            .process_keyed(&mut [&mut d0[..n], &mut d1[..n]], None);
        let [w0, w1] = &mut self.wet;
        w0[..n].copy_from_slice(&d0[..n]);
        w1[..n].copy_from_slice(&d1[..n]);
        self.convolver
            .process_keyed(&mut [&mut w0[..n], &mut w1[..n]], None);
    }

    /// The section at `place` over `n` samples, weighted by the placement fade.
    fn run_section_only(&mut self, place: Place, n: usize, (first, last): (f32, f32), keyed: bool) {
        let sidechain = keyed.then(|| [&self.key[0][..n], &self.key[1][..n]]);
        let (here, there) = match place {
            Place::Input => (1.0, 0.0),
            Place::Return => (0.0, 1.0),
        };
        let (section, signal) = match place {
            Place::Input => (&mut self.at_input, &mut self.dry),
            Place::Return => (&mut self.at_return, &mut self.wet),
        };
        if first == here && last == here {
            let [a, b] = signal;
            section.process_keyed(&mut [&mut a[..n], &mut b[..n]], sidechain);
        } else if !(first == there && last == there) {
            if place == Place::Return {
                for f in &mut self.fade[..n] {
                    *f = 1.0 - *f;
                }
            }
            section.process_weighted(signal, &mut self.tmp, &self.fade[..n], sidechain);
        }
    }

    /// Width, wet level, mix, output gain, the listening (wet only, delta, then the band
    /// solo over them) and bypass, per sample, into the host's channels at `pos`; meters the
    /// output.
    fn mix_out(
        &mut self,
        channels: &mut [&mut [f32]],
        pos: usize,
        n: usize,
        peaks: &mut BlockPeaks,
    ) {
        let steady = [
            &self.mix,
            &self.output_gain,
            &self.bypass,
            &self.width,
            &self.wet_gain,
            &self.wet_only_gain,
            &self.delta_gain,
        ]
        .iter()
        .all(|s| !s.is_smoothing())
            && self.wet_only_gain.current() == 0.0
            && self.delta_gain.current() == 0.0
            && self.listen.band.is_none();
        if steady {
            self.mix_out_steady(channels, pos, n, peaks);
        } else {
            self.mix_out_moving(channels, pos, n, peaks);
        }
        let last_sound = channels
            .iter()
            .filter_map(|c| c[pos..pos + n].iter().rposition(|x| x.abs() > IDLE_FLOOR))
            .max();
        self.out_quiet = quiet_after(self.out_quiet, n, last_sound);
    }

    /// [`Self::mix_out`] while no control moves and only the mix is heard: the same
    /// operations as [`Self::mix_out_moving`] with constants, so the output is the same to the
    /// bit, in loops the compiler vectorises.
    fn mix_out_steady(
        &mut self,
        channels: &mut [&mut [f32]],
        pos: usize,
        n: usize,
        peaks: &mut BlockPeaks,
    ) {
        let (m, og, b) = (
            self.mix.current(),
            self.output_gain.current(),
            self.bypass.current(),
        );
        let (w, wg) = (self.width.current(), self.wet_gain.current());
        let [w0, w1] = &self.wet;
        let [d0, d1] = &self.dry;
        let [r0, r1] = &self.raw;
        let [o0, o1, ..] = channels else {
            unreachable!("two channels, checked by process_keyed")
        };
        let (o0, o1) = (&mut o0[pos..pos + n], &mut o1[pos..pos + n]);
        for i in 0..n {
            let mid = 0.5 * (w0[i] + w1[i]);
            let side = 0.5 * (w0[i] - w1[i]) * w;
            let wet = [(mid + side) * wg, (mid - side) * wg];
            let y0 = ((1.0 - m) * d0[i] + m * wet[0]) * og;
            let y1 = ((1.0 - m) * d1[i] + m * wet[1]) * og;
            o0[i] = (1.0 - b) * y0 + b * r0[i];
            o1[i] = (1.0 - b) * y1 + b * r1[i];
        }
        for (c, o) in [&*o0, &*o1].into_iter().enumerate() {
            let (peak, sq) = peak_and_squares(o);
            peaks.output[c] = peaks.output[c].max(peak);
            peaks.output_sq[c] += sq;
        }
    }

    /// [`Self::mix_out`] sample by sample, every control ramped.
    fn mix_out_moving(
        &mut self,
        channels: &mut [&mut [f32]],
        pos: usize,
        n: usize,
        peaks: &mut BlockPeaks,
    ) {
        for i in 0..n {
            let (m, og, b) = (self.mix.next(), self.output_gain.next(), self.bypass.next());
            // Wet width (mid/side) and level.
            let (w, wg) = (self.width.next(), self.wet_gain.next());
            let mid = 0.5 * (self.wet[0][i] + self.wet[1][i]);
            let side = 0.5 * (self.wet[0][i] - self.wet[1][i]) * w;
            let wet = [(mid + side) * wg, (mid - side) * wg];
            let solo = self.listen.next_gain();
            let (wet_only, delta) = (self.wet_only_gain.next(), self.delta_gain.next());
            for c in 0..CHANNELS {
                let mut y = ((1.0 - m) * self.dry[c][i] + m * wet[c]) * og;
                if wet_only > 0.0 {
                    y += wet_only * (wet[c] * og - y);
                }
                if delta > 0.0 {
                    y += delta * (self.delta[c][i] * og - y);
                }
                if solo > 0.0 {
                    y += solo * (self.listen.out[c][i] * og - y);
                }
                let out = (1.0 - b) * y + b * self.raw[c][i];
                channels[c][pos + i] = out;
                peaks.output[c] = peaks.output[c].max(out.abs());
                peaks.output_sq[c] += out * out;
            }
        }
    }
}

/// Fills `out` with the ramp's next values (a constant while it does not move).
fn fill_ramp(ramp: &mut Smoother, out: &mut [f32]) {
    if ramp.is_smoothing() {
        for f in out {
            *f = ramp.next();
        }
    } else {
        out.fill(ramp.current());
    }
}

/// The peak magnitude of `x` and the sum of its squares (for the meters), in eight lanes the
/// compiler vectorises.
fn peak_and_squares(x: &[f32]) -> (f32, f32) {
    const L: usize = 8;
    let (mut pk, mut sq) = ([0.0f32; L], [0.0f32; L]);
    let mut chunks = x.chunks_exact(L);
    for c in &mut chunks {
        for j in 0..L {
            pk[j] = pk[j].max(c[j].abs());
            sq[j] += c[j] * c[j];
        }
    }
    for (j, v) in chunks.remainder().iter().enumerate() {
        pk[j] = pk[j].max(v.abs());
        sq[j] += v * v;
    }
    (pk.iter().fold(0.0f32, |a, b| a.max(*b)), sq.iter().sum())
}

/// A count of silent samples after `n` more whose last sounding one (if any) is at
/// `last_sound`.
fn quiet_after(quiet: u64, n: usize, last_sound: Option<usize>) -> u64 {
    match last_sound {
        Some(i) => (n - 1 - i) as u64,
        None => quiet + n as u64,
    }
}

/// Where the EQ & dynamics section runs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Place {
    Input,
    Return,
}

/// Band solo (Listen): the band listened to (kept while its fade-out runs), its weight, the
/// band-pass it listens through, the settings that band-pass was made for, and what it let
/// through in the current slice.
struct Listen {
    band: Option<usize>,
    gain: Smoother,
    filter: PairCoeffs,
    state: StereoState,
    made_for: Option<BandSettings>,
    out: [Vec<f32>; CHANNELS],
}

impl Listen {
    fn new(sample_rate: f32) -> Self {
        Self {
            band: None,
            gain: Smoother::new(0.0, SOLO_MS, sample_rate),
            filter: PairCoeffs::IDENTITY,
            state: StereoState::default(),
            made_for: None,
            out: std::array::from_fn(|_| vec![0.0; CHUNK]),
        }
    }

    /// Band-passes `x` (the listened band's input) into `out`, if a band is listened to.
    fn take(&mut self, eq: &[BandSettings; BANDS], x: [&[f32]; 2]) {
        if let Some(k) = self.band {
            let ms = eq[k].placement.mid_side();
            band_listen(&self.filter, &mut self.state, ms, x, &mut self.out);
        }
    }

    /// The solo's weight for the next sample (0 when no band is listened to).
    #[inline]
    fn next_gain(&mut self) -> f32 {
        if self.band.is_some() {
            self.gain.next()
        } else {
            0.0
        }
    }

    /// Forgets the band once its fade-out has ended.
    fn end_if_faded(&mut self) {
        if self.gain.target() == 0.0 && self.gain.current() == 0.0 {
            self.band = None;
        }
    }
}

/// The band-pass `filter` of `x` (in the mid/side domain if `mid_side`) into `out`, the
/// lanes the filter leaves alone silent: what a band solo lets through.
fn band_listen(
    filter: &PairCoeffs,
    state: &mut StereoState,
    mid_side: bool,
    x: [&[f32]; 2],
    out: &mut [Vec<f32>; CHANNELS],
) {
    let silent = filter.identity_lanes();
    let [o0, o1] = out;
    for ((a, b), (y0, y1)) in x[0].iter().zip(x[1]).zip(o0.iter_mut().zip(o1.iter_mut())) {
        let (a, b) = (*a as f64, *b as f64);
        let u = if mid_side {
            [0.5 * (a + b), 0.5 * (a - b)]
        } else {
            [a, b]
        };
        let mut v = filter.tick(state, u);
        for (l, s) in v.iter_mut().zip(silent) {
            if s {
                *l = 0.0;
            }
        }
        let y = if mid_side {
            [v[0] + v[1], v[0] - v[1]]
        } else {
            v
        };
        *y0 = y[0] as f32;
        *y1 = y[1] as f32;
    }
    state.sanitize();
}

#[cfg(test)]
mod tests;
