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

use realfft::num_complex::Complex;
use realfft::RealFftPlanner;

use super::simd::{self, SimdLevel};
use super::split_fft::{SplitRealFft, Step};

/// Largest number of input or output channels.
pub const MAX_CHANNELS: usize = 2;
/// Largest number of convolution paths (true stereo: LL, LR, RL, RR).
pub const MAX_PATHS: usize = 4;

/// Relative costs used to choose a partition plan, in nanoseconds on the reference machine
/// (2-core x86-64 with AVX2/FMA; measured with `cargo bench --bench convolution -- calibrate`).
#[derive(Clone, Copy, Debug)]
pub struct CostModel {
    /// Per `n log2 n` of one real FFT (forward or inverse) of size `n`.
    pub fft_ns: f64,
    /// Per complex multiply-accumulate in the FDL product.
    pub cmac_ns: f64,
    /// Per real multiply-add of the direct-form head.
    pub fir_ns: f64,
    /// Fixed cost per segment (call-splitting, ring reads, head set-up).
    pub segment_ns: f64,
}

impl Default for CostModel {
    fn default() -> Self {
        Self {
            fft_ns: 0.09,
            cmac_ns: 0.18,
            fir_ns: 0.04,
            segment_ns: 250.0,
        }
    }
}

/// One uniformly partitioned stage of a plan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stage {
    /// Block (and partition) size `N`, in samples; a power of two.
    pub block: usize,
    /// Offset `O` of the stage's first partition in the IR, in samples.
    pub offset: usize,
    /// Number of partitions `P`.
    pub count: usize,
}

impl Stage {
    /// Whether this stage must be computed in full at its block boundary (`O < 2N`) rather
    /// than spread over the following period.
    pub fn immediate(&self) -> bool {
        self.offset < 2 * self.block
    }
}

/// How an IR is cut into a direct-form head and FFT stages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartitionPlan {
    /// Length `D` of the direct-form head, in samples. Also the segment length: calls are cut
    /// at multiples of `D`.
    pub head_len: usize,
    /// Stages in increasing offset; contiguous (`O_{k+1} = O_k + P_k N_k`), `O_0 = D`.
    pub stages: Vec<Stage>,
    /// IR length covered by the plan, in samples.
    pub capacity: usize,
}

/// Largest partition size considered by [`PartitionPlan::for_ir`].
pub const MAX_PARTITION: usize = 8192;

/// Largest single FFT the convolver runs in one step: bigger transforms are split
/// ([`SplitRealFft`]) so that no step costs more than a few microseconds.
pub const MAX_LEAF_FFT: usize = 2048;

impl PartitionPlan {
    /// An explicit plan: a head of `head_len` taps followed by stages of the given block sizes,
    /// each with the minimum partition count that gives the next one its slack, the last one
    /// covering the rest of `capacity`.
    ///
    /// # Panics
    /// If `head_len` is not a power of two or the sizes are not increasing powers of two
    /// starting at `head_len`.
    pub fn with_sizes(head_len: usize, sizes: &[usize], capacity: usize) -> Self {
        assert!(head_len.is_power_of_two());
        let mut stages: Vec<Stage> = Vec::new();
        let mut offset = head_len;
        for (i, &n) in sizes.iter().enumerate() {
            assert!(n.is_power_of_two() && n >= head_len);
            if i == 0 {
                assert_eq!(n, head_len, "the first stage has the head's size");
            } else {
                assert!(n > sizes[i - 1]);
            }
            if offset >= capacity {
                break;
            }
            if let Some(next) = sizes.get(i + 1) {
                // Minimum count so that the next stage starts at >= 2 * next.
                let need = (2 * next).saturating_sub(offset).div_ceil(n).max(1);
                let to_end = (capacity - offset).div_ceil(n);
                let count = need.min(to_end);
                stages.push(Stage {
                    block: n,
                    offset,
                    count,
                });
                offset += count * n;
            } else {
                let count = (capacity - offset).div_ceil(n);
                stages.push(Stage {
                    block: n,
                    offset,
                    count,
                });
                offset += count * n;
            }
        }
        Self {
            head_len,
            stages,
            capacity,
        }
    }

    /// A uniformly partitioned plan (partition = `block`), with a direct head of `block` taps
    /// for zero latency: the baseline the benchmark compares against.
    pub fn uniform(block: usize, capacity: usize) -> Self {
        let block = block.next_power_of_two();
        Self::with_sizes(block, &[block], capacity)
    }

    /// Chooses the cheapest plan for an IR of `capacity` samples under `model`, for
    /// `paths` convolution paths fed by `n_in` inputs into `n_out` outputs.
    ///
    /// Candidates: head (= first stage) sizes 32..=256, and every increasing subset of the
    /// larger power-of-two block sizes up to [`MAX_PARTITION`]. Allocates.
    pub fn for_ir(
        capacity: usize,
        paths: usize,
        n_in: usize,
        n_out: usize,
        model: &CostModel,
    ) -> Self {
        Self::for_ir_capped(capacity, paths, n_in, n_out, model, MAX_PARTITION)
    }

