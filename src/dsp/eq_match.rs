//! EQ match: the curve that moves one material's long-term spectrum onto a reference's, and
//! the zero-latency filter that plays it.
//!
//! 1. **Curve** ([`match_curve`]): on the grid of [`long_term_spectrum`](super::long_term_spectrum)
//!    (121 points, 1/12 octave apart, each the mean power over a third of an octave), the
//!    reference's level minus the input's, points where either heard nothing taking their
//!    nearest heard neighbour's value, shifted so its mean over [`MEAN_LOW_HZ`]..[`MEAN_HIGH_HZ`]
//!    is 0 dB (the match changes the tone, not the loudness) and clamped to ±[`MAX_DB`].
//! 2. **Design** ([`MatchDesign::new`], off the audio thread): the curve, scaled by the
//!    amount, as a minimum-phase response (the real cepstrum of its log magnitude on a
//!    [`DENSE`]-point grid; A. V. Oppenheim, R. W. Schafer, "Discrete-Time Signal
//!    Processing", 3rd ed., sec. 13.8), fitted by a fixed-pole parallel filter
//!    ([`super::parallel_filter`]) on [`GRID`] log-spaced frequencies. The minimum-phase log
//!    spectrum is linear in the log magnitude, so the target at amount `a` is
//!    `exp(a C)` for the one spectrum `C` of the whole curve: the fit is made for
//!    [`AMOUNT_STEPS`] amounts from 0 to [`MAX_AMOUNT`] at once (one factorisation, one
//!    back-substitution each), and an amount between two steps interpolates their
//!    numerators (the responses then differ from the exact design by less than 0.05 dB).
//! 3. **Stage** ([`MatchEq`]): the parallel filter with its numerators moved on a fixed grid
//!    of [`STEP`] samples: the amount smoothed, a new design crossfaded over [`FADE_MS`]
//!    (numerators interpolate; the recursion, which depends only on the poles, runs on).
//!    No latency, no allocation; idle (and exact) while the curve is flat.

use realfft::num_complex::Complex;
use realfft::RealFftPlanner;

use super::long_term_spectrum::{point_hz, FLOOR_DB, POINTS};
use super::parallel_filter::{Fit, Numerators, ParallelFilter, Poles, Ramp};
use super::simd::SimdLevel;
use super::smoother::Smoother;

/// A match curve: dB per point of the long-term spectrum's grid.
pub type Curve = [f32; POINTS];

/// The largest boost or cut of a curve, dB.
pub const MAX_DB: f32 = 24.0;
/// The curve's mean over this range is 0 dB, Hz.
pub const MEAN_LOW_HZ: f32 = 50.0;
/// See [`MEAN_LOW_HZ`].
pub const MEAN_HIGH_HZ: f32 = 15_000.0;
/// The largest amount (the curve doubled).
pub const MAX_AMOUNT: f32 = 2.0;
/// Amounts designed: 0, 1/8, ... [`MAX_AMOUNT`].
pub const AMOUNT_STEPS: usize = 17;
/// Points of the minimum-phase spectrum.
pub const DENSE: usize = 1 << 16;
/// Frequencies the filter is fitted on (log-spaced from 10 Hz to 0.49 of the rate).
pub const GRID: usize = 480;
/// Numerator update interval, samples.
pub const STEP: usize = 32;
/// Crossfade to a new design, ms.
pub const FADE_MS: f32 = 50.0;
/// Amount smoothing, ms.
pub const AMOUNT_MS: f32 = 20.0;

