//! A fixed-pole parallel second-order filter: [`SECTIONS`] resonators at log-spaced
//! frequencies in parallel plus a direct path,
//!
//! `H(z) = d + sum_k (b0_k + b1_k z^-1) / (1 + a1_k z^-1 + a2_k z^-2)`,
//!
//! whose numerators are fitted by linear least squares to a minimum-phase target response
//! (B. Bank, "Direct design of parallel second-order filters for instrument body modeling",
//! ICMC 2007; "Perceptually motivated audio equalization using fixed-pole parallel
//! second-order filters", IEEE Signal Processing Letters 15, 2008). With the poles fixed the
//! response is linear in the numerators, so the fit is one small linear system, the
//! resolution follows the poles (log-spaced: equal per octave, as hearing and EQ curves
//! are), and changing the numerators never touches the recursive state: any two numerator
//! sets can be interpolated sample by sample without a click, and interpolating them
//! interpolates the outputs exactly.
//!
//! The sections run in `f64`: a resonator at 20 Hz and 48 kHz has a pole radius of
//! 1 - 3e-4, where `f32` rounding in the recursion would leave noise about 30 dB down.
//! They are independent, so each sample runs them side by side and sums their outputs
//! pairwise.

use realfft::num_complex::Complex;

use super::simd::{madd64, Isa, Kernel, SimdLevel};

/// Resonators.
pub const SECTIONS: usize = 32;
/// The lowest resonator, Hz.
pub const LOWEST_HZ: f64 = 20.0;
/// The highest resonator, Hz (or 0.45 of the sample rate, if lower: the range above 20 kHz
/// is held in place at high rates).
pub const HIGHEST_HZ: f64 = 40_000.0;

/// The denominators `1 + a1 z^-1 + a2 z^-2` of every section.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Poles {
    /// `a1` per section.
    pub a1: [f64; SECTIONS],
    /// `a2` per section.
    pub a2: [f64; SECTIONS],
}

impl Poles {
    /// Resonators log-spaced from [`LOWEST_HZ`] to [`HIGHEST_HZ`] at `rate` Hz, each as wide
    /// as its distance to its neighbours (Bank 2007: radius `exp(-dθ/2)` with `dθ` half the
    /// distance between the neighbouring pole angles).
    pub fn log_spaced(rate: f64) -> Self {
        let high = HIGHEST_HZ.min(0.45 * rate);
        let ratio = (high / LOWEST_HZ).powf(1.0 / (SECTIONS - 1) as f64);
        let mut p = Self {
            a1: [0.0; SECTIONS],
            a2: [0.0; SECTIONS],
        };
        for k in 0..SECTIONS {
            let theta = std::f64::consts::TAU * LOWEST_HZ * ratio.powi(k as i32) / rate;
            let width = theta * (ratio - 1.0 / ratio) / 2.0;
            let radius = (-width).exp();
            p.a1[k] = -2.0 * radius * theta.cos();
            p.a2[k] = radius * radius;
        }
        p
    }

    /// The response of `num` with these poles at `w` radians per sample.
    pub fn response(&self, num: &Numerators, w: f64) -> Complex<f64> {
        let z1 = Complex::from_polar(1.0, -w);
        let z2 = z1 * z1;
        let mut h = Complex::new(num.direct, 0.0);
        for k in 0..SECTIONS {
            h += (num.b0[k] + num.b1[k] * z1) / (1.0 + self.a1[k] * z1 + self.a2[k] * z2);
        }
        h
    }
}

/// The numerators `b0 + b1 z^-1` of every section and the direct gain `d`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Numerators {
    /// `b0` per section.
    pub b0: [f64; SECTIONS],
    /// `b1` per section.
    pub b1: [f64; SECTIONS],
    /// The direct path's gain.
    pub direct: f64,
}

impl Numerators {
    /// The identity: every section silent, the direct path at unity.
    pub const IDENTITY: Self = Self {
        b0: [0.0; SECTIONS],
        b1: [0.0; SECTIONS],
        direct: 1.0,
    };