    /// [`for_ir`](Self::for_ir) with partitions of at most `max_partition` samples.
    pub fn for_ir_capped(
        capacity: usize,
        paths: usize,
        n_in: usize,
        n_out: usize,
        model: &CostModel,
        max_partition: usize,
    ) -> Self {
        let mut best: Option<(f64, PartitionPlan)> = None;
        for head in [32usize, 64, 128, 256] {
            let larger: Vec<usize> = (1..)
                .map(|s| head << s)
                .take_while(|&n| n <= max_partition)
                .collect();
            for mask in 0u32..(1 << larger.len()) {
                let mut sizes = vec![head];
                sizes.extend(
                    larger
                        .iter()
                        .enumerate()
                        .filter(|(i, _)| mask & (1 << i) != 0)
                        .map(|(_, &n)| n),
                );
                let plan = Self::with_sizes(head, &sizes, capacity.max(1));
                let cost = plan.cost_ns_per_sample(paths, n_in, n_out, model);
                if best.as_ref().is_none_or(|(c, _)| cost < *c) {
                    best = Some((cost, plan));
                }
            }
        }
        best.expect("at least one candidate").1
    }

    /// Modelled cost in nanoseconds per sample.
    pub fn cost_ns_per_sample(
        &self,
        paths: usize,
        n_in: usize,
        n_out: usize,
        m: &CostModel,
    ) -> f64 {
        let mut c = m.segment_ns / self.head_len as f64 + (paths * self.head_len) as f64 * m.fir_ns;
        for s in &self.stages {
            let n2 = 2.0 * s.block as f64;
            let fft = m.fft_ns * n2 * n2.log2();
            c += (n_in + n_out) as f64 * fft / s.block as f64;
            c += (paths * s.count * (s.block + 1)) as f64 * m.cmac_ns / s.block as f64;
        }
        c
    }

    /// Largest block size in the plan (the head length if there are no stages).
    pub fn max_block(&self) -> usize {
        self.stages
            .iter()
            .map(|s| s.block)
            .max()
            .unwrap_or(self.head_len)
    }

    /// Samples after a kernel is offered until its output is exact (worst case over phases).
    pub fn warmup_bound(&self) -> usize {
        self.stages
            .iter()
            .map(|s| s.offset + s.block)
            .max()
            .unwrap_or(0)
    }
}

/// How the IR's channels map inputs to outputs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IrLayout {
    /// One IR applied to every channel.
    Mono,
    /// Left IR on the left channel, right IR on the right.
    Stereo,
    /// Four IRs: LL, LR, RL, RR (input→output).
    TrueStereo,
}

impl IrLayout {
    /// The layout for an IR with `channels` channels (1, 2 or 4).
    pub fn from_channels(channels: usize) -> Option<Self> {
        match channels {
            1 => Some(Self::Mono),
            2 => Some(Self::Stereo),
            4 => Some(Self::TrueStereo),
            _ => None,
        }
    }
}

/// One input→output convolution path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Path {
    /// Input channel index.
    pub input: usize,
    /// Output channel index.
    pub output: usize,
    /// Index into the kernel's IR channels.
    pub ir: usize,
}

fn routing(layout: IrLayout, n_in: usize, n_out: usize) -> Vec<Path> {
    let mut paths = Vec::new();
    for o in 0..n_out {
        match layout {
            IrLayout::Mono => paths.push(Path {
                input: o.min(n_in - 1),
                output: o,
                ir: 0,
            }),
            IrLayout::Stereo => paths.push(Path {
                input: o.min(n_in - 1),
                output: o,
                ir: o.min(1),
            }),
            IrLayout::TrueStereo => {
                for i in 0..n_in {
                    // LL=0, LR=1, RL=2, RR=3
                    paths.push(Path {
                        input: i,
                        output: o,
                        ir: 2 * i.min(1) + o.min(1),
                    });
                }
            }
        }
    }
    paths
}

struct StageKernel {
    /// Partitions containing any of the IR (the rest are skipped).
    active: usize,
    /// Spectra, indexed `[ir_channel][partition * bins + bin]`, pre-scaled by `1 / (2N)`.
    re: Vec<Vec<f32>>,
    im: Vec<Vec<f32>>,
}

/// The precomputed form of one IR for one [`PartitionPlan`]: reversed head taps and
/// partition spectra. Built off the audio thread; moved into the convolver whole.
pub struct Kernel {
    /// An opaque label set by whoever builds the kernel (the loader's render generation), so
    /// the receiver can tell which request it answers. The convolver does not read it.
    tag: u64,
    plan: PartitionPlan,
    n_in: usize,
    n_out: usize,
    paths: Vec<Path>,
    ir_len: usize,
    /// Head taps reversed, `[ir_channel][D]`.
    head_rev: Vec<Vec<f32>>,
    stages: Vec<StageKernel>,
}

