//! A real FFT cut into small, separately schedulable steps, so a large transform can be
//! spread over several audio callbacks.
//!
//! The size-`M` real transform is split `depth` times by radix-2 decimation:
//!
//! * **Forward** (decimation in time): with `E`, `O` the real FFTs (size `P/2`) of the even and
//!   odd samples of a size-`P` sequence, `X[k] = E'[k] + W_P^k O'[k]` for `k = 0..=P/2`, where
//!   `E'[k] = conj(E[P/2 - k])` for `k > P/4` (Hermitian symmetry), likewise `O'`.
//! * **Inverse** (decimation in frequency, unnormalised like realfft): the even and odd output
//!   samples are the size-`P/2` inverses of `A[k] = Y[k] + conj(Y[P/2-k])` and
//!   `B[k] = (Y[k] - conj(Y[P/2-k])) W_P^{-k}`, `k = 0..=P/4`.
//!
//! Leaves are ordinary realfft transforms of size `M / 2^depth`; each combine/split pass is
//! cut into chunks of at most [`CHUNK_BINS`] bins. See Oppenheim & Schafer, "Discrete-Time
//! Signal Processing", 3rd ed., §9.3 (decimation in time) and §9.4 (decimation in frequency).
//!
//! Nodes at level `l` (0 = whole transform, `depth` = leaves) are indexed by their residue
//! `r` in `0..2^l`: node `(l, r)` is the subsequence `x[r], x[r + 2^l], ...`; its even part is
//! node `(l+1, r)` and its odd part node `(l+1, r + 2^l)`.

use std::sync::Arc;

use realfft::num_complex::Complex;
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};

/// Largest number of bins one combine/split step handles.
pub const CHUNK_BINS: usize = 1024;

/// One unit of work.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Forward FFT of leaf `r` (input gathered through the caller's closure).
    ForwardLeaf(usize),
    /// Forward combine of node `(level, node)`, bins `k0..k1`.
    Combine {
        level: usize,
        node: usize,
        k0: usize,
        k1: usize,
    },
    /// Inverse split of node `(level, node)`, child bins `k0..k1`.
    Split {
        level: usize,
        node: usize,
        k0: usize,
        k1: usize,
    },
    /// Inverse FFT of leaf `r` (output scattered through the caller's closure).
    InverseLeaf(usize),
}

/// A size-`M` real FFT split into steps. Allocates only in [`SplitRealFft::new`].
pub struct SplitRealFft {
    size: usize,
    depth: usize,
    leaf: usize,
    r2c: Arc<dyn RealToComplex<f32>>,
    c2r: Arc<dyn ComplexToReal<f32>>,
    /// `levels[l]`: `2^l` node spectra of `(size >> l) / 2 + 1` bins each, back to back.
    levels: Vec<Vec<Complex<f32>>>,
    /// `twiddles[l][k] = exp(-2πi k / (size >> l))`, `k = 0..=(size >> l) / 2`.
    twiddles: Vec<Vec<Complex<f32>>>,
    leaf_real: Vec<f32>,
    leaf_spec: Vec<Complex<f32>>,
    scratch: Vec<Complex<f32>>,
    forward_steps: Vec<Step>,
    inverse_steps: Vec<Step>,
}

