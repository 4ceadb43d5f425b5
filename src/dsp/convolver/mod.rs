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
//! With an FFT head (plans for hosts that call with long blocks, [`PartitionPlan::fft_head`]),
//! a whole aligned segment computes the head as one more partition of the first stage: at the
//! segment's end, the head's spectrum times the newest input spectrum and the stage's
//! partitions times the ones before are summed and transformed back once, the textbook
//! uniformly partitioned step. The first stage's job therefore stops after its forward
//! transforms at each boundary and finishes at the start of the next segment only if that
//! segment is not whole in its call (then the FIR head runs), so any call size stays exact.
//!
//! The first stage has `O = N` and is computed in full at its boundary ("immediate"). Every
//! later stage has `O >= 2N`, which leaves a whole period of slack: its job (forward FFTs,
//! one complex multiply-accumulate step per partition, inverse FFTs) is spread over the `N`
//! samples following the boundary, advanced at the end of every segment in proportion to the
//! elapsed fraction of the period, weighted by each step's estimated cost. No call ever does
//! a whole tail; there are no extra threads.
//!
//! The plan (head length, sizes, counts) is chosen for each IR by [`PartitionPlan::for_ir`]
//! from a cost model calibrated on x86-64 with AVX2 (constants in [`CostModel`]), so cost and
//! memory follow the IR that is loaded.
//!
//! # Silence
//! Work whose inputs are all zeros is skipped: a stage job whose window and every partition it
//! would multiply lie in the current run of silent input stores a zero spectrum and runs no
//! transform; the head FIR of a silent history is skipped; reads of an output ring nothing
//! was written to become fills. The output is bit for bit what the full computation gives,
//! and once an IR has rung out a silent call costs a few percent of an active one.
//!
//! # Kernels and hand-over
//! A [`Kernel`] is one IR cut by its own plan, with its spectra and its own delay lines (input
//! history, FDLs, output ring): a complete engine, built anywhere (it allocates), then handed
//! to the running convolver with [`Convolver::offer_kernel`]. A new kernel's delay lines start
//! empty, so before it is heard it *replays* the input history kept by the current kernel (the
//! current IR's length and more), [`REPLAY_SPEED`] samples per sample that passes, until it
//! has caught up; its output is then what it would be had it run all along (exactly, for an IR
//! no longer than that history; older input reaches only the part of a longer IR past it). If
//! the history is silent there is nothing to replay. From then on the output crossfades from
//! the old kernel to the new one over a configurable time, and the old kernel is returned by
//! [`Convolver::take_retired`] to be dropped off the audio thread.
//!
//! # Real-time contract
//! After [`Convolver::new`], `process`, `offer_kernel`, `take_retired`, `set_crossfade` and
//! `reset` do not allocate, lock or make system calls. Any call length works and the output
//! does not depend on how the input is cut into calls.

mod kernel;
mod plan;
mod runtime;
mod spectra;
mod stage;
#[cfg(test)]
mod tests;

use super::simd::{self, SimdLevel};
use super::split_fft;
pub use kernel::Kernel;
pub use plan::{CostModel, PartitionPlan, Stage, MAX_FFT_HEAD, MAX_LEAF_FFT, MAX_PARTITION};
pub use spectra::{IrLayout, Path};

/// Largest number of input or output channels.
pub const MAX_CHANNELS: usize = 2;
/// Largest number of convolution paths (true stereo: LL, LR, RL, RR).
pub const MAX_PATHS: usize = 4;

/// The convolver works in slices of at most this many samples (its scratch size).
const CHUNK: usize = MAX_FFT_HEAD;

/// History samples a new kernel replays per sample that passes, until it has caught up.
pub const REPLAY_SPEED: usize = 8;

/// Offline processing: samples from the offer of a kernel to the start of its crossfade
/// (the whole history is replayed within the chunk of the offer; the fade starts one chunk
/// after that one ends, whatever the call sizes).
pub const OFFLINE_HANDOVER_DELAY: usize = 2 * CHUNK;

/// Crossfade curve used when a new kernel replaces the old one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CrossfadeShape {
    /// `g_old = 1 - x`, `g_new = x`: constant amplitude for correlated outputs (small edits).
    Linear,
    /// `g_old = cos(πx/2)`, `g_new = sin(πx/2)`: constant power for uncorrelated outputs
    /// (a different room).
    EqualPower,
}

/// A hand-over in progress.
struct Handover {
    /// Slot of the incoming kernel.
    to: usize,
    /// History samples the incoming kernel has still to replay (0: it runs in step).
    lag: usize,
    /// Absolute time at which the crossfade starts (the incoming kernel has caught up).
    start: u64,
    /// The crossfade's curve: linear when the incoming kernel plays the same IR.
    shape: CrossfadeShape,
}

