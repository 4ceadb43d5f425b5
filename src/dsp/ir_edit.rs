//! Impulse-response edits: the non-destructive changes a user makes to a loaded IR before it
//! becomes a convolution kernel. Everything here allocates and takes milliseconds; it runs on
//! the background task (or in `activate`, the renderer and the tests), never in `process()`.
//!
//! The edits apply in a fixed order to an IR already at the session rate:
//!
//! ```text
//! stretch -> reverse -> start trim -> length (+ fade-out at the cut) -> attack (fade-in)
//!         -> decay shaping (after the hold) -> band decay (after the split, [`decay_bands`])
//!         -> early/late balance (crossfaded at the split)
//!         -> low cut -> high cut (12 dB/octave Butterworth, [`Coeffs`]) -> pre-delay -> capacity limit (+ fade-out)
//! ```
//!
//! Sample positions are exact: a tap at sample `k` of the input lands at `round(k * s)` after a
//! stretch by `s`, at `len - 1 - k` after a reverse, at `k - trim` after a trim of `trim`
//! samples and at `k + predelay` after a pre-delay (all rounded from milliseconds with
//! [`ms_to_samples`]). Tests check each of these.

use std::f64::consts::FRAC_1_SQRT_2;

use super::biquad::{Coeffs, State};
use super::decay_bands::{self, BandDecay};
use super::line_fit::LineFit;
use super::resample::resample;

/// Fade-out applied where the length edit or the capacity limit cuts the IR, seconds (at most
/// half of what is kept).
pub const CUT_FADE_S: f64 = 0.02;
/// Low-cut frequencies at or below this are "off", Hz.
pub const LOW_CUT_OFF_HZ: f32 = 20.0;
/// High-cut frequencies at or above this are "off", Hz.
pub const HIGH_CUT_OFF_HZ: f32 = 20_000.0;
/// Largest boost the decay shaping applies when it lengthens a decay, dB.
pub const MAX_DECAY_BOOST_DB: f64 = 30.0;
/// Early and late levels at or below this are silence ("-inf dB"), dB.
pub const LEVEL_OFF_DB: f32 = -48.0;
/// Length of the raised-cosine crossfade centred on the early/late split, seconds.
pub const SPLIT_FADE_S: f64 = 0.01;
/// The early/late split when the IR shows no mixing time, milliseconds.
pub const DEFAULT_SPLIT_MS: f32 = 80.0;
/// Sliding window of the echo-density measure of the mixing time, seconds.
pub const ECHO_DENSITY_WINDOW_S: f64 = 0.02;

/// The IR edits, in the units the user sees.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct IrEdits {
    /// Silence before the IR, milliseconds (0-500).
    pub predelay_ms: f32,
    /// Removed from the start of the (stretched, reversed) IR, milliseconds.
    pub trim_ms: f32,
    /// Part of the IR kept after the trim, percent (1-100); a cut gets a fade-out.
    pub length_pct: f32,
    /// Play the IR backwards.
    pub reverse: bool,
    /// Time scale, percent (50-200); 200 makes the IR twice as long (and an octave lower).
    pub stretch_pct: f32,
    /// Decay time as a percent of the IR's own (25-200), by an exponential envelope.
    pub decay_pct: f32,
    /// Decay time of the low band (below `decay_low_hz`) as a percent of its own (25-200),
    /// after the early/late split.
    pub decay_low_pct: f32,
    /// Decay time of the mid band as a percent of its own, after the split.
    pub decay_mid_pct: f32,
    /// Decay time of the high band (above `decay_high_hz`) as a percent of its own, after the
    /// split.
    pub decay_high_pct: f32,
    /// Crossover between the low and mid decay bands, Hz.
    pub decay_low_hz: f32,
    /// Crossover between the mid and high decay bands, Hz.
    pub decay_high_hz: f32,
    /// 12 dB/octave high-pass on the IR, Hz; at or below [`LOW_CUT_OFF_HZ`] it is off.
    pub low_cut_hz: f32,
    /// 12 dB/octave low-pass on the IR, Hz; at or above [`HIGH_CUT_OFF_HZ`] it is off.
    pub high_cut_hz: f32,
    /// Normalise the source IR to unit energy per output (applied when the source is
    /// prepared, before these edits; see [`crate::ir_file::normalize_energy`]).
    pub auto_gain: bool,
    /// Fade-in at the start of the (trimmed) IR, milliseconds (raised cosine; 0 = none).
    pub attack_ms: f32,
    /// Time the envelope holds before the decay shaping starts, milliseconds.
    pub hold_ms: f32,
    /// Level of the early part (before the split), dB; at or below [`LEVEL_OFF_DB`] silent.
    pub early_db: f32,
    /// Level of the tail (after the split), dB; at or below [`LEVEL_OFF_DB`] silent.
    pub late_db: f32,
    /// Where early becomes late, milliseconds from the IR's start; 0 = the IR's measured
    /// mixing time ([`mixing_time_s`]), or [`DEFAULT_SPLIT_MS`] if it shows none.
    pub split_ms: f32,
}

