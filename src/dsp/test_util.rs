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

/// Runs `x` on both channels through `process` in calls of the given sizes (cycled) and
/// returns the left output. Every stereo stage takes its channels as `&mut [&mut [f32]; 2]`
/// (the engine and the saturator a slice of any count; the convolver through
/// `process_stereo`), so this one helper drives every stage.
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