/// A zero-latency multichannel convolver. See the module documentation.
pub struct Convolver {
    n_in: usize,
    n_out: usize,
    simd: SimdLevel,
    skip_silence: bool,
    /// Samples processed since construction or `reset`.
    time: u64,
    slots: [Option<Box<Kernel>>; 2],
    /// Slot whose kernel is audible (if it has one).
    active: usize,
    hand: Option<Handover>,
    fade_len: u64,
    fade_shape: CrossfadeShape,
    /// Offline processing ([`Convolver::set_offline`]): a new kernel replays the whole
    /// history at once and its crossfade starts [`OFFLINE_HANDOVER_DELAY`] after the offer.
    offline: bool,
    retired: Option<Box<Kernel>>,
    /// Per-chunk output of each slot `[slot][output][CHUNK]`, and replayed input.
    out: [[Vec<f32>; MAX_CHANNELS]; 2],
    replay: [Vec<f32>; MAX_CHANNELS],
    /// A copy of the input for [`Convolver::process_stereo`] (in place), `[channel][CHUNK]`.
    stereo_in: [Vec<f32>; 2],
    /// Work steps of kernels already retired (see [`Convolver::work_done`]).
    work_retired: u64,
}

impl Convolver {
    /// Creates a convolver with `n_in` inputs and `n_out` outputs (1 or 2 each), optionally
    /// with an initial kernel that is audible at once. Allocates its scratch.
    ///
    /// # Panics
    /// If the channel counts are out of range or the kernel was built for another channel
    /// configuration.
    pub fn new(n_in: usize, n_out: usize, kernel: Option<Box<Kernel>>) -> Self {
        assert!((1..=MAX_CHANNELS).contains(&n_in) && (1..=MAX_CHANNELS).contains(&n_out));
        let buf = || std::array::from_fn(|_| vec![0.0f32; CHUNK]);
        let mut conv = Self {
            n_in,
            n_out,
            simd: SimdLevel::detect(),
            skip_silence: true,
            time: 0,
            slots: [None, None],
            active: 0,
            hand: None,
            fade_len: 4800,
            fade_shape: CrossfadeShape::EqualPower,
            offline: false,
            retired: None,
            out: [buf(), buf()],
            replay: buf(),
            stereo_in: [vec![0.0; CHUNK], vec![0.0; CHUNK]],
            work_retired: 0,
        };
        if let Some(mut k) = kernel {
            assert!(
                conv.fits(&k),
                "kernel built for another channel configuration"
            );
            conv.configure(&mut k);
            conv.slots[0] = Some(k);
        }
        conv
    }

    /// The audible kernel's plan, if there is a kernel.
    pub fn plan(&self) -> Option<&PartitionPlan> {
        self.slots[self.active].as_ref().map(|k| k.plan())
    }

    /// Approximate heap size of the installed kernels (spectra and state) and the scratch, in
    /// bytes.
    pub fn memory_bytes(&self) -> usize {
        let scratch = (2 * MAX_CHANNELS + MAX_CHANNELS) * CHUNK * 4;
        scratch
            + self
                .slots
                .iter()
                .flatten()
                .map(|k| k.memory_bytes())
                .sum::<usize>()
    }

    fn fits(&self, k: &Kernel) -> bool {
        k.n_in == self.n_in && k.n_out == self.n_out
    }

    fn configure(&self, k: &mut Kernel) {
        k.rt.simd = self.simd;
        k.rt.skip_silence = self.skip_silence;
    }

    /// Runs the kernels at `level` (capped at what the CPU supports by the dispatcher).
    pub fn set_simd_level(&mut self, level: SimdLevel) {
        self.simd = level;
        for k in self.slots.iter_mut().flatten() {
            k.rt.simd = level;
        }
    }

    /// Turns the skipping of silent work off (`false`) or on: the output is the same either
    /// way; tests and benchmarks compare the two.
    pub fn set_skip_silence(&mut self, on: bool) {
        self.skip_silence = on;
        for k in self.slots.iter_mut().flatten() {
            k.rt.skip_silence = on;
        }
    }

    /// Work steps (transform steps, partition products, head FIRs) run since construction.
    pub fn work_done(&self) -> u64 {
        self.work_retired + self.slots.iter().flatten().map(|k| k.rt.work).sum::<u64>()
    }

    /// Sets the crossfade used by the next kernel hand-over: length in samples (at least 1).
    pub fn set_crossfade(&mut self, len_samples: usize, shape: CrossfadeShape) {
        self.fade_len = len_samples.max(1) as u64;
        self.fade_shape = shape;
    }

    /// Whether [`offer_kernel`](Self::offer_kernel) would accept a kernel now (no hand-over in
    /// progress and the previous retired kernel has been taken).
    pub fn ready_for_kernel(&self) -> bool {
        self.hand.is_none() && self.retired.is_none()
    }