impl Default for IrEdits {
    fn default() -> Self {
        Self {
            predelay_ms: 0.0,
            trim_ms: 0.0,
            length_pct: 100.0,
            reverse: false,
            stretch_pct: 100.0,
            decay_pct: 100.0,
            decay_low_pct: 100.0,
            decay_mid_pct: 100.0,
            decay_high_pct: 100.0,
            decay_low_hz: 300.0,
            decay_high_hz: 4000.0,
            low_cut_hz: LOW_CUT_OFF_HZ,
            high_cut_hz: HIGH_CUT_OFF_HZ,
            auto_gain: true,
            attack_ms: 0.0,
            hold_ms: 0.0,
            early_db: 0.0,
            late_db: 0.0,
            split_ms: 0.0,
        }
    }
}

/// An edited IR and where the edits put things, for the editor's waveform view.
#[derive(Clone, Debug, PartialEq)]
pub struct EditedIr {
    /// The edited IR at the session rate, 1, 2 or 4 channels of equal length.
    pub channels: Vec<Vec<f32>>,
    /// Leading silence added by the pre-delay, samples.
    pub predelay: usize,
    /// The part of the stretched (and reversed) source that was kept, as fractions of its
    /// length: `(start, end)`.
    pub kept: (f32, f32),
    /// Whether the capacity limit cut the IR.
    pub truncated: bool,
    /// Where the early/late split lies, samples after the pre-delay.
    pub split: usize,
}

/// Milliseconds to whole samples at `rate` Hz (rounded to nearest).
pub fn ms_to_samples(ms: f32, rate: f32) -> usize {
    (ms.max(0.0) as f64 * rate as f64 / 1000.0).round() as usize
}

