//! The long-term average spectrum of a stereo signal, as EQ match compares two of them:
//! Hann-windowed [`FFT_LEN`]-point frames at 50 % overlap, the power of both channels summed
//! and averaged over every frame heard, then read on a fixed grid of [`POINTS`] frequencies
//! (1/12 octave apart, [`point_hz`]) as the mean power of the bins within a third of an
//! octave around each (the nearest bins interpolated where that band holds none), in dB.
//!
//! Allocates in [`LongTermSpectrum::new`] only: [`LongTermSpectrum::push`] and
//! [`LongTermSpectrum::points_db`] run on the audio thread while a learn is on.

use std::sync::Arc;

use realfft::num_complex::Complex;
use realfft::{RealFftPlanner, RealToComplex};

/// Frame length, samples (5.9 Hz per bin at 48 kHz, so a third of an octave at 50 Hz spans
/// two bins).
pub const FFT_LEN: usize = 8192;
/// Frames advance by this many samples.
pub const HOP: usize = FFT_LEN / 2;
/// Points of the grid: 1/12 octave apart from [`LOW_HZ`] (121 points: 20 Hz to 20.48 kHz).
pub const POINTS: usize = 121;
/// The grid's first frequency, Hz.
pub const LOW_HZ: f32 = 20.0;
/// Points per octave.
pub const PER_OCTAVE: f32 = 12.0;
/// Width of the band averaged around each point, octaves.
pub const SMOOTHING_OCT: f32 = 1.0 / 3.0;
/// Samples beyond this magnitude (or not finite) are heard as silence.
pub const MAX_LEVEL: f32 = 1000.0;
/// Level of a point where nothing was heard, dB.
pub const FLOOR_DB: f32 = -150.0;

/// Frequency of grid point `i`, Hz.
pub fn point_hz(i: usize) -> f32 {
    LOW_HZ * (i as f32 / PER_OCTAVE).exp2()
}

/// A running long-term spectrum.
pub struct LongTermSpectrum {
    fft: Arc<dyn RealToComplex<f32>>,
    /// Hann window, [`FFT_LEN`] points.
    window: Vec<f32>,
    /// The last [`FFT_LEN`] samples of each channel (the newest at the end once full).
    frame: [Vec<f32>; 2],
    /// Samples in `frame` (a frame is taken when it reaches [`FFT_LEN`]).
    fill: usize,
    input: Vec<f32>,
    spectrum: Vec<Complex<f32>>,
    scratch: Vec<Complex<f32>>,
    /// Summed power per bin over the frames, `[FFT_LEN / 2 + 1]`.
    power: Vec<f64>,
    frames: u64,
    /// Hz per bin.
    bin_hz: f32,
}

impl LongTermSpectrum {
    /// An empty spectrum of a signal at `sample_rate` Hz. Allocates and plans the FFT.
    pub fn new(sample_rate: f32) -> Self {
        let fft = RealFftPlanner::<f32>::new().plan_fft_forward(FFT_LEN);
        let window = (0..FFT_LEN)
            .map(|n| {
                let p = std::f32::consts::TAU * n as f32 / FFT_LEN as f32;
                0.5 - 0.5 * p.cos()
            })
            .collect();
        Self {
            input: fft.make_input_vec(),
            spectrum: fft.make_output_vec(),
            scratch: fft.make_scratch_vec(),
            fft,
            window,
            frame: [vec![0.0; FFT_LEN], vec![0.0; FFT_LEN]],
            fill: 0,
            power: vec![0.0; FFT_LEN / 2 + 1],
            frames: 0,
            bin_hz: sample_rate / FFT_LEN as f32,
        }
    }

    /// Forgets everything heard.
    pub fn reset(&mut self) {
        self.fill = 0;
        self.power.fill(0.0);
        self.frames = 0;
    }

    /// Frames averaged so far.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// Adds a stereo slice (a mono signal passes the same slice twice); non-finite samples
    /// and samples beyond [`MAX_LEVEL`] count as silence. No allocation.
    ///
    /// # Panics
    /// If the channels' lengths differ.
    pub fn push(&mut self, channels: [&[f32]; 2]) {
        assert_eq!(channels[0].len(), channels[1].len());
        let mut pos = 0;
        while pos < channels[0].len() {
            let n = (FFT_LEN - self.fill).min(channels[0].len() - pos);
            for (f, x) in self.frame.iter_mut().zip(channels) {
                // A host's non-finite or absurd sample is silence here, as in the engine.
                for (d, v) in f[self.fill..self.fill + n].iter_mut().zip(&x[pos..pos + n]) {
                    *d = if v.is_finite() && v.abs() <= MAX_LEVEL {
                        *v
                    } else {
                        0.0
                    };
                }
            }
            self.fill += n;
            pos += n;
            if self.fill == FFT_LEN {
                self.take_frame();
                for f in &mut self.frame {
                    f.copy_within(HOP.., 0);
                }
                self.fill = FFT_LEN - HOP;
            }
        }
    }

