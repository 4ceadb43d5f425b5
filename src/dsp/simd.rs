//! The one SIMD dispatcher: every vectorised loop in the DSP is written once, generic over an
//! instruction set ([`Isa`]), as a [`Kernel`]; [`SimdLevel::run`] compiles it for each level of
//! the target architecture (x86-64: baseline SSE2, AVX2 + FMA, AVX-512; aarch64: baseline and
//! NEON with fused multiply-add) and calls the one the CPU supports. The bodies are plain
//! loops over fixed-width chunks with independent accumulators, which LLVM turns into packed
//! instructions; no intrinsics. The pattern is `pulp`'s `WithSimd` without the vector types
//! (the loops auto-vectorise), so no dependency is needed for it.
//!
//! The level is detected once per process ([`SimdLevel::detect`]); `FLUXFORGE_SIMD` =
//! `baseline`, `neon`, `avx2` or `avx512` caps it (never above what the CPU has), for tests
//! and benchmarks of each path.
//!
//! On aarch64 (Apple Silicon, ARM Linux) NEON is part of the architecture, so the baseline
//! loops are already 4-wide; the [`Neon`] level adds fused multiply-add (`fmla`), which the
//! baseline leaves out so that it rounds exactly as the x86 baseline does. The vector
//! instructions of each aarch64 kernel are counted in the release build by
//! `scripts/cross.sh asm` (see `docs/PLATFORMS.md`).
//!
//! Real-time safe: no allocation, no branching on data.

use std::sync::OnceLock;

/// Which instruction set the kernels run with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum SimdLevel {
    /// The compile target's baseline (SSE2 on x86-64, NEON without fused multiply-add on
    /// aarch64).
    Baseline,
    /// aarch64 NEON with fused multiply-add.
    Neon,
    /// AVX2 with fused multiply-add.
    Avx2Fma,
    /// AVX-512 F/VL/BW/DQ (x86-64-v4) with fused multiply-add.
    Avx512,
}

impl SimdLevel {
    /// The best level this CPU supports, capped by `FLUXFORGE_SIMD` (`baseline`, `neon`,
    /// `avx2`, `avx512`). Detected on the first call and remembered; never on the audio thread.
    pub fn detect() -> Self {
        static LEVEL: OnceLock<SimdLevel> = OnceLock::new();
        *LEVEL.get_or_init(|| {
            let cap = match std::env::var("FLUXFORGE_SIMD").as_deref() {
                Ok("baseline") => SimdLevel::Baseline,
                Ok("neon") => SimdLevel::Neon,
                Ok("avx2") => SimdLevel::Avx2Fma,
                _ => SimdLevel::Avx512,
            };
            // Also fills the cache `run` reads, so the audio thread never initialises it.
            Self::supported_cached().min(cap)
        })
    }

    /// The best level the CPU supports, ignoring `FLUXFORGE_SIMD`.
    pub fn supported() -> Self {
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::is_x86_feature_detected as has;
            if has!("avx2") && has!("fma") {
                if has!("avx512f") && has!("avx512vl") && has!("avx512bw") && has!("avx512dq") {
                    return SimdLevel::Avx512;
                }
                return SimdLevel::Avx2Fma;
            }
        }
        #[cfg(target_arch = "aarch64")]
        if std::arch::is_aarch64_feature_detected!("neon") {
            return SimdLevel::Neon;
        }
        SimdLevel::Baseline
    }

    /// The levels of the target architecture, lowest first.
    const fn of_this_arch() -> &'static [Self] {
        if cfg!(target_arch = "x86_64") {
            &[SimdLevel::Baseline, SimdLevel::Avx2Fma, SimdLevel::Avx512]
        } else if cfg!(target_arch = "aarch64") {
            &[SimdLevel::Baseline, SimdLevel::Neon]
        } else {
            &[SimdLevel::Baseline]
        }
    }

    /// Every level this CPU can run, lowest first (tests run each).
    pub fn available() -> Vec<Self> {
        Self::of_this_arch()
            .iter()
            .copied()
            .filter(|l| *l <= Self::supported())
            .collect()
    }

    /// Runs `kernel` compiled for this level.
    ///
    /// A level above [`Self::supported`] runs the best supported one instead, so no caller can
    /// reach an instruction the CPU lacks.
    #[inline]
    pub fn run<K: Kernel>(self, kernel: K) -> K::Output {
        #[cfg(target_arch = "x86_64")]
        {
            let level = self.min(Self::supported_cached());
            match level {
                // SAFETY: `supported()` found AVX-512F/BW/DQ/VL on this CPU (`level` is capped
                // by it).
                SimdLevel::Avx512 => return unsafe { run_avx512(kernel) },
                // SAFETY: `supported()` found AVX2 and FMA on this CPU (`level` is capped by
                // it).
                SimdLevel::Avx2Fma => return unsafe { run_avx2(kernel) },
                SimdLevel::Baseline | SimdLevel::Neon => {}
            }
        }
        #[cfg(target_arch = "aarch64")]
        if self.min(Self::supported_cached()) == SimdLevel::Neon {
            // SAFETY: `supported()` detected NEON (the level is capped by it).
            return unsafe { run_neon(kernel) };
        }
        kernel.run::<Baseline>()
    }

    /// [`Self::supported`], detected once.
    #[inline]
    fn supported_cached() -> Self {
        static SUPPORTED: OnceLock<SimdLevel> = OnceLock::new();
        *SUPPORTED.get_or_init(Self::supported)
    }
}