    /// `self + t (other - self)`.
    pub fn lerp(&self, other: &Self, t: f64) -> Self {
        Self {
            b0: std::array::from_fn(|k| self.b0[k] + t * (other.b0[k] - self.b0[k])),
            b1: std::array::from_fn(|k| self.b1[k] + t * (other.b1[k] - self.b1[k])),
            direct: self.direct + t * (other.direct - self.direct),
        }
    }
}

/// Unknowns of the fit: two per section and the direct gain.
const UNKNOWNS: usize = 2 * SECTIONS + 1;

/// A least-squares fit of numerators on a frequency grid: the basis responses for given
/// poles and grid, computed once; each target is then one weighted solve.
pub struct Fit {
    /// Grid points.
    points: usize,
    /// Basis responses, `[point * UNKNOWNS + unknown]`, each column scaled by `scale`.
    basis: Vec<Complex<f64>>,
    /// The scale of each unknown: a resonator at 20 Hz responds a million times louder than
    /// one at 20 kHz, so the columns are scaled to unit norm (unscaled, the normal matrix
    /// would span twelve orders of magnitude).
    scale: [f64; UNKNOWNS],
}

impl Fit {
    /// The fit for `poles` on the frequencies `grid` (radians per sample). Allocates.
    ///
    /// # Panics
    /// If the grid has fewer points than unknowns.
    pub fn new(poles: &Poles, grid: &[f64]) -> Self {
        assert!(grid.len() >= UNKNOWNS);
        let mut basis = Vec::with_capacity(grid.len() * UNKNOWNS);
        for &w in grid {
            let z1 = Complex::from_polar(1.0, -w);
            let z2 = z1 * z1;
            for k in 0..SECTIONS {
                let den = 1.0 + poles.a1[k] * z1 + poles.a2[k] * z2;
                basis.push(1.0 / den);
                basis.push(z1 / den);
            }
            basis.push(Complex::new(1.0, 0.0));
        }
        let mut scale = [0.0f64; UNKNOWNS];
        for row in basis.chunks_exact(UNKNOWNS) {
            for p in 0..UNKNOWNS {
                scale[p] += row[p].norm_sqr();
            }
        }
        for v in &mut scale {
            *v = 1.0 / v.sqrt().max(f64::MIN_POSITIVE);
        }
        for row in basis.chunks_exact_mut(UNKNOWNS) {
            for p in 0..UNKNOWNS {
                row[p] *= scale[p];
            }
        }
        Self {
            points: grid.len(),
            basis,
            scale,
        }
    }

    /// The numerators whose response is nearest `target` (one value per grid point) in
    /// relative terms: the squared error at each point is weighted by `1 / |target|^2`, so a
    /// cut of 24 dB is fitted as closely as a boost of 24 dB (Bank 2008 weights the same
    /// way). Allocates (the normal matrix).
    ///
    /// # Panics
    /// If `target` is not one value per grid point.
    pub fn solve(&self, target: &[Complex<f64>]) -> Numerators {
        assert_eq!(target.len(), self.points);
        // Normal equations of the real unknowns: Re(U^H W U) b = Re(U^H W h).
        let mut normal = vec![0.0f64; UNKNOWNS * UNKNOWNS];
        let mut x = [0.0f64; UNKNOWNS];
        let mut total_weight = 0.0;
        for (row, h) in self.basis.chunks_exact(UNKNOWNS).zip(target) {
            let w = 1.0 / h.norm_sqr().max(1e-30);
            total_weight += w;
            for p in 0..UNKNOWNS {
                let up = row[p].conj() * w;
                x[p] += (up * h).re;
                for q in 0..=p {
                    normal[p * UNKNOWNS + q] += (up * row[q]).re;
                }
            }
        }
        // A whisper of regularisation keeps the factor definite where neighbouring
        // resonators' bases nearly coincide.
        let ridge = 1e-10 * total_weight / self.points as f64;
        let mut chol = vec![0.0f64; UNKNOWNS * UNKNOWNS];
        for p in 0..UNKNOWNS {
            for q in 0..=p {
                let mut s = normal[p * UNKNOWNS + q] + if p == q { ridge } else { 0.0 };
                for r in 0..q {
                    s -= chol[p * UNKNOWNS + r] * chol[q * UNKNOWNS + r];
                }
                chol[p * UNKNOWNS + q] = if p == q {
                    s.max(f64::MIN_POSITIVE).sqrt()
                } else {
                    s / chol[q * UNKNOWNS + q]
                };
            }
        }
        // L y = r, then L^T x = y.
        for p in 0..UNKNOWNS {
            let mut s = x[p];
            for r in 0..p {
                s -= chol[p * UNKNOWNS + r] * x[r];
            }
            x[p] = s / chol[p * UNKNOWNS + p];
        }
        for p in (0..UNKNOWNS).rev() {
            let mut s = x[p];
            for r in p + 1..UNKNOWNS {
                s -= chol[r * UNKNOWNS + p] * x[r];
            }
            x[p] = s / chol[p * UNKNOWNS + p];
        }
        for (v, s) in x.iter_mut().zip(&self.scale) {
            *v *= s;
        }
        Numerators {
            b0: std::array::from_fn(|k| x[2 * k]),
            b1: std::array::from_fn(|k| x[2 * k + 1]),
            direct: x[2 * SECTIONS],
        }
    }
}

