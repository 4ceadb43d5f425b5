//! The side path of the spectral stage: every hop, the packed stereo STFT of the input (or
//! the key), per-bin levels on the gain grid, the gain computer against the threshold curve,
//! the resolution smoothing across frequency (band maxima by a sparse table, band means by
//! prefix sums) and the attack/release smoothing in time.

use realfft::num_complex::Complex;

use super::super::fast_math::power_db;
use super::super::gain_computer::compress_db;
use super::super::simd::{Isa, Kernel};
use super::{SpectralDynamics, SpectralMode, BINS, DEC, FFT_BINS, HOP, UP_FLOOR_DB, WINDOW};

impl SpectralDynamics {
    /// Levels, gain computer, frequency and time smoothing (with AVX2 + FMA where the CPU has
    /// them: the per-bin passes below are written as branch-free loops that vectorise).
    pub(super) fn analyse(&mut self) {
        struct Analyse<'a>(&'a mut SpectralDynamics);
        impl Kernel for Analyse<'_> {
            type Output = ();
            #[inline(always)]
            fn run<I: Isa>(self) {
                self.0.analyse_impl()
            }
        }
        self.simd.run(Analyse(self))
    }

    #[inline(always)]
    fn analyse_impl(&mut self) {
        let s = self.settings;
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
