//! Room capture with the exponential sine sweep (A. Farina, "Simultaneous measurement of
//! impulse response and distortion with a swept-sine technique", AES 108th Convention, 2000).
//!
//! A sweep whose frequency rises exponentially, `f(t) = f1 e^(t/L)` with `L = T / ln(f2/f1)`,
//! is played into a room and recorded. Deconvolving the recording by the sweep gives the
//! room's linear impulse response at lag 0 and, because each harmonic `k` of the sweep runs
//! ahead of the fundamental by `L ln k`, the response of every harmonic distortion product at
//! the negative lag `-L ln k`: the distortion of the loudspeaker is separated from the room in
//! time, not mixed into it.
//!
//! The inverse filter is the sweep's own regularised inverse (O. Kirkeby et al., "Fast
//! deconvolution of multichannel systems using regularization", IEEE Trans. SAP 6(2), 1998):
//! `conj(X) / (|X|^2 + eps(f))`. Inside the sweep's band `eps` is 1e-8 of the peak power, so the
//! inverse is exact there (Farina's time-reversed sweep with its +6 dB/octave envelope, and
//! exact for the fades at the ends); over an octave outside the band it rises to the peak
//! power, so rumble and ultrasonic noise the sweep never excited are not amplified.
//!
//! Everything here allocates and takes up to seconds: it runs in the renderer and tests.

use std::f64::consts::PI;

use realfft::num_complex::Complex;
use realfft::RealFftPlanner;

/// Regularisation of the inverse inside the sweep's band, relative to its peak power: a
/// 20 Hz .. 20 kHz sweep's power falls 30 dB across its range, so the in-band error stays
/// below 1e-5 (1e-4 dB).
const BETA_IN: f64 = 1e-8;
/// Regularisation an octave and more outside the band: the peak power.
const BETA_OUT: f64 = 1.0;

/// What a sweep is.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SweepSpec {
    /// Sample rate, Hz.
    pub rate: u32,
    /// Length of the sweep itself, seconds.
    pub seconds: f64,
    /// Start frequency, Hz.
    pub from_hz: f64,
    /// End frequency, Hz.
    pub to_hz: f64,
    /// Peak level, dBFS.
    pub level_db: f64,
    /// Silence after the sweep, seconds (time for the room's tail to be recorded).
    pub silence_s: f64,
}

impl Default for SweepSpec {
    fn default() -> Self {
        Self {
            rate: 48_000,
            seconds: 10.0,
            from_hz: 20.0,
            to_hz: 20_000.0,
            level_db: -6.0,
            silence_s: 4.0,
        }
    }
}

impl SweepSpec {
    /// Checks the ranges; the message names what is wrong.
    pub fn check(&self) -> Result<(), String> {
        let nyquist = self.rate as f64 / 2.0;
        if !(8_000..=384_000).contains(&self.rate) {
            return Err(format!("sample rate {} Hz: 8000..384000", self.rate));
        }
        if !(1.0..=120.0).contains(&self.seconds) {
            return Err(format!("sweep length {} s: 1..120 s", self.seconds));
        }
        if !(self.from_hz >= 1.0 && self.to_hz <= nyquist * 0.98 && self.to_hz > self.from_hz * 2.0)
        {
            return Err(format!(
                "sweep range {}..{} Hz: from >= 1 Hz, to <= {:.0} Hz (98 % of half the rate), \
                 at least an octave",
                self.from_hz,
                self.to_hz,
                nyquist * 0.98
            ));
        }
        if !(-60.0..=0.0).contains(&self.level_db) {
            return Err(format!("sweep level {} dBFS: -60..0", self.level_db));
        }
        if !(0.0..=60.0).contains(&self.silence_s) {
            return Err(format!(
                "silence after the sweep {} s: 0..60 s",
                self.silence_s
            ));
        }
        Ok(())
    }