    fn take_frame(&mut self) {
        for c in 0..2 {
            for ((i, x), w) in self.input.iter_mut().zip(&self.frame[c]).zip(&self.window) {
                *i = x * w;
            }
            let _ = self.fft.process_with_scratch(
                &mut self.input,
                &mut self.spectrum,
                &mut self.scratch,
            );
            for (p, z) in self.power.iter_mut().zip(&self.spectrum) {
                *p += z.norm_sqr() as f64;
            }
        }
        self.frames += 1;
    }

    /// The average level at each grid point, dB ([`FLOOR_DB`] where nothing was heard; a
    /// full-scale sine between points reads about 0 dB in the points around it, whatever
    /// the frame count). No allocation.
    pub fn points_db(&self) -> [f32; POINTS] {
        // Hann's coherent gain (1/2) squared, the frame's length, both bin halves.
        let norm = 4.0 / (self.frames.max(1) as f64 * (FFT_LEN as f64 / 2.0).powi(2));
        let last = self.power.len() - 1;
        let half = (SMOOTHING_OCT / 2.0).exp2();
        std::array::from_fn(|i| {
            let f = point_hz(i);
            let lo = (f / half / self.bin_hz).ceil() as usize;
            let hi = ((f * half / self.bin_hz).floor() as usize).min(last);
            let mean = if lo <= hi {
                self.power[lo..=hi].iter().sum::<f64>() / (hi - lo + 1) as f64
            } else {
                // No bin inside the band: between the two bins around `f`.
                let x = (f / self.bin_hz).min(last as f32);
                let k = (x.floor() as usize).min(last - 1);
                let t = (x - k as f32) as f64;
                self.power[k] * (1.0 - t) + self.power[k + 1] * t
            };
            let p = mean * norm;
            if p > 0.0 {
                ((10.0 * p.log10()) as f32).max(FLOOR_DB)
            } else {
                FLOOR_DB
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dsp::rng::Rng;

    #[test]
    fn a_sine_reads_its_level_near_its_frequency_whatever_the_slicing() {
        let rate = 48_000.0;
        let f = 1000.0f32;
        let x: Vec<f32> = (0..rate as usize * 2)
            .map(|n| 0.5 * (std::f32::consts::TAU * f * n as f32 / rate).sin())
            .collect();
        let mut a = LongTermSpectrum::new(rate);
        a.push([&x, &x]);
        let mut b = LongTermSpectrum::new(rate);
        let mut rng = Rng::new(3);
        let mut pos = 0;
        while pos < x.len() {
            let n = rng.range(1, 700).min(x.len() - pos);
            b.push([&x[pos..pos + n], &x[pos..pos + n]]);
            pos += n;
        }
        assert_eq!(a.frames(), b.frames());
        assert_eq!(a.points_db(), b.points_db(), "block sizes change nothing");
        let p = a.points_db();
        let at = (0..POINTS)
            .min_by(|&i, &j| {
                (point_hz(i) - f)
                    .abs()
                    .partial_cmp(&(point_hz(j) - f).abs())
                    .unwrap()
            })
            .unwrap();
        // Both channels at -6 dBFS: power summed is -3 dB, spread over the band's bins.
        assert!(p[at] > -30.0, "{}", p[at]);
        let far = (0..POINTS).find(|&i| point_hz(i) > 4.0 * f).unwrap();
        assert!(p[far] < p[at] - 80.0, "{} vs {}", p[far], p[at]);
    }

    #[test]
    fn white_noise_reads_flat_and_silence_reads_the_floor() {
        let rate = 44_100.0;
        let mut rng = Rng::new(11);
        let x: Vec<f32> = (0..rate as usize * 20)
            .map(|_| rng.bipolar() as f32)
            .collect();
        let mut a = LongTermSpectrum::new(rate);
        a.push([&x, &x]);
        let p = a.points_db();
        let mid = p[(0..POINTS).find(|&i| point_hz(i) >= 1000.0).unwrap()];
        for (i, l) in p.iter().enumerate() {
            let f = point_hz(i);
            if (50.0..=15_000.0).contains(&f) {
                assert!((l - mid).abs() < 1.0, "{f} Hz: {l} vs {mid}");
            }
        }
        let mut s = LongTermSpectrum::new(rate);
        s.push([&vec![0.0; 20_000], &vec![0.0; 20_000]]);
        assert!(s.points_db().iter().all(|&l| l == FLOOR_DB));
    }
}
