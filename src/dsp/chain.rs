//! The FluxForge signal chain, framework-free: the plugin, the offline renderer, the tests and
//! the benchmarks all drive this one type.
//!
//! ```text
//!  in ─┬─ sanitize ─ input gain ─ [EQ & dynamics] ─ character ─┬──────────────────────────────────────────────── dry ──┐
//!      │                                 └─ convolver ─ [EQ & dynamics] ─ ducking ─ width (M/S) ─ wet level ─ wet ─┴─ mix ─ output gain ─┐
//!      └──────────────────────────────────────────────────── (bypass crossfade) ──────────────────────────────────────┴─ out
//! ```
//!
//! The EQ & dynamics section (dynamic EQ, then spectral dynamics) sits in one of the two
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
use super::ducker::{DuckSettings, Ducker};
use super::dynamic_eq::{BandSettings, DynamicEq, BANDS};
use super::fast_math::db_to_gain;
use super::saturator::{Saturator, SaturatorSettings};
use super::simd::SimdLevel;
use super::smoother::Smoother;
use super::spectral_dynamics::{SpectralDynamics, SpectralSettings};

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
    /// The character (saturation) stage.
    pub character: SaturatorSettings,
    /// Where the EQ & dynamics section sits.
    pub eq_placement: EqPlacement,
    /// Ducking of the wet signal by the dry one.
    pub duck: DuckSettings,
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
            character: SaturatorSettings::default(),
            eq_placement: EqPlacement::Input,
            duck: DuckSettings::default(),
        }
    }
}

/// The EQ & dynamics section: dynamic EQ, then spectral dynamics.
struct Section {
    eq: DynamicEq,
    spectral: SpectralDynamics,
}

impl Section {
    fn new(rate: f32, s: &Settings) -> Self {
        Self {
            eq: DynamicEq::new(rate, &s.eq),
            spectral: SpectralDynamics::new(rate, &s.spectral),
        }
    }

    fn set_settings(&mut self, s: &Settings) {
        self.eq.set_settings(&s.eq);
        self.spectral.set_settings(&s.spectral);
    }

    fn reset(&mut self) {
        self.eq.reset();
        self.spectral.reset();
    }

    fn set_simd_level(&mut self, level: SimdLevel) {
        self.eq.set_simd_level(level);
        self.spectral.set_simd_level(level);
    }

