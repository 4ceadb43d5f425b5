//! Vector kernels used by the convolver, compiled twice: once for the baseline target and once
//! with AVX2 + FMA, chosen at run time. The bodies are plain loops over fixed-width chunks with
//! independent accumulators, which LLVM turns into packed `vfmadd` instructions; no intrinsics.
//!
//! Real-time safe: no allocation, no branching on data.

/// Which instruction set the kernels run with, detected once at construction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SimdLevel {
    /// The compile target's baseline (SSE2 on x86-64).
    Baseline,
    /// AVX2 with fused multiply-add.
    Avx2Fma,
}

impl SimdLevel {
    /// Detects the best level supported by this CPU. The environment variable
    /// `FLUXFORGE_SIMD=baseline` forces the baseline kernels (to test and time the path older
    /// CPUs take). Called at construction, never on the audio thread.
    pub fn detect() -> Self {
        if std::env::var_os("FLUXFORGE_SIMD").is_some_and(|v| v == "baseline") {
            return SimdLevel::Baseline;
        }
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("fma")
            {
                return SimdLevel::Avx2Fma;
            }
        }
        SimdLevel::Baseline
    }
}

/// `a * b + c`: one fused instruction where the kernel is compiled with FMA (`FUSED`), a
/// multiply and an add otherwise. (`f32::mul_add` without the FMA feature is a libm call that
/// emulates the single rounding in software: about 60 times slower in these loops.)
#[inline(always)]
fn madd<const FUSED: bool>(a: f32, b: f32, c: f32) -> f32 {
    if FUSED {
        a.mul_add(b, c)
    } else {
        a * b + c
    }
}

/// Complex multiply-accumulate on split re/im arrays: `acc += x * h` element-wise.
#[inline(always)]
fn cmac_impl<const FUSED: bool>(
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
        acc_re[i] = madd::<FUSED>(xr, hr, madd::<FUSED>(-xi, hi, acc_re[i]));
        acc_im[i] = madd::<FUSED>(xr, hi, madd::<FUSED>(xi, hr, acc_im[i]));
    }
}

/// Direct-form FIR over a block: `out[n] += sum_j taps_rev[j] * hist[n + j]`. The loop runs
/// over output samples for each tap, so the inner loop is a contiguous multiply-add that
/// vectorises across outputs, with no per-sample reduction.
#[inline(always)]
fn fir_impl<const FUSED: bool>(taps_rev: &[f32], hist: &[f32], out: &mut [f32]) {
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
                acc[k] = madd::<FUSED>(t, x[k], acc[k]);
            }
        }
        out[start..start + B].copy_from_slice(&acc);
        start += B;
    }
    for (j, &t) in taps_rev.iter().enumerate() {
        let x = &hist[start + j..j + n];
        for (y, v) in out[start..].iter_mut().zip(x) {
            *y = madd::<FUSED>(t, *v, *y);
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn fir_avx2(taps_rev: &[f32], hist: &[f32], out: &mut [f32]) {
    fir_impl::<true>(taps_rev, hist, out)
}

/// `out[n] += sum_j taps_rev[j] * hist[n + j]` for every `n` in `out`.
///
/// # Panics
/// If `hist` is shorter than `out.len() + taps_rev.len() - 1`.
#[inline]
pub fn fir(level: SimdLevel, taps_rev: &[f32], hist: &[f32], out: &mut [f32]) {
    match level {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `Avx2Fma` is only produced by `detect()` after checking both features.
        SimdLevel::Avx2Fma => unsafe { fir_avx2(taps_rev, hist, out) },
        _ => fir_impl::<false>(taps_rev, hist, out),
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn cmac_avx2(
    acc_re: &mut [f32],
    acc_im: &mut [f32],
    x_re: &[f32],
    x_im: &[f32],
    h_re: &[f32],
    h_im: &[f32],
) {
    cmac_impl::<true>(acc_re, acc_im, x_re, x_im, h_re, h_im)
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
    match level {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `Avx2Fma` is only produced by `detect()` after checking both features.
        SimdLevel::Avx2Fma => unsafe { cmac_avx2(acc_re, acc_im, x_re, x_im, h_re, h_im) },
        _ => cmac_impl::<false>(acc_re, acc_im, x_re, x_im, h_re, h_im),
    }
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
        for level in [SimdLevel::Baseline, SimdLevel::detect()] {
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
        for level in [SimdLevel::Baseline, SimdLevel::detect()] {
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
