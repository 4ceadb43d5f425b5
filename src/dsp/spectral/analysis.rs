//! The side path of the spectral stage: every hop, the packed stereo STFT of the input (or
//! the key), per-bin levels on the gain grid, the gain computer against the threshold curve,
//! the resolution smoothing across frequency (band maxima by a sparse table, band means by
//! prefix sums) and the attack/release smoothing in time.

use std::sync::Arc;

use realfft::num_complex::Complex;
use rustfft::{Fft, FftPlanner};

use super::super::fast_math::power_db;
use super::super::gain_computer::compress_db;
use super::super::simd::{Isa, Kernel, SimdLevel};
use super::{
    SpectralMode, SpectralSettings, BINS, DEC, FFT_BINS, HOP, TABLE_ROWS, UP_FLOOR_DB, WINDOW,
};

/// The side path of the stage: a ring of the last [`WINDOW`] input samples per channel and,
/// every hop, the per-bin levels and the gain curve.
pub struct Analysis {
    rate: f32,
    /// Counts analyses, so a reader can tell a new one from the last.
    pub(super) analyses: u64,
    pub(super) ring: [Vec<f32>; 2],
    pub(super) ring_pos: usize,
    pub(super) window: Vec<f32>,
    /// Both channels in one complex FFT: left in the real part, right in the imaginary.
    pub(super) a_fft: Arc<dyn Fft<f32>>,
    pub(super) a_buf: Vec<Complex<f32>>,
    pub(super) a_scratch: Vec<Complex<f32>>,
    /// Per-bin level, dBFS (linked).
    pub(super) level_db: Vec<f32>,
    pub(super) energy: Vec<f32>,
    /// Per-bin target gain (dB), band-maximum level (dBFS) and smoothed gain (dB).
    pub(super) target_db: Vec<f32>,
    pub(super) spread_db: Vec<f32>,
    pub(super) prefix: Vec<f64>,
    /// `log2(f / 1 kHz)` of every bin (bin 0 as bin 1), for the threshold tilt.
    pub(super) octaves: Vec<f32>,
    /// Scratch: per-bin power of each channel.
    pub(super) power: [Vec<f32>; 2],
    /// Resolution band edges per bin (inclusive) and the inverse of the band's width, for
    /// `span_oct` octaves.
    pub(super) span_lo: Vec<u32>,
    pub(super) span_hi: Vec<u32>,
    pub(super) span_inv: Vec<f64>,
    pub(super) span_oct: f32,
    /// Sparse table of band maxima, `[row * BINS + bin]`: row `r` holds the maximum level
    /// over bins `bin..bin + 2^r`; `rows` rows beyond the levels are in use.
    pub(super) table: Vec<f32>,
    pub(super) rows: usize,
    /// Where in `table` the two halves of each bin's band maximum are.
    pub(super) max_a: Vec<u32>,
    pub(super) max_b: Vec<u32>,
    pub(super) gain_db: Vec<f32>,
}

impl Analysis {
    /// The analysis at `rate` Hz. Allocates and plans its FFT.
    pub fn new(rate: f32) -> Self {
        let mut complex = FftPlanner::<f32>::new();
        let a_fft = complex.plan_fft_forward(WINDOW);
        let scratch = a_fft.get_inplace_scratch_len();
        let window = (0..WINDOW)
            .map(|i| (0.5 - 0.5 * (std::f64::consts::TAU * i as f64 / WINDOW as f64).cos()) as f32)
            .collect();
        let mut a = Self {
            rate,
            analyses: 0,
            ring: [vec![0.0; WINDOW], vec![0.0; WINDOW]],
            ring_pos: 0,
            window,
            a_buf: vec![Complex::default(); WINDOW],
            a_fft,
            a_scratch: vec![Complex::default(); scratch],
            level_db: vec![-200.0; BINS],
            energy: vec![0.0; BINS],
            target_db: vec![0.0; BINS],
            spread_db: vec![0.0; BINS],
            prefix: vec![0.0; BINS + 1],
            power: [vec![0.0; FFT_BINS], vec![0.0; FFT_BINS]],
            span_lo: vec![0; BINS],
            span_hi: vec![0; BINS],
            span_inv: vec![1.0; BINS],
            table: vec![0.0; TABLE_ROWS * BINS],
            rows: 0,
            max_a: vec![0; BINS],
            max_b: vec![0; BINS],
            span_oct: f32::NAN,
            octaves: (0..BINS)
                .map(|k| ((k.max(1) as f32 * DEC as f32 * rate / WINDOW as f32) / 1000.0).log2())
                .collect(),
            gain_db: vec![0.0; BINS],
        };
        a.reset();
        a
    }