    /// The sweep's rate constant `L = T / ln(f2/f1)`, seconds: harmonic `k` lands `L ln k`
    /// before the linear response.
    pub fn rate_constant(&self) -> f64 {
        self.seconds / (self.to_hz / self.from_hz).ln()
    }

    /// The longest room tail that stays clear of the second harmonic's response, seconds.
    pub fn clear_tail_seconds(&self) -> f64 {
        self.rate_constant() * 2f64.ln()
    }

    /// The sweep and its silence, mono. The start fades in over a quarter octave and the end
    /// fades out over a twenty-fourth of an octave (raised cosines), so neither end clicks.
    pub fn render(&self) -> Vec<f32> {
        let rate = self.rate as f64;
        let l = self.rate_constant();
        let n = (self.seconds * rate).round() as usize;
        let fade_in = ((l * 2f64.ln() / 4.0) * rate).min(n as f64 / 10.0).max(1.0);
        let fade_out = ((l * 2f64.ln() / 24.0) * rate)
            .min(n as f64 / 10.0)
            .max(1.0);
        let amp = 10f64.powf(self.level_db / 20.0);
        let mut out = vec![0.0f32; n + (self.silence_s * rate).round() as usize];
        for (i, o) in out[..n].iter_mut().enumerate() {
            let t = i as f64 / rate;
            let phase = 2.0 * PI * self.from_hz * l * ((t / l).exp() - 1.0);
            let tail = (n - 1 - i) as f64;
            let env = raised(i as f64 / fade_in) * raised(tail / fade_out);
            *o = (amp * env * phase.sin()) as f32;
        }
        out
    }
}

/// Half a raised cosine: 0 at `x <= 0`, 1 at `x >= 1`.
fn raised(x: f64) -> f64 {
    if x >= 1.0 {
        1.0
    } else if x <= 0.0 {
        0.0
    } else {
        0.5 - 0.5 * (PI * x).cos()
    }
}

/// The span `[first, last]` of non-silent samples (above -100 dBFS), if any.
fn active_span(x: &[f32]) -> Option<(usize, usize)> {
    let loud = |v: &f32| v.abs() > 1e-5;
    Some((x.iter().position(loud)?, x.iter().rposition(loud)?))
}

/// The frequency around sample `at` from the zero crossings within `half` samples of it, Hz.
fn crossing_rate(x: &[f32], at: usize, half: usize, rate: f64) -> Option<f64> {
    let lo = at.saturating_sub(half);
    let hi = (at + half).min(x.len() - 1);
    // Sub-sample crossing times (linear interpolation), first and last.
    let mut first = None;
    let mut last = 0.0;
    let mut count = 0usize;
    for i in lo..hi {
        let (a, b) = (x[i] as f64, x[i + 1] as f64);
        if (a <= 0.0 && b > 0.0) || (a >= 0.0 && b < 0.0) {
            let t = i as f64 + a / (a - b);
            first.get_or_insert(t);
            last = t;
            count += 1;
        }
    }
    let first = first?;
    (count >= 8).then(|| (count - 1) as f64 / 2.0 / ((last - first) / rate))
}

/// What a sweep file says about itself: where it plays and its rate constant, measured from
/// its zero crossings at a quarter, half and three quarters of its length.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SweepShape {
    /// First and last sounding samples.
    pub span: (usize, usize),
    /// Rate constant `L`, seconds.
    pub rate_constant: f64,
    /// The frequencies at the first and last sounding samples, Hz.
    pub band: (f64, f64),
}

