//! The character modes' memoryless shapers and their first-order antiderivative antialiasing
//! (ADAA), evaluated a block at a time in branch-free `f64` so the loops vectorise.
//!
//! ADAA replaces `f(u[n])` by `(F(u[n]) - F(u[n-1])) / (u[n] - u[n-1])` with `F' = f`: `f`
//! averaged over the line between consecutive samples, which suppresses the aliasing of the
//! harmonics that fold back (Parker, Zavalishin & Le Bivic, "Reducing the aliasing of nonlinear
//! waveshaping using continuous-time convolution", DAFx 2016; Bilbao, Esqueda, Parker &
//! Välimäki, "Antiderivative antialiasing for memoryless nonlinearities", IEEE SPL 24(7),
//! 2017). Where consecutive samples are within [`ILL_CONDITIONED`] the quotient loses its
//! digits and the mean of `f` at the two ends is used instead (the same limit, error
//! `O(d^2)`).
//!
//! `tanh` and its antiderivative `ln cosh` share one exponential: with `w = e^(-2|v|)`,
//! `tanh|v| = (1 - w) / (1 + w)` and `ln cosh v = |v| - ln 2 + ln(1 + w)`. The exponential
//! and the logarithm are polynomial evaluations after Cody & Waite range reduction, accurate
//! to a few units in the last place of `f64` over the ranges used (tested below against the
//! standard library), so `F`'s differences keep their digits.

use super::simd::{madd64, Isa, Kernel, SimdLevel};

/// The saturation character.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum CharacterMode {
    /// Bit-exact pass-through.
    #[default]
    Clean,
    /// Symmetric `tanh`: odd harmonics, transformer-like.
    Subtle,
    /// Biased `tanh` with DC blocker: even and odd harmonics, tube-like.
    Warm,
    /// Soft-knee algebraic sigmoid with high-frequency softening, tape-like.
    Tape,
}

/// Bias of the Warm shaper (input units).
pub const WARM_BIAS: f64 = 0.35;

/// Consecutive samples closer than this take the fallback (the quotient's cancellation would
/// cost more than its `O(d^2)` error).
pub const ILL_CONDITIONED: f64 = 1e-5;

/// The most samples one [`adaa_block`] call takes.
pub const MAX_BLOCK: usize = 256;

/// The shaper `f` of a mode (reference evaluation with the standard library).
pub fn shape(mode: CharacterMode, u: f64) -> f64 {
    match mode {
        CharacterMode::Clean => u,
        CharacterMode::Subtle => u.tanh(),
        CharacterMode::Warm => (u + WARM_BIAS).tanh() - WARM_BIAS.tanh(),
        CharacterMode::Tape => u / (1.0 + u * u).sqrt(),
    }
}

/// Rounds to the nearest integer without a branch, for `|x| < 2^51`; returns the rounded
/// value and its bits plus [`ROUND_MAGIC`]'s (whose low bits hold the integer).
#[inline(always)]
fn round_magic(x: f64) -> (f64, u64) {
    let t = x + ROUND_MAGIC;
    (t - ROUND_MAGIC, t.to_bits())
}

/// `1.5 * 2^52`: adding it rounds a small `f64` to an integer held in the low mantissa bits.
const ROUND_MAGIC: f64 = 6_755_399_441_055_744.0;

/// `e^x` for `x <= 0` (below -708 it returns `e^-708`, about 3e-308: still normal).
#[inline(always)]
fn exp_neg<I: Isa>(x: f64) -> f64 {
    // ln 2 split in two (fdlibm's): n * LN2_HI is exact for |n| < 2^11.
    const LN2_HI: f64 = f64::from_bits(0x3fe6_2e42_fee0_0000);
    const LN2_LO: f64 = f64::from_bits(0x3dea_39ef_3579_3c76);
    let x = x.max(-708.0);
    let (n, bits) = round_magic(x * std::f64::consts::LOG2_E);
    let r = madd64::<I>(-n, LN2_LO, madd64::<I>(-n, LN2_HI, x));
    // Taylor series to r^12 (|r| <= ln2 / 2: remainder below 2e-16 relative).
    const C: [f64; 13] = [
        1.0 / 479_001_600.0,
        1.0 / 39_916_800.0,
        1.0 / 3_628_800.0,
        1.0 / 362_880.0,
        1.0 / 40_320.0,
        1.0 / 5_040.0,
        1.0 / 720.0,
        1.0 / 120.0,
        1.0 / 24.0,
        1.0 / 6.0,
        0.5,
        1.0,
        1.0,
    ];
    let mut p = C[0];
    for c in &C[1..] {
        p = madd64::<I>(p, r, *c);
    }
    // 2^n from the rounded value's low bits: n + 1023 in the exponent field.
    let k = bits.wrapping_sub(ROUND_MAGIC.to_bits()).wrapping_add(1023) << 52;
    p * f64::from_bits(k)
}