    /// Clears the ring, the levels and the gains.
    pub fn reset(&mut self) {
        self.ring_pos = 0;
        for r in &mut self.ring {
            r.fill(0.0);
        }
        self.level_db.fill(-200.0);
        self.gain_db.fill(0.0);
    }

    /// Writes `x` (at most [`WINDOW`] samples) into channel `c`'s ring at the current position;
    /// [`Self::advance`] moves the position once both channels are written.
    pub fn feed(&mut self, c: usize, x: &[f32]) {
        let m = x.len();
        let first = (WINDOW - self.ring_pos).min(m);
        self.ring[c][self.ring_pos..self.ring_pos + first].copy_from_slice(&x[..first]);
        self.ring[c][..m - first].copy_from_slice(&x[first..]);
    }

    /// Moves the ring position by `m` samples.
    pub fn advance(&mut self, m: usize) {
        self.ring_pos = (self.ring_pos + m) % WINDOW;
    }

    /// Levels, gain computer, frequency and time smoothing (with AVX2 + FMA where the CPU has
    /// them: the per-bin passes below are written as branch-free loops that vectorise).
    pub fn analyse(&mut self, level: SimdLevel, settings: &SpectralSettings) {
        struct Analyse<'a>(&'a mut Analysis, &'a SpectralSettings);
        impl Kernel for Analyse<'_> {
            type Output = ();
            #[inline(always)]
            fn run<I: Isa>(self) {
                self.0.analyse_impl(self.1)
            }
        }
        level.run(Analyse(self, settings))
    }

    /// The per-bin levels of the last [`WINDOW`] samples only ([`Self::levels`]), without
    /// the gain computer: for a stage that computes its own gains from them.
    pub fn measure(&mut self, level: SimdLevel) {
        struct Measure<'a>(&'a mut Analysis);
        impl Kernel for Measure<'_> {
            type Output = ();
            #[inline(always)]
            fn run<I: Isa>(self) {
                self.0.measure_impl()
            }
        }
        level.run(Measure(self))
    }

    /// Per-bin level of the last analysis or measure, dBFS ([`BINS`] values, channels linked
    /// by the larger).
    pub fn levels(&self) -> &[f32] {
        &self.level_db
    }

    #[inline(always)]
    fn measure_impl(&mut self) {
        self.analyses += 1;
        // A sine of amplitude A has total one-sided energy A^2 N (3N/8) / 4 under Hann.
        let norm = 32.0 / (3.0 * (WINDOW as f32).powi(2));
        // Unroll the rings (oldest first) and window them, left real and right imaginary.
        let (w0, w1) = self.window.split_at(WINDOW - self.ring_pos);
        let (old, new) = (self.ring_pos..WINDOW, 0..self.ring_pos);
        let [r0, r1] = &self.ring;
        for ((z, w), (a, b)) in self
            .a_buf
            .iter_mut()
            .zip(w0)
            .zip(r0[old.clone()].iter().zip(&r1[old]))
        {
            *z = Complex::new(a * w, b * w);
        }
        for ((z, w), (a, b)) in self.a_buf[WINDOW - self.ring_pos..]
            .iter_mut()
            .zip(w1)
            .zip(r0[new.clone()].iter().zip(&r1[new]))
        {
            *z = Complex::new(a * w, b * w);
        }
        self.a_fft
            .process_with_scratch(&mut self.a_buf, &mut self.a_scratch);
        // Separate the channels: with Z = FFT(l + i r) and V = conj(Z[N - k]),
        // L[k] = (Z[k] + V) / 2 and R[k] = (Z[k] - V) / 2i.
        let [p0, p1] = &mut self.power;
        let z = &self.a_buf;
        p0[0] = z[0].re * z[0].re;
        p1[0] = z[0].im * z[0].im;
        let half = WINDOW / 2;
        let mirrored = z[1..=half].iter().zip(z[half..].iter().rev());
        for ((a, b), (u, v)) in p0[1..].iter_mut().zip(p1[1..].iter_mut()).zip(mirrored) {
            let (lr, li) = (u.re + v.re, u.im - v.im);
            let (rr, ri) = (u.im + v.im, u.re - v.re);
            *a = 0.25 * (lr * lr + li * li);
            *b = 0.25 * (rr * rr + ri * ri);
        }
        // Grid bin j sums the analysis bins within DEC of its own: (nearly) the whole main
        // lobe of a sinusoid anywhere within half a grid bin. The channels are linked by the
        // larger.
        let band = |p: &[f32], j: usize| -> f32 {
            let (lo, hi) = (
                (DEC * j).saturating_sub(DEC),
                (DEC * j + DEC).min(FFT_BINS - 1),
            );
            p[lo..=hi].iter().sum()
        };
        let e = &mut self.energy;
        for j in [0, BINS - 1] {
            e[j] = band(p0, j).max(band(p1, j));
        }
        if DEC == 1 {
            let n = BINS - 2;
            let (a0, a1, a2) = (&p0[..n], &p0[1..n + 1], &p0[2..n + 2]);
            let (b0, b1, b2) = (&p1[..n], &p1[1..n + 1], &p1[2..n + 2]);
            for (k, e) in e[1..n + 1].iter_mut().enumerate() {
                *e = (a0[k] + a1[k] + a2[k]).max(b0[k] + b1[k] + b2[k]);
            }
        } else {
            for (j, e) in e.iter_mut().enumerate().take(BINS - 1).skip(1) {
                *e = band(p0, j).max(band(p1, j));
            }
        }
        for (l, e) in self.level_db.iter_mut().zip(&self.energy) {
            *l = power_db(e * norm);
        }
    }

    #[inline(always)]
    fn analyse_impl(&mut self, settings: &SpectralSettings) {
        let s = *settings;
        self.measure_impl();
        // Resolution: the loudest level within +-w/2 octaves decides the gain there (so a
        // compressed peak keeps its depth and a component's skirts get its gain), and the
        // gains are then averaged over the same band. The maximum comes from a sparse table
        // (row r holds maxima over 2^r bins; any band is the union of two overlapping rows'
        // entries), the average from prefix sums: O(1) per bin, no data-dependent branches.
        let w = s.resolution_oct.clamp(0.0, 2.0);
        if w != self.span_oct {
            self.set_spans(w);
        }
        self.band_maxima(w);
        let range = s.range_db.max(0.0);
        let targets = self
            .target_db
            .iter_mut()
            .zip(&self.spread_db)
            .zip(&self.octaves);
        match s.mode {
            SpectralMode::Down => {
                for ((g, &level), &oct) in targets {
                    let t = s.threshold_db + s.tilt_db * oct;
                    *g = compress_db(level, t, s.ratio, s.knee_db).max(-range);
                }
            }
            SpectralMode::Up => {
                for ((g, &level), &oct) in targets {
                    // Mirror of the downward curve: the amount below the threshold.
                    let t = s.threshold_db + s.tilt_db * oct;
                    let up = -compress_db(2.0 * t - level, t, s.ratio, s.knee_db);
                    let gate = ((level - UP_FLOOR_DB) / 12.0).clamp(0.0, 1.0);
                    *g = up.min(range) * gate;
                }
            }
        }
        if w > 0.0 {
            // Prefix sums four at a time: the running total waits on one add per four bins.
            let mut total = 0.0f64;
            self.prefix[0] = 0.0;
            for (p, t) in self.prefix[1..]
                .chunks_exact_mut(4)
                .zip(self.target_db.chunks_exact(4))
            {
                let a0 = t[0] as f64;
                let a1 = a0 + t[1] as f64;
                let a2 = a1 + t[2] as f64;
                let a3 = a2 + t[3] as f64;
                p[0] = total + a0;
                p[1] = total + a1;
                p[2] = total + a2;
                p[3] = total + a3;
                total += a3;
            }
            for k in BINS / 4 * 4..BINS {
                self.prefix[k + 1] = self.prefix[k] + self.target_db[k] as f64;
            }
            for k in 0..BINS {
                let (lo, hi) = (self.span_lo[k] as usize, self.span_hi[k] as usize);
                self.target_db[k] =
                    ((self.prefix[hi + 1] - self.prefix[lo]) * self.span_inv[k]) as f32;
            }
        }
        let hop_s = HOP as f32 / self.rate;
        let att = 1.0 - (-hop_s / (s.attack_ms.max(0.1) * 1e-3)).exp();
        let rel = 1.0 - (-hop_s / (s.release_ms.max(1.0) * 1e-3)).exp();
        for (g, &t) in self.gain_db.iter_mut().zip(&self.target_db) {
            let k = if t.abs() > g.abs() { att } else { rel };
            let v = *g + k * (t - *g);
            *g = if v.is_finite() { v } else { 0.0 };
        }
    }

    /// `spread_db[k]`: the largest `level_db` within bin `k`'s band (spans set for `w`).
    #[inline(always)]
    pub(super) fn band_maxima(&mut self, w: f32) {
        let rows = if w > 0.0 { self.rows } else { 0 };
        self.table[..BINS].copy_from_slice(&self.level_db);
        for r in 1..=rows {
            let half = 1 << (r - 1);
            let (prev, this) = self.table[(r - 1) * BINS..(r + 1) * BINS].split_at_mut(BINS);
            let n = BINS + 1 - (1 << r);
            for ((t, a), b) in this[..n]
                .iter_mut()
                .zip(&prev[..n])
                .zip(&prev[half..half + n])
            {
                *t = a.max(*b);
            }
        }
        if rows > 0 {
            for (k, sp) in self.spread_db.iter_mut().enumerate() {
                let (a, b) = (self.max_a[k] as usize, self.max_b[k] as usize);
                *sp = self.table[a].max(self.table[b]);
            }
        } else {
            self.spread_db.copy_from_slice(&self.level_db);
        }
    }

    /// Band edges of every bin for a resolution of `w` octaves, and where the sparse table
    /// holds each band's maximum. Runs only when the resolution changes.
    pub(super) fn set_spans(&mut self, w: f32) {
        let f = 2f32.powf(w / 2.0);
        let mut rows = 0;
        for k in 0..BINS {
            let lo = ((k as f32 / f).floor() as usize).min(k.saturating_sub(1));
            let hi = (((k as f32 * f).ceil() as usize).max(k + 1)).min(BINS - 1);
            self.span_lo[k] = lo as u32;
            self.span_hi[k] = hi as u32;
            self.span_inv[k] = 1.0 / (hi + 1 - lo) as f64;
            // The largest power of two within the band: rows r covers [lo, lo + 2^r) and
            // [hi + 1 - 2^r, hi], which together cover exactly [lo, hi].
            let r = (usize::BITS - 1 - (hi + 1 - lo).leading_zeros()) as usize;
            rows = rows.max(r);
            self.max_a[k] = (r * BINS + lo) as u32;
            self.max_b[k] = (r * BINS + hi + 1 - (1 << r)) as u32;
        }
        self.rows = rows;
        self.span_oct = w;
    }
}