/// The curve that moves `input_db` onto `reference_db` (both long-term spectra on the
/// grid), or `None` when either heard nothing in [`MEAN_LOW_HZ`]..[`MEAN_HIGH_HZ`].
pub fn match_curve(input_db: &Curve, reference_db: &Curve) -> Option<Curve> {
    let heard = |i: usize| input_db[i] > FLOOR_DB + 1.0 && reference_db[i] > FLOOR_DB + 1.0;
    let in_mean = |i: usize| (MEAN_LOW_HZ..=MEAN_HIGH_HZ).contains(&point_hz(i));
    let (mut sum, mut count) = (0.0f64, 0usize);
    for i in (0..POINTS).filter(|&i| heard(i) && in_mean(i)) {
        sum += (reference_db[i] - input_db[i]) as f64;
        count += 1;
    }
    if count == 0 {
        return None;
    }
    let mean = (sum / count as f64) as f32;
    let nearest_heard = |i: usize| {
        (0..POINTS)
            .filter(|&j| heard(j))
            .min_by_key(|&j| j.abs_diff(i))
            .unwrap_or(i)
    };
    Some(std::array::from_fn(|i| {
        let j = if heard(i) { i } else { nearest_heard(i) };
        (reference_db[j] - input_db[j] - mean).clamp(-MAX_DB, MAX_DB)
    }))
}

/// A curve from stored values: `None` unless there is one per point; values that are not
/// finite become 0 dB, the rest are clamped to ±[`MAX_DB`].
pub fn sanitize(values: &[f32]) -> Option<Curve> {
    (values.len() == POINTS).then(|| {
        std::array::from_fn(|i| {
            let v = values[i];
            if v.is_finite() {
                v.clamp(-MAX_DB, MAX_DB)
            } else {
                0.0
            }
        })
    })
}

/// The curve at `hz`: linear in dB against log frequency between points, held beyond the
/// ends.
pub fn curve_db_at(curve: &Curve, hz: f32) -> f32 {
    let x = ((hz.max(1e-3) / point_hz(0)).log2() * 12.0).clamp(0.0, (POINTS - 1) as f32);
    let i = (x.floor() as usize).min(POINTS - 2);
    let t = x - i as f32;
    curve[i] + t * (curve[i + 1] - curve[i])
}

/// A curve fitted at one sample rate for every amount.
#[derive(Clone, Debug)]
pub struct MatchDesign {
    /// The curve it plays at amount 1.
    pub curve: Curve,
    /// Sample rate, Hz.
    pub rate: f32,
    poles: Poles,
    /// Numerators for amount `step / 8`.
    table: [Numerators; AMOUNT_STEPS],
    flat: bool,
}

impl MatchDesign {
    /// The flat curve (the identity at every amount). No allocation.
    pub fn flat(rate: f32) -> Self {
        Self {
            curve: [0.0; POINTS],
            rate,
            poles: Poles::log_spaced(rate as f64),
            table: [Numerators::IDENTITY; AMOUNT_STEPS],
            flat: true,
        }
    }

    /// The design of `curve` at `rate` Hz. Allocates and takes a few milliseconds: not for
    /// the audio thread.
    pub fn new(curve: &Curve, rate: f32) -> Self {
        if curve.iter().all(|&v| v == 0.0) {
            return Self::flat(rate);
        }
        let rate64 = rate as f64;
        let poles = Poles::log_spaced(rate64);
        let log_spectrum = min_phase_log_spectrum(curve, rate);
        let grid: Vec<f64> = (0..GRID)
            .map(|i| {
                let (lo, hi) = (10.0f64, 0.49 * rate64);
                std::f64::consts::TAU * lo * (hi / lo).powf(i as f64 / (GRID - 1) as f64) / rate64
            })
            .collect();
        // The log spectrum at each grid frequency, between its two nearest bins.
        let c: Vec<Complex<f64>> = grid
            .iter()
            .map(|&w| {
                let x = w / std::f64::consts::TAU * DENSE as f64;
                let k = (x.floor() as usize).min(DENSE / 2 - 1);
                let t = x - k as f64;
                log_spectrum[k] * (1.0 - t) + log_spectrum[k + 1] * t
            })
            .collect();
        let fit = Fit::new(&poles, &grid);
        let mut target = vec![Complex::new(0.0, 0.0); GRID];
        let table = std::array::from_fn(|s| {
            if s == 0 {
                return Numerators::IDENTITY;
            }
            let a = amount_of_step(s) as f64;
            for (t, c) in target.iter_mut().zip(&c) {
                *t = (c * a).exp();
            }
            fit.solve(&target)
        });
        Self {
            curve: *curve,
            rate,
            poles,
            table,
            flat: false,
        }
    }