impl Kernel {
    /// Builds a kernel for `ir` (one slice per IR channel: 1, 2 or 4, equal lengths, at most
    /// `plan.capacity` samples) routed from `n_in` inputs to `n_out` outputs. Allocates and
    /// plans FFTs: call it off the audio thread.
    ///
    /// # Panics
    /// If the channel count or lengths are invalid or longer than the plan's capacity.
    pub fn new(plan: &PartitionPlan, ir: &[&[f32]], n_in: usize, n_out: usize) -> Self {
        let layout = IrLayout::from_channels(ir.len()).expect("IR must have 1, 2 or 4 channels");
        assert!((1..=MAX_CHANNELS).contains(&n_in) && (1..=MAX_CHANNELS).contains(&n_out));
        let ir_len = ir[0].len();
        assert!(
            ir.iter().all(|c| c.len() == ir_len),
            "IR channels differ in length"
        );
        assert!(
            ir_len <= plan.capacity,
            "IR longer than the plan's capacity"
        );
        let d = plan.head_len;
        let head_rev = ir
            .iter()
            .map(|c| {
                (0..d)
                    .map(|k| c.get(d - 1 - k).copied().unwrap_or(0.0))
                    .collect()
            })
            .collect();
        let mut planner = RealFftPlanner::<f32>::new();
        let stages = plan
            .stages
            .iter()
            .map(|s| {
                let n = s.block;
                let bins = n + 1;
                let fft = planner.plan_fft_forward(2 * n);
                let mut buf = fft.make_input_vec();
                let mut spec = fft.make_output_vec();
                let scale = 1.0 / (2 * n) as f32;
                let active = if ir_len > s.offset {
                    (ir_len - s.offset).div_ceil(n).min(s.count)
                } else {
                    0
                };
                let mut re = Vec::with_capacity(ir.len());
                let mut im = Vec::with_capacity(ir.len());
                for c in ir {
                    let mut cre = vec![0.0f32; s.count * bins];
                    let mut cim = vec![0.0f32; s.count * bins];
                    for p in 0..active {
                        let start = s.offset + p * n;
                        let end = (start + n).min(ir_len);
                        buf.fill(0.0);
                        buf[..end - start].copy_from_slice(&c[start..end]);
                        fft.process(&mut buf, &mut spec).expect("sizes match");
                        for (b, z) in spec.iter().enumerate() {
                            cre[p * bins + b] = z.re * scale;
                            cim[p * bins + b] = z.im * scale;
                        }
                    }
                    re.push(cre);
                    im.push(cim);
                }
                StageKernel { active, re, im }
            })
            .collect();
        Self {
            tag: 0,
            plan: plan.clone(),
            n_in,
            n_out,
            paths: routing(layout, n_in, n_out),
            ir_len,
            head_rev,
            stages,
        }
    }

    /// IR length in samples.
    pub fn ir_len(&self) -> usize {
        self.ir_len
    }

    /// The kernel labelled with `tag` (see [`Kernel::tag`]).
    pub fn with_tag(mut self, tag: u64) -> Self {
        self.tag = tag;
        self
    }

    /// The label given by [`Kernel::with_tag`] (0 if none).
    pub fn tag(&self) -> u64 {
        self.tag
    }

    /// Approximate heap size in bytes.
    pub fn memory_bytes(&self) -> usize {
        let spectra: usize = self
            .stages
            .iter()
            .map(|s| s.re.iter().map(|v| v.len() * 8).sum::<usize>())
            .sum();
        spectra + self.head_rev.iter().map(|v| v.len() * 4).sum::<usize>()
    }
}

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

/// One unit of a stage job.
#[derive(Clone, Copy, Debug)]
enum JobStep {
    /// A forward-transform step of input `input`.
    Forward { input: usize, step: Step },
    /// Copy the finished forward spectrum of `input` into the newest FDL slot.
    Store { input: usize },
    /// Multiply-accumulate partition `part` for every participating kernel.
    Mac { part: usize },
    /// Load the accumulator of kernel slot `slot`, output `out`, for the inverse transform.
    Load { slot: usize, out: usize },
    /// An inverse-transform step for kernel slot `slot`, output `out`.
    Inverse { slot: usize, out: usize, step: Step },
}

