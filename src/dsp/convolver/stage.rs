//! The stages' jobs: one uniformly partitioned overlap-save step per block, cut into steps of
//! bounded cost and spread over the block's period (the immediate first stage runs whole).

use realfft::RealFftPlanner;

use super::split_fft::{SplitRealFft, Step};
use super::{CostModel, Stage};

/// One unit of a stage job.
#[derive(Clone, Copy, Debug)]
pub(super) enum JobStep {
    /// A forward-transform step of input `input`.
    Forward { input: usize, step: Step },
    /// Copy the finished forward spectrum of `input` into the newest FDL slot.
    Store { input: usize },
    /// Multiply-accumulate partition `part`.
    Mac { part: usize },
    /// Load the accumulator of output `out` for the inverse transform.
    Load { out: usize },
    /// An inverse-transform step for output `out`.
    Inverse { out: usize, step: Step },
}

pub(super) struct StageRt {
    pub(super) n: usize,
    pub(super) bins: usize,
    pub(super) offset: usize,
    /// FDL slots: the partition count, and one more for a first stage that can be fused with the head
    /// (whose product reads the newest spectrum while the partitions read the ones before).
    pub(super) slots: usize,
    pub(super) immediate: bool,
    /// A first stage fused with an FFT head: at its boundary the job runs only its forward
    /// transforms; the products and inverse wait for the next segment, which either holds a
    /// whole block (then one fused product with the head at the segment's end replaces them,
    /// see `Runtime::fused_head`) or not (then they complete at the segment's start).
    pub(super) deferred: bool,
    /// Index of the job's first `Mac` step (where a deferred job pauses).
    pub(super) first_mac: usize,
    /// The size-2N transform, cut into steps of bounded size.
    pub(super) fft: SplitRealFft,
    /// Input spectra `[input][slot * bins + bin]`.
    pub(super) fdl_re: Vec<Vec<f32>>,
    pub(super) fdl_im: Vec<Vec<f32>>,
    /// FDL slot holding the newest spectrum.
    pub(super) newest: usize,
    /// FDL slots written since construction or `reset` (at most `slots`): partition `j` of a
    /// job reads the spectrum stored `j` jobs ago, which is silence if `j >= filled`. So a
    /// reset need not zero the FDLs (megabytes for a long IR), and the MACs of partitions the
    /// input has not reached yet are skipped.
    pub(super) filled: usize,
    /// How many of the newest FDL slots are known to hold zero spectra (stored by skipped
    /// jobs); at `slots` every slot is zero and a skipped job need not even clear one.
    pub(super) zero_slots: usize,
    /// Accumulators `[output][bin]`.
    pub(super) acc_re: Vec<Vec<f32>>,
    pub(super) acc_im: Vec<Vec<f32>>,
    /// The job's steps in order, and the cost fraction completed before each.
    pub(super) steps: Vec<JobStep>,
    pub(super) step_start: Vec<f32>,
    /// Whether the inverse currently loaded (by the last `Load`) has work to do.
    pub(super) inverse_live: bool,
    pub(super) job_active: bool,
    pub(super) job_t: u64,
    pub(super) job_done: usize,
}

impl StageRt {
    /// The runtime of stage `s` for `n_in` inputs and `n_out` outputs: its transform, FDLs,
    /// accumulators and the job's steps weighted by `model`; `fused` for a first stage fused
    /// with an FFT head; transforms split into leaves of at most `max_leaf`; `paths`
    /// convolution paths. Allocates.
    pub(super) fn new(
        s: &Stage,
        fused: bool,
        max_leaf: usize,
        (n_in, n_out, paths): (usize, usize, usize),
        planner: &mut RealFftPlanner<f32>,
        model: &CostModel,
    ) -> Self {
        let n = s.block;
        let bins = n + 1;
        let fft = SplitRealFft::new(2 * n, max_leaf, planner);
        // The job: forward transforms per input, one MAC per partition, then an inverse per
        // output; each weighted by its modelled cost.
        let mut steps = Vec::new();
        for input in 0..n_in {
            steps.extend(
                fft.forward_steps()
                    .iter()
                    .map(|&step| JobStep::Forward { input, step }),
            );
            steps.push(JobStep::Store { input });
        }
        let first_mac = steps.len();
        steps.extend((0..s.count).map(|part| JobStep::Mac { part }));
        for out in 0..n_out {
            steps.push(JobStep::Load { out });
            for &step in fft.inverse_steps() {
                steps.push(JobStep::Inverse { out, step });
            }
        }
        // Relative step costs, measured on the reference machine (per step of an 8192-block
        // stereo stage: leaf transforms of 2048 points 2.0 µs, combine passes 0.37 ns and
        // split passes 1.1 ns per bin (the split writes children that long MACs evicted
        // from the cache), spectrum copies 0.15 ns per bin, products 0.22 ns per bin and
        // path). Weights that were off by 3-5x bunched cheap-looking passes into one call.
        let leaf = ((2 * n) >> fft.depth()) as f64;
        let c = model.cmac_ns;
        let cost = |j: &JobStep| match j {
            JobStep::Forward {
                step: Step::ForwardLeaf(_),
                ..
            }
            | JobStep::Inverse {
                step: Step::InverseLeaf(_),
                ..
            } => model.fft_ns * leaf * leaf.log2() + 0.1 * leaf,
            JobStep::Forward {
                step: Step::Combine { k0, k1, .. },
                ..
            } => 2.0 * c * (k1 - k0) as f64,
            JobStep::Inverse {
                step: Step::Split { k0, k1, .. },
                ..
            } => 6.0 * c * (k1 - k0) as f64,
            JobStep::Forward { .. } | JobStep::Inverse { .. } => 0.0,
            JobStep::Store { .. } | JobStep::Load { .. } => 0.8 * c * bins as f64,
            JobStep::Mac { .. } => (paths * bins) as f64 * 1.2 * c,
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
        Self {
            n,
            bins,
            offset: s.offset,
            slots: s.count + fused as usize,
            immediate: s.immediate(),
            deferred: fused,
            first_mac,
            fft,
            fdl_re: vec![vec![0.0; (s.count + fused as usize) * bins]; n_in],
            fdl_im: vec![vec![0.0; (s.count + fused as usize) * bins]; n_in],
            newest: 0,
            filled: 0,
            zero_slots: 0,
            acc_re: vec![vec![0.0; bins]; n_out],
            acc_im: vec![vec![0.0; bins]; n_out],
            steps,
            step_start,
            inverse_live: false,
            job_active: false,
            job_t: 0,
            job_done: 0,
        }
    }
}

impl StageRt {
    pub(super) fn clear_acc(&mut self) {
        for o in 0..self.acc_re.len() {
            self.acc_re[o].fill(0.0);
            self.acc_im[o].fill(0.0);
        }
    }
}