/// `ln(1 + w)` for `w` in [0, 1].
#[inline(always)]
fn ln_1p_unit<I: Isa>(w: f64) -> f64 {
    let m = 1.0 + w;
    // Reduce to [sqrt(1/2), sqrt(2)]: halve above sqrt(2) and add ln 2 back.
    let big = m > std::f64::consts::SQRT_2;
    let m = if big { 0.5 * m } else { m };
    let s = (m - 1.0) / (m + 1.0);
    let z = s * s;
    // ln m = 2 atanh(s) = 2 (s + s^3/3 + ... + s^21/21); |s| <= 0.1716.
    let mut p = 1.0 / 21.0;
    for k in (1..10).rev() {
        p = madd64::<I>(p, z, 1.0 / (2 * k + 1) as f64);
    }
    let p = madd64::<I>(p, z, 1.0);
    let l = 2.0 * s * p;
    if big {
        l + std::f64::consts::LN_2
    } else {
        l
    }
}

/// `(F(v), f(v))` for `tanh`: `(ln cosh v, tanh v)`.
#[inline(always)]
fn tanh_pair<I: Isa>(v: f64) -> (f64, f64) {
    let a = v.abs();
    let w = exp_neg::<I>(-2.0 * a);
    let big_f = a - std::f64::consts::LN_2 + ln_1p_unit::<I>(w);
    let t = (1.0 - w) / (1.0 + w);
    (big_f, t.copysign(v))
}

/// `(F(u), f(u))` of `mode` (`F(0) = 0`; Clean is the identity).
#[inline(always)]
fn pair<I: Isa>(mode: CharacterMode, u: f64) -> (f64, f64) {
    match mode {
        CharacterMode::Clean => (0.5 * u * u, u),
        CharacterMode::Subtle => tanh_pair::<I>(u),
        CharacterMode::Warm => {
            // tanh(0.35), to the last digit.
            const TB: f64 = 0.336_375_544_336_332_2;
            let (f, t) = tanh_pair::<I>(u + WARM_BIAS);
            (madd64::<I>(-u, TB, f), t - TB)
        }
        CharacterMode::Tape => {
            let r = (madd64::<I>(u, u, 1.0)).sqrt();
            (u * u / (r + 1.0), u / r)
        }
    }
}

/// First-order ADAA of `mode` over `u` (the driven signal), with `u_prev` the sample before
/// `u[0]`: `y[k]` is `f` averaged between `u[k-1]` and `u[k]`.
///
/// # Panics
/// If `y` is shorter than `u` or `u` longer than [`MAX_BLOCK`].
pub fn adaa_block(level: SimdLevel, mode: CharacterMode, u_prev: f64, u: &[f64], y: &mut [f64]) {
    struct Block<'a>(CharacterMode, f64, &'a [f64], &'a mut [f64]);
    impl Kernel for Block<'_> {
        type Output = ();
        #[inline(always)]
        fn run<I: Isa>(self) {
            let Block(mode, u_prev, u, y) = self;
            match mode {
                CharacterMode::Clean => block::<I, 0>(u_prev, u, y),
                CharacterMode::Subtle => block::<I, 1>(u_prev, u, y),
                CharacterMode::Warm => block::<I, 2>(u_prev, u, y),
                CharacterMode::Tape => block::<I, 3>(u_prev, u, y),
            }
        }
    }
    level.run(Block(mode, u_prev, u, y))
}

/// The mode as a constant, so each mode's loop is compiled without a match inside.
const fn mode_of(m: u8) -> CharacterMode {
    match m {
        0 => CharacterMode::Clean,
        1 => CharacterMode::Subtle,
        2 => CharacterMode::Warm,
        _ => CharacterMode::Tape,
    }
}