/// An instruction set a kernel is compiled for (zero-sized markers).
pub trait Isa {
    /// Whether `f32::mul_add` is one instruction here (a slow libm call otherwise).
    const FUSED: bool;
}

/// The compile target's baseline.
pub struct Baseline;
/// AVX2 + FMA.
pub struct Avx2;
/// AVX-512.
pub struct Avx512;
/// aarch64 NEON with fused multiply-add.
pub struct Neon;

impl Isa for Baseline {
    const FUSED: bool = false;
}
impl Isa for Avx2 {
    const FUSED: bool = true;
}
impl Isa for Avx512 {
    const FUSED: bool = true;
}
impl Isa for Neon {
    const FUSED: bool = true;
}

/// A computation written once and compiled per instruction set. `run` must be
/// `#[inline(always)]` (and so must what it calls) so its body is compiled inside the
/// dispatcher's feature-enabled function.
pub trait Kernel {
    /// What the computation returns.
    type Output;
    /// The computation, for instruction set `I`.
    fn run<I: Isa>(self) -> Self::Output;
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn run_avx2<K: Kernel>(kernel: K) -> K::Output {
    kernel.run::<Avx2>()
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512vl,avx512bw,avx512dq,avx2,fma")]
unsafe fn run_avx512<K: Kernel>(kernel: K) -> K::Output {
    kernel.run::<Avx512>()
}

#[cfg(target_arch = "aarch64")]
#[target_feature(enable = "neon")]
unsafe fn run_neon<K: Kernel>(kernel: K) -> K::Output {
    kernel.run::<Neon>()
}

/// `a * b + c`: one fused instruction where the kernel is compiled with FMA, a multiply and an
/// add otherwise. (`f32::mul_add` without the FMA feature is a libm call that emulates the
/// single rounding in software: about 60 times slower in these loops.)
#[inline(always)]
pub fn madd<I: Isa>(a: f32, b: f32, c: f32) -> f32 {
    if I::FUSED {
        a.mul_add(b, c)
    } else {
        a * b + c
    }
}

/// [`madd`] in `f64`.
#[inline(always)]
pub fn madd64<I: Isa>(a: f64, b: f64, c: f64) -> f64 {
    if I::FUSED {
        a.mul_add(b, c)
    } else {
        a * b + c
    }
}

/// Complex multiply-accumulate on split re/im arrays: `acc += x * h` element-wise.
#[inline(always)]
fn cmac_impl<I: Isa>(
    acc_re: &mut [f32],
    acc_im: &mut [f32],
    x_re: &[f32],
    x_im: &[f32],
    h_re: &[f32],
    h_im: &[f32],
) {
    let n = acc_re.len();
    let (acc_im, x_re, x_im, h_re, h_im) = (
        &mut acc_im[..n],
        &x_re[..n],
        &x_im[..n],
        &h_re[..n],
        &h_im[..n],
    );
    for i in 0..n {
        let (xr, xi, hr, hi) = (x_re[i], x_im[i], h_re[i], h_im[i]);
        acc_re[i] = madd::<I>(xr, hr, madd::<I>(-xi, hi, acc_re[i]));
        acc_im[i] = madd::<I>(xr, hi, madd::<I>(xi, hr, acc_im[i]));
    }
}

/// Direct-form FIR over a block: `out[n] += sum_j taps_rev[j] * hist[n + j]`. The loop runs
/// over output samples for each tap, so the inner loop is a contiguous multiply-add that
/// vectorises across outputs, with no per-sample reduction.
#[inline(always)]
fn fir_impl<I: Isa>(taps_rev: &[f32], hist: &[f32], out: &mut [f32]) {
    const B: usize = 32;
    let n = out.len();
    assert!(hist.len() + 1 >= n + taps_rev.len());
    // Blocks of B outputs whose accumulators stay in registers across all taps.
    let mut start = 0;
    while start + B <= n {
        let mut acc = [0.0f32; B];
        acc.copy_from_slice(&out[start..start + B]);
        for (j, &t) in taps_rev.iter().enumerate() {
            let x: &[f32; B] = hist[start + j..start + j + B]
                .try_into()
                .expect("B samples");
            for k in 0..B {
                acc[k] = madd::<I>(t, x[k], acc[k]);
            }
        }
        out[start..start + B].copy_from_slice(&acc);
        start += B;
    }
    for (j, &t) in taps_rev.iter().enumerate() {
        let x = &hist[start + j..j + n];
        for (y, v) in out[start..].iter_mut().zip(x) {
            *y = madd::<I>(t, *v, *y);
        }
    }
}

/// `out[n] += sum_j taps_rev[j] * hist[n + j]` for every `n` in `out`.
///
/// # Panics
/// If `hist` is shorter than `out.len() + taps_rev.len() - 1`.
#[inline]
pub fn fir(level: SimdLevel, taps_rev: &[f32], hist: &[f32], out: &mut [f32]) {
    struct Fir<'a>(&'a [f32], &'a [f32], &'a mut [f32]);
    impl Kernel for Fir<'_> {
        type Output = ();
        #[inline(always)]
        fn run<I: Isa>(self) {
            fir_impl::<I>(self.0, self.1, self.2)
        }
    }
    level.run(Fir(taps_rev, hist, out))
}