/// Applies `edits` to `ir` (at `rate` Hz) and limits the result to `capacity` samples.
/// Allocates.
///
/// # Panics
/// If `ir` has no channels or channels of different lengths.
pub fn apply(ir: &[Vec<f32>], rate: f32, edits: &IrEdits, capacity: usize) -> EditedIr {
    assert!(!ir.is_empty() && ir.iter().all(|c| c.len() == ir[0].len()));
    // Stretch: band-limited resampling by the time scale.
    let s = (edits.stretch_pct / 100.0).clamp(0.5, 2.0) as f64;
    let mut ch: Vec<Vec<f32>> = if (s - 1.0).abs() > 1e-6 && ir[0].len() > 1 {
        let from = rate.round() as u32;
        let to = (from as f64 * s).round() as u32;
        resample(ir, from, to)
    } else {
        ir.to_vec()
    };
    if edits.reverse {
        for c in &mut ch {
            c.reverse();
        }
    }
    let full = ch[0].len();
    let trim = ms_to_samples(edits.trim_ms, rate).min(full.saturating_sub(1));
    let remaining = full - trim;
    let keep = ((remaining as f64 * (edits.length_pct as f64 / 100.0).clamp(0.0, 1.0)).round()
        as usize)
        .clamp(1, remaining);
    for c in &mut ch {
        c.drain(..trim);
        c.truncate(keep);
    }
    if keep < remaining {
        fade_out(&mut ch, (CUT_FADE_S * rate as f64) as usize);
    }
    fade_in(&mut ch, ms_to_samples(edits.attack_ms, rate));
    let hold = ms_to_samples(edits.hold_ms, rate);
    shape_decay(&mut ch, rate as f64, edits.decay_pct as f64 / 100.0, hold);
    let split = if edits.split_ms > 0.0 {
        ms_to_samples(edits.split_ms, rate)
    } else {
        let t = mixing_time_s(&ch, rate as f64).unwrap_or(DEFAULT_SPLIT_MS as f64 / 1e3);
        (t * rate as f64).round() as usize
    };
    let bands = BandDecay {
        low: edits.decay_low_pct as f64 / 100.0,
        mid: edits.decay_mid_pct as f64 / 100.0,
        high: edits.decay_high_pct as f64 / 100.0,
        low_hz: edits.decay_low_hz as f64,
        high_hz: edits.decay_high_hz as f64,
    };
    decay_bands::apply(&mut ch, rate as f64, &bands, split);
    balance(&mut ch, rate as f64, split, edits.early_db, edits.late_db);
    if edits.low_cut_hz > LOW_CUT_OFF_HZ {
        let bq = Coeffs::high_pass(edits.low_cut_hz as f64, FRAC_1_SQRT_2, rate as f64);
        for c in &mut ch {
            State::default().filter(&bq, c);
        }
    }
    if edits.high_cut_hz < HIGH_CUT_OFF_HZ && (edits.high_cut_hz as f64) < 0.49 * rate as f64 {
        let bq = Coeffs::low_pass(edits.high_cut_hz as f64, FRAC_1_SQRT_2, rate as f64);
        for c in &mut ch {
            State::default().filter(&bq, c);
        }
    }
    let predelay = ms_to_samples(edits.predelay_ms, rate).min(capacity.saturating_sub(1));
    if predelay > 0 {
        for c in &mut ch {
            c.splice(0..0, std::iter::repeat_n(0.0, predelay));
        }
    }
    let truncated = ch[0].len() > capacity;
    if truncated {
        for c in &mut ch {
            c.truncate(capacity);
        }
        fade_out(&mut ch, (CUT_FADE_S * rate as f64) as usize);
    }
    EditedIr {
        channels: ch,
        predelay,
        kept: (
            trim as f32 / full as f32,
            (trim + keep) as f32 / full as f32,
        ),
        truncated,
        split,
    }
}

/// Linear gain of a level in dB, with [`LEVEL_OFF_DB`] and below silent.
fn level_gain(db: f32) -> f64 {
    if db <= LEVEL_OFF_DB {
        0.0
    } else {
        10f64.powf(db as f64 / 20.0)
    }
}

/// Raised-cosine fade over the first `len` samples (gain 0 at the first sample, 1 after).
fn fade_in(ch: &mut [Vec<f32>], len: usize) {
    let len = len.min(ch[0].len());
    for c in ch.iter_mut() {
        for (i, v) in c[..len].iter_mut().enumerate() {
            let g = 0.5 * (1.0 - (std::f64::consts::PI * i as f64 / len as f64).cos());
            *v = (*v as f64 * g) as f32;
        }
    }
}

/// Early part at `early_db`, tail at `late_db`, with a raised-cosine crossfade of
/// [`SPLIT_FADE_S`] centred on sample `split` (so the gain is continuous).
fn balance(ch: &mut [Vec<f32>], rate: f64, split: usize, early_db: f32, late_db: f32) {
    let (e, l) = (level_gain(early_db), level_gain(late_db));
    if e == 1.0 && l == 1.0 {
        return;
    }
    let half = ((SPLIT_FADE_S * rate / 2.0).round() as usize).max(1);
    let start = split.saturating_sub(half);
    let width = split + half - start;
    for c in ch.iter_mut() {
        for (i, v) in c.iter_mut().enumerate() {
            let g = if i < start {
                e
            } else if i >= start + width {
                l
            } else {
                let x = (i - start) as f64 / width as f64;
                let w = 0.5 * (1.0 - (std::f64::consts::PI * x).cos());
                e + (l - e) * w
            };
            *v = (*v as f64 * g) as f32;
        }
    }
}

