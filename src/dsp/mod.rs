//! Framework-free DSP. Every type here works on plain slices, allocates only in `new`
//! (or in methods documented as allocating) and is tested against a naive reference.

/// What a dynamics detector listens to (saved by position: append only).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DetectorSource {
    /// The signal the stage processes.
    Internal,
    /// The sidechain input (the processed signal while no sidechain has carried sound).
    External,
}

/// Checks that two channels and an optional two-channel key all have the same length and
/// returns it (the stages that take a sidechain share this contract).
///
/// # Panics
/// If the lengths differ.
pub fn keyed_len(channels: &[&mut [f32]; 2], key: Option<[&[f32]; 2]>) -> usize {
    let n = channels[0].len();
    assert_eq!(channels[1].len(), n);
    if let Some(k) = key {
        assert!(k[0].len() == n && k[1].len() == n);
    }
    n
}

pub mod biquad;
pub mod chain;
pub mod convolver;
pub mod decay_bands;
pub mod denormal;
pub mod ducker;
pub mod dynamic_eq;
pub mod eq_match;
pub mod fast_math;
pub mod gain_computer;
pub mod halfband;
pub mod ir_edit;
pub mod ir_gen;
pub mod line_fit;
pub mod long_term_spectrum;
pub mod matched;
pub mod parallel_filter;
pub mod resample;
pub mod rng;
pub mod saturator;
pub mod shaper;
pub mod simd;
pub mod smoother;
pub mod spectral;
pub mod spectral_bands;
pub mod spectral_learn;
pub mod split_fft;
pub mod sweep_capture;
#[cfg(test)]
pub(crate) mod test_util;