    fn process(&mut self, x: [&mut [f32]; 2], key: Option<[&[f32]; 2]>) {
        let [a, b] = x;
        self.eq.process_keyed(&mut [&mut *a, &mut *b], key);
        self.spectral.process_keyed(&mut [a, b], key);
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
        self.process([&mut t0[..n], &mut t1[..n]], key);
        for c in 0..2 {
            for ((y, t), g) in x[c][..n].iter_mut().zip(&tmp[c][..n]).zip(w) {
                *y += g * (t - *y);
            }
        }
    }
}

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
    /// Band solo: the band listened to (kept while its fade-out runs), its weight, the
    /// band-pass it listens through and the settings that band-pass was made for.
    solo: Option<usize>,
    solo_gain: Smoother,
    solo_filter: PairCoeffs,
    solo_state: StereoState,
    solo_for: Option<BandSettings>,
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
    /// The sidechain has carried sound since the last reset (until then, detectors set to
    /// the sidechain listen to the main signal: a host that connects nothing sends silence).
    key_live: bool,
    /// Scratch `[channel][CHUNK]`: the sanitised sidechain, the unprocessed input, the gained
    /// dry signal, the wet signal, a copy for crossfades; `[CHUNK]`: the placement fade.
    key: [Vec<f32>; CHANNELS],
    listen: [Vec<f32>; CHANNELS],
    raw: [Vec<f32>; CHANNELS],
    dry: [Vec<f32>; CHANNELS],
    wet: [Vec<f32>; CHANNELS],
    tmp: [Vec<f32>; CHANNELS],
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
            solo: None,
            solo_gain: Smoother::new(0.0, SOLO_MS, sample_rate),
            solo_filter: PairCoeffs::IDENTITY,
            solo_state: StereoState::default(),
            solo_for: None,
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
            key_live: false,
            key: std::array::from_fn(|_| vec![0.0; CHUNK]),
            listen: std::array::from_fn(|_| vec![0.0; CHUNK]),
            raw: std::array::from_fn(|_| vec![0.0; CHUNK]),
            dry: std::array::from_fn(|_| vec![0.0; CHUNK]),
            wet: std::array::from_fn(|_| vec![0.0; CHUNK]),
            tmp: std::array::from_fn(|_| vec![0.0; CHUNK]),
            fade: vec![0.0; CHUNK],
        };
        e.set_settings(settings);
        e.snap_to_targets();
        e.set_simd_level(SimdLevel::detect());
        e
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
        self.saturator.set_settings(&s.character);
        self.at_input.set_settings(s);
        self.at_return.set_settings(s);
        self.ducker.set_settings(&s.duck);
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
        ] {
            let t = s.target();
            s.reset(t);
        }
    }

    /// Clears all signal state; a following run repeats exactly.
    pub fn reset(&mut self) {
        self.convolver.reset();
        self.saturator.reset();
        self.at_input.reset();
        self.at_return.reset();
        self.ducker.reset();
        self.key_live = false;
        self.solo_state = StereoState::default();
        self.snap_to_targets();
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
                if self.solo != Some(k) {
                    if self.solo_gain.current() == 0.0 {
                        self.solo_state = StereoState::default();
                    }
                    self.solo = Some(k);
                    self.solo_for = None;
                }
                self.solo_gain.set_target(1.0);
            }
            None => self.solo_gain.set_target(0.0),
        }
        if let Some(k) = self.solo {
            let s = self.eq_settings[k];
            if self.solo_for != Some(s) {
                let c = Coeffs::band_pass(
                    s.freq_hz.clamp(10.0, 0.45 * self.rate) as f64,
                    s.q.clamp(0.1, 40.0) as f64,
                    self.rate as f64,
                );
                self.solo_filter = PairCoeffs::masked(&c, s.placement.lanes());
                self.solo_for = Some(s);
            }
        }
    }

    /// The band being listened to (or fading out).
    pub fn solo(&self) -> Option<usize> {
        self.solo
    }

    /// A sidechain has carried sound since the last reset, so detectors set to External
    /// listen to it (for the editor).
    pub fn sidechain_live(&self) -> bool {
        self.key_live
    }

    /// The ducker's current reduction, dB (for the editor's meter).
    pub fn ducking_db(&self) -> f32 {
        self.ducker.reduction_db()
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
        let mut pos = 0;
        while pos < len {
            let n = CHUNK.min(len - pos);
            for c in 0..CHANNELS {
                for (r, x) in self.raw[c][..n].iter_mut().zip(&channels[c][pos..pos + n]) {
                    // `!(a <= b)` is also true for NaN.
                    *r = if x.abs() <= MAX_INPUT_LEVEL { *x } else { 0.0 };
                    peaks.input[c] = peaks.input[c].max(r.abs());
                    peaks.input_sq[c] += *r * *r;
                }
            }
            if let Some(k) = key {
                for (kc, sc) in self.key.iter_mut().zip(k) {
                    for (d, x) in kc[..n].iter_mut().zip(&sc[pos..pos + n]) {
                        *d = if x.abs() <= MAX_INPUT_LEVEL { *x } else { 0.0 };
                        self.key_live |= *d != 0.0;
                    }
                }
            }
            let sidechain =
                (key.is_some() && self.key_live).then(|| [&self.key[0][..n], &self.key[1][..n]]);
            for i in 0..n {
                let g = self.input_gain.next();
                for c in 0..CHANNELS {
                    self.dry[c][i] = self.raw[c][i] * g;
                }
            }
            // The placement fade of this slice (1 = at the input).
            for f in &mut self.fade[..n] {
                *f = self.place.next();
            }
            let (first, last) = (self.fade[0], self.fade[n - 1]);
            let listen_at_input = first >= 0.5;
            if let (Some(k), true) = (self.solo, listen_at_input) {
                let ms = self.eq_settings[k].placement.mid_side();
                band_listen(
                    &self.solo_filter,
                    &mut self.solo_state,
                    ms,
                    [&self.dry[0][..n], &self.dry[1][..n]],
                    &mut self.listen,
                );
            }
            let (all_input, all_return) =
                (first == 1.0 && last == 1.0, first == 0.0 && last == 0.0);
            if all_input {
                let [d0, d1] = &mut self.dry;
                self.at_input
                    .process([&mut d0[..n], &mut d1[..n]], sidechain);
            } else if !all_return {
                self.at_input.process_weighted(
                    &mut self.dry,
                    &mut self.tmp,
                    &self.fade[..n],
                    sidechain,
                );
            }
            {
                let [d0, d1] = &mut self.dry;
                self.saturator.process(&mut [&mut d0[..n], &mut d1[..n]]);
            }
            {
                let [d0, d1] = &self.dry;
                let [w0, w1] = &mut self.wet;
                self.convolver
                    .process(&[&d0[..n], &d1[..n]], &mut [&mut w0[..n], &mut w1[..n]]);
            }
            if let (Some(k), false) = (self.solo, listen_at_input) {
                let ms = self.eq_settings[k].placement.mid_side();
                band_listen(
                    &self.solo_filter,
                    &mut self.solo_state,
                    ms,
                    [&self.wet[0][..n], &self.wet[1][..n]],
                    &mut self.listen,
                );
            }
            if all_return {
                let [w0, w1] = &mut self.wet;
                self.at_return
                    .process([&mut w0[..n], &mut w1[..n]], sidechain);
            } else if !all_input {
                for f in &mut self.fade[..n] {
                    *f = 1.0 - *f;
                }
                self.at_return.process_weighted(
                    &mut self.wet,
                    &mut self.tmp,
                    &self.fade[..n],
                    sidechain,
                );
            }
            {
                let [d0, d1] = &self.dry;
                let [w0, w1] = &mut self.wet;
                self.ducker
                    .process([&d0[..n], &d1[..n]], [&mut w0[..n], &mut w1[..n]]);
            }
            for i in 0..n {
                let (m, og, b) = (self.mix.next(), self.output_gain.next(), self.bypass.next());
                // Wet width (mid/side) and level.
                let (w, wg) = (self.width.next(), self.wet_gain.next());
                let mid = 0.5 * (self.wet[0][i] + self.wet[1][i]);
                let side = 0.5 * (self.wet[0][i] - self.wet[1][i]) * w;
                let wet = [(mid + side) * wg, (mid - side) * wg];
                let solo = if self.solo.is_some() {
                    self.solo_gain.next()
                } else {
                    0.0
                };
                for c in 0..CHANNELS {
                    let mut y = ((1.0 - m) * self.dry[c][i] + m * wet[c]) * og;
                    if solo > 0.0 {
                        y += solo * (self.listen[c][i] * og - y);
                    }
                    let out = (1.0 - b) * y + b * self.raw[c][i];
                    channels[c][pos + i] = out;
                    peaks.output[c] = peaks.output[c].max(out.abs());
                    peaks.output_sq[c] += out * out;
                }
            }
            pos += n;
        }
        if self.solo_gain.target() == 0.0 && self.solo_gain.current() == 0.0 {
            self.solo = None;
        }
        peaks
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
mod tests {
    use super::*;
    use crate::dsp::convolver::{CostModel, PartitionPlan};
    use crate::dsp::rng::Rng;

    fn engine(settings: &Settings, ir: &[f32]) -> Engine {
        let plan = PartitionPlan::for_ir(ir.len(), 2, 2, 2, &CostModel::default());
        let k = Kernel::new(&plan, &[ir], 2, 2);
        Engine::new(48_000.0, Some(Box::new(k)), settings)
    }

    fn ir() -> Vec<f32> {
        let mut rng = Rng::new(3);
        (0..4000)
            .map(|i| {
                if i == 0 {
                    1.0
                } else {
                    (0.3 * rng.bipolar() * (-(i as f64) / 800.0).exp()) as f32
                }
            })
            .collect()
    }

    fn run(e: &mut Engine, x: &[f32], calls: &[usize]) -> Vec<f32> {
        let mut l = x.to_vec();
        let mut r = x.to_vec();
        let mut pos = 0;
        let mut k = 0;
        while pos < x.len() {
            let n = calls[k % calls.len()].min(x.len() - pos);
            e.process(&mut [&mut l[pos..pos + n], &mut r[pos..pos + n]]);
            pos += n;
            k += 1;
        }
        l
    }

    #[test]
    fn bypass_is_a_null_after_its_crossfade_and_dry_mix_is_a_gain() {
        let mut rng = Rng::new(9);
        let x: Vec<f32> = (0..20_000).map(|_| rng.bipolar() as f32 * 0.5).collect();
        let mut e = engine(
            &Settings {
                bypass: true,
                input_gain_db: 6.0,
                ..Default::default()
            },
            &ir(),
        );
        assert_eq!(
            run(&mut e, &x, &[64]),
            x,
            "bypassed output must equal input exactly"
        );
        let mut e = engine(
            &Settings {
                mix: 0.0,
                input_gain_db: -6.0,
                output_gain_db: 3.0,
                ..Default::default()
            },
            &ir(),
        );
        let y = run(&mut e, &x, &[100]);
        let g = db_to_gain(-3.0);
        assert!(y.iter().zip(&x).all(|(a, b)| (a - b * g).abs() < 1e-6));
    }

    #[test]
    fn delta_onset_at_sample_zero_and_block_size_independent() {
        let mut x = vec![0.0f32; 9000];
        x[0] = 1.0;
        let s = Settings {
            mix: 1.0,
            ..Default::default()
        };
        let a = run(&mut engine(&s, &ir()), &x, &[1, 7, 64, 511, 2048]);
        let b = run(&mut engine(&s, &ir()), &x, &[4096]);
        assert!((a[0] - 1.0).abs() < 1e-6, "wet onset at sample 0: {}", a[0]);
        let h = ir();
        for n in 0..4000 {
            assert!(
                (a[n] - h[n]).abs() < 1e-5 && (a[n] - b[n]).abs() < 1e-6,
                "n {n}"
            );
        }
    }

    /// A +12 dB bell at 1 kHz on band 2.
    fn boosting(mut s: Settings) -> Settings {
        s.eq[2].enabled = true;
        s.eq[2].freq_hz = 1000.0;
        s.eq[2].gain_db = 12.0;
        s.eq[2].q = 1.0;
        s
    }

    #[test]
    fn on_the_return_the_eq_shapes_only_the_wet_signal() {
        let mut rng = Rng::new(4);
        let x: Vec<f32> = (0..20_000).map(|_| 0.3 * rng.bipolar() as f32).collect();
        let dry = boosting(Settings {
            mix: 0.0,
            eq_placement: EqPlacement::Return,
            ..Default::default()
        });
        assert_eq!(
            run(&mut engine(&dry, &ir()), &x, &[64, 100]),
            x,
            "dry untouched"
        );
        // Fully wet, a static EQ commutes with the reverb: the same output in both places.
        let wet = Settings { mix: 1.0, ..dry };
        let a = run(&mut engine(&wet, &ir()), &x, &[64]);
        let input = Settings {
            eq_placement: EqPlacement::Input,
            ..wet
        };
        let b = run(&mut engine(&input, &ir()), &x, &[256, 7]);
        let err = a
            .iter()
            .zip(&b)
            .map(|(p, q)| (p - q).abs())
            .fold(0.0f32, f32::max);
        assert!(err < 1e-4, "{err}");
        let plain = run(
            &mut engine(
                &Settings {
                    mix: 1.0,
                    ..Default::default()
                },
                &ir(),
            ),
            &x,
            &[64],
        );
        assert!(
            a.iter().zip(&plain).any(|(p, q)| (p - q).abs() > 0.05),
            "the EQ acts"
        );
    }

    #[test]
    fn a_change_of_placement_crossfades() {
        // Dry only, a 1 kHz sine through a +12 dB bell at the input; the section moves to the
        // return: the output falls to the plain sine over the fade, without a step, and is
        // then exactly the input.
        let f = 1000.0;
        let x = crate::dsp::test_util::sine(f, 0.2, 24_000, 0, 48_000.0);
        let s = boosting(Settings {
            mix: 0.0,
            ..Default::default()
        });
        let mut e = engine(&s, &ir());
        let (mut l, mut r) = (x.clone(), x.clone());
        e.process(&mut [&mut l[..9_000], &mut r[..9_000]]);
        e.set_settings(&Settings {
            eq_placement: EqPlacement::Return,
            ..s
        });
        for (a, b) in l[9_000..].chunks_mut(37).zip(r[9_000..].chunks_mut(37)) {
            e.process(&mut [a, b]);
        }
        let peak = l.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        assert!(peak > 0.7, "boosted before the change: {peak}");
        let jump = l
            .windows(2)
            .map(|w| (w[1] - w[0]).abs())
            .fold(0.0, f32::max);
        let bound = 1.1 * std::f32::consts::TAU * f as f32 / 48_000.0 * peak;
        assert!(jump <= bound, "jump {jump} vs {bound}");
        let fade = (PLACEMENT_MS * 48.0) as usize;
        assert_eq!(
            &l[9_000 + fade..],
            &x[9_000 + fade..],
            "then the dry input exactly"
        );
    }

    #[test]
    fn every_simd_level_gives_the_baseline_output() {
        // Every vectorised stage on: dynamic bands, spectral dynamics, the convolver.
        let mut s = Settings {
            mix: 0.5,
            ..Default::default()
        };
        for b in &mut s.eq {
            b.enabled = true;
            b.dynamic = crate::dsp::dynamic_eq::DynamicMode::Down;
        }
        s.spectral.enabled = true;
        s.character.mode = crate::dsp::saturator::CharacterMode::Warm;
        let mut rng = Rng::new(21);
        let x: Vec<f32> = (0..24_000).map(|_| 0.5 * rng.bipolar() as f32).collect();
        let outputs: Vec<(SimdLevel, Vec<f32>)> = SimdLevel::available()
            .into_iter()
            .map(|level| {
                let mut e = engine(&s, &ir());
                e.set_simd_level(level);
                (level, run(&mut e, &x, &[64, 17, 256]))
            })
            .collect();
        let (_, base) = &outputs[0];
        let peak = base.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        assert!(peak > 0.1);
        for (level, y) in &outputs[1..] {
            let err = y
                .iter()
                .zip(base)
                .fold(0.0f32, |m, (a, b)| m.max((a - b).abs()));
            assert!(
                err < 1e-4 * peak,
                "{level:?}: max difference {err} (peak {peak})"
            );
        }
    }

    #[test]
    fn every_new_option_keeps_the_onset_at_sample_zero() {
        let mut x = vec![0.0f32; 9000];
        x[0] = 1.0;
        let mut s = Settings {
            mix: 1.0,
            eq_placement: EqPlacement::Return,
            duck: DuckSettings {
                threshold_db: -60.0,
                depth_db: 12.0,
                release_ms: 100.0,
            },
            ..Default::default()
        };
        s.eq[5].enabled = true; // a 48 dB/oct low cut at 30 Hz on the mid
        s.eq[5].slope = crate::dsp::dynamic_eq::Slope::Db48;
        s.eq[5].placement = crate::dsp::dynamic_eq::Placement::Mid;
        let a = run(&mut engine(&s, &ir()), &x, &[1, 7, 64]);
        // The cut's sections scale the first sample by the product of their b0 (0.99).
        assert!((a[0] - 1.0).abs() < 0.02, "onset at sample 0: {}", a[0]);
        assert!(a[1..].iter().all(|v| v.abs() < 0.5), "no later onset");
    }

    #[test]
    fn ducking_turns_the_wet_signal_down_under_a_loud_dry_signal() {
        // Fully wet; a -6 dBFS burst ducks the reverb by the depth (12 dB) while it plays.
        let x = crate::dsp::test_util::sine(500.0, 0.5, 48_000, 0, 48_000.0);
        let s = Settings {
            mix: 1.0,
            ..Default::default()
        };
        let ducked = Settings {
            duck: DuckSettings {
                threshold_db: -30.0,
                depth_db: 12.0,
                release_ms: 200.0,
            },
            ..s
        };
        let plain = run(&mut engine(&s, &ir()), &x, &[64]);
        let y = run(&mut engine(&ducked, &ir()), &x, &[64, 333]);
        let rms = |v: &[f32]| (v.iter().map(|a| a * a).sum::<f32>() / v.len() as f32).sqrt();
        let db = 20.0 * (rms(&y[24_000..]) / rms(&plain[24_000..])).log10();
        assert!((db + 12.0).abs() < 1.2, "{db} dB");
    }

    #[test]
    fn external_detectors_follow_the_sidechain_once_it_carries_sound() {
        // A dynamic bell at 1 kHz listening to the sidechain; the main signal is a loud 1 kHz
        // sine. While the sidechain is silent (nothing connected), the band listens to the main
        // signal and compresses; once the sidechain has carried sound, its silence means
        // "no compression"; a reset forgets it.
        let mut s = Settings {
            mix: 0.0,
            ..Default::default()
        };
        s.eq[2] = crate::dsp::dynamic_eq::BandSettings {
            enabled: true,
            freq_hz: 1000.0,
            q: 2.0,
            dynamic: crate::dsp::dynamic_eq::DynamicMode::Down,
            threshold_db: -20.0,
            source: crate::dsp::DetectorSource::External,
            ..s.eq[2]
        };
        let x = crate::dsp::test_util::sine(1000.0, 0.5, 48_000, 0, 48_000.0);
        let mut e = engine(&s, &ir());
        let play = |e: &mut Engine, key: &[f32]| {
            let (mut l, mut r) = (x.clone(), x.clone());
            for ((a, b), k) in l
                .chunks_mut(128)
                .zip(r.chunks_mut(128))
                .zip(key.chunks(128))
            {
                e.process_keyed(&mut [a, b], Some([k, k]));
            }
            e.eq().dynamic_gain_db()[2]
        };
        let silence = vec![0.0f32; 48_000];
        assert!(
            play(&mut e, &silence) < -6.0,
            "falls back to the main signal"
        );
        assert!(!e.sidechain_live());
        let mut blip = silence.clone();
        blip[100] = 0.1;
        let g = play(&mut e, &blip);
        assert!(e.sidechain_live());
        assert!(
            g > -0.5,
            "a live but silent sidechain releases the band: {g} dB"
        );
        e.reset();
        assert!(!e.sidechain_live());
        assert!(play(&mut e, &silence) < -6.0);
    }

    #[test]
    fn a_band_solo_plays_what_the_band_acts_on_and_fades_in_and_out() {
        use crate::dsp::dynamic_eq::Placement;
        // 200 Hz, 1 kHz and 5 kHz at equal level through a 1 kHz band (Q 2), dry only.
        let len = 48_000;
        let sine = |f: f64| crate::dsp::test_util::sine(f, 0.2, len, 0, 48_000.0);
        let (a, b, c) = (sine(200.0), sine(1000.0), sine(5000.0));
        let x: Vec<f32> = (0..len).map(|i| a[i] + b[i] + c[i]).collect();
        let mut s = boosting(Settings {
            mix: 0.0,
            ..Default::default()
        });
        s.eq[2].q = 2.0;
        let bp = Coeffs::band_pass(1000.0, 2.0, 48_000.0);
        for placement in [Placement::Stereo, Placement::Left, Placement::Mid] {
            s.eq[2].placement = placement;
            let mut e = engine(&s, &ir());
            e.set_solo(Some(2));
            let (mut l, mut r) = (x.clone(), x.clone());
            for (p, q) in l.chunks_mut(100).zip(r.chunks_mut(100)) {
                e.process(&mut [p, q]);
            }
            let db = |y: &[f32], f: f64| {
                20.0 * (crate::dsp::test_util::amplitude(&y[24_000..], f, 48_000.0) / 0.2).log10()
            };
            for f in [200.0, 1000.0, 5000.0] {
                let want = 20.0 * bp.magnitude(f, 48_000.0).log10();
                assert!(
                    (db(&l, f) - want).abs() < 0.1,
                    "{placement:?}: {f} Hz at {} dB, the band-pass says {want}",
                    db(&l, f)
                );
            }
            match placement {
                Placement::Left => assert!(r[2000..].iter().all(|&v| v == 0.0), "right silent"),
                _ => assert_eq!(l, r, "{placement:?}: the same on both sides"),
            }
            // Released: back to the band's normal output after the fade, without a step.
            e.set_solo(None);
            let (mut l2, mut r2) = (x.clone(), x.clone());
            e.process(&mut [&mut l2, &mut r2]);
            assert_eq!(e.solo(), None);
            let mut f = engine(&s, &ir());
            let (mut l3, mut r3) = (x.clone(), x.clone());
            f.process(&mut [&mut l3, &mut r3]);
            let fade = (SOLO_MS * 48.0) as usize;
            let err = l2[fade + 2000..]
                .iter()
                .zip(&l3[fade + 2000..])
                .map(|(p, q)| (p - q).abs())
                .fold(0.0, f32::max);
            assert!(err < 1e-4, "{placement:?}: {err}");
            let jump = l2[..fade + 10]
                .windows(2)
                .map(|w| (w[1] - w[0]).abs())
                .fold(0.0, f32::max);
            // Three sines of 0.2 (one boosted 12 dB): at most 2 pi 5 kHz / 48 kHz per unit.
            assert!(jump < 0.75, "{placement:?}: jump {jump}");
        }
    }

    #[test]
    fn automation_ramps_without_steps() {
        let x = vec![0.5f32; 4800];
        let mut e = engine(
            &Settings {
                mix: 0.0,
                ..Default::default()
            },
            &ir(),
        );
        let mut l = x.clone();
        let mut r = x.clone();
        e.process(&mut [&mut l[..100], &mut r[..100]]);
        e.set_settings(&Settings {
            mix: 0.0,
            output_gain_db: -24.0,
            ..Default::default()
        });
        e.process(&mut [&mut l[100..], &mut r[100..]]);
        let max_step = l
            .windows(2)
            .map(|w| (w[1] - w[0]).abs())
            .fold(0.0f32, f32::max);
        // A 20 ms linear ramp from 0.5 to 0.5*0.063 moves at most 0.47/960 per sample.
        assert!(max_step < 0.47 / 960.0 * 1.01, "step {max_step}");
        assert!((l[4799] - 0.5 * db_to_gain(-24.0)).abs() < 1e-6);
    }

    #[test]
    fn an_absurd_burst_is_silence_and_hot_signals_pass_bit_exactly() {
        // One corrupt buffer of 1e30 samples inside a signal: the output stays at the level
        // of the real signal, with the reverb fully wet.
        let mut rng = crate::dsp::rng::Rng::new(5);
        let mut x: Vec<f32> = (0..48_000).map(|_| 0.5 * rng.bipolar() as f32).collect();
        for v in &mut x[10_000..10_512] {
            *v = 1e30;
        }
        x[20_000] = -3e5;
        let wet = Settings {
            mix: 1.0,
            ..Default::default()
        };
        let y = run(&mut engine(&wet, &ir()), &x, &[64, 333]);
        let mut clean = x.clone();
        clean[10_000..10_512].fill(0.0);
        clean[20_000] = 0.0;
        let want = run(&mut engine(&wet, &ir()), &clean, &[512]);
        assert!(y.iter().zip(&want).all(|(a, b)| (a - b).abs() < 1e-5));
        assert!(y.iter().all(|v| v.abs() < 100.0));

        // +24 dBFS noise and the bound itself pass the dry path bit-exactly.
        let mut hot: Vec<f32> = (0..20_000).map(|_| 15.85 * rng.bipolar() as f32).collect();
        hot[100] = MAX_INPUT_LEVEL;
        hot[200] = -MAX_INPUT_LEVEL;
        let dry = Settings {
            mix: 0.0,
            ..Default::default()
        };
        let y = run(&mut engine(&dry, &ir()), &hot, &[64, 1000]);
        assert_eq!(y, hot, "hot input is untouched");
        let bypassed = Settings {
            bypass: true,
            ..Default::default()
        };
        let y = run(&mut engine(&bypassed, &ir()), &hot, &[64]);
        assert_eq!(y, hot, "bypass passes hot input");
    }

    #[test]
    fn nan_and_inf_do_not_poison_the_reverb() {
        let mut x = vec![0.0f32; 20_000];
        x[10] = f32::NAN;
        x[20] = f32::INFINITY;
        x[30] = 1.0;
        let mut e = engine(
            &Settings {
                mix: 1.0,
                ..Default::default()
            },
            &ir(),
        );
        let y = run(&mut e, &x, &[64]);
        assert!(y.iter().all(|v| v.is_finite()));
        assert!((y[30] - 1.0).abs() < 1e-6, "later input still processed");
    }
}