/// Reads the shape of an exponential sweep; an error says why `x` is not one.
pub fn sweep_shape(x: &[f32], rate: u32) -> Result<SweepShape, String> {
    let span = active_span(x).ok_or("the sweep file is silent")?;
    let len = span.1 - span.0;
    let rate_f = rate as f64;
    if (len as f64) < rate_f * 0.5 {
        return Err("the sweep file sounds for less than half a second".into());
    }
    let half = (len / 20).max(16);
    let at = |q: f64| span.0 + (len as f64 * q) as usize;
    let f = |q: f64| crossing_rate(x, at(q), half, rate_f);
    let not_sweep = "the sweep file is not an exponential sine sweep (its frequency does not \
                     rise by a constant ratio per second)";
    let (fa, fm, fb) = match (f(0.25), f(0.5), f(0.75)) {
        (Some(a), Some(m), Some(b)) if a > 0.0 && b > a * 1.2 => (a, m, b),
        _ => return Err(not_sweep.into()),
    };
    // Exponential: the middle frequency is the geometric mean of the outer two.
    if ((fm * fm / (fa * fb)).ln()).abs() > 0.1 {
        return Err(not_sweep.into());
    }
    let dt = (at(0.75) - at(0.25)) as f64 / rate_f;
    let l = dt / (fb / fa).ln();
    let from_a = |i: usize| fa * ((i as f64 - at(0.25) as f64) / rate_f / l).exp();
    Ok(SweepShape {
        span,
        rate_constant: l,
        band: (from_a(span.0), from_a(span.1).min(rate_f / 2.0)),
    })
}

/// The sweep's regularised inverse filter, ready to deconvolve recordings up to a length.
pub struct Inverse {
    size: usize,
    /// `conj(X) / (|X|^2 + eps) / size` (the inverse FFT's scale folded in).
    spectrum: Vec<Complex<f64>>,
    planner: RealFftPlanner<f64>,
}

impl Inverse {
    /// The inverse of `sweep` (sounding over `band`, Hz, at `rate`) for recordings of up to
    /// `max_recording` samples: the FFT is long enough that the deconvolution is linear over
    /// every lag from `-sweep.len()` to `max_recording`.
    pub fn new(sweep: &[f32], band: (f64, f64), rate: u32, max_recording: usize) -> Self {
        let size = (sweep.len() + max_recording + 1).next_power_of_two();
        let mut planner = RealFftPlanner::<f64>::new();
        let mut spectrum = spectrum(&mut planner, sweep, size);
        let peak = spectrum
            .iter()
            .map(|c| c.norm_sqr())
            .fold(f64::MIN_POSITIVE, f64::max);
        let hz_per_bin = rate as f64 / size as f64;
        for (k, c) in spectrum.iter_mut().enumerate() {
            // Octaves outside the band (0 inside); the regularisation moves from BETA_IN to
            // BETA_OUT over the first octave, a raised cosine in dB.
            let f = (k as f64 * hz_per_bin).max(1e-3);
            let out = (band.0 / f).log2().max((f / band.1).log2()).max(0.0);
            let beta = BETA_IN * (BETA_OUT / BETA_IN).powf(raised(out));
            *c = c.conj() / ((c.norm_sqr() + beta * peak) * size as f64);
        }
        Self {
            size,
            spectrum,
            planner,
        }
    }

    /// FFT length: the deconvolution is circular over this many lags (negative lags at the end).
    pub fn size(&self) -> usize {
        self.size
    }

    /// Deconvolves `recording` (at most the length given to [`Inverse::new`]): the result holds
    /// lag `k >= 0` at index `k` and lag `-k` at index `size - k`.
    pub fn deconvolve(&mut self, recording: &[f32]) -> Vec<f64> {
        assert!(recording.len() < self.size, "recording longer than planned");
        let mut y = spectrum(&mut self.planner, recording, self.size);
        for (a, b) in y.iter_mut().zip(&self.spectrum) {
            *a *= *b;
        }
        // A real signal's DC and Nyquist bins are real; the product keeps them so up to
        // rounding, which the inverse transform refuses.
        y[0].im = 0.0;
        if let Some(last) = y.last_mut() {
            last.im = 0.0;
        }
        let mut out = vec![0.0; self.size];
        let inverse = self.planner.plan_fft_inverse(self.size);
        inverse
            .process(&mut y, &mut out)
            .expect("buffer lengths match the plan");
        out
    }
}

