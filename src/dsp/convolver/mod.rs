//! Zero-latency, non-uniformly partitioned convolution with time-distributed FFT work and
//! clickless kernel hand-over.
//!
//! # Structure
//! The impulse response `h` is cut into a *head* and a sequence of *stages*:
//!
//! * **Head** `h[0..D)` is applied in the time domain as a direct-form FIR over a contiguous
//!   history buffer (the last `D-1` inputs followed by the current segment), so output sample
//!   `n` is available as soon as input sample `n` is. The history is moved once per segment
//!   (`D-1` samples), never rotated per sample.
//! * **Stage k** has block size `N_k`, starts at IR offset `O_k` and holds `P_k` partitions of
//!   `N_k` samples. It is a uniformly partitioned overlap-save convolver (UPOLS) with its own
//!   frequency-domain delay line (FDL) of input spectra: every `N_k` samples the last `2 N_k`
//!   inputs are transformed, multiplied with the `P_k` precomputed IR spectra, summed and
//!   transformed back; the last `N_k` samples are the stage's contribution to output times
//!   `[t - N_k + O_k, t + O_k)` where `t` is the block boundary (Gardner, "Efficient
//!   convolution without input-output delay", JAES 43(3), 1995; García, "Optimal filter
//!   partition for efficient convolution with short input/output delay", AES 113, 2002;
//!   Wefers, "Partitioned convolution algorithms for real-time auralization", 2015).
//!
//! The first stage has `O = N` and is computed in full at its boundary ("immediate"). Every
//! later stage has `O >= 2N`, which leaves a whole period of slack: its job (forward FFTs,
//! one complex multiply-accumulate step per partition, inverse FFTs) is spread over the `N`
//! samples following the boundary, advanced at the end of every segment in proportion to the
//! elapsed fraction of the period, weighted by each step's estimated cost. No call ever does
//! a whole tail; there are no extra threads.
//!
//! The plan (head length, sizes, counts) is chosen by [`PartitionPlan::for_ir`] from a cost
//! model calibrated on x86-64 with AVX2 (constants in [`CostModel`]).
//!
//! # Kernels and hand-over
//! A [`Kernel`] holds the head taps and the partition spectra of one IR for a given plan. It is
//! built anywhere (it allocates), then handed to the running convolver with
//! [`Convolver::offer_kernel`]. The FDLs depend only on the plan, so the new kernel is fed the
//! same input spectra as the old one; its output is exact as soon as every stage has finished
//! one job with it (at most `O_k + N_k` samples, see [`Convolver::offer_kernel`]). From then on
//! the output crossfades from the old kernel to the new one over a configurable time, and the
//! old kernel is returned by [`Convolver::take_retired`] to be dropped off the audio thread.
//!
//! # Real-time contract
//! After [`Convolver::new`], `process`, `offer_kernel`, `take_retired`, `set_crossfade` and
//! `reset` do not allocate, lock or make system calls. Any call length works and the output
//! does not depend on how the input is cut into calls.

mod kernel;
mod plan;
mod stage;
#[cfg(test)]
mod tests;

use realfft::RealFftPlanner;

use super::simd::{self, SimdLevel};
use super::split_fft;
pub use kernel::{IrLayout, Kernel, Path};
pub use plan::{CostModel, PartitionPlan, Stage, MAX_LEAF_FFT, MAX_PARTITION};
use stage::StageRt;

/// Largest number of input or output channels.
pub const MAX_CHANNELS: usize = 2;
/// Largest number of convolution paths (true stereo: LL, LR, RL, RR).
pub const MAX_PATHS: usize = 4;

/// Crossfade curve used when a new kernel replaces the old one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CrossfadeShape {
    /// `g_old = 1 - x`, `g_new = x`: constant amplitude for correlated outputs (small edits).
    Linear,
    /// `g_old = cos(πx/2)`, `g_new = sin(πx/2)`: constant power for uncorrelated outputs
    /// (a different room).
    EqualPower,
}

