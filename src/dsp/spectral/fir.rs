//! A time-varying FIR of [`FIR_LEN`] taps on two channels, without latency: a uniformly
//! partitioned convolution whose first [`BLOCK`] taps are a direct-form FIR and whose other
//! partitions run overlap-save on past input blocks only, so each output sample depends on
//! input up to itself. The frequency-domain delay line depends only on the input, so a new
//! filter is exact from its first sample; a new filter is crossfaded in over the first
//! [`FADE`] samples of a block (a linear interpolation between two exact outputs, never a
//! switch). The two channels share the partitions' complex FFTs (left real, right
//! imaginary): the filter is real, so its product with the packed spectrum is the packed
//! output.

use std::sync::Arc;

use realfft::num_complex::Complex;
use rustfft::{Fft, FftPlanner};

use super::super::simd::{self, SimdLevel};

/// Taps of the filter.
pub const FIR_LEN: usize = 512;
/// Partition length, samples (the direct head's length too).
pub const BLOCK: usize = 64;
/// Crossfade length between two filters, samples.
pub const FADE: usize = BLOCK;
/// Partitions after the direct head.
const PARTS: usize = FIR_LEN / BLOCK - 1;
/// Bins of a partition's complex transform.
const PBINS: usize = 2 * BLOCK;

/// One filter in partitioned form.
struct Filter {
    /// The first [`BLOCK`] taps, reversed (for [`simd::fir`]).
    head_rev: Vec<f32>,
    /// Spectra of the other partitions, `[part * PBINS + bin]` (all [`PBINS`] bins of the
    /// complex transform), scaled for the inverse FFT.
    re: Vec<f32>,
    im: Vec<f32>,
    /// Spectral part of the current block's output, `[channel][BLOCK]`.
    ys: [Vec<f32>; 2],
}

impl Filter {
    fn identity() -> Self {
        let mut f = Self {
            head_rev: vec![0.0; BLOCK],
            re: vec![0.0; PARTS * PBINS],
            im: vec![0.0; PARTS * PBINS],
            ys: [vec![0.0; BLOCK], vec![0.0; BLOCK]],
        };
        f.set_identity();
        f
    }

    fn set_identity(&mut self) {
        self.head_rev.fill(0.0);
        self.head_rev[BLOCK - 1] = 1.0;
        self.re.fill(0.0);
        self.im.fill(0.0);
    }
}

/// The partitioned, crossfaded two-channel FIR.
pub struct PartitionedFir {
    simd: SimdLevel,
    fwd: Arc<dyn Fft<f32>>,
    inv: Arc<dyn Fft<f32>>,
    buf: Vec<Complex<f32>>,
    scratch: Vec<Complex<f32>>,
    /// `[previous block, current block]` per channel.
    frame: [Vec<f32>; 2],
    /// Packed input spectra of past frames, `[slot * PBINS + bin]`, newest at `fdl_pos`.
    fdl_re: Vec<f32>,
    fdl_im: Vec<f32>,
    fdl_pos: usize,
    acc_re: Vec<f32>,
    acc_im: Vec<f32>,
    filters: [Filter; 2],
    cur: usize,
    /// Position in the crossfade to the other filter, `None` when not fading.
    fade: Option<usize>,
    block_pos: usize,
    tmp: [Vec<f32>; 2],
}

impl PartitionedFir {
    /// The identity filter. Allocates and plans the FFTs.
    pub fn new(simd: SimdLevel) -> Self {
        let mut planner = FftPlanner::<f32>::new();
        let fwd = planner.plan_fft_forward(PBINS);
        let inv = planner.plan_fft_inverse(PBINS);
        let scratch = fwd
            .get_inplace_scratch_len()
            .max(inv.get_inplace_scratch_len());
        Self {
            simd,
            fwd,
            inv,
            buf: vec![Complex::default(); PBINS],
            scratch: vec![Complex::default(); scratch],
            frame: [vec![0.0; 2 * BLOCK], vec![0.0; 2 * BLOCK]],
            fdl_re: vec![0.0; PARTS * PBINS],
            fdl_im: vec![0.0; PARTS * PBINS],
            fdl_pos: 0,
            acc_re: vec![0.0; PBINS],
            acc_im: vec![0.0; PBINS],
            filters: [Filter::identity(), Filter::identity()],
            cur: 0,
            fade: None,
            block_pos: 0,
            tmp: [vec![0.0; BLOCK], vec![0.0; BLOCK]],
        }
    }

    /// Runs the head FIR and the products at `level`.
    pub fn set_simd_level(&mut self, level: SimdLevel) {
        self.simd = level;
    }

    /// Clears the input history; the filter becomes the identity.
    pub fn reset(&mut self) {
        for f in &mut self.frame {
            f.fill(0.0);
        }
        self.fdl_re.fill(0.0);
        self.fdl_im.fill(0.0);
        self.fdl_pos = 0;
        for f in &mut self.filters {
            f.set_identity();
        }
        self.cur = 0;
        self.fade = None;
        self.block_pos = 0;
    }