impl SplitRealFft {
    /// A transform of `size` points (a power of two) whose leaves have at most `max_leaf`
    /// points. Allocates.
    ///
    /// # Panics
    /// If `size` is not a power of two of at least 4.
    pub fn new(size: usize, max_leaf: usize, planner: &mut RealFftPlanner<f32>) -> Self {
        assert!(size.is_power_of_two() && size >= 4);
        let mut depth = 0;
        while (size >> depth) > max_leaf.max(4) {
            depth += 1;
        }
        let leaf = size >> depth;
        let r2c = planner.plan_fft_forward(leaf);
        let c2r = planner.plan_fft_inverse(leaf);
        let scratch = vec![Complex::default(); r2c.get_scratch_len().max(c2r.get_scratch_len())];
        let levels = (0..=depth)
            .map(|l| vec![Complex::default(); (1 << l) * ((size >> l) / 2 + 1)])
            .collect();
        let twiddles = (0..depth)
            .map(|l| {
                let p = size >> l;
                (0..=p / 2)
                    .map(|k| {
                        let a = -std::f64::consts::TAU * k as f64 / p as f64;
                        Complex::new(a.cos() as f32, a.sin() as f32)
                    })
                    .collect()
            })
            .collect();
        // Every node of a level, its bins cut into chunks of at most CHUNK_BINS.
        let chunks = |level: usize, bins: usize| {
            (0..1usize << level).flat_map(move |node| {
                (0..bins)
                    .step_by(CHUNK_BINS)
                    .map(move |k0| (node, k0, (k0 + CHUNK_BINS).min(bins)))
            })
        };
        let mut forward_steps: Vec<Step> = (0..1 << depth).map(Step::ForwardLeaf).collect();
        for level in (0..depth).rev() {
            let bins = (size >> level) / 2 + 1;
            forward_steps.extend(chunks(level, bins).map(|(node, k0, k1)| Step::Combine {
                level,
                node,
                k0,
                k1,
            }));
        }
        let mut inverse_steps = Vec::new();
        for level in 0..depth {
            let child_bins = (size >> level) / 4 + 1;
            inverse_steps.extend(chunks(level, child_bins).map(|(node, k0, k1)| Step::Split {
                level,
                node,
                k0,
                k1,
            }));
        }
        inverse_steps.extend((0..1 << depth).map(Step::InverseLeaf));
        Self {
            size,
            depth,
            leaf,
            r2c,
            c2r,
            levels,
            twiddles,
            leaf_real: vec![0.0; leaf],
            leaf_spec: vec![Complex::default(); leaf / 2 + 1],
            scratch,
            forward_steps,
            inverse_steps,
        }
    }

    /// Transform size.
    pub fn size(&self) -> usize {
        self.size
    }

    /// Number of splits.
    pub fn depth(&self) -> usize {
        self.depth
    }

    /// The forward transform's steps, in the order they must run.
    pub fn forward_steps(&self) -> &[Step] {
        &self.forward_steps
    }

    /// The inverse transform's steps, in the order they must run.
    pub fn inverse_steps(&self) -> &[Step] {
        &self.inverse_steps
    }

    /// The full spectrum (`size / 2 + 1` bins): the forward result once all forward steps
    /// ran; the inverse's input, to be filled before the first inverse step.
    pub fn spectrum(&mut self) -> &mut [Complex<f32>] {
        &mut self.levels[0]
    }

    fn node_bins(&self, level: usize) -> usize {
        (self.size >> level) / 2 + 1
    }