#[derive(Default)]
struct Slot {
    kernel: Option<Box<Kernel>>,
    /// Increments each time a kernel is installed; 0 means empty.
    generation: u64,
    /// Output accumulation ring per output channel, indexed by absolute time & mask.
    ring: Vec<Vec<f32>>,
    /// After the slot's kernel retires, samples of ring still to be zeroed as time passes
    /// (its last jobs wrote up to a ring's length ahead). Zero: the ring is clean.
    drain_left: usize,
    /// Absolute time up to which (exclusive) jobs may have written into `ring`. The ring is
    /// zero outside `[time, written_to)` (samples are zeroed as they are read or drained), so
    /// `reset` clears only that span.
    written_to: u64,
}

struct Fade {
    to: usize,
    /// Absolute time at which the new kernel's output is exact and the fade starts.
    start: u64,
}

/// A zero-latency multichannel convolver. See the module documentation.
pub struct Convolver {
    plan: PartitionPlan,
    n_in: usize,
    n_out: usize,
    simd: SimdLevel,
    /// Samples processed since construction or `reset`.
    time: u64,
    /// Consecutive zero input samples (every channel) up to `time`; "forever" after
    /// construction or `reset`, when every delay line is clear. Work whose inputs all lie in
    /// this run is skipped: its result would be exact zeros.
    silent: u64,
    /// Whether silent work is skipped (always, except to compare against the full computation).
    skip_silence: bool,
    /// Transform, multiply and FIR steps run since construction (a work counter for tests
    /// and benchmarks).
    work: u64,
    /// Input rings `[input][time & in_mask]`.
    in_ring: Vec<Vec<f32>>,
    in_mask: usize,
    out_mask: usize,
    /// Head history `[input][D - 1 + D]`: last `D-1` inputs, then the current segment.
    hist: Vec<Vec<f32>>,
    stages: Vec<StageRt>,
    slots: [Slot; 2],
    /// Slot whose kernel is audible (if it has one).
    active: usize,
    fade: Option<Fade>,
    fade_len: u64,
    fade_shape: CrossfadeShape,
    next_generation: u64,
    retired: Option<Box<Kernel>>,
    /// Per-segment output of each slot `[slot * MAX_CHANNELS + output][D]`.
    seg_out: Vec<Vec<f32>>,
}

impl Convolver {
    /// Creates a convolver for `plan` with `n_in` inputs and `n_out` outputs (1 or 2 each),
    /// optionally with an initial kernel that is audible at once. Allocates everything.
    ///
    /// # Panics
    /// If the channel counts are out of range or the kernel was built for another plan or
    /// channel configuration.
    pub fn new(
        plan: PartitionPlan,
        n_in: usize,
        n_out: usize,
        kernel: Option<Box<Kernel>>,
    ) -> Self {
        assert!((1..=MAX_CHANNELS).contains(&n_in) && (1..=MAX_CHANNELS).contains(&n_out));
        let d = plan.head_len;
        let nmax = plan.max_block();
        let in_len = (4 * nmax + 2 * d).next_power_of_two();
        let reach = plan
            .stages
            .iter()
            .map(|s| s.offset + s.block)
            .max()
            .unwrap_or(0);
        let out_len = (reach + nmax + 2 * d).next_power_of_two();
        let mut planner = RealFftPlanner::<f32>::new();
        let model = CostModel::default();
        let stages = plan
            .stages
            .iter()
            .map(|s| StageRt::new(s, n_in, n_out, &mut planner, &model))
            .collect();
        let mut conv = Self {
            n_in,
            n_out,
            simd: SimdLevel::detect(),
            time: 0,
            silent: u64::MAX,
            skip_silence: true,
            work: 0,
            in_ring: vec![vec![0.0; in_len]; n_in],
            in_mask: in_len - 1,
            out_mask: out_len - 1,
            hist: vec![vec![0.0; 2 * d]; n_in],
            stages,
            slots: [
                Slot {
                    ring: vec![vec![0.0; out_len]; n_out],
                    ..Default::default()
                },
                Slot {
                    ring: vec![vec![0.0; out_len]; n_out],
                    ..Default::default()
                },
            ],
            active: 0,
            fade: None,
            fade_len: 4800,
            fade_shape: CrossfadeShape::EqualPower,
            next_generation: 1,
            retired: None,
            seg_out: vec![vec![0.0; d]; 2 * MAX_CHANNELS],
            plan,
        };
        if let Some(k) = kernel {
            conv.check_kernel(&k)
                .expect("kernel does not match the convolver");
            conv.slots[0].kernel = Some(k);
            conv.slots[0].generation = conv.next_generation;
            conv.next_generation += 1;
        }
        conv
    }