    /// Whether the next call starts a block (where a new filter may be loaded).
    pub fn at_block_start(&self) -> bool {
        self.block_pos == 0
    }

    /// Whether a crossfade is running (a new filter waits until it ends).
    pub fn fading(&self) -> bool {
        self.fade.is_some()
    }

    /// Loads `taps` ([`FIR_LEN`]) as the next filter and starts the crossfade to it. Call at a
    /// block start while not fading.
    ///
    /// # Panics
    /// If `taps` is shorter than [`FIR_LEN`].
    pub fn load(&mut self, taps: &[f32]) {
        debug_assert!(self.block_pos == 0 && self.fade.is_none());
        let taps = &taps[..FIR_LEN];
        let f = &mut self.filters[1 - self.cur];
        for (k, &t) in taps[..BLOCK].iter().enumerate() {
            f.head_rev[BLOCK - 1 - k] = t;
        }
        // Partition spectra two at a time: U = FFT(a + i b) gives A[k] = (U[k] + V) / 2 and
        // B[k] = (U[k] - V) / 2i with V = conj(U[-k]); the inverse FFT's 1/PBINS goes in too.
        let half_scale = 0.5 / PBINS as f32;
        for pair in (0..PARTS).step_by(2) {
            let part = |p: usize| &taps[(p + 1) * BLOCK..(p + 2) * BLOCK];
            let second = pair + 1 < PARTS;
            for (n, z) in self.buf[..BLOCK].iter_mut().enumerate() {
                let b = if second { part(pair + 1)[n] } else { 0.0 };
                *z = Complex::new(part(pair)[n], b);
            }
            self.buf[BLOCK..].fill(Complex::default());
            self.fwd
                .process_with_scratch(&mut self.buf, &mut self.scratch);
            let (a0, b0) = (pair * PBINS, (pair + 1) * PBINS);
            for k in 0..PBINS {
                let (u, v) = (self.buf[k], self.buf[(PBINS - k) % PBINS]);
                f.re[a0 + k] = (u.re + v.re) * half_scale;
                f.im[a0 + k] = (u.im - v.im) * half_scale;
                if second {
                    f.re[b0 + k] = (u.im + v.im) * half_scale;
                    f.im[b0 + k] = (v.re - u.re) * half_scale;
                }
            }
        }
        self.fade = Some(0);
    }

    /// Filters `channels` in place (the same length, any length). No allocation.
    pub fn process(&mut self, channels: [&mut [f32]; 2]) {
        let n = channels[0].len();
        let [l, r] = channels;
        let mut i = 0;
        while i < n {
            let m = self.segment(n - i);
            self.process_segment([&mut l[i..i + m], &mut r[i..i + m]]);
            i += m;
        }
    }

    /// How many of `want` samples the next segment takes (up to the block's end).
    pub fn segment(&mut self, want: usize) -> usize {
        if self.block_pos == 0 {
            self.block_start();
        }
        (BLOCK - self.block_pos).min(want)
    }

    /// Filters one segment (at most what [`Self::segment`] returned) of both channels.
    pub fn process_segment(&mut self, channels: [&mut [f32]; 2]) {
        let bp = self.block_pos;
        let m = channels[0].len();
        debug_assert!(bp + m <= BLOCK && channels[1].len() == m);
        for (c, ch) in channels.into_iter().enumerate() {
            self.frame[c][BLOCK + bp..BLOCK + bp + m].copy_from_slice(ch);
            let hist = &self.frame[c][1 + bp..BLOCK + bp + m];
            let fc = &self.filters[self.cur];
            let out = &mut self.tmp[0][..m];
            out.copy_from_slice(&fc.ys[c][bp..bp + m]);
            simd::fir(self.simd, &fc.head_rev, hist, out);
            if let Some(f) = self.fade {
                let fnext = &self.filters[1 - self.cur];
                let out2 = &mut self.tmp[1][..m];
                out2.copy_from_slice(&fnext.ys[c][bp..bp + m]);
                simd::fir(self.simd, &fnext.head_rev, hist, out2);
                for (j, y) in ch.iter_mut().enumerate() {
                    let t = (f + j + 1) as f32 / FADE as f32;
                    *y = self.tmp[0][j] + t * (self.tmp[1][j] - self.tmp[0][j]);
                }
            } else {
                ch.copy_from_slice(&self.tmp[0][..m]);
            }
        }
        self.block_pos += m;
        if let Some(f) = self.fade {
            if f + m >= FADE {
                self.cur = 1 - self.cur;
                self.fade = None;
            } else {
                self.fade = Some(f + m);
            }
        }
        if self.block_pos == BLOCK {
            self.block_end();
            self.block_pos = 0;
        }
    }