    /// Whether the curve is flat (the stage then does nothing).
    pub fn is_flat(&self) -> bool {
        self.flat
    }

    /// The numerators at `amount` (clamped to 0..=[`MAX_AMOUNT`]).
    pub fn numerators(&self, amount: f32) -> Numerators {
        let x = (amount.clamp(0.0, MAX_AMOUNT) / MAX_AMOUNT) * (AMOUNT_STEPS - 1) as f32;
        let i = (x.floor() as usize).min(AMOUNT_STEPS - 2);
        self.table[i].lerp(&self.table[i + 1], (x - i as f32) as f64)
    }

    /// The magnitude the filter plays at `amount`, at `hz`, dB.
    pub fn response_db(&self, amount: f32, hz: f32) -> f32 {
        let w = std::f64::consts::TAU * hz as f64 / self.rate as f64;
        let h = self.poles.response(&self.numerators(amount), w);
        (20.0 * h.norm().max(1e-12).log10()) as f32
    }
}

fn amount_of_step(step: usize) -> f32 {
    MAX_AMOUNT * step as f32 / (AMOUNT_STEPS - 1) as f32
}

/// `ln |H| + j arg H` of the minimum-phase response whose magnitude is `curve`, on
/// `DENSE / 2 + 1` bins from 0 to Nyquist.
fn min_phase_log_spectrum(curve: &Curve, rate: f32) -> Vec<Complex<f64>> {
    let mut planner = RealFftPlanner::<f64>::new();
    let inv = planner.plan_fft_inverse(DENSE);
    let fwd = planner.plan_fft_forward(DENSE);
    let ln = std::f64::consts::LN_10 / 20.0;
    let mut spec: Vec<Complex<f64>> = (0..=DENSE / 2)
        .map(|k| {
            let hz = k as f32 * rate / DENSE as f32;
            Complex::new(curve_db_at(curve, hz) as f64 * ln, 0.0)
        })
        .collect();
    let mut cep = inv.make_output_vec();
    let _ = inv.process(&mut spec, &mut cep);
    // Fold onto positive quefrencies (and undo the inverse transform's factor).
    let half = DENSE / 2;
    let scale = 1.0 / DENSE as f64;
    cep[0] *= scale;
    for v in &mut cep[1..half] {
        *v *= 2.0 * scale;
    }
    cep[half] *= scale;
    cep[half + 1..].fill(0.0);
    let _ = fwd.process(&mut cep, &mut spec);
    spec
}

/// The EQ match stage (stereo, linked).
pub struct MatchEq {
    simd: SimdLevel,
    filter: ParallelFilter,
    /// The design playing, the one being faded to, and one that arrived during the fade
    /// (faded to next); all at `rate`.
    current: Box<MatchDesign>,
    next: Box<MatchDesign>,
    pending: Box<MatchDesign>,
    has_pending: bool,
    /// Samples into the fade to `next` (`None`: not fading).
    fade: Option<usize>,
    fade_len: usize,
    amount: Smoother,
    /// Numerators at the start of the current step, and at its end.
    from: Numerators,
    to: Numerators,
    /// Samples into the current step.
    pos: usize,
    rate: f32,
}

impl MatchEq {
    /// A flat stage at `rate` Hz. Allocates.
    pub fn new(rate: f32, amount: f32) -> Self {
        Self {
            simd: SimdLevel::detect(),
            filter: ParallelFilter::default(),
            current: Box::new(MatchDesign::flat(rate)),
            next: Box::new(MatchDesign::flat(rate)),
            pending: Box::new(MatchDesign::flat(rate)),
            has_pending: false,
            fade: None,
            fade_len: ((FADE_MS * 1e-3 * rate) as usize).max(STEP),
            amount: Smoother::new(amount, AMOUNT_MS, rate),
            from: Numerators::IDENTITY,
            to: Numerators::IDENTITY,
            pos: 0,
            rate,
        }
    }