/// The mixing time of `ch`, seconds from its start: where the normalised echo density (the
/// share of samples in a sliding [`ECHO_DENSITY_WINDOW_S`] window whose magnitude exceeds the
/// window's standard deviation, divided by that share for Gaussian noise, `erfc(1/sqrt 2)`)
/// first reaches 1: the tail has become diffuse (J. S. Abel, P. Huang, "A simple, robust
/// measure of reverberation echo density", AES 121st Convention, 2006). Measured per sample on
/// the root of the channels' summed squares with the first channel's sign, in steps of 1 ms;
/// `None` when the IR never becomes diffuse.
pub fn mixing_time_s(ch: &[Vec<f32>], rate: f64) -> Option<f64> {
    const GAUSSIAN_SHARE: f64 = 0.317_310_507_862_914_1; // erfc(1 / sqrt(2))
    let n = ch[0].len();
    let win = (ECHO_DENSITY_WINDOW_S * rate).round() as usize;
    let hop = ((rate / 1000.0).round() as usize).max(1);
    if n < win || win == 0 {
        return None;
    }
    // One signal per sample: the first channel carries the sign, all channels the energy.
    let x: Vec<f64> = (0..n)
        .map(|i| {
            let e: f64 = ch.iter().map(|c| (c[i] as f64).powi(2)).sum();
            e.sqrt() * if ch[0][i] < 0.0 { -1.0 } else { 1.0 }
        })
        .collect();
    let mut start = 0;
    while start + win <= n {
        let w = &x[start..start + win];
        let sd = (w.iter().map(|v| v * v).sum::<f64>() / win as f64).sqrt();
        if sd > 0.0 {
            let share = w.iter().filter(|v| v.abs() > sd).count() as f64 / win as f64;
            if share / GAUSSIAN_SHARE >= 1.0 {
                // The window's centre.
                return Some((start + win / 2) as f64 / rate);
            }
        }
        start += hop;
    }
    None
}

/// Raised-cosine fade over the last `len` samples (at most half of the IR).
fn fade_out(ch: &mut [Vec<f32>], len: usize) {
    let n = ch[0].len();
    let len = len.min(n / 2);
    for c in ch.iter_mut() {
        for i in 0..len {
            // Gain 1 just before the fade, 0 at the last sample.
            let x = (i + 1) as f64 / len as f64;
            let g = 0.5 * (1.0 + (std::f64::consts::PI * x).cos());
            c[n - len + i] *= g as f32;
        }
    }
}

/// Broadband decay time (RT60) of `ch`, seconds, from the Schroeder energy decay curve of
/// all channels: T20 (the -5 to -25 dB slope, times 3), or T10 times 6 when the curve does not
/// reach -25 dB. `None` for a silent IR or one too short to show a decay. (Schroeder, "New
/// method of measuring reverberation time", JASA 37, 1965; ISO 3382-1.)
pub fn decay_time_s(ch: &[Vec<f32>], rate: f64) -> Option<f64> {
    let n = ch[0].len();
    let edc = energy_decay(ch);
    if edc[0] <= 0.0 {
        return None;
    }
    let cross = |db: f64| {
        let lim = edc[0] * 10f64.powf(db / 10.0);
        (0..n).find(|&i| edc[i] < lim)
    };
    let t5 = cross(-5.0)?;
    if let Some(t25) = cross(-25.0) {
        if t25 > t5 {
            return Some(3.0 * (t25 - t5) as f64 / rate);
        }
    }
    let t15 = cross(-15.0)?;
    (t15 > t5).then(|| 6.0 * (t15 - t5) as f64 / rate)
}

