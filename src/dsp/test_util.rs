//! Helpers shared by the DSP unit tests.

/// `len` samples of a sine of frequency `f` (Hz) and amplitude `amp`, starting at sample
/// index `start` of an endless sine at `rate` Hz.
pub fn sine(f: f64, amp: f64, len: usize, start: usize, rate: f32) -> Vec<f32> {
    (start..start + len)
        .map(|n| (amp * (std::f64::consts::TAU * f * n as f64 / rate as f64).sin()) as f32)
        .collect()
}

/// Amplitude of frequency `f` in `y` (a single-bin DFT; exact over whole periods).
pub fn amplitude(y: &[f32], f: f64, rate: f32) -> f64 {
    let (mut re, mut im) = (0.0, 0.0);
    for (n, v) in y.iter().enumerate() {
        let ph = std::f64::consts::TAU * f * n as f64 / rate as f64;
        re += *v as f64 * ph.cos();
        im += *v as f64 * ph.sin();
    }
    2.0 * re.hypot(im) / y.len() as f64
}

/// Runs `x` on both channels of `stage` (unkeyed) in calls of the given sizes (cycled) and
/// returns the left output: every stereo stage has the one shape of [`super::Stage`].
pub fn run_stage(stage: &mut impl super::Stage, x: &[f32], calls: &[usize]) -> Vec<f32> {
    run_stereo(|c| stage.process_keyed(c, None), x, calls)
}

/// Runs `x` on both channels through `process` in calls of the given sizes (cycled) and
/// returns the left output (for a stage driven with a key or settings changes between calls;
/// see [`run_stage`]).
pub fn run_stereo(
    mut process: impl FnMut(&mut [&mut [f32]; 2]),
    x: &[f32],
    calls: &[usize],
) -> Vec<f32> {
    let (mut l, mut r) = (x.to_vec(), x.to_vec());
    let (mut pos, mut k) = (0, 0);
    while pos < x.len() {
        let n = calls[k % calls.len()].min(x.len() - pos);
        process(&mut [&mut l[pos..pos + n], &mut r[pos..pos + n]]);
        pos += n;
        k += 1;
    }
    l
}

/// T30 of `x` in the octave around `hz`, seconds: `x` through two band-pass sections at `hz`,
/// then [`t30`] from sample `from`.
pub fn t30_in_octave(x: &[f32], hz: f64, from: usize, rate: f64) -> f64 {
    use crate::dsp::biquad::{Coeffs, State};
    let c = Coeffs::band_pass(hz, 1.414, rate);
    let mut s = [State::default(), State::default()];
    let y: Vec<f64> = x
        .iter()
        .map(|v| {
            let a = s[0].tick(&c, *v as f64);
            s[1].tick(&c, a)
        })
        .collect();
    t30(&[&y], from, rate)
}

/// T30 of channels `ys` from sample `from`, seconds: the least-squares slope of their
/// Schroeder curve (every channel's energy) from -5 to -35 dB, extrapolated to 60 dB
/// (ISO 3382-1).
pub fn t30(ys: &[&[f64]], from: usize, rate: f64) -> f64 {
    let n = ys[0].len();
    let mut edc = vec![0.0f64; n + 1];
    for i in (from..n).rev() {
        edc[i] = edc[i + 1] + ys.iter().map(|y| y[i] * y[i]).sum::<f64>();
    }
    let mut fit = crate::dsp::line_fit::LineFit::default();
    for (i, e) in edc.iter().enumerate().take(n).skip(from) {
        let db = 10.0 * (e / edc[from]).log10();
        if db <= -35.0 {
            break;
        }
        if db <= -5.0 {
            fit.add(i as f64 / rate, db);
        }
    }
    let slope = fit.slope();
    -60.0 / slope
}

/// The delta-impulse latency check: `with` is the output for the input of `base` plus an
/// impulse of 0.5 at `t0`. The two are equal before `t0` (nothing leaks ahead: causal) and
/// the impulse comes out at `t0` itself (no latency).
pub fn assert_onset_at(base: &[f32], with: &[f32], t0: usize) {
    let d: Vec<f32> = base.iter().zip(with).map(|(p, q)| q - p).collect();
    assert!(
        d[..t0].iter().all(|v| *v == 0.0),
        "nothing before the impulse"
    );
    assert!(
        d[t0].abs() > 0.25,
        "the impulse comes out at once: {}",
        d[t0]
    );
}