    /// Runs at `level`.
    pub fn set_simd_level(&mut self, level: SimdLevel) {
        self.simd = level;
    }

    /// The amount (0 = flat, 1 = the curve, up to [`MAX_AMOUNT`]); smoothed.
    pub fn set_amount(&mut self, amount: f32) {
        self.amount.set_target(amount.clamp(0.0, MAX_AMOUNT));
    }

    /// Crossfades to `design` (copied; no allocation); during a fade, it is faded to when
    /// that fade ends. A design for another rate is ignored.
    pub fn load(&mut self, design: &MatchDesign) {
        if design.rate != self.rate {
            return;
        }
        if self.fade.is_some() {
            *self.pending = design.clone();
            self.has_pending = true;
        } else {
            *self.next = design.clone();
            self.fade = Some(0);
        }
    }

    /// The curve playing (the newest loaded).
    pub fn curve(&self) -> &Curve {
        match (self.has_pending, self.fade) {
            (true, _) => &self.pending.curve,
            (false, Some(_)) => &self.next.curve,
            (false, None) => &self.current.curve,
        }
    }

    /// Clears the filter; fades in progress complete at once.
    pub fn reset(&mut self) {
        if self.fade.take().is_some() {
            std::mem::swap(&mut self.current, &mut self.next);
        }
        if std::mem::take(&mut self.has_pending) {
            std::mem::swap(&mut self.current, &mut self.pending);
        }
        self.filter.reset();
        self.amount.reset(self.amount.target());
        self.from = self.current.numerators(self.amount.current());
        self.to = self.from;
        self.pos = 0;
    }

    /// Whether the stage does anything.
    pub fn is_active(&self) -> bool {
        !self.current.is_flat() || self.fade.is_some()
    }

    /// Filters `x` in place (the key is not used: the stage is static). No allocation.
    pub fn process_keyed(&mut self, x: &mut [&mut [f32]; 2], _key: Option<[&[f32]; 2]>) {
        let n = x[0].len();
        assert_eq!(x[1].len(), n);
        let mut done = 0;
        while done < n {
            if !self.is_active() {
                // Flat: nothing to do; the filter restarts from silence when a curve comes.
                self.filter.reset();
                self.amount.skip(n - done);
                self.pos = 0;
                self.from = Numerators::IDENTITY;
                self.to = Numerators::IDENTITY;
                return;
            }
            if self.pos == 0 {
                self.next_step();
            }
            let len = (STEP - self.pos).min(n - done);
            let [l, r] = x;
            let ramp = Ramp::new(&self.from, &self.to);
            self.filter.process_ramp(
                self.simd,
                &self.current.poles,
                &ramp,
                self.pos,
                STEP,
                &mut [&mut l[done..done + len], &mut r[done..done + len]],
            );
            self.pos = (self.pos + len) % STEP;
            done += len;
        }
    }

    /// Numerators at the end of the step starting now.
    fn next_step(&mut self) {
        self.from = self.to;
        self.amount.skip(STEP);
        let a = self.amount.current();
        self.to = match self.fade {
            Some(f) => {
                let f = (f + STEP).min(self.fade_len);
                let t = f as f64 / self.fade_len as f64;
                let mixed = self.current.numerators(a).lerp(&self.next.numerators(a), t);
                if f == self.fade_len {
                    std::mem::swap(&mut self.current, &mut self.next);
                    self.fade = None;
                    if std::mem::take(&mut self.has_pending) {
                        std::mem::swap(&mut self.next, &mut self.pending);
                        self.fade = Some(0);
                    }
                } else {
                    self.fade = Some(f);
                }
                mixed
            }
            None => self.current.numerators(a),
        };
    }
}

#[cfg(test)]
mod tests;