/// The running state of a stereo parallel filter: each section's last two recursion values
/// per channel.
#[derive(Clone, Debug)]
pub struct ParallelFilter {
    w1: [[f64; SECTIONS]; 2],
    w2: [[f64; SECTIONS]; 2],
}

impl Default for ParallelFilter {
    fn default() -> Self {
        Self {
            w1: [[0.0; SECTIONS]; 2],
            w2: [[0.0; SECTIONS]; 2],
        }
    }
}

impl ParallelFilter {
    /// Clears the state.
    pub fn reset(&mut self) {
        *self = Self::default();
    }

    /// Filters both channels in place with fixed numerators. No allocation.
    ///
    /// # Panics
    /// If the channels' lengths differ.
    pub fn process(
        &mut self,
        level: SimdLevel,
        poles: &Poles,
        num: &Numerators,
        x: &mut [&mut [f32]; 2],
    ) {
        let n = x[0].len();
        self.process_ramp(level, poles, &Ramp::fixed(num), 0, n, x);
    }

    /// Filters both channels in place with numerators on a ramp of `total` samples: sample
    /// `i` of `x` is sample `first + i` of the ramp and uses `ramp.at((first + i + 1) /
    /// total)`, so a ramp cut into any slices gives the same output. No allocation.
    ///
    /// # Panics
    /// If the channels' lengths differ.
    pub fn process_ramp(
        &mut self,
        level: SimdLevel,
        poles: &Poles,
        ramp: &Ramp,
        first: usize,
        total: usize,
        x: &mut [&mut [f32]; 2],
    ) {
        struct Run<'a> {
            f: &'a mut ParallelFilter,
            poles: &'a Poles,
            ramp: &'a Ramp,
            first: usize,
            total: usize,
            x: &'a mut [&'a mut [f32]; 2],
        }
        impl Kernel for Run<'_> {
            type Output = ();
            #[inline(always)]
            fn run<I: Isa>(self) {
                self.f
                    .process_impl::<I>(self.poles, self.ramp, self.first, self.total, self.x);
            }
        }
        let [l, r] = x;
        level.run(Run {
            f: self,
            poles,
            ramp,
            first,
            total,
            x: &mut [&mut **l, &mut **r],
        });
    }

    // The sections, channels and lanes index several arrays in step.
    #[allow(clippy::needless_range_loop)]
    #[inline(always)]
    fn process_impl<I: Isa>(
        &mut self,
        poles: &Poles,
        ramp: &Ramp,
        first: usize,
        total: usize,
        x: &mut [&mut [f32]; 2],
    ) {
        let n = x[0].len();
        assert_eq!(x[1].len(), n);
        let mut num = ramp.from;
        for i in 0..n {
            if ramp.moves {
                let t = (first + i + 1) as f64 / total.max(1) as f64;
                for k in 0..SECTIONS {
                    num.b0[k] = madd64::<I>(ramp.by.b0[k], t, ramp.from.b0[k]);
                    num.b1[k] = madd64::<I>(ramp.by.b1[k], t, ramp.from.b1[k]);
                }
                num.direct = madd64::<I>(ramp.by.direct, t, ramp.from.direct);
            }
            for c in 0..2 {
                let v = x[c][i] as f64;
                let (w1, w2) = (&mut self.w1[c], &mut self.w2[c]);
                // Every section's output side by side, then summed pairwise (no serial chain
                // of additions).
                let mut y = [0.0f64; SECTIONS];
                for k in 0..SECTIONS {
                    let w = madd64::<I>(-poles.a1[k], w1[k], madd64::<I>(-poles.a2[k], w2[k], v));
                    y[k] = madd64::<I>(num.b0[k], w, num.b1[k] * w1[k]);
                    w2[k] = w1[k];
                    w1[k] = w;
                }
                let mut half = SECTIONS / 2;
                while half > 0 {
                    for k in 0..half {
                        y[k] += y[k + half];
                    }
                    half /= 2;
                }
                x[c][i] = madd64::<I>(num.direct, v, y[0]) as f32;
            }
        }
    }
}