struct StageRt {
    n: usize,
    bins: usize,
    offset: usize,
    count: usize,
    immediate: bool,
    /// The size-2N transform, cut into steps of bounded size: forward and kernel slot 0's
    /// inverse use `fft[0]`, slot 1's inverse `fft[1]`, so both inverses can interleave.
    fft: [SplitRealFft; 2],
    /// Input spectra `[input][slot * bins + bin]`.
    fdl_re: Vec<Vec<f32>>,
    fdl_im: Vec<Vec<f32>>,
    /// FDL slot holding the newest spectrum.
    newest: usize,
    /// FDL slots written since construction or `reset` (at most `count`): partition `j` of a
    /// job reads the spectrum stored `j` jobs ago, which is silence if `j >= filled`. So a
    /// reset need not zero the FDLs (megabytes for a long IR), and the MACs of partitions the
    /// input has not reached yet are skipped.
    filled: usize,
    /// Accumulators `[kernel_slot * MAX_CHANNELS + output][bin]`.
    acc_re: Vec<Vec<f32>>,
    acc_im: Vec<Vec<f32>>,
    /// The job's steps in order, and the cost fraction completed before each.
    steps: Vec<JobStep>,
    step_start: Vec<f32>,
    /// Whether the inverse currently loaded (by the last `Load`) has work to do.
    inverse_live: [bool; 2],
    job_active: bool,
    job_t: u64,
    job_done: usize,
    /// Kernel generation per slot that this job computes for (0 = not participating).
    job_gen: [u64; 2],
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
            .map(|s| {
                let n = s.block;
                let bins = n + 1;
                let fft = [
                    SplitRealFft::new(2 * n, MAX_LEAF_FFT, &mut planner),
                    SplitRealFft::new(2 * n, MAX_LEAF_FFT, &mut planner),
                ];
                // The job: forward transforms per input, one MAC per partition, then an inverse
                // per (kernel slot, output); each weighted by its modelled cost.
                let mut steps = Vec::new();
                for input in 0..n_in {
                    steps.extend(
                        fft[0]
                            .forward_steps()
                            .iter()
                            .map(|&step| JobStep::Forward { input, step }),
                    );
                    steps.push(JobStep::Store { input });
                }
                steps.extend((0..s.count).map(|part| JobStep::Mac { part }));
                // Slot 1's steps follow slot 0's identical ones: during a hand-over each inverse
                // step costs twice, never more; otherwise slot 1's steps are no-ops.
                for out in 0..n_out {
                    steps.push(JobStep::Load { slot: 0, out });
                    steps.push(JobStep::Load { slot: 1, out });
                    for &step in fft[0].inverse_steps() {
                        steps.push(JobStep::Inverse { slot: 0, out, step });
                        steps.push(JobStep::Inverse { slot: 1, out, step });
                    }
                }
                let leaf = ((2 * n) >> fft[0].depth()) as f64;
                // Slot 1 only computes during a hand-over: it adds no schedule time of its own.
                let cost = |j: &JobStep| match j {
                    JobStep::Load { slot: 1, .. } | JobStep::Inverse { slot: 1, .. } => 0.0,
                    JobStep::Forward {
                        step: Step::ForwardLeaf(_),
                        ..
                    }
                    | JobStep::Inverse {
                        step: Step::InverseLeaf(_),
                        ..
                    } => model.fft_ns * leaf * leaf.log2() + leaf,
                    JobStep::Forward { step, .. } | JobStep::Inverse { step, .. } => match step {
                        Step::Combine { k0, k1, .. } | Step::Split { k0, k1, .. } => {
                            2.0 * model.cmac_ns * (k1 - k0) as f64
                        }
                        _ => 0.0,
                    },
                    JobStep::Store { .. } | JobStep::Load { .. } => 0.5 * bins as f64,
                    JobStep::Mac { .. } => (2 * bins) as f64 * model.cmac_ns,
                };
                let total: f64 = steps.iter().map(cost).sum();
                let mut acc = 0.0;
                let step_start = steps
                    .iter()
                    .map(|j| {
                        let start = (acc / total) as f32;
                        acc += cost(j);
                        start
                    })
                    .collect();
                StageRt {
                    n,
                    bins,
                    offset: s.offset,
                    count: s.count,
                    immediate: s.immediate(),
                    fft,
                    fdl_re: vec![vec![0.0; s.count * bins]; n_in],
                    fdl_im: vec![vec![0.0; s.count * bins]; n_in],
                    newest: 0,
                    filled: 0,
                    acc_re: vec![vec![0.0; bins]; 2 * MAX_CHANNELS],
                    acc_im: vec![vec![0.0; bins]; 2 * MAX_CHANNELS],
                    steps,
                    step_start,
                    inverse_live: [false; 2],
                    job_active: false,
                    job_t: 0,
                    job_done: 0,
                    job_gen: [0; 2],
                }
            })
            .collect();
        let mut conv = Self {
            n_in,
            n_out,
            simd: SimdLevel::detect(),
            time: 0,
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
        for st in &mut self.stages {
            st.newest = 0;
            st.filled = 0;
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
            for o in 0..self.n_out {
                let dst = &mut self.seg_out[si * MAX_CHANNELS + o][..seg];
                let ring = &mut slot.ring[o];
                for (n, y) in dst.iter_mut().enumerate() {
                    let idx = (self.time as usize + n) & self.out_mask;
                    *y = ring[idx];
                    ring[idx] = 0.0;
                }
            }
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

    /// Creates jobs at block boundaries and advances spread jobs.
    fn run_stages(&mut self) {
        let now = self.time;
        let gens = [self.slots[0].generation, self.slots[1].generation];
        for k in 0..self.stages.len() {
            let n = self.stages[k].n as u64;
            if self.stages[k].job_active {
                let frac = ((now - self.stages[k].job_t) as f64 / n as f64).min(1.0) as f32;
                self.advance(k, frac);
            }
            if now % n == 0 {
                let st = &mut self.stages[k];
                st.job_active = true;
                st.job_t = now;
                st.job_done = 0;
                st.job_gen = gens;
                st.newest = (st.newest + 1) % st.count;
                st.filled = (st.filled + 1).min(st.count);
                for s in 0..2 {
                    if gens[s] != 0 {
                        for o in 0..self.n_out {
                            st.acc_re[s * MAX_CHANNELS + o].fill(0.0);
                            st.acc_im[s * MAX_CHANNELS + o].fill(0.0);
                        }
                    }
                }
                if st.immediate {
                    self.advance(k, 1.0);
                }
            }
        }
    }

    /// Runs the steps of stage `k`'s job whose cost-weighted start lies before `frac`.
    fn advance(&mut self, k: usize, frac: f32) {
        let total = self.stages[k].steps.len();
        while self.stages[k].job_done < total
            && (frac >= 1.0 || self.stages[k].step_start[self.stages[k].job_done] < frac)
        {
            let step = self.stages[k].job_done;
            self.run_step(k, step);
            self.stages[k].job_done += 1;
        }
        if self.stages[k].job_done == total {
            self.stages[k].job_active = false;
        }
    }

    fn run_step(&mut self, k: usize, step: usize) {
        let simd_level = self.simd;
        let in_mask = self.in_mask;
        let out_mask = self.out_mask;
        let st = &mut self.stages[k];
        let (n, bins) = (st.n, st.bins);
        match st.steps[step] {
            JobStep::Forward { input, step } => {
                // The window is the 2N inputs before the job's boundary.
                let ring = &self.in_ring[input];
                let start = st.job_t as usize + in_mask + 1 - 2 * n;
                st.fft[0].run(step, |i| ring[(start + i) & in_mask], |_, _| {});
            }
            JobStep::Store { input } => {
                let base = st.newest * bins;
                let re = &mut st.fdl_re[input][base..base + bins];
                let im = &mut st.fdl_im[input][base..base + bins];
                for (b, z) in st.fft[0].spectrum().iter().enumerate() {
                    re[b] = z.re;
                    im[b] = z.im;
                }
            }
            JobStep::Mac { part: j } => {
                if j >= st.filled {
                    return; // that spectrum is from before the first input: silence
                }
                let fdl = ((st.newest + st.count - j) % st.count) * bins;
                for s in 0..2 {
                    let slot = &self.slots[s];
                    if st.job_gen[s] == 0 || st.job_gen[s] != slot.generation {
                        continue;
                    }
                    let Some(kern) = slot.kernel.as_ref() else {
                        continue;
                    };
                    let ks = &kern.stages[k];
                    if j >= ks.active {
                        continue;
                    }
                    let hb = j * bins;
                    for p in &kern.paths {
                        let a = s * MAX_CHANNELS + p.output;
                        simd::cmac(
                            simd_level,
                            &mut st.acc_re[a],
                            &mut st.acc_im[a],
                            &st.fdl_re[p.input][fdl..fdl + bins],
                            &st.fdl_im[p.input][fdl..fdl + bins],
                            &ks.re[p.ir][hb..hb + bins],
                            &ks.im[p.ir][hb..hb + bins],
                        );
                    }
                }
            }
            JobStep::Load { slot: s, out: o } => {
                let slot = &self.slots[s];
                st.inverse_live[s] = st.job_gen[s] != 0
                    && st.job_gen[s] == slot.generation
                    && slot.kernel.as_ref().is_some_and(|kern| {
                        kern.stages[k].active > 0 && kern.paths.iter().any(|p| p.output == o)
                    });
                if st.inverse_live[s] {
                    let end = st.job_t + st.offset as u64;
                    let slot = &mut self.slots[s];
                    slot.written_to = slot.written_to.max(end);
                    let a = s * MAX_CHANNELS + o;
                    let (re, im) = (&st.acc_re[a], &st.acc_im[a]);
                    for (b, z) in st.fft[s].spectrum().iter_mut().enumerate() {
                        *z = Complex::new(re[b], im[b]);
                    }
                }
            }
            JobStep::Inverse {
                slot: s,
                out: o,
                step,
            } => {
                if !st.inverse_live[s] {
                    return;
                }
                // Only the last N samples of the 2N inverse are valid (overlap-save); they are
                // output times [t - N + O, t + O).
                let dst_t = st.job_t as usize + st.offset - n;
                let ring = &mut self.slots[s].ring[o];
                st.fft[s].run(
                    step,
                    |_| 0.0,
                    |i, v| {
                        if i >= n {
                            ring[(dst_t + i - n) & out_mask] += v;
                        }
                    },
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dsp::rng::Rng;

    /// A reverb-like test IR: seeded noise with an exponential decay over its length.
    fn test_ir(len: usize, seed: u64) -> Vec<f32> {
        let mut rng = Rng::new(seed);
        (0..len)
            .map(|i| (rng.bipolar() * (-4.0 * i as f64 / len as f64).exp()) as f32)
            .collect()
    }

    fn noise(len: usize, seed: u64) -> Vec<f32> {
        let mut rng = Rng::new(seed);
        (0..len).map(|_| rng.bipolar() as f32).collect()
    }

    /// Direct convolution in f64 at output index `n`.
    fn direct_at(x: &[f32], h: &[f32], n: usize) -> f64 {
        let kmax = h.len().min(n + 1);
        (0..kmax).map(|k| h[k] as f64 * x[n - k] as f64).sum()
    }

    /// Runs `conv` over `inputs` in calls of seeded random length `1..=max_call`.
    fn run(
        conv: &mut Convolver,
        inputs: &[Vec<f32>],
        n_out: usize,
        max_call: usize,
        seed: u64,
    ) -> Vec<Vec<f32>> {
        let len = inputs[0].len();
        let mut out = vec![vec![0.0f32; len]; n_out];
        let mut rng = Rng::new(seed);
        let mut pos = 0;
        while pos < len {
            let n = rng.range(1, max_call).min(len - pos);
            let ins: Vec<&[f32]> = inputs.iter().map(|x| &x[pos..pos + n]).collect();
            let mut outs: Vec<&mut [f32]> = out.iter_mut().map(|y| &mut y[pos..pos + n]).collect();
            conv.process(&ins, &mut outs);
            pos += n;
        }
        out
    }

    fn mono(ir: &[f32]) -> Convolver {
        let plan = PartitionPlan::for_ir(ir.len(), 1, 1, 1, &CostModel::default());
        let k = Kernel::new(&plan, &[ir], 1, 1);
        Convolver::new(plan, 1, 1, Some(Box::new(k)))
    }

    #[test]
    fn matches_direct_f64_convolution_for_every_ir_length() {
        for (i, &len) in [1usize, 2, 63, 64, 65, 1000, 48_000, 480_000]
            .iter()
            .enumerate()
        {
            let h = test_ir(len, 100 + i as u64);
            let x = noise(len + 9000, 200 + i as u64);
            let mut conv = mono(&h);
            let y = run(&mut conv, std::slice::from_ref(&x), 1, 700, 300 + i as u64);
            // Every output index for short IRs; 4000 evenly spread ones for long IRs.
            let idx: Vec<usize> = if len * x.len() < 200_000_000 {
                (0..x.len()).collect()
            } else {
                (0..4000).map(|j| j * (x.len() - 1) / 3999).collect()
            };
            let mut max_ref = 0.0f64;
            let mut max_err = 0.0f64;
            for &n in &idx {
                let r = direct_at(&x, &h, n);
                max_ref = max_ref.max(r.abs());
                max_err = max_err.max((y[0][n] as f64 - r).abs());
            }
            let rel = max_err / max_ref;
            assert!(
                rel <= 1e-6,
                "IR {len}: relative error {rel:e} (plan {:?})",
                conv.plan()
            );
        }
    }

    #[test]
    fn uniform_and_explicit_plans_are_exact_too() {
        let h = test_ir(20_000, 5);
        let x = noise(30_000, 6);
        for plan in [
            PartitionPlan::uniform(64, h.len()),
            PartitionPlan::with_sizes(32, &[32, 64, 128, 256, 512, 1024, 2048], h.len()),
            PartitionPlan::with_sizes(128, &[128, 1024, 8192], h.len()),
        ] {
            let k = Kernel::new(&plan, &[&h], 1, 1);
            let mut conv = Convolver::new(plan.clone(), 1, 1, Some(Box::new(k)));
            let y = run(&mut conv, std::slice::from_ref(&x), 1, 300, 7);
            let mut max_ref = 0.0f64;
            let mut max_err = 0.0f64;
            for n in (0..x.len()).step_by(7) {
                let r = direct_at(&x, &h, n);
                max_ref = max_ref.max(r.abs());
                max_err = max_err.max((y[0][n] as f64 - r).abs());
            }
            assert!(
                max_err / max_ref <= 1e-6,
                "{plan:?}: {:e}",
                max_err / max_ref
            );
        }
    }

    #[test]
    fn delta_returns_the_ir_from_sample_zero() {
        let h = test_ir(10_000, 11);
        let mut x = vec![0.0f32; 12_000];
        x[0] = 1.0;
        let mut conv = mono(&h);
        let y = run(&mut conv, &[x], 1, 1, 1);
        assert!(
            (y[0][0] - h[0]).abs() < 1e-6,
            "onset at sample 0: {} vs {}",
            y[0][0],
            h[0]
        );
        for n in 0..12_000 {
            let want = h.get(n).copied().unwrap_or(0.0);
            assert!(
                (y[0][n] - want).abs() < 2e-6,
                "sample {n}: {} vs {want}",
                y[0][n]
            );
        }
    }

    #[test]
    fn reset_mid_stream_equals_a_fresh_convolver_bit_for_bit() {
        // The plugin's kind of plan (20 s capacity): a reset leaves the FDLs dirty and marks
        // them empty; the output must be what a new convolver gives, to the bit, whether the
        // reset came early, after every stage had run, or during a kernel hand-over.
        let plan = PartitionPlan::for_ir(960_000, 4, 2, 2, &CostModel::default());
        let h = test_ir(150_000, 31);
        let h2 = test_ir(90_000, 33);
        let kernel = |ir: &[f32]| Box::new(Kernel::new(&plan, &[ir], 1, 1));
        let x = noise(60_000, 32);
        let fresh = |ir: &[f32]| {
            let mut c = Convolver::new(plan.clone(), 1, 1, Some(kernel(ir)));
            run(&mut c, std::slice::from_ref(&x), 1, 512, 5)
        };
        let (want, want2) = (fresh(&h), fresh(&h2));
        for dirty in [3_000, 33_333, 200_000] {
            let mut conv = Convolver::new(plan.clone(), 1, 1, Some(kernel(&h)));
            run(&mut conv, &[noise(dirty, dirty as u64)], 1, 700, 6);
            conv.reset();
            let got = run(&mut conv, std::slice::from_ref(&x), 1, 512, 5);
            assert!(got == want, "{dirty}: not what a new convolver gives");
            // A hand-over in progress completes at once.
            run(&mut conv, &[noise(dirty, 7)], 1, 700, 6);
            assert!(conv.offer_kernel(kernel(&h2)).is_ok());
            run(&mut conv, &[noise(100, 8)], 1, 64, 6);
            conv.reset();
            drop(conv.take_retired());
            // The new kernel now plays from the second slot, whose inverse steps run after the
            // first slot's in the schedule: the same sums in another order, so to rounding.
            let got = run(&mut conv, std::slice::from_ref(&x), 1, 512, 5);
            let peak = want2[0].iter().fold(0.0f32, |m, v| m.max(v.abs()));
            let diff = got[0]
                .iter()
                .zip(&want2[0])
                .map(|(a, b)| (a - b).abs())
                .fold(0.0f32, f32::max);
            assert!(
                diff <= 1e-6 * peak,
                "{dirty}, after a hand-over: {diff} of {peak}"
            );
            let _ = std::mem::replace(&mut conv, Convolver::new(plan.clone(), 1, 1, None));
        }
    }

    #[test]
    fn output_does_not_depend_on_call_sizes_and_reset_repeats_exactly() {
        let h = test_ir(30_000, 21);
        let x = noise(40_000, 22);
        let mut conv = mono(&h);
        let a = run(&mut conv, std::slice::from_ref(&x), 1, 1, 1);
        conv.reset();
        let b = run(&mut conv, std::slice::from_ref(&x), 1, 4096, 2);
        conv.reset();
        let c = run(&mut conv, std::slice::from_ref(&x), 1, 37, 3);
        conv.reset();
        let d = run(&mut conv, std::slice::from_ref(&x), 1, 37, 3);
        // Stage contributions are summed in an order that depends on when each step ran, so
        // the match is to rounding, not to the bit.
        let peak = a[0].iter().fold(0.0f32, |m, v| m.max(v.abs()));
        let diff = |p: &[f32], q: &[f32]| {
            p.iter()
                .zip(q)
                .map(|(x, y)| (x - y).abs())
                .fold(0.0f32, f32::max)
        };
        assert!(
            diff(&a[0], &b[0]) <= 1e-6 * peak,
            "call size 1 vs up to 4096: {}",
            diff(&a[0], &b[0])
        );
        assert!(
            diff(&a[0], &c[0]) <= 1e-6 * peak,
            "call size 1 vs up to 37: {}",
            diff(&a[0], &c[0])
        );
        assert!(
            c == d,
            "reset must make a run repeat exactly: {}",
            diff(&c[0], &d[0])
        );
    }

    #[test]
    fn stereo_and_true_stereo_routing_match_per_path_direct_convolution() {
        let irs: Vec<Vec<f32>> = (0..4).map(|c| test_ir(5000, 40 + c)).collect();
        let x = [noise(8000, 50), noise(8000, 51)];
        let cases: [(&[usize], [&[(usize, usize)]; 2]); 3] = [
            (&[0], [&[(0, 0)], &[(1, 0)]]),
            (&[0, 1], [&[(0, 0)], &[(1, 1)]]),
            // out L = in L * LL + in R * RL; out R = in L * LR + in R * RR
            (&[0, 1, 2, 3], [&[(0, 0), (1, 2)], &[(0, 1), (1, 3)]]),
        ];
        for (chans, want) in cases {
            let ir: Vec<&[f32]> = chans.iter().map(|&c| irs[c].as_slice()).collect();
            let plan = PartitionPlan::for_ir(5000, ir.len().max(2), 2, 2, &CostModel::default());
            let k = Kernel::new(&plan, &ir, 2, 2);
            let mut conv = Convolver::new(plan, 2, 2, Some(Box::new(k)));
            let y = run(&mut conv, &x, 2, 200, 9);
            for o in 0..2 {
                for n in (0..8000).step_by(13) {
                    let r: f64 = want[o]
                        .iter()
                        .map(|&(i, c)| direct_at(&x[i], ir[c], n))
                        .sum();
                    assert!((y[o][n] as f64 - r).abs() < 2e-5, "{chans:?} out {o} n {n}");
                }
            }
        }
    }

    fn sine(len: usize, freq: f64, rate: f64) -> Vec<f32> {
        (0..len)
            .map(|n| (0.5 * (std::f64::consts::TAU * freq * n as f64 / rate).sin()) as f32)
            .collect()
    }

    fn max_jump(y: &[f32]) -> f32 {
        y.windows(2)
            .map(|w| (w[1] - w[0]).abs())
            .fold(0.0, f32::max)
    }

    #[test]
    fn kernel_swap_crossfades_continuously_and_ends_exact() {
        let rate = 48_000.0;
        let a = test_ir(24_000, 61);
        let b: Vec<f32> = test_ir(24_000, 62).iter().map(|v| -0.7 * v).collect();
        let plan = PartitionPlan::for_ir(24_000, 1, 1, 1, &CostModel::default());
        let x = sine(96_000, 997.0, rate);
        let alone = |h: &[f32]| {
            let mut c = Convolver::new(
                plan.clone(),
                1,
                1,
                Some(Box::new(Kernel::new(&plan, &[h], 1, 1))),
            );
            run(&mut c, std::slice::from_ref(&x), 1, 64, 1).remove(0)
        };
        let (ya, yb) = (alone(&a), alone(&b));
        let steady = max_jump(&ya[30_000..]).max(max_jump(&yb[30_000..]));

        for shape in [CrossfadeShape::EqualPower, CrossfadeShape::Linear] {
            let mut conv = Convolver::new(
                plan.clone(),
                1,
                1,
                Some(Box::new(Kernel::new(&plan, &[&a], 1, 1))),
            );
            conv.set_crossfade(2400, shape);
            let mut y = vec![0.0f32; x.len()];
            let mut pending = Some(Box::new(Kernel::new(&plan, &[&b], 1, 1)));
            for (i, chunk) in x.chunks(64).enumerate() {
                if i * 64 >= 40_000 {
                    if let Some(k) = pending.take() {
                        pending = conv.offer_kernel(k).err();
                        assert!(pending.is_none(), "kernel accepted");
                    }
                }
                conv.process(&[chunk], &mut [&mut y[i * 64..i * 64 + chunk.len()]]);
                drop(conv.take_retired());
            }
            let jump = max_jump(&y[39_000..]);
            assert!(
                jump <= 1.5 * steady,
                "{shape:?}: jump {jump} vs steady {steady}"
            );
            // Well after the hand-over the output is exactly the new kernel's, tail included.
            let end = 40_000 + plan.warmup_bound() + 2400 + 64;
            for n in end..x.len() {
                assert!(
                    (y[n] - yb[n]).abs() < 1e-5,
                    "{shape:?} n {n}: {} vs {}",
                    y[n],
                    yb[n]
                );
            }
            // Before the offer it was the old kernel's.
            let before = y[..40_000]
                .iter()
                .zip(&ya)
                .map(|(p, q)| (p - q).abs())
                .fold(0.0f32, f32::max);
            assert!(
                before < 1e-5,
                "{shape:?}: output changed before the offer ({before})"
            );
        }
        // A hard switch would jump far beyond the bound: the test can fail.
        let hard = (50_000..50_200)
            .map(|n| (yb[n] - ya[n - 1]).abs())
            .fold(0.0f32, f32::max);
        assert!(
            hard > 1.5 * steady,
            "hard switch {hard} vs bound {}",
            1.5 * steady
        );
    }

    #[test]
    fn repeated_swaps_end_exactly_on_the_last_kernel() {
        // A -> B -> C: the second hand-over reuses the slot A retired from, whose ring still
        // holds A's last contributions. After a long gap they must have been drained
        // segment-wise (this case fails without the drain); right after the first hand-over
        // they are consumed during the new kernel's warm-up (with a long and a short C).
        let (a, b, short) = (test_ir(24_000, 71), test_ir(24_000, 72), test_ir(500, 74));
        let plan = PartitionPlan::for_ir(24_000, 1, 1, 1, &CostModel::default());
        let x = noise(200_000, 73);
        let alone = |h: &[f32]| {
            let mut c = Convolver::new(
                plan.clone(),
                1,
                1,
                Some(Box::new(Kernel::new(&plan, &[h], 1, 1))),
            );
            run(&mut c, std::slice::from_ref(&x), 1, 64, 1).remove(0)
        };
        for (gap, last) in [(100_000usize, &a), (0, &a), (0, &short)] {
            let alone = alone(last);
            let peak = alone.iter().fold(0.0f32, |m, v| m.max(v.abs()));
            let mut conv = Convolver::new(
                plan.clone(),
                1,
                1,
                Some(Box::new(Kernel::new(&plan, &[&a], 1, 1))),
            );
            conv.set_crossfade(480, CrossfadeShape::Linear);
            let mut queue = vec![
                Kernel::new(&plan, &[last], 1, 1),
                Kernel::new(&plan, &[&b], 1, 1),
            ];
            let mut y = vec![0.0f32; x.len()];
            let mut last_done = 0;
            let mut done = Vec::new();
            for (i, chunk) in x.chunks(64).enumerate() {
                let t = i * 64;
                if t >= 10_000
                    && conv.ready_for_kernel()
                    && (queue.len() == 2 || t >= last_done + gap)
                {
                    if let Some(k) = queue.pop() {
                        assert!(conv.offer_kernel(Box::new(k)).is_ok());
                    }
                }
                conv.process(&[chunk], &mut [&mut y[t..t + chunk.len()]]);
                if conv.take_retired().is_some() {
                    last_done = t + chunk.len();
                    done.push(last_done);
                }
            }
            assert!(
                queue.is_empty() && done.len() == 2,
                "both hand-overs happened (gap {gap})"
            );
            // From the end of the second crossfade on, the output is the last kernel's alone.
            let err = (done[1]..x.len())
                .map(|n| (y[n] - alone[n]).abs())
                .fold(0.0f32, f32::max);
            assert!(
                err <= 1e-5 * peak,
                "gap {gap}: on the last kernel exactly, error {err}"
            );
        }
    }

    #[test]
    fn plans_are_contiguous_and_respect_slack() {
        for len in [1usize, 100, 4096, 48_000, 192_000, 480_000] {
            for paths in [1usize, 2, 4] {
                let p = PartitionPlan::for_ir(len, paths, 2, 2, &CostModel::default());
                let mut off = p.head_len;
                for (i, s) in p.stages.iter().enumerate() {
                    assert_eq!(s.offset, off);
                    assert!(s.count >= 1);
                    if i == 0 {
                        assert_eq!(s.block, p.head_len);
                    } else {
                        assert!(s.offset >= 2 * s.block, "spread stage needs slack: {p:?}");
                    }
                    off += s.count * s.block;
                }
                assert!(off >= len, "plan covers the IR: {p:?}");
            }
        }
    }
}