    /// The plan this convolver runs.
    pub fn plan(&self) -> &PartitionPlan {
        &self.plan
    }

    /// Approximate heap size of the signal state (FDLs, rings, accumulators) in bytes,
    /// excluding kernels.
    pub fn memory_bytes(&self) -> usize {
        let f = 4;
        let rings: usize = self
            .in_ring
            .iter()
            .chain(self.slots.iter().flat_map(|s| s.ring.iter()))
            .map(|v| v.len() * f)
            .sum();
        let stages: usize = self
            .stages
            .iter()
            .map(|s| {
                let fdl: usize = s.fdl_re.iter().chain(&s.fdl_im).map(|v| v.len() * f).sum();
                let acc: usize = s.acc_re.iter().chain(&s.acc_im).map(|v| v.len() * f).sum();
                // Two split transforms with about 2 * (2N) complex values of buffers each.
                fdl + acc + 2 * 2 * (2 * s.n) * 2 * f
            })
            .sum();
        rings + stages
    }

    /// Forces the scalar kernels (for tests and benchmarks).
    pub fn set_simd_level(&mut self, level: SimdLevel) {
        if level == SimdLevel::Baseline || SimdLevel::detect() == level {
            self.simd = level;
        }
    }

    /// Turns the skipping of silent work off (`false`) or on: the output is the same either
    /// way; tests and benchmarks compare the two.
    pub fn set_skip_silence(&mut self, on: bool) {
        self.skip_silence = on;
    }

    /// Work steps (transform steps, partition products, head FIRs) run since construction.
    pub fn work_done(&self) -> u64 {
        self.work
    }

    /// Sets the crossfade used by the next kernel hand-over: length in samples (at least 1).
    pub fn set_crossfade(&mut self, len_samples: usize, shape: CrossfadeShape) {
        self.fade_len = len_samples.max(1) as u64;
        self.fade_shape = shape;
    }

