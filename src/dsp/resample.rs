//! Band-limited resampling of whole signals (IRs), on plain channel slices: rubato's
//! synchronous FFT resampler (flat pass band), with its delay removed so the output is aligned
//! with the input.

use rubato::{FftFixedIn, Resampler};

/// `channels` (equal lengths) at `from` Hz, resampled to `to` Hz: aligned, each channel
/// `ceil(len * to / from)` long. Returns a copy if the rates match or the signal is empty.
pub fn resample(channels: &[Vec<f32>], from: u32, to: u32) -> Vec<Vec<f32>> {
    let len = channels.first().map_or(0, Vec::len);
    if from == to || len == 0 {
        return channels.to_vec();
    }
    let n_ch = channels.len();
    let chunk = 1024;
    let mut rs = FftFixedIn::<f64>::new(from as usize, to as usize, chunk, 2, n_ch)
        .expect("valid rates and chunk size");
    let want = (len as u64 * to as u64).div_ceil(from as u64) as usize;
    let delay = rs.output_delay();
    let input: Vec<Vec<f64>> = channels
        .iter()
        .map(|c| c.iter().map(|v| *v as f64).collect())
        .collect();
    let mut out: Vec<Vec<f64>> = vec![Vec::with_capacity(want + delay + chunk); n_ch];
    let mut pos = 0;
    while out[0].len() < want + delay {
        let need = rs.input_frames_next();
        let block: Vec<Vec<f64>> = input
            .iter()
            .map(|c| {
                (pos..pos + need)
                    .map(|i| c.get(i).copied().unwrap_or(0.0))
                    .collect()
            })
            .collect();
        let produced = rs
            .process(&block, None)
            .expect("sizes from input_frames_next");
        for (o, p) in out.iter_mut().zip(produced) {
            o.extend(p);
        }
        pos += need;
    }
    out.into_iter()
        .map(|c| c[delay..delay + want].iter().map(|v| *v as f32).collect())
        .collect()
}