    /// Runs one forward or inverse step. `input(i)` gives time sample `i` (forward leaves);
    /// `output(i, v)` receives time sample `i` of the unnormalised inverse (inverse leaves).
    pub fn run(
        &mut self,
        step: Step,
        input: impl Fn(usize) -> f32,
        mut output: impl FnMut(usize, f32),
    ) {
        match step {
            Step::ForwardLeaf(r) => {
                let stride = 1 << self.depth;
                for (j, v) in self.leaf_real.iter_mut().enumerate() {
                    *v = input(r + j * stride);
                }
                let bins = self.leaf / 2 + 1;
                let dst = &mut self.levels[self.depth][r * bins..(r + 1) * bins];
                self.r2c
                    .process_with_scratch(&mut self.leaf_real, dst, &mut self.scratch)
                    .expect("sizes fixed at construction");
            }
            Step::Combine {
                level,
                node,
                k0,
                k1,
            } => {
                let p = self.size >> level;
                let (cb, pb) = (self.node_bins(level + 1), self.node_bins(level));
                let (upper, lower) = self.levels.split_at_mut(level + 1);
                let parent = &mut upper[level][node * pb..(node + 1) * pb];
                let children = &lower[0];
                let even = &children[node * cb..(node + 1) * cb];
                let odd = &children[(node + (1 << level)) * cb..(node + (1 << level) + 1) * cb];
                let tw = &self.twiddles[level];
                let half = p / 2;
                // Below P/4 the children's bins are read directly, above it mirrored (Hermitian).
                let mid = k1.min(cb).max(k0);
                for k in k0..mid {
                    parent[k] = even[k] + tw[k] * odd[k];
                }
                for k in mid..k1 {
                    parent[k] = even[half - k].conj() + tw[k] * odd[half - k].conj();
                }
            }
            Step::Split {
                level,
                node,
                k0,
                k1,
            } => {
                let p = self.size >> level;
                let (cb, pb) = (self.node_bins(level + 1), self.node_bins(level));
                let (upper, lower) = self.levels.split_at_mut(level + 1);
                let parent = &upper[level][node * pb..(node + 1) * pb];
                let children = &mut lower[0];
                let tw = &self.twiddles[level];
                let half = p / 2;
                let odd_base = (node + (1 << level)) * cb;
                for k in k0..k1 {
                    let y = parent[k];
                    let m = parent[half - k].conj();
                    children[node * cb + k] = y + m;
                    children[odd_base + k] = (y - m) * tw[k].conj();
                }
                // realfft requires exactly real DC and Nyquist bins on the inverse.
                if k0 == 0 {
                    children[node * cb].im = 0.0;
                    children[odd_base].im = 0.0;
                }
                if k1 == cb {
                    children[node * cb + cb - 1].im = 0.0;
                    children[odd_base + cb - 1].im = 0.0;
                }
            }
            Step::InverseLeaf(r) => {
                let bins = self.leaf / 2 + 1;
                self.leaf_spec
                    .copy_from_slice(&self.levels[self.depth][r * bins..(r + 1) * bins]);
                self.leaf_spec[0].im = 0.0;
                self.leaf_spec[bins - 1].im = 0.0;
                self.c2r
                    .process_with_scratch(
                        &mut self.leaf_spec,
                        &mut self.leaf_real,
                        &mut self.scratch,
                    )
                    .expect("sizes fixed at construction");
                let stride = 1 << self.depth;
                for (j, v) in self.leaf_real.iter().enumerate() {
                    output(r + j * stride, *v);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dsp::rng::Rng;

    #[test]
    fn matches_realfft_forward_and_inverse_at_every_depth() {
        let mut planner = RealFftPlanner::<f32>::new();
        for size in [8usize, 64, 1024, 16384] {
            let mut rng = Rng::new(size as u64);
            let x: Vec<f32> = (0..size).map(|_| rng.bipolar() as f32).collect();
            let fft = planner.plan_fft_forward(size);
            let mut reference = fft.make_output_vec();
            fft.process(&mut x.clone(), &mut reference).unwrap();
            let peak = reference.iter().fold(0.0f32, |m, z| m.max(z.norm()));
            for max_leaf in [size, size / 2, size / 4, 8, 4] {
                let mut s = SplitRealFft::new(size, max_leaf, &mut planner);
                // Dirty buffers must not matter.
                for l in s.levels.iter_mut() {
                    l.fill(Complex::new(f32::NAN, 1e30));
                }
                for step in s.forward_steps().to_vec() {
                    s.run(step, |i| x[i], |_, _| unreachable!());
                }
                let err = s
                    .spectrum()
                    .iter()
                    .zip(&reference)
                    .map(|(a, b)| (a - b).norm())
                    .fold(0.0, f32::max);
                assert!(err <= 2e-6 * peak, "forward {size}/{max_leaf}: {err}");

                let mut y = vec![0.0f32; size];
                s.spectrum().copy_from_slice(&reference);
                for step in s.inverse_steps().to_vec() {
                    s.run(step, |_| unreachable!(), |i, v| y[i] = v);
                }
                let err = y
                    .iter()
                    .zip(&x)
                    .map(|(a, b)| (a / size as f32 - b).abs())
                    .fold(0.0, f32::max);
                assert!(err < 1e-5, "inverse {size}/{max_leaf}: {err}");
            }
        }
    }

    #[test]
    fn leaves_and_chunks_are_bounded() {
        let mut planner = RealFftPlanner::<f32>::new();
        let s = SplitRealFft::new(16384, 4096, &mut planner);
        assert_eq!(s.depth(), 2);
        assert_eq!(
            s.forward_steps()
                .iter()
                .filter(|x| matches!(x, Step::ForwardLeaf(_)))
                .count(),
            4
        );
        for st in s.forward_steps().iter().chain(s.inverse_steps()) {
            if let Step::Combine { k0, k1, .. } | Step::Split { k0, k1, .. } = st {
                assert!(k1 - k0 <= CHUNK_BINS);
            }
        }
    }
}
