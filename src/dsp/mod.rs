//! Framework-free DSP. Every type here works on plain slices, allocates only in `new`
//! (or in methods documented as allocating) and is tested against a naive reference.

pub mod convolver;
pub mod rng;
pub mod simd;