/// The real FFT of `x` zero-padded to `size`.
fn spectrum(planner: &mut RealFftPlanner<f64>, x: &[f32], size: usize) -> Vec<Complex<f64>> {
    let fft = planner.plan_fft_forward(size);
    let mut buf = vec![0.0f64; size];
    for (b, v) in buf.iter_mut().zip(x) {
        *b = *v as f64;
    }
    let mut out = fft.make_output_vec();
    fft.process(&mut buf, &mut out)
        .expect("buffer lengths match the plan");
    out
}

/// How a captured response is cut.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CaptureOptions {
    /// Longest IR kept, seconds.
    pub max_seconds: f64,
    /// Cut the response: start 1 ms before the direct sound (faded in), end where the tail meets
    /// the noise floor (faded out). Off: every lag from 0 to the end of the usable range.
    pub trim: bool,
}

impl Default for CaptureOptions {
    fn default() -> Self {
        Self {
            max_seconds: 30.0,
            trim: true,
        }
    }
}

/// A captured impulse response.
#[derive(Clone, Debug, PartialEq)]
pub struct Captured {
    /// One response per recorded channel, equal lengths.
    pub channels: Vec<Vec<f32>>,
    /// Lag of the first kept sample, samples (the direct sound is about 1 ms after it when
    /// trimmed).
    pub start_lag: isize,
    /// Lag of the direct sound (the first sample within 6 dB of the peak), samples.
    pub direct_lag: isize,
    /// The noise floor of the response relative to its peak, dB.
    pub noise_db: f64,
    /// How long a tail the sweep keeps clear of its second harmonic, seconds (`L ln 2`): the
    /// distortion products' responses end before lag 0 only for rooms shorter than this.
    pub clear_seconds: f64,
}

/// Lags before 0 kept in the linear segment (the direct sound may precede the recording's
/// alignment by up to this much, and the regularised inverse rings a little ahead of it).
const PRE_SECONDS: f64 = 0.002;
/// Window of the tail's level while looking for the noise floor, seconds.
const WINDOW_SECONDS: f64 = 0.01;