#[inline(always)]
fn block<I: Isa, const M: u8>(u_prev: f64, u: &[f64], y: &mut [f64]) {
    let n = u.len();
    assert!(n <= MAX_BLOCK);
    let y = &mut y[..n];
    // F and f at u_prev (index 0) and every u.
    let mut big_f = [0.0f64; MAX_BLOCK + 1];
    let mut f = [0.0f64; MAX_BLOCK + 1];
    (big_f[0], f[0]) = pair::<I>(mode_of(M), u_prev);
    for ((bf, fv), &v) in big_f[1..=n].iter_mut().zip(&mut f[1..=n]).zip(u) {
        (*bf, *fv) = pair::<I>(mode_of(M), v);
    }
    for k in 0..n {
        let (u0, u1) = (if k == 0 { u_prev } else { u[k - 1] }, u[k]);
        let d = u1 - u0;
        let ok = d.abs() > ILL_CONDITIONED;
        let q = (big_f[k + 1] - big_f[k]) / if ok { d } else { 1.0 };
        y[k] = if ok { q } else { 0.5 * (f[k] + f[k + 1]) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dsp::simd::Baseline;

    /// `F` by the standard library, for the reference.
    fn antiderivative(mode: CharacterMode, u: f64) -> f64 {
        let ln_cosh = |x: f64| {
            let a = x.abs();
            a + (-2.0 * a).exp().ln_1p() - std::f64::consts::LN_2
        };
        match mode {
            CharacterMode::Clean => 0.5 * u * u,
            CharacterMode::Subtle => ln_cosh(u),
            CharacterMode::Warm => ln_cosh(u + WARM_BIAS) - u * WARM_BIAS.tanh(),
            CharacterMode::Tape => (1.0 + u * u).sqrt() - 1.0,
        }
    }

    #[test]
    fn exp_and_log_match_the_standard_library() {
        let mut worst = (0.0f64, 0.0f64);
        for i in 0..200_000 {
            let x = -(i as f64) * 740.0 / 200_000.0;
            let want = x.max(-708.0).exp();
            worst.0 = worst.0.max((exp_neg::<Baseline>(x) / want - 1.0).abs());
            let w = i as f64 / 200_000.0;
            worst.1 = worst.1.max((ln_1p_unit::<Baseline>(w) - w.ln_1p()).abs());
        }
        assert!(worst.0 < 1e-15 && worst.1 < 4e-16, "{worst:?}");
        assert_eq!(exp_neg::<Baseline>(0.0), 1.0);
        assert_eq!(ln_1p_unit::<Baseline>(0.0), 0.0);
    }

    #[test]
    fn shapers_and_antiderivatives_match_the_reference() {
        for mode in [
            CharacterMode::Clean,
            CharacterMode::Subtle,
            CharacterMode::Warm,
            CharacterMode::Tape,
        ] {
            for i in -4000..=4000 {
                let u = i as f64 * 0.0625;
                let (big_f, f) = pair::<Baseline>(mode, u);
                let (rf, rs) = (antiderivative(mode, u), shape(mode, u));
                assert!((f - rs).abs() < 1e-15, "{mode:?} f({u}) {f} vs {rs}");
                assert!(
                    (big_f - rf).abs() < 1e-14 * rf.abs().max(1.0),
                    "{mode:?} F({u}) {big_f} vs {rf}"
                );
                // F' = f, by a central difference.
                let h = 1e-4;
                let d =
                    (pair::<Baseline>(mode, u + h).0 - pair::<Baseline>(mode, u - h).0) / (2.0 * h);
                assert!((d - rs).abs() < 1e-7, "{mode:?} F'({u}) {d} vs {rs}");
            }
        }
    }

    #[test]
    fn adaa_matches_the_quotient_and_its_limit_at_every_level() {
        let u: Vec<f64> = (0..MAX_BLOCK)
            .map(|i| match i % 4 {
                // Repeated samples exercise the fallback.
                0 | 1 => 3.0 * ((i / 2) as f64 * 0.37).sin(),
                _ => 8.0 * (i as f64 * 0.91).sin(),
            })
            .collect();
        for mode in [
            CharacterMode::Subtle,
            CharacterMode::Warm,
            CharacterMode::Tape,
        ] {
            for level in SimdLevel::available() {
                let mut y = vec![0.0; u.len()];
                adaa_block(level, mode, 0.5, &u, &mut y);
                for k in 0..u.len() {
                    let u0 = if k == 0 { 0.5 } else { u[k - 1] };
                    let d = u[k] - u0;
                    let want = if d.abs() > ILL_CONDITIONED {
                        (antiderivative(mode, u[k]) - antiderivative(mode, u0)) / d
                    } else {
                        shape(mode, 0.5 * (u0 + u[k]))
                    };
                    assert!(
                        (y[k] - want).abs() < 1e-9,
                        "{mode:?} {level:?} k {k}: {} vs {want}",
                        y[k]
                    );
                }
            }
        }
    }
}