/// `acc += x * h` on split complex arrays.
///
/// # Panics
/// If any slice is shorter than `acc_re`.
#[inline]
pub fn cmac(
    level: SimdLevel,
    acc_re: &mut [f32],
    acc_im: &mut [f32],
    x_re: &[f32],
    x_im: &[f32],
    h_re: &[f32],
    h_im: &[f32],
) {
    struct Cmac<'a>([&'a mut [f32]; 2], [&'a [f32]; 4]);
    impl Kernel for Cmac<'_> {
        type Output = ();
        #[inline(always)]
        fn run<I: Isa>(self) {
            let ([ar, ai], [xr, xi, hr, hi]) = (self.0, self.1);
            cmac_impl::<I>(ar, ai, xr, xi, hr, hi)
        }
    }
    level.run(Cmac([acc_re, acc_im], [x_re, x_im, h_re, h_im]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fir_matches_a_direct_sum() {
        let taps: Vec<f32> = (0..64).map(|i| ((i * 7 % 13) as f32 - 6.0) / 7.0).collect();
        let hist: Vec<f32> = (0..64 + 50)
            .map(|i| ((i * 5 % 17) as f32 - 8.0) / 9.0)
            .collect();
        for level in SimdLevel::available() {
            let mut out = vec![1.0f32; 51];
            fir(level, &taps, &hist, &mut out);
            for (n, y) in out.iter().enumerate() {
                let want: f64 = 1.0
                    + (0..64)
                        .map(|j| taps[j] as f64 * hist[n + j] as f64)
                        .sum::<f64>();
                assert!((*y as f64 - want).abs() < 1e-4, "n {n}");
            }
        }
    }

    #[test]
    fn kernels_match_scalar_reference_at_both_levels() {
        let a: Vec<f32> = (0..203)
            .map(|i| ((i * 37 % 101) as f32 - 50.0) / 50.0)
            .collect();
        let b: Vec<f32> = (0..203)
            .map(|i| ((i * 13 % 97) as f32 - 48.0) / 48.0)
            .collect();
        for level in SimdLevel::available() {
            let mut re = vec![0.5f32; 203];
            let mut im = vec![-0.25f32; 203];
            cmac(level, &mut re, &mut im, &a, &b, &b, &a);
            for i in 0..203 {
                let er = 0.5 + a[i] * b[i] - b[i] * a[i];
                let ei = -0.25 + a[i] * a[i] + b[i] * b[i];
                assert!((re[i] - er).abs() < 1e-5 && (im[i] - ei).abs() < 1e-5);
            }
        }
    }
}