/// Deconvolves each recorded channel by the sweep and cuts the room's linear response out of
/// it. `sweep` and `recordings` are at `rate`; the recordings start when the sweep starts
/// (as a DAW records what it plays) and should run past the sweep's end by the room's tail.
pub fn capture(
    sweep: &[f32],
    recordings: &[Vec<f32>],
    rate: u32,
    options: CaptureOptions,
) -> Result<Captured, String> {
    let shape = sweep_shape(sweep, rate)?;
    let rate_f = rate as f64;
    let rec_len = recordings.iter().map(Vec::len).max().unwrap_or(0);
    let tail = rec_len as isize - shape.span.1 as isize;
    if tail < (0.05 * rate_f) as isize {
        return Err(format!(
            "the recording ends {:.2} s after the sweep does: record at least the room's tail \
             past the sweep's end",
            tail as f64 / rate_f
        ));
    }
    let mut inverse = Inverse::new(sweep, shape.band, rate, rec_len);
    let size = inverse.size() as isize;
    let pre = (PRE_SECONDS * rate_f) as isize;
    // Usable lags: from -pre to the end of the recorded tail. The harmonics' responses start
    // at -L ln k (from size - L ln k on in the circular result) and the FFT is long enough
    // that no negative lag reaches the positive ones.
    let end = tail.min((options.max_seconds * rate_f) as isize);
    let responses: Vec<Vec<f64>> = recordings
        .iter()
        .map(|r| {
            let full = inverse.deconvolve(r);
            (-pre..end)
                .map(|lag| full[lag.rem_euclid(size) as usize])
                .collect()
        })
        .collect();
    let lag_of = |i: usize| i as isize - pre;

    let peak = responses
        .iter()
        .flatten()
        .fold(0.0f64, |m, v| m.max(v.abs()));
    if peak == 0.0 {
        return Err("the recording holds no trace of the sweep (silent)".into());
    }
    let onset = responses
        .iter()
        .filter_map(|r| r.iter().position(|v| v.abs() >= peak * 0.5))
        .min()
        .unwrap_or(0);
    // The noise floor: the mean power of the last fifth of the usable lags, over every channel.
    let seg_len = responses[0].len();
    let noise_from = (seg_len - seg_len / 5).max(onset + 1).min(seg_len - 1);
    let noise_power = responses
        .iter()
        .map(|r| r[noise_from..].iter().map(|v| v * v).sum::<f64>() / (seg_len - noise_from) as f64)
        .fold(0.0, f64::max);
    let noise_db = 10.0 * (noise_power.max(1e-30) / (peak * peak)).log10();

    let (first, last) = if options.trim {
        let preroll = (0.001 * rate_f) as usize;
        let first = onset.saturating_sub(preroll);
        // The end: after the last 10 ms window whose power is 6 dB over the noise floor, or
        // over -100 dB of the peak when the recording is cleaner than any room.
        let threshold = (4.0 * noise_power).max(peak * peak * 1e-10);
        let w = ((WINDOW_SECONDS * rate_f) as usize).max(1);
        let loud = |from: usize| {
            let to = (from + w).min(seg_len);
            responses.iter().any(|r| {
                r[from..to].iter().map(|v| v * v).sum::<f64>() / (to - from) as f64 > threshold
            })
        };
        let mut last = seg_len;
        let mut from = (seg_len / w) * w;
        while from > onset {
            from = from.saturating_sub(w);
            if loud(from) {
                last = (from + w).min(seg_len);
                break;
            }
        }
        (first, last.max(onset + w).min(seg_len))
    } else {
        (pre as usize, seg_len)
    };

    let len = last - first;
    let fade_in = onset - first.min(onset);
    let fade_out = if options.trim {
        ((len as f64 * 0.1) as usize).clamp(
            ((0.005 * rate_f) as usize).min(len),
            (0.25 * rate_f) as usize,
        )
    } else {
        0
    };
    let channels = responses
        .iter()
        .map(|r| {
            r[first..last]
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    let mut g = 1.0;
                    if i < fade_in {
                        g *= raised((i as f64 + 0.5) / fade_in as f64);
                    }
                    if fade_out > 0 && i + fade_out >= len {
                        g *= raised((len - 1 - i) as f64 / fade_out as f64);
                    }
                    (v * g) as f32
                })
                .collect()
        })
        .collect();
    Ok(Captured {
        channels,
        start_lag: lag_of(first),
        direct_lag: lag_of(onset),
        noise_db,
        clear_seconds: shape.rate_constant * 2f64.ln(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dsp::biquad::{Coeffs, State};
    use crate::dsp::rng::Rng;

    const RATE: u32 = 48_000;

    fn spec(seconds: f64) -> SweepSpec {
        SweepSpec {
            rate: RATE,
            seconds,
            silence_s: 1.0,
            ..SweepSpec::default()
        }
    }

    /// A room: the direct sound at 5 ms, a reflection at 11 ms, a diffuse tail of decaying
    /// noise (reverberation time `t60`) from 15 ms to 0.45 s.
    fn room(seed: u64, t60: f64) -> Vec<f32> {
        let rate = RATE as f64;
        let mut rng = Rng::new(seed);
        let mut h = vec![0.0f32; (0.45 * rate) as usize];
        h[(0.005 * rate) as usize] = 1.0;
        h[(0.011 * rate) as usize] = -0.5;
        for (i, v) in h.iter_mut().enumerate().skip((0.015 * rate) as usize) {
            let t = i as f64 / rate;
            *v += (0.2 * rng.gaussian() * 10f64.powf(-3.0 * t / t60)) as f32;
        }
        h
    }

    /// Linear convolution through one f64 FFT (the room's simulation).
    fn convolve(x: &[f32], h: &[f32]) -> Vec<f64> {
        let n = x.len() + h.len() - 1;
        let size = n.next_power_of_two();
        let mut planner = RealFftPlanner::<f64>::new();
        let mut a = spectrum(&mut planner, x, size);
        let b = spectrum(&mut planner, h, size);
        for (a, b) in a.iter_mut().zip(&b) {
            *a *= *b / size as f64;
        }
        let mut y = vec![0.0; size];
        planner
            .plan_fft_inverse(size)
            .process(&mut a, &mut y)
            .unwrap();
        y.truncate(n);
        y
    }

    /// The recording of `h` through a loudspeaker with `tanh` distortion of `drive` (1 = off),
    /// with white noise `noise_db` under the recording's RMS. Fixed seed.
    fn record(sweep: &[f32], h: &[f32], drive: f64, noise_db: f64) -> Vec<f32> {
        let played: Vec<f32> = sweep
            .iter()
            .map(|v| ((drive * *v as f64).tanh() / drive) as f32)
            .collect();
        let mut y = convolve(&played, h);
        let rms = (y.iter().map(|v| v * v).sum::<f64>() / y.len() as f64).sqrt();
        let mut rng = Rng::new(7);
        let sigma = rms * 10f64.powf(noise_db / 20.0);
        for v in &mut y {
            *v += sigma * rng.gaussian();
        }
        y.into_iter().map(|v| v as f32).collect()
    }

    /// Band-limits `x` to 50 Hz .. 15 kHz (fourth-order Butterworth each side), so a captured
    /// response is compared with the room inside the sweep's band.
    fn in_band(x: &[f32]) -> Vec<f64> {
        let q = [0.5412, 1.3066];
        let rate = RATE as f64;
        let mut sections: Vec<(Coeffs, State)> = Vec::new();
        for q in q {
            sections.push((Coeffs::high_pass(50.0, q, rate), State::default()));
            sections.push((Coeffs::low_pass(15_000.0, q, rate), State::default()));
        }
        x.iter()
            .map(|v| {
                sections
                    .iter_mut()
                    .fold(*v as f64, |acc, (c, s)| s.tick(c, acc))
            })
            .collect()
    }

    /// The gain a sine of amplitude `a` sees through `tanh(d x) / d`: the fundamental's Fourier
    /// coefficient over `a` (the describing function; the linear part of the loudspeaker).
    fn tanh_linear_gain(a: f64, d: f64) -> f64 {
        let n = 4096;
        let sum: f64 = (0..n)
            .map(|i| {
                let th = 2.0 * PI * (i as f64 + 0.5) / n as f64;
                (d * a * th.sin()).tanh() / d * th.sin()
            })
            .sum();
        2.0 * sum / n as f64 / a
    }

    fn error_db(got: &[f64], want: &[f64]) -> f64 {
        let e: f64 = got.iter().zip(want).map(|(g, w)| (g - w).powi(2)).sum();
        let p: f64 = want.iter().map(|w| w * w).sum();
        10.0 * (e / p).log10()
    }

    #[test]
    fn the_sweep_has_its_range_level_and_rate_constant() {
        let s = spec(4.0);
        let x = s.render();
        assert_eq!(x.len(), 5 * RATE as usize);
        let peak = x.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        assert!(
            (20.0 * (peak as f64).log10() - s.level_db).abs() < 0.05,
            "peak {peak}"
        );
        assert!(
            x[4 * RATE as usize..].iter().all(|v| *v == 0.0),
            "silence after"
        );
        let shape = sweep_shape(&x, RATE).unwrap();
        let l = s.rate_constant();
        assert!(
            (shape.rate_constant / l - 1.0).abs() < 0.01,
            "L measured {} vs {l}",
            shape.rate_constant
        );
        // The instantaneous frequency at the middle is the geometric mean of the ends.
        let mid = crossing_rate(&x, 2 * RATE as usize, 2400, RATE as f64).unwrap();
        assert!(
            (mid / (20.0f64 * 20_000.0).sqrt() - 1.0).abs() < 0.02,
            "{mid}"
        );
        // Not a sweep: noise, a steady tone.
        let mut rng = Rng::new(3);
        let noise: Vec<f32> = (0..RATE).map(|_| rng.bipolar() as f32).collect();
        assert!(sweep_shape(&noise, RATE).is_err());
        let tone: Vec<f32> = (0..RATE).map(|i| (i as f32 * 0.05).sin()).collect();
        assert!(sweep_shape(&tone, RATE).is_err());
        assert!(sweep_shape(&vec![0.0; RATE as usize], RATE).is_err());
        let (f1, f2) = shape.band;
        assert!(
            (f1 / 20.0 - 1.0).abs() < 0.05 && (f2 / 20_000.0 - 1.0).abs() < 0.05,
            "{f1} {f2}"
        );
    }

    #[test]
    fn a_distorting_loudspeaker_in_a_noisy_room_gives_back_the_linear_response() {
        // 6 s sweep: the second harmonic lands 0.6 s ahead, clear of the 0.45 s room.
        let s = spec(6.0);
        let sweep = s.render();
        let h = room(11, 0.3);
        // Drive so the third harmonic is about -40 dB (tanh(x) ~ x - x^3/3: A^2/12).
        let a = 10f64.powf(s.level_db / 20.0);
        let drive = 0.35 / a;
        let rec = record(&sweep, &h, drive, -60.0);
        let got = capture(
            &sweep,
            std::slice::from_ref(&rec),
            RATE,
            CaptureOptions {
                max_seconds: 0.45,
                trim: false,
            },
        )
        .unwrap();
        assert_eq!(got.start_lag, 0);
        assert_eq!(got.direct_lag, (0.005 * RATE as f64) as isize);
        let ch = &got.channels[0];
        assert_eq!(ch.len(), h.len());
        let gain = tanh_linear_gain(a, drive);
        assert!(gain < 0.975, "the loudspeaker compresses: {gain}");
        let want: Vec<f32> = h.iter().map(|v| (*v as f64 * gain) as f32).collect();
        let err = error_db(&in_band(ch), &in_band(&want));
        eprintln!("linear response error {err:.1} dB");
        assert!(err < -40.0, "linear response error {err:.1} dB");

        // The distortion is there, and it was separated: the third harmonic's response sits
        // at -L ln 3 at about -40 dB, the first-order error of ignoring it.
        let shape = sweep_shape(&sweep, RATE).unwrap();
        let mut inv = Inverse::new(&sweep, shape.band, RATE, rec.len());
        let full = inv.deconvolve(&rec);
        let size = inv.size();
        let l = s.rate_constant();
        let at = size - (l * 3f64.ln() * RATE as f64).round() as usize;
        let h3 = full[at - 48..at + 480]
            .iter()
            .fold(0.0f64, |m, v| m.max(v.abs()));
        let h3_db = 20.0 * h3.log10();
        assert!(
            (-52.0..-30.0).contains(&h3_db),
            "third harmonic {h3_db:.1} dB"
        );
        // Without the distortion, nothing is there.
        let clean = record(&sweep, &h, 1e-6, -200.0);
        let full = inv.deconvolve(&clean);
        let h3 = full[at - 48..at + 480]
            .iter()
            .fold(0.0f64, |m, v| m.max(v.abs()));
        assert!(20.0 * h3.log10() < -80.0, "{}", 20.0 * h3.log10());
    }

    #[test]
    fn trimming_starts_at_the_direct_sound_and_ends_at_the_noise_floor() {
        let s = spec(6.0);
        let sweep = s.render();
        let h = room(12, 0.3);
        let rec = record(&sweep, &h, 1e-6, -50.0);
        let got = capture(&sweep, &[rec.clone(), rec], RATE, CaptureOptions::default()).unwrap();
        let direct = (0.005 * RATE as f64) as isize;
        assert_eq!(got.direct_lag, direct);
        assert_eq!(got.start_lag, direct - 48, "1 ms pre-roll");
        assert_eq!(got.channels.len(), 2);
        assert_eq!(got.channels[0], got.channels[1]);
        let ch = &got.channels[0];
        assert!(ch[0].abs() < 1e-3 * ch[48].abs(), "faded in");
        assert_eq!(*ch.last().unwrap(), 0.0, "faded out");
        // The tail's envelope (T60 0.3 s, starting 0.2 below the direct sound) meets the noise
        // floor; the cut is within 10 dB of decay of that crossing.
        let noise_db = got.noise_db;
        assert!((-110.0..-40.0).contains(&noise_db), "noise {noise_db:.1}");
        let tail_db_at = |lag: f64| 20.0 * 0.2f64.log10() - 60.0 * (lag / RATE as f64) / 0.3;
        let end_lag = got.start_lag as f64 + ch.len() as f64;
        let level = tail_db_at(end_lag);
        assert!(
            (noise_db - 10.0..noise_db + 10.0).contains(&level),
            "cut where the tail is at {level:.1} dB; noise {noise_db:.1} dB"
        );
    }

    #[test]
    fn a_short_recording_or_a_silent_one_is_refused_with_a_reason() {
        let s = spec(2.0);
        let sweep = s.render();
        let short = sweep[..2 * RATE as usize].to_vec();
        let e = capture(&sweep, &[short], RATE, CaptureOptions::default()).unwrap_err();
        assert!(e.contains("tail"), "{e}");
        let silent = vec![0.0; sweep.len()];
        let e = capture(&sweep, &[silent], RATE, CaptureOptions::default()).unwrap_err();
        assert!(e.contains("silent"), "{e}");
        let e = capture(
            &vec![0.0; 1000],
            std::slice::from_ref(&sweep),
            RATE,
            CaptureOptions::default(),
        )
        .unwrap_err();
        assert!(e.contains("silent"), "{e}");
    }

    #[test]
    fn a_sweep_too_short_for_the_room_lets_the_distortion_under_its_start() {
        // Odd harmonics only (tanh): the third lands L ln 3 ahead. A 6 s sweep puts it 0.95 s
        // ahead, clear of the 0.45 s room (a slow one: T60 2 s); a 2 s sweep 0.32 s ahead, so
        // its tail lies under the room's first 0.13 s. The capture says how long a tail each
        // sweep keeps clear.
        let h = room(13, 2.0);
        let first_part = |seconds: f64| {
            let s = spec(seconds);
            let sweep = s.render();
            let a = 10f64.powf(s.level_db / 20.0);
            let rec = record(&sweep, &h, 0.5 / a, -200.0);
            let options = CaptureOptions {
                max_seconds: 0.45,
                trim: false,
            };
            let got = capture(&sweep, &[rec], RATE, options).unwrap();
            assert!((got.clear_seconds / s.clear_tail_seconds() - 1.0).abs() < 0.01);
            let gain = tanh_linear_gain(a, 0.5 / a);
            let n = (0.05 * RATE as f64) as usize;
            let want: Vec<f32> = h[..n].iter().map(|v| (*v as f64 * gain) as f32).collect();
            error_db(&in_band(&got.channels[0][..n]), &in_band(&want))
        };
        let (long, short) = (first_part(6.0), first_part(2.0));
        assert!(
            short > long + 3.0,
            "2 s sweep {short:.1} dB, 6 s sweep {long:.1} dB"
        );
    }
}