/// The Schroeder backward integral of all channels' energy: `edc[i]` is the energy from sample
/// `i` to the end (`n + 1` values, the last 0).
pub fn energy_decay(ch: &[Vec<f32>]) -> Vec<f64> {
    let n = ch[0].len();
    let mut edc = vec![0.0f64; n + 1];
    for i in (0..n).rev() {
        edc[i] = edc[i + 1] + ch.iter().map(|c| (c[i] as f64).powi(2)).sum::<f64>();
    }
    edc
}

/// Decay measures of an IR for display: T30 (the least-squares slope of the energy decay
/// curve between -5 and -35 dB, extrapolated to 60 dB; ISO 3382-1) and T60 (where the curve
/// reaches -60 dB, if it does), seconds, each only when the curve gets there before the IR's
/// last tenth (where the integral falls away by truncation); and the curve itself in dB at
/// `points` evenly spaced times.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DecayMeasures {
    /// RT60 from the -5..-35 dB range, seconds.
    pub t30_s: Option<f32>,
    /// Time to -60 dB, seconds.
    pub t60_s: Option<f32>,
    /// The energy decay curve, dB re the total energy, at `i * len / points`.
    pub edc_db: Vec<f32>,
}

/// [`DecayMeasures`] of `ch` at `rate` Hz.
pub fn decay_measures(ch: &[Vec<f32>], rate: f64, points: usize) -> DecayMeasures {
    let edc = energy_decay(ch);
    let n = ch[0].len();
    let total = edc[0];
    if total <= 0.0 || n == 0 {
        return DecayMeasures {
            edc_db: vec![-120.0; points],
            ..Default::default()
        };
    }
    let db = |i: usize| (10.0 * (edc[i] / total).max(1e-12).log10()) as f32;
    let edc_db = (0..points).map(|k| db(k * n / points.max(1))).collect();
    // Least squares of dB against time over the -5..-35 dB samples. The backward integral
    // falls to nothing at the IR's end whatever the decay (truncation), so a level reached
    // only in the last tenth does not count.
    let usable = n - n / 10;
    let mut fit = LineFit::default();
    let mut reached = false;
    for i in 0..n {
        let d = db(i) as f64;
        if d <= -35.0 {
            reached = i < usable;
            break;
        }
        if d <= -5.0 {
            fit.add(i as f64 / rate, d);
        }
    }
    let slope = fit.slope();
    let t30_s = (reached && fit.count() >= 2 && slope < 0.0).then(|| (-60.0 / slope) as f32);
    let t60_s = (0..usable)
        .find(|&i| db(i) <= -60.0)
        .map(|i| (i as f64 / rate) as f32);
    DecayMeasures {
        t30_s,
        t60_s,
        edc_db,
    }
}

/// Scales the decay time by `factor` with the envelope `exp(-b t)`, where
/// `b = ln(10^3) (1/(factor T) - 1/T)` for the IR's own RT60 `T` ([`decay_time_s`]): an
/// exponential decay of time `T` becomes one of time `factor * T`. Lengthening boosts the
/// tail, at most [`MAX_DECAY_BOOST_DB`]. The envelope starts after `hold` samples (1 before).
fn shape_decay(ch: &mut [Vec<f32>], rate: f64, factor: f64, hold: usize) {
    let factor = factor.clamp(0.25, 2.0);
    if (factor - 1.0).abs() < 1e-6 {
        return;
    }
    let t = decay_time_s(ch, rate).unwrap_or(ch[0].len() as f64 / rate);
    if t <= 0.0 {
        return;
    }
    let b = 1000f64.ln() * (1.0 / (factor * t) - 1.0 / t);
    let max_gain = 10f64.powf(MAX_DECAY_BOOST_DB / 20.0);
    for c in ch.iter_mut() {
        for (i, v) in c.iter_mut().enumerate().skip(hold) {
            let g = (-b * (i - hold) as f64 / rate).exp().min(max_gain);
            *v = (*v as f64 * g) as f32;
        }
    }
}

#[cfg(test)]
mod tests;
