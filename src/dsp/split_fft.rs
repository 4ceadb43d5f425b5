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
    /// Forward FFT of leaf `r` (input gathered from the caller's [`Window`]).
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
    /// Inverse FFT of leaf `r` (the upper half of its output added to the caller's buffers).
    InverseLeaf(usize),
}

/// A forward transform's input: `zeros` zeros followed by the two parts, `M` samples in all
/// (a window of a ring buffer that may wrap, preceded by silence from before it was filled).
#[derive(Clone, Copy, Debug)]
pub struct Window<'a> {
    pub zeros: usize,
    pub parts: [&'a [f32]; 2],
}

/// `dst[j] = src[start + j * stride]` for as many `j` as `src` holds (at most `dst.len()`);
/// returns that count.
fn copy_strided(dst: &mut [f32], src: &[f32], start: usize, stride: usize) -> usize {
    if start >= src.len() {
        return 0;
    }
    let n = (src.len() - start).div_ceil(stride).min(dst.len());
    if stride == 1 {
        dst[..n].copy_from_slice(&src[start..start + n]);
    } else {
        for (d, x) in dst[..n].iter_mut().zip(src[start..].iter().step_by(stride)) {
            *d = *x;
        }
    }
    n
}

/// `dst[start + j * stride] += src[j]` for as many `j` as `dst` holds (at most `src.len()`);
/// returns that count.
fn add_strided(dst: &mut [f32], src: &[f32], start: usize, stride: usize) -> usize {
    if start >= dst.len() {
        return 0;
    }
    let n = (dst.len() - start).div_ceil(stride).min(src.len());
    if stride == 1 {
        for (d, x) in dst[start..start + n].iter_mut().zip(&src[..n]) {
            *d += *x;
        }
    } else {
        for (d, x) in dst[start..].iter_mut().step_by(stride).zip(&src[..n]) {
            *d += *x;
        }
    }
    n
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

    /// Runs one step of [`forward_steps`](Self::forward_steps) on the time samples `input`.
    pub fn run_forward(&mut self, step: Step, input: Window) {
        debug_assert!(!matches!(step, Step::Split { .. } | Step::InverseLeaf(_)));
        self.run(step, input, [&mut [], &mut []]);
    }

    /// Runs one step of [`inverse_steps`](Self::inverse_steps): the unnormalised inverse's
    /// last `M/2` time samples (the valid half of an overlap-save product) are added to
    /// `output`'s two parts, `M/2` samples in all (a span of a ring buffer that may wrap).
    pub fn run_inverse(&mut self, step: Step, output: [&mut [f32]; 2]) {
        debug_assert!(!matches!(step, Step::Combine { .. } | Step::ForwardLeaf(_)));
        self.run(
            step,
            Window {
                zeros: 0,
                parts: [&[], &[]],
            },
            output,
        );
    }

    fn run(&mut self, step: Step, input: Window, output: [&mut [f32]; 2]) {
        match step {
            Step::ForwardLeaf(r) => {
                debug_assert_eq!(
                    input.zeros + input.parts[0].len() + input.parts[1].len(),
                    self.size
                );
                let stride = 1 << self.depth;
                // Leaf samples are r, r + stride, ...: zeros first, then each part in turn.
                let zeros = input
                    .zeros
                    .saturating_sub(r)
                    .div_ceil(stride)
                    .min(self.leaf);
                self.leaf_real[..zeros].fill(0.0);
                let mut j = zeros;
                let mut start = r + j * stride - input.zeros;
                for part in input.parts {
                    let n = copy_strided(&mut self.leaf_real[j..], part, start, stride);
                    j += n;
                    start = (start + n * stride).saturating_sub(part.len());
                }
                debug_assert_eq!(j, self.leaf);
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
                // Slices and zipped iterators (no index checks) so the loops vectorise.
                let d0 = k0.min(mid).min(cb);
                let d1 = mid.min(cb);
                let direct = (parent[d0..d1].iter_mut())
                    .zip(&even[d0..d1])
                    .zip(&odd[d0..d1])
                    .zip(&tw[d0..d1]);
                for (((y, e), o), w) in direct {
                    *y = *e + *w * *o;
                }
                // Bins mid..k1 read the children at half - k, from half - mid down.
                let (m0, m1) = if mid < k1 {
                    (half + 1 - k1, half + 1 - mid)
                } else {
                    (0, 0)
                };
                let mirrored = (parent[mid..k1].iter_mut())
                    .zip(even[m0..m1].iter().rev())
                    .zip(odd[m0..m1].iter().rev())
                    .zip(&tw[mid..k1]);
                for (((y, e), o), w) in mirrored {
                    *y = e.conj() + *w * o.conj();
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
                {
                    let (lo, hi) = children.split_at_mut(odd_base);
                    let even = &mut lo[node * cb + k0..node * cb + k1];
                    let odd = &mut hi[k0..k1];
                    // parent[half - k] for k = k0..k1 is mirrored[n - 1 - i], i = k - k0.
                    let n = k1 - k0;
                    let mirrored = &parent[half + 1 - k1..half + 1 - k0];
                    let (direct, tw) = (&parent[k0..k1], &tw[k0..k1]);
                    let (even, odd) = (&mut even[..n], &mut odd[..n]);
                    for i in 0..n {
                        let (y, m) = (direct[i], mirrored[n - 1 - i].conj());
                        even[i] = y + m;
                        odd[i] = (y - m) * tw[i].conj();
                    }
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
                // Sample i = r + j * stride is in the upper half (i >= M/2) exactly when
                // j >= leaf/2; it goes to output index i - M/2.
                let stride = 1 << self.depth;
                let upper = &self.leaf_real[self.leaf / 2..];
                let mut j = 0;
                let mut start = r;
                for part in output {
                    let n = add_strided(part, &upper[j..], start, stride);
                    j += n;
                    start = (start + n * stride).saturating_sub(part.len());
                }
                debug_assert_eq!(j, upper.len());
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
            // The input as a wrapped ring window after a run of zeros.
            let (zeros, cut) = (size / 8, size / 2 + 1);
            let xz: Vec<f32> = (0..size)
                .map(|i| if i < zeros { 0.0 } else { rng.bipolar() as f32 })
                .collect();
            let fft = planner.plan_fft_forward(size);
            let mut reference = fft.make_output_vec();
            fft.process(&mut xz.clone(), &mut reference).unwrap();
            let peak = reference.iter().fold(0.0f32, |m, z| m.max(z.norm()));
            for max_leaf in [size, size / 2, size / 4, 8, 4] {
                let mut s = SplitRealFft::new(size, max_leaf, &mut planner);
                // Dirty buffers must not matter.
                for l in s.levels.iter_mut() {
                    l.fill(Complex::new(f32::NAN, 1e30));
                }
                let input = Window {
                    zeros,
                    parts: [&xz[zeros..cut], &xz[cut..]],
                };
                for step in s.forward_steps().to_vec() {
                    s.run_forward(step, input);
                }
                let err = s
                    .spectrum()
                    .iter()
                    .zip(&reference)
                    .map(|(a, b)| (a - b).norm())
                    .fold(0.0, f32::max);
                assert!(err <= 2e-6 * peak, "forward {size}/{max_leaf}: {err}");

                // The upper half, added into two parts of a buffer that already holds 1.
                let mut y = vec![1.0f32; size / 2];
                s.spectrum().copy_from_slice(&reference);
                let (a, b) = y.split_at_mut(size / 8 + 1);
                for step in s.inverse_steps().to_vec() {
                    s.run_inverse(step, [&mut *a, &mut *b]);
                }
                let err = y
                    .iter()
                    .map(|v| v - 1.0)
                    .zip(&xz[size / 2..])
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