/// Numerators moving linearly from one set to another: `from + t (to - from)`, `t` in 0..=1.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Ramp {
    from: Numerators,
    by: Numerators,
    moves: bool,
}

impl Ramp {
    /// From `from` to `to`.
    pub fn new(from: &Numerators, to: &Numerators) -> Self {
        Self {
            from: *from,
            by: Numerators {
                b0: std::array::from_fn(|k| to.b0[k] - from.b0[k]),
                b1: std::array::from_fn(|k| to.b1[k] - from.b1[k]),
                direct: to.direct - from.direct,
            },
            moves: from != to,
        }
    }

    /// Fixed at `num`.
    pub fn fixed(num: &Numerators) -> Self {
        Self::new(num, num)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A grid of `n` log-spaced points from 10 Hz to 0.98 of Nyquist at `rate`.
    fn grid(rate: f64, n: usize) -> Vec<f64> {
        let (lo, hi) = (10.0f64, 0.49 * rate);
        (0..n)
            .map(|i| std::f64::consts::TAU * lo * (hi / lo).powf(i as f64 / (n - 1) as f64) / rate)
            .collect()
    }

    #[test]
    fn the_filter_runs_what_the_response_says_and_ramps_without_touching_the_state() {
        let rate = 48_000.0;
        let poles = Poles::log_spaced(rate);
        let mut a = Numerators::IDENTITY;
        for k in 0..SECTIONS {
            a.b0[k] = 1e-3 * ((k * 7 % 5) as f64 - 2.0);
            a.b1[k] = -0.8e-3 * ((k * 3 % 4) as f64 - 1.5);
        }
        a.direct = 0.9;
        // Impulse response against the analytic response at a few frequencies (a DFT of the
        // response; 2^17 samples hold every resonator's ring to below -200 dB).
        let len = 1 << 17;
        let mut h = vec![0.0f32; len];
        h[0] = 1.0;
        let mut hr = h.clone();
        let mut f = ParallelFilter::default();
        for (cl, cr) in h.chunks_mut(97).zip(hr.chunks_mut(97)) {
            f.process(SimdLevel::detect(), &poles, &a, &mut [cl, cr]);
        }
        assert_eq!(h, hr, "channels alike");
        for hz in [25.0, 110.0, 1000.0, 7000.0, 19_000.0] {
            let w = std::f64::consts::TAU * hz / rate;
            let dft: Complex<f64> = h
                .iter()
                .enumerate()
                .map(|(n, &v)| v as f64 * Complex::from_polar(1.0, -w * n as f64))
                .sum();
            let want = poles.response(&a, w);
            assert!(
                (dft - want).norm() < 1e-4 * want.norm().max(1.0),
                "{hz}: {dft} vs {want}"
            );
        }
        // Every SIMD level gives the same output (to rounding), and a ramp ends exactly on
        // its target: after it, the output equals a filter that ran the target all along
        // except for the ramp's contribution, which is linear in the numerators.
        let mut rng = crate::dsp::rng::Rng::new(5);
        let x: Vec<f32> = (0..4096).map(|_| rng.bipolar() as f32).collect();
        let run = |level: SimdLevel, from: &Numerators, to: &Numerators| {
            let mut f = ParallelFilter::default();
            let (mut l, mut r) = (x.clone(), x.clone());
            let ramp = Ramp::new(from, to);
            let n = x.len();
            // Cut into uneven slices: the same as one call.
            let mut pos = 0;
            for len in [1, 700, 33, 2000].iter().cycle() {
                let end = (pos + len).min(n);
                f.process_ramp(
                    level,
                    &poles,
                    &ramp,
                    pos,
                    n,
                    &mut [&mut l[pos..end], &mut r[pos..end]],
                );
                pos = end;
                if pos == n {
                    break;
                }
            }
            l
        };
        let base = run(SimdLevel::Baseline, &a, &a);
        let whole = {
            let mut f = ParallelFilter::default();
            let (mut l, mut r) = (x.clone(), x.clone());
            f.process(SimdLevel::Baseline, &poles, &a, &mut [&mut l, &mut r]);
            l
        };
        assert_eq!(base, whole, "slicing changes nothing");
        for level in SimdLevel::available() {
            let y = run(level, &a, &a);
            for (p, q) in y.iter().zip(&base) {
                assert!((p - q).abs() < 1e-5, "{level:?}");
            }
        }
        // Linearity in the numerators: a ramp from A to B equals A's output plus the ramp
        // weight times (B - A)'s output, sample by sample.
        let mut b = a;
        b.b0[3] += 0.01;
        b.direct = 1.2;
        let ramp = run(SimdLevel::Baseline, &a, &b);
        let diff = Numerators {
            b0: std::array::from_fn(|k| b.b0[k] - a.b0[k]),
            b1: std::array::from_fn(|k| b.b1[k] - a.b1[k]),
            direct: b.direct - a.direct,
        };
        // The recursion does not depend on the numerators, so the output at sample i is
        // linear in them: the ramp's output is A's plus (i + 1) / n times (B - A)'s.
        let ya = run(SimdLevel::Baseline, &a, &a);
        let n = x.len();
        let yd: Vec<f32> = run(SimdLevel::Baseline, &diff, &diff)
            .iter()
            .enumerate()
            .map(|(i, v)| v * (i + 1) as f32 / n as f32)
            .collect();
        for i in 0..x.len() {
            let want = ya[i] + yd[i];
            assert!((ramp[i] - want).abs() < 1e-4, "{i}: {} vs {want}", ramp[i]);
        }
    }

    #[test]
    fn a_smooth_curve_is_fitted_within_a_tenth_of_a_db() {
        for rate in [44_100.0, 48_000.0, 96_000.0, 192_000.0] {
            let poles = Poles::log_spaced(rate);
            let g = grid(rate, 600);
            let fit = Fit::new(&poles, &g);
            // A minimum-phase target: a cascade of two analog-like first-order shelves
            // (a gentle tilt) evaluated exactly; minimum phase by construction.
            let target: Vec<Complex<f64>> = g
                .iter()
                .map(|&w| {
                    let z1 = Complex::from_polar(1.0, -w);
                    // Zeros and poles inside the unit circle (minimum phase), at the same
                    // frequencies at every rate: a rise from 38 to 155 Hz, another from
                    // 1.5 to 3 kHz (both settled by 20 kHz).
                    let at = |hz: f64| (-std::f64::consts::TAU * hz / rate).exp();
                    let a = (1.0 - at(38.0) * z1) / (1.0 - at(155.0) * z1);
                    let b = (1.0 - at(1500.0) * z1) / (1.0 - at(3000.0) * z1);
                    a * b
                })
                .collect();
            let num = fit.solve(&target);
            let mut worst = 0.0f64;
            for (&w, t) in g.iter().zip(&target) {
                let hz = w * rate / std::f64::consts::TAU;
                if (20.0..=20_000.0).contains(&hz) {
                    let e = 20.0 * (poles.response(&num, w).norm() / t.norm()).log10();
                    worst = worst.max(e.abs());
                }
            }
            // At high rates the same 32 resonators also cover 20-40 kHz, so the audible
            // range has fewer of them.
            let limit = if rate < 50_000.0 { 0.1 } else { 0.2 };
            assert!(worst < limit, "{rate}: {worst} dB");
        }
    }
}