    /// True while a hand-over (replay or crossfade) is in progress.
    pub fn is_crossfading(&self) -> bool {
        self.hand.is_some()
    }

    /// Offline processing (a bounce, where the caller may take as long as it needs): a new
    /// kernel replays the whole history in the chunk where it is offered instead of at
    /// [`REPLAY_SPEED`] times real time, so its crossfade starts a fixed
    /// [`OFFLINE_HANDOVER_DELAY`] after the offer whatever the IR's length.
    pub fn set_offline(&mut self, offline: bool) {
        self.offline = offline;
    }

    /// Offers a new kernel (any plan). If accepted, it replays the current kernel's input
    /// history (as much of it as its IR reaches) at [`REPLAY_SPEED`] times real time, then
    /// replaces the current one with a crossfade. Returns the kernel back if a hand-over is
    /// already in progress or the kernel was built for other channel counts. Does not
    /// allocate.
    pub fn offer_kernel(&mut self, mut kernel: Box<Kernel>) -> Result<(), Box<Kernel>> {
        if !self.ready_for_kernel() || !self.fits(&kernel) {
            return Err(kernel);
        }
        self.configure(&mut kernel);
        kernel.rt.reset();
        let to = 1 - self.active;
        // History the new kernel needs: its IR's length, unless all of that was silence (a
        // fresh kernel has heard silence forever).
        let lag = match &self.slots[self.active] {
            Some(old) if old.rt.silent < kernel.ir_len() as u64 => {
                kernel.ir_len().min(old.rt.history_len())
            }
            _ => 0,
        };
        // It catches up within ceil(lag / (speed - 1)) samples, at the end of a chunk at most
        // CHUNK later; the fade starts one more chunk after, whatever the call sizes.
        let start = if lag == 0 {
            self.time
        } else if self.offline {
            self.time + OFFLINE_HANDOVER_DELAY as u64
        } else {
            self.time + Self::handover_delay(lag) as u64
        };
        let same_ir = self.slots[self.active]
            .as_ref()
            .is_some_and(|old| old.ir_hash == kernel.ir_hash);
        let shape = if same_ir {
            CrossfadeShape::Linear
        } else {
            self.fade_shape
        };
        self.slots[to] = Some(kernel);
        self.hand = Some(Handover {
            to,
            lag,
            start,
            shape,
        });
        Ok(())
    }

    /// Most samples from an offer of a kernel with an IR of `ir_len` samples to the start of
    /// its crossfade (its replay of the history).
    pub fn handover_delay(ir_len: usize) -> usize {
        ir_len.div_ceil(REPLAY_SPEED - 1) + 2 * CHUNK
    }

    /// Takes the kernel that the last completed hand-over replaced, so that it can be dropped
    /// off the audio thread.
    pub fn take_retired(&mut self) -> Option<Box<Kernel>> {
        self.retired.take()
    }

    /// A kernel hand-over is in progress (its replay or crossfade).
    pub fn handing_over(&self) -> bool {
        self.hand.is_some()
    }

    /// Length in samples of the current kernel's IR (0 without one).
    pub fn ir_len(&self) -> usize {
        self.slots[self.active].as_ref().map_or(0, |k| k.ir_len())
    }

    /// Clears all signal state. A hand-over in progress completes at once. Does not allocate.
    /// Its cost is bounded by the output span the kernel's jobs wrote ahead (the input history
    /// and FDLs are marked empty instead of being zeroed).
    pub fn reset(&mut self) {
        if let Some(h) = self.hand.take() {
            self.retire(1 - h.to);
            self.active = h.to;
        }
        if let Some(k) = &mut self.slots[self.active] {
            k.rt.reset();
        }
        self.time = 0;
    }

    fn retire(&mut self, slot: usize) {
        // `retired` is empty here: a hand-over only starts once it has been taken.
        if let Some(k) = self.slots[slot].take() {
            self.work_retired += k.rt.work;
            self.retired = Some(k);
        }
    }