    fn check_kernel(&self, k: &Kernel) -> Result<(), &'static str> {
        if k.plan != self.plan {
            return Err("kernel built for another partition plan");
        }
        if k.n_in != self.n_in || k.n_out != self.n_out {
            return Err("kernel built for another channel configuration");
        }
        Ok(())
    }

    /// Whether [`offer_kernel`](Self::offer_kernel) would accept a kernel now (no hand-over in
    /// progress and the previous retired kernel has been taken).
    pub fn ready_for_kernel(&self) -> bool {
        self.fade.is_none() && self.retired.is_none()
    }

    /// True while a hand-over (warm-up or crossfade) is in progress.
    pub fn is_crossfading(&self) -> bool {
        self.fade.is_some()
    }

    /// Offers a new kernel. If accepted, it is computed alongside the current one from the
    /// next block boundary of each stage, becomes exact after at most
    /// [`PartitionPlan::warmup_bound`] samples, and then replaces the current one with a
    /// crossfade. Returns the kernel back if a hand-over is already in progress or the kernel
    /// does not fit this convolver. Does not allocate.
    pub fn offer_kernel(&mut self, kernel: Box<Kernel>) -> Result<(), Box<Kernel>> {
        if !self.ready_for_kernel() || self.check_kernel(&kernel).is_err() {
            return Err(kernel);
        }
        let to = 1 - self.active;
        // Exact from the first output time that every stage's first full job covers.
        let mut start = self.time;
        for (s, ks) in self.stages.iter().zip(&kernel.stages) {
            if ks.active > 0 {
                let n = s.n as u64;
                start = start.max(self.time / n * n + s.offset as u64);
            }
        }
        let slot = &mut self.slots[to];
        // Normally the ring was zeroed segment by segment after the slot retired. A hand-over
        // that follows the previous one within a ring's length clears the rest at once: a
        // guard (the residue then lies ahead and is consumed during warm-up in every case
        // tested), bought with a memset only in that rare case.
        if slot.drain_left > 0 {
            for r in &mut slot.ring {
                r.fill(0.0);
            }
            slot.drain_left = 0;
        }
        slot.kernel = Some(kernel);
        slot.generation = self.next_generation;
        self.next_generation += 1;
        self.fade = Some(Fade { to, start });
        Ok(())
    }

    /// Takes the kernel that the last completed hand-over replaced, so that it can be dropped
    /// off the audio thread.
    pub fn take_retired(&mut self) -> Option<Box<Kernel>> {
        self.retired.take()
    }

    /// Length in samples of the current kernel's IR (0 without one).
    pub fn ir_len(&self) -> usize {
        self.slots[self.active]
            .kernel
            .as_ref()
            .map_or(0, |k| k.ir_len)
    }

    /// Clears all signal state (histories, FDLs, pending jobs). A hand-over in progress
    /// completes at once. Does not allocate. Its cost is bounded by the plan's input ring and
    /// the output span jobs wrote ahead (not by the FDLs, which are marked empty instead of
    /// being zeroed): about 0.1 ms for a 4 s stereo IR.
    pub fn reset(&mut self) {
        if let Some(f) = self.fade.take() {
            self.retire_slot(1 - f.to);
            self.active = f.to;
        }
        for r in self.in_ring.iter_mut().chain(self.hist.iter_mut()) {
            r.fill(0.0);
        }
        let mask = self.out_mask;
        let time = self.time;
        for s in &mut self.slots {
            // A retired slot's undrained rest lies within the same span.
            let end = s.written_to.max(time);
            let span = ((end - time) as usize).min(mask + 1);
            let start = time as usize & mask;
            for r in &mut s.ring {
                let first = span.min(mask + 1 - start);
                r[start..start + first].fill(0.0);
                r[..span - first].fill(0.0);
            }
            s.drain_left = 0;
            s.written_to = 0;
        }
        self.time = 0;
        self.silent = u64::MAX;
        for st in &mut self.stages {
            st.newest = 0;
            st.filled = 0;
            st.zero_slots = 0;
            st.job_active = false;
        }
    }

    fn retire_slot(&mut self, slot: usize) {
        let s = &mut self.slots[slot];
        s.generation = 0;
        s.drain_left = self.out_mask + 1;
        // `retired` is empty here: a hand-over only starts once it has been taken.
        if let Some(k) = s.kernel.take() {
            self.retired = Some(k);
        }
    }

    /// Convolves `inputs` (one slice per input channel) into `outputs` (one slice per output
    /// channel, overwritten). All slices must have the same length; any length works.
    ///
    /// # Panics
    /// If the channel counts differ from construction or the lengths differ.
    pub fn process(&mut self, inputs: &[&[f32]], outputs: &mut [&mut [f32]]) {
        assert_eq!(inputs.len(), self.n_in);
        assert_eq!(outputs.len(), self.n_out);
        let len = outputs[0].len();
        assert!(inputs.iter().all(|x| x.len() == len) && outputs.iter().all(|y| y.len() == len));
        let d = self.plan.head_len;
        let mut pos = 0;
        while pos < len {
            let phase = (self.time % d as u64) as usize;
            let seg = (d - phase).min(len - pos);
            // Input into the rings and the head history.
            for i in 0..self.n_in {
                let x = &inputs[i][pos..pos + seg];
                let h = &mut self.hist[i];
                h[d - 1 + phase..d - 1 + phase + seg].copy_from_slice(x);
                let ring = &mut self.in_ring[i];
                for (k, &v) in x.iter().enumerate() {
                    ring[(self.time as usize + k) & self.in_mask] = v;
                }
            }
            // Trailing zeros of the segment over all inputs extend or restart the silent run.
            let trailing = (0..self.n_in)
                .map(|i| {
                    let x = &inputs[i][pos..pos + seg];
                    x.iter()
                        .rposition(|&v| v != 0.0)
                        .map_or(seg, |p| seg - 1 - p)
                })
                .min()
                .unwrap_or(seg);
            self.silent = if trailing == seg {
                self.silent.saturating_add(seg as u64)
            } else {
                trailing as u64
            };
            self.render_segment(phase, seg);
            for (o, out) in outputs.iter_mut().enumerate() {
                self.mix_segment(o, seg, &mut out[pos..pos + seg]);
            }
            self.time += seg as u64;
            if phase + seg == d {
                for h in &mut self.hist {
                    h.copy_within(d..2 * d - 1, 0);
                }
            }
            self.finish_fade_if_done();
            self.run_stages();
            pos += seg;
        }
    }

    /// Head FIR plus ring read for each slot, into `seg_out`.
    fn render_segment(&mut self, phase: usize, seg: usize) {
        let d = self.plan.head_len;
        for si in 0..2 {
            let slot = &mut self.slots[si];
            let Some(k) = slot.kernel.as_ref() else {
                // A retired slot: zero what its last jobs left ahead, one segment at a time.
                if slot.written_to <= self.time {
                    slot.drain_left = 0; // nothing lies ahead: the ring is clean
                }
                if slot.drain_left > 0 {
                    for ring in &mut slot.ring {
                        for n in 0..seg {
                            ring[(self.time as usize + n) & self.out_mask] = 0.0;
                        }
                    }
                    slot.drain_left = slot.drain_left.saturating_sub(seg);
                }
                continue;
            };
            // The ring is zero outside [time, written_to): past that, nothing to read.
            let ring_clean = slot.written_to <= self.time;
            for o in 0..self.n_out {
                let dst = &mut self.seg_out[si * MAX_CHANNELS + o][..seg];
                if ring_clean {
                    dst.fill(0.0);
                    continue;
                }
                let ring = &mut slot.ring[o];
                for (n, y) in dst.iter_mut().enumerate() {
                    let idx = (self.time as usize + n) & self.out_mask;
                    *y = ring[idx];
                    ring[idx] = 0.0;
                }
            }
            // The head reads the segment and the D-1 inputs before it: all zeros, no FIR.
            if self.skip_silence && self.silent >= (seg + d - 1) as u64 {
                continue;
            }
            self.work += 1;
            for p in &k.paths {
                let dst = &mut self.seg_out[si * MAX_CHANNELS + p.output][..seg];
                simd::fir(
                    self.simd,
                    &k.head_rev[p.ir],
                    &self.hist[p.input][phase..phase + seg + d - 1],
                    dst,
                );
            }
        }
    }

    fn mix_segment(&self, o: usize, seg: usize, out: &mut [f32]) {
        let active_has = self.slots[self.active].kernel.is_some();
        match &self.fade {
            None => {
                if active_has {
                    out.copy_from_slice(&self.seg_out[self.active * MAX_CHANNELS + o][..seg]);
                } else {
                    out.fill(0.0);
                }
            }
            Some(f) => {
                let from = &self.seg_out[(1 - f.to) * MAX_CHANNELS + o][..seg];
                let to = &self.seg_out[f.to * MAX_CHANNELS + o][..seg];
                for n in 0..seg {
                    let t = self.time + n as u64;
                    let x = if t < f.start {
                        0.0
                    } else {
                        ((t - f.start) as f64 / self.fade_len as f64).min(1.0)
                    };
                    let (g_from, g_to) = match self.fade_shape {
                        CrossfadeShape::Linear => (1.0 - x, x),
                        CrossfadeShape::EqualPower => {
                            let a = x * std::f64::consts::FRAC_PI_2;
                            (a.cos(), a.sin())
                        }
                    };
                    let f_part = if active_has {
                        g_from as f32 * from[n]
                    } else {
                        0.0
                    };
                    out[n] = f_part + g_to as f32 * to[n];
                }
            }
        }
    }

    fn finish_fade_if_done(&mut self) {
        if let Some(f) = &self.fade {
            if self.time >= f.start + self.fade_len {
                let to = f.to;
                self.fade = None;
                self.retire_slot(1 - to);
                self.active = to;
            }
        }
    }
}
