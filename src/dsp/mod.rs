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

/// The one shape of every stereo stage of the chain ([`dynamic_eq::DynamicEq`],
/// [`spectral::SpectralDynamics`], [`spectral_bands::SpectralBands`], [`eq_match::MatchEq`],
/// [`saturator::Saturator`], [`ducker::Ducker`], [`convolver::Convolver`] for two in and two
/// out): both channels processed in place, an optional two-channel key (the sidechain, or the
/// dry signal for the ducker) as long as them, and a reset. So the chain reads as a list of
/// stage calls and one test helper (`test_util::run_stage`) drives any of them.
pub trait Stage {
    /// Processes `x` in place, keyed by `key` where the stage listens to one. No allocation.
    ///
    /// # Panics
    /// If the channels (and the key's) lengths differ.
    fn process_keyed(&mut self, x: &mut [&mut [f32]; 2], key: Option<[&[f32]; 2]>);
    /// Clears the signal state (a following run repeats exactly).
    fn reset(&mut self);
}

/// Implements [`Stage`] by the type's own `process_keyed` and `reset` (inherent methods of the
/// same names, which callers without the trait in scope use).
macro_rules! stage_by_inherent {
    ($($t:ty),*) => {$(
        impl Stage for $t {
            fn process_keyed(&mut self, x: &mut [&mut [f32]; 2], key: Option<[&[f32]; 2]>) {
                <$t>::process_keyed(self, x, key)
            }
            fn reset(&mut self) {
                <$t>::reset(self)
            }
        }
    )*};
}

stage_by_inherent!(
    dynamic_eq::DynamicEq,
    spectral::SpectralDynamics,
    spectral_bands::SpectralBands,
    eq_match::MatchEq,
    ducker::Ducker
);

impl Stage for saturator::Saturator {
    /// The character stage hears no key.
    fn process_keyed(&mut self, x: &mut [&mut [f32]; 2], _key: Option<[&[f32]; 2]>) {
        let [l, r] = x;
        self.process(&mut [&mut **l, &mut **r]);
    }
    fn reset(&mut self) {
        saturator::Saturator::reset(self)
    }
}

impl Stage for convolver::Convolver {
    /// Stereo in place ([`convolver::Convolver::process_stereo`]; a convolver of two inputs
    /// and two outputs). The reverb hears no key.
    fn process_keyed(&mut self, x: &mut [&mut [f32]; 2], _key: Option<[&[f32]; 2]>) {
        self.process_stereo(x);
    }
    fn reset(&mut self) {
        convolver::Convolver::reset(self)
    }
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