    /// Stereo in place (a convolver of two inputs and two outputs): the signature every
    /// stereo stage shares, so one test helper drives them all. No allocation.
    ///
    /// # Panics
    /// If the convolver is not 2 in, 2 out, or the channels differ in length.
    pub fn process_stereo(&mut self, channels: &mut [&mut [f32]; 2]) {
        assert!(self.n_in == 2 && self.n_out == 2);
        let n = channels[0].len();
        assert_eq!(channels[1].len(), n);
        // Taken for the call and put back: moving a Vec neither allocates nor frees.
        let [mut a, mut b] = std::mem::take(&mut self.stereo_in);
        let [l, r] = channels;
        let mut pos = 0;
        while pos < n {
            let m = CHUNK.min(n - pos);
            a[..m].copy_from_slice(&l[pos..pos + m]);
            b[..m].copy_from_slice(&r[pos..pos + m]);
            self.process(
                &[&a[..m], &b[..m]],
                &mut [&mut l[pos..pos + m], &mut r[pos..pos + m]],
            );
            pos += m;
        }
        self.stereo_in = [a, b];
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
        let mut ins: [&[f32]; MAX_CHANNELS] = [&[]; MAX_CHANNELS];
        let mut pos = 0;
        while pos < len {
            let m = CHUNK.min(len - pos);
            for (i, x) in inputs.iter().enumerate() {
                ins[i] = &x[pos..pos + m];
            }
            let ins = &ins[..self.n_in];
            let a = self.active;
            if self.hand.is_none() {
                // No hand-over: the audible kernel writes the outputs directly.
                let mut outs: [&mut [f32]; MAX_CHANNELS] = [&mut [], &mut []];
                for (o, y) in outputs.iter_mut().enumerate() {
                    outs[o] = &mut y[pos..pos + m];
                }
                let outs = &mut outs[..self.n_out];
                match &mut self.slots[a] {
                    Some(k) => k.process(ins, outs, true),
                    None => outs.iter_mut().for_each(|o| o.fill(0.0)),
                }
                self.time += m as u64;
                pos += m;
                continue;
            }
            let [out_a, out_b] = &mut self.out;
            {
                let mut outs = out_a.each_mut().map(|v| &mut v[..m]);
                match &mut self.slots[a] {
                    Some(k) => k.process(ins, &mut outs[..self.n_out], true),
                    None => outs.iter_mut().for_each(|o| o.fill(0.0)),
                }
            }
            if let Some(h) = &mut self.hand {
                let (sa, sb) = self.slots.split_at_mut(1);
                let (old, new) = if h.to == 1 {
                    (&sa[0], &mut sb[0])
                } else {
                    (&sb[0], &mut sa[0])
                };
                let new = new.as_mut().expect("the incoming kernel");
                if h.lag == 0 {
                    let mut outs = out_b.each_mut().map(|v| &mut v[..m]);
                    new.process(ins, &mut outs[..self.n_out], true);
                } else {
                    // The chunk is history now too; replay up to REPLAY_SPEED samples per
                    // sample of it.
                    let old = old.as_ref().expect("history comes from the current kernel");
                    h.lag += m;
                    let mut budget = if self.offline {
                        usize::MAX
                    } else {
                        REPLAY_SPEED * m
                    };
                    while h.lag > 0 && budget > 0 {
                        let piece = h.lag.min(budget).min(CHUNK);
                        let mut rep: [&[f32]; MAX_CHANNELS] = [&[]; MAX_CHANNELS];
                        for (i, buf) in self.replay.iter_mut().enumerate().take(self.n_in) {
                            old.rt.read_history(i, h.lag, &mut buf[..piece]);
                        }
                        for (i, buf) in self.replay.iter().enumerate().take(self.n_in) {
                            rep[i] = &buf[..piece];
                        }
                        let mut outs = out_b.each_mut().map(|v| &mut v[..piece]);
                        new.process(&rep[..self.n_in], &mut outs[..self.n_out], false);
                        h.lag -= piece;
                        budget -= piece;
                    }
                    debug_assert!(self.time + (m as u64) <= h.start, "fade before catch-up");
                }
            }
            for (o, y) in outputs.iter_mut().enumerate() {
                self.mix(o, &mut y[pos..pos + m]);
            }
            self.time += m as u64;
            if let Some(h) = &self.hand {
                if self.time >= h.start + self.fade_len {
                    let to = h.to;
                    self.hand = None;
                    self.retire(1 - to);
                    self.active = to;
                }
            }
            pos += m;
        }
    }

    /// Output `o` of the chunk just computed, crossfaded during a hand-over.
    fn mix(&self, o: usize, out: &mut [f32]) {
        let from = &self.out[0][o][..out.len()];
        let Some(h) = &self.hand else {
            out.copy_from_slice(from);
            return;
        };
        let to = &self.out[1][o][..out.len()];
        let had_old = self.slots[self.active].is_some();
        for (n, y) in out.iter_mut().enumerate() {
            let t = self.time + n as u64;
            let x = if t < h.start {
                0.0
            } else {
                ((t - h.start) as f64 / self.fade_len as f64).min(1.0)
            };
            let (g_from, g_to) = match h.shape {
                CrossfadeShape::Linear => (1.0 - x, x),
                CrossfadeShape::EqualPower => {
                    let a = x * std::f64::consts::FRAC_PI_2;
                    (a.cos(), a.sin())
                }
            };
            let f_part = if had_old {
                g_from as f32 * from[n]
            } else {
                0.0
            };
            *y = f_part + g_to as f32 * to[n];
        }
    }
}