    /// At a block start: the spectral part of this block's output for every running filter.
    fn block_start(&mut self) {
        let running = if self.fade.is_some() { 2 } else { 1 };
        for k in 0..running {
            let fi = if k == 0 { self.cur } else { 1 - self.cur };
            self.acc_re.fill(0.0);
            self.acc_im.fill(0.0);
            let f = &self.filters[fi];
            for p in 0..PARTS {
                // Partition p+1 meets the frame of p+1 blocks ago.
                let slot = (self.fdl_pos + PARTS - p) % PARTS;
                let (a, b) = (slot * PBINS, p * PBINS);
                simd::cmac(
                    self.simd,
                    &mut self.acc_re,
                    &mut self.acc_im,
                    &self.fdl_re[a..a + PBINS],
                    &self.fdl_im[a..a + PBINS],
                    &f.re[b..b + PBINS],
                    &f.im[b..b + PBINS],
                );
            }
            for (z, (r, im)) in self
                .buf
                .iter_mut()
                .zip(self.acc_re.iter().zip(&self.acc_im))
            {
                *z = Complex::new(*r, *im);
            }
            self.inv
                .process_with_scratch(&mut self.buf, &mut self.scratch);
            let [y0, y1] = &mut self.filters[fi].ys;
            for ((a, b), z) in y0.iter_mut().zip(y1.iter_mut()).zip(&self.buf[BLOCK..]) {
                *a = z.re;
                *b = z.im;
            }
        }
    }

    /// At a block end: the frame's spectrum enters the delay line.
    fn block_end(&mut self) {
        self.fdl_pos = (self.fdl_pos + 1) % PARTS;
        let [f0, f1] = &mut self.frame;
        for ((z, a), b) in self.buf.iter_mut().zip(f0.iter()).zip(f1.iter()) {
            *z = Complex::new(*a, *b);
        }
        self.fwd
            .process_with_scratch(&mut self.buf, &mut self.scratch);
        let a = self.fdl_pos * PBINS;
        for ((z, re), im) in self
            .buf
            .iter()
            .zip(&mut self.fdl_re[a..a + PBINS])
            .zip(&mut self.fdl_im[a..a + PBINS])
        {
            *re = z.re;
            *im = z.im;
        }
        f0.copy_within(BLOCK.., 0);
        f1.copy_within(BLOCK.., 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dsp::rng::Rng;

    fn direct(h: &[f32], x: &[f32]) -> Vec<f64> {
        (0..x.len())
            .map(|n| {
                (0..h.len().min(n + 1))
                    .map(|k| h[k] as f64 * x[n - k] as f64)
                    .sum()
            })
            .collect()
    }

    #[test]
    fn equals_direct_convolution_at_any_call_size_and_crossfades_between_filters() {
        let mut rng = Rng::new(5);
        let x: [Vec<f32>; 2] =
            std::array::from_fn(|_| (0..6000).map(|_| rng.bipolar() as f32).collect());
        let h: Vec<f32> = (0..FIR_LEN)
            .map(|k| (rng.bipolar() * (-(k as f64) / 80.0).exp()) as f32)
            .collect();
        let h2: Vec<f32> = h.iter().map(|v| -0.5 * v).collect();
        for level in SimdLevel::available() {
            let mut fir = PartitionedFir::new(level);
            let [mut l, mut r] = x.clone();
            let calls = [1usize, 7, 64, 200, 3];
            let (mut pos, mut k) = (0, 0);
            // The identity until sample 640, then h; h2 from the block at 3200.
            while pos < x[0].len() {
                if fir.at_block_start() && (pos == 640 || pos == 3200) {
                    fir.load(if pos == 640 { &h } else { &h2 });
                }
                let stop = if pos < 640 {
                    640
                } else if pos < 3200 {
                    3200
                } else {
                    usize::MAX
                };
                let want = calls[k % 5].min(stop - pos).min(x[0].len() - pos);
                fir.process([&mut l[pos..pos + want], &mut r[pos..pos + want]]);
                pos += want;
                k += 1;
            }
            for (c, y) in [&l, &r].into_iter().enumerate() {
                let a = direct(&h, &x[c]);
                let b = direct(&h2, &x[c]);
                for n in 0..x[0].len() {
                    let want = if n < 640 {
                        x[c][n] as f64
                    } else if n < 640 + FADE {
                        let t = (n - 640 + 1) as f64 / FADE as f64;
                        x[c][n] as f64 + t * (a[n] - x[c][n] as f64)
                    } else if n < 3200 {
                        a[n]
                    } else if n < 3200 + FADE {
                        let t = (n - 3200 + 1) as f64 / FADE as f64;
                        a[n] + t * (b[n] - a[n])
                    } else {
                        b[n]
                    };
                    assert!(
                        (y[n] as f64 - want).abs() < 1e-4,
                        "{level:?} channel {c} sample {n}: {} vs {want}",
                        y[n]
                    );
                }
            }
        }
    }
}
