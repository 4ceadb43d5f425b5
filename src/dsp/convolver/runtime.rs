//! A kernel's signal state and the code that runs it: the input history, the head FIR, the
//! stages' jobs over the frequency-domain delay lines, and the output ring. Reads the
//! kernel's [`Spectra`]; drives the stages' jobs ([`StageRt`]).

use realfft::num_complex::Complex;
use realfft::RealFftPlanner;

use super::simd::{self, SimdLevel};
use super::spectra::Spectra;
use super::split_fft::Window;
use super::stage::{JobStep, StageRt};
use super::{CostModel, PartitionPlan, CHUNK};

/// A kernel's signal state: input history, head history, the stages' jobs and FDLs, and the
/// output ring. Sized for the kernel's plan and IR.
pub(super) struct Runtime {
    pub(super) simd: SimdLevel,
    /// Whether silent work is skipped (see [`super::Convolver::set_skip_silence`]).
    pub(super) skip_silence: bool,
    /// Work steps run (transform steps, partition products, head FIRs).
    pub(super) work: u64,
    /// Samples processed since construction or `reset`.
    pub(super) time: u64,
    /// Consecutive zero input samples (every channel) up to `time`; "forever" after
    /// construction or `reset`, when every delay line is clear. Work whose inputs all lie in
    /// this run is skipped: its result would be exact zeros.
    pub(super) silent: u64,
    head_len: usize,
    /// Input rings `[input][time & in_mask]`: the stages' windows and the history a kernel
    /// that replaces this one replays. Times before the last reset read as silence.
    pub(super) in_ring: Vec<Vec<f32>>,
    pub(super) in_mask: usize,
    /// Output accumulation ring per output channel, indexed by absolute time & mask.
    pub(super) out_ring: Vec<Vec<f32>>,
    pub(super) out_mask: usize,
    /// Absolute time up to which (exclusive) jobs may have written into `out_ring`. The ring
    /// is zero outside `[time, written_to)` (samples are zeroed as they are read), so `reset`
    /// clears only that span and reads past it are skipped.
    pub(super) written_to: u64,
    /// Head history `[input][D - 1 + D]`: last `D-1` inputs, then the current segment.
    pub(super) hist: Vec<Vec<f32>>,
    pub(super) stages: Vec<StageRt>,
}

/// The span of `len` samples of a ring buffer from index `start`, as the part up to the ring's
/// end and the part wrapped to its start.
pub(super) fn ring_parts(ring: &[f32], start: usize, len: usize) -> [&[f32]; 2] {
    let first = len.min(ring.len() - start);
    [&ring[start..start + first], &ring[..len - first]]
}

/// [`ring_parts`], mutable.
pub(super) fn ring_parts_mut(ring: &mut [f32], start: usize, len: usize) -> [&mut [f32]; 2] {
    let first = len.min(ring.len() - start);
    let (head, tail) = ring.split_at_mut(start);
    [&mut tail[..first], &mut head[..len - first]]
}

/// Writes one zero per memory page of `v` (volatile, so that it is not elided as a store of
/// what a zeroed allocation already holds), making the OS map every page now.
fn prefault(v: &mut [f32]) {
    const PAGE_FLOATS: usize = 1024;
    for x in v.iter_mut().step_by(PAGE_FLOATS) {
        // SAFETY: `x` is a valid, aligned, exclusive reference into `v`.
        unsafe { std::ptr::write_volatile(x, 0.0) };
    }
}

impl Runtime {
    pub(super) fn new(
        plan: &PartitionPlan,
        (n_in, n_out, paths): (usize, usize, usize),
        ir_len: usize,
        planner: &mut RealFftPlanner<f32>,
    ) -> Self {
        let d = plan.head_len;
        let nmax = plan.max_block();
        // The stages' windows, and the IR's length of history for the kernel that replaces
        // this one (plus the chunks that arrive while it replays).
        let in_len = (4 * nmax + 2 * d)
            .max(ir_len + 4 * CHUNK)
            .next_power_of_two();
        let reach = plan
            .stages
            .iter()
            .map(|s| s.offset + s.block)
            .max()
            .unwrap_or(0);
        let out_len = (reach + nmax + 2 * d).next_power_of_two();
        let model = CostModel::default();
        let mut rt = Self {
            simd: SimdLevel::detect(),
            skip_silence: true,
            work: 0,
            time: 0,
            silent: u64::MAX,
            head_len: d,
            in_ring: vec![vec![0.0; in_len]; n_in],
            in_mask: in_len - 1,
            out_ring: vec![vec![0.0; out_len]; n_out],
            out_mask: out_len - 1,
            written_to: 0,
            hist: vec![vec![0.0; 2 * d]; n_in],
            stages: plan
                .stages
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    let fused = i == 0 && plan.fft_head;
                    StageRt::new(
                        s,
                        fused,
                        plan.max_leaf(),
                        (n_in, n_out, paths),
                        planner,
                        &model,
                    )
                })
                .collect(),
        };
        // Zeroed allocations are mapped lazily: the first write to each page would fault on
        // the audio thread (tens of microseconds when a long stage first stores a spectrum).
        // Touch every page here, off it.
        let stage_bufs = rt.stages.iter_mut().flat_map(|s| {
            (s.fdl_re.iter_mut())
                .chain(s.fdl_im.iter_mut())
                .chain(s.acc_re.iter_mut())
                .chain(s.acc_im.iter_mut())
        });
        for v in (rt.in_ring.iter_mut())
            .chain(rt.out_ring.iter_mut())
            .chain(stage_bufs)
        {
            prefault(v);
        }
        rt
    }

    /// Input samples of history this kernel can hand to its successor.
    pub(super) fn history_len(&self) -> usize {
        (self.in_mask + 1 - 2 * CHUNK).min(self.time as usize)
    }

    /// Copies `dst.len()` input samples of channel `input`, starting `lag` samples before now.
    pub(super) fn read_history(&self, input: usize, lag: usize, dst: &mut [f32]) {
        let ring = &self.in_ring[input];
        let start = self.time as usize + self.in_mask + 1 - lag;
        for (j, y) in dst.iter_mut().enumerate() {
            *y = ring[(start + j) & self.in_mask];
        }
    }

    /// Clears all signal state. Does not allocate; its cost is bounded by the output span jobs
    /// wrote ahead (the input ring and FDLs are marked empty instead of being zeroed).
    pub(super) fn reset(&mut self) {
        for h in &mut self.hist {
            h.fill(0.0);
        }
        let mask = self.out_mask;
        let end = self.written_to.max(self.time);
        let span = ((end - self.time) as usize).min(mask + 1);
        let start = self.time as usize & mask;
        for r in &mut self.out_ring {
            let first = span.min(mask + 1 - start);
            r[start..start + first].fill(0.0);
            r[..span - first].fill(0.0);
        }
        self.written_to = 0;
        self.time = 0;
        self.silent = u64::MAX;
        for st in &mut self.stages {
            st.newest = 0;
            st.filled = 0;
            st.zero_slots = 0;
            st.job_active = false;
        }
    }

    pub(super) fn process(
        &mut self,
        k: &Spectra,
        inputs: &[&[f32]],
        outputs: &mut [&mut [f32]],
        emit: bool,
    ) {
        let d = self.head_len;
        let len = inputs[0].len();
        let mut pos = 0;
        while pos < len {
            let phase = (self.time % d as u64) as usize;
            let seg = (d - phase).min(len - pos);
            // Input into the rings and the head history.
            for (i, x) in inputs.iter().enumerate() {
                let x = &x[pos..pos + seg];
                self.hist[i][d - 1 + phase..d - 1 + phase + seg].copy_from_slice(x);
                let at = self.time as usize & self.in_mask;
                let [a, b] = ring_parts_mut(&mut self.in_ring[i], at, seg);
                a.copy_from_slice(&x[..a.len()]);
                b.copy_from_slice(&x[a.len()..]);
            }
            // Trailing zeros of the segment over all inputs extend or restart the silent run.
            let trailing = inputs
                .iter()
                .map(|x| {
                    let x = &x[pos..pos + seg];
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
            // A whole aligned segment ends on the first stage's boundary: its forward
            // transform (run there) is the head's too, and the first stage's products for this
            // segment join the head's in one inverse at its end (see `fused_head`). Otherwise
            // the first stage's job, deferred at the boundary, completes into the ring now.
            let fused = !k.head_re.is_empty() && phase == 0 && seg == d;
            if phase == 0 {
                self.resolve_deferred(k, fused);
            }
            // Output: what the stages wrote ahead, plus the head. The ring is zero outside
            // [time, written_to): past that there is nothing to read.
            let ring_clean = self.written_to <= self.time;
            for (o, out) in outputs.iter_mut().enumerate() {
                let dst = &mut out[pos..pos + seg];
                if ring_clean {
                    if emit {
                        dst.fill(0.0);
                    }
                    continue;
                }
                let at = self.time as usize & self.out_mask;
                let [a, b] = ring_parts_mut(&mut self.out_ring[o], at, seg);
                if emit {
                    dst[..a.len()].copy_from_slice(a);
                    dst[a.len()..].copy_from_slice(b);
                }
                a.fill(0.0);
                b.fill(0.0);
            }
            // The head reads the segment and the D-1 inputs before it: all zeros, no FIR.
            let head_silent = self.skip_silence && self.silent >= (seg + d - 1) as u64;
            if emit && !head_silent && !fused {
                self.work += 1;
                for p in &k.paths {
                    simd::fir(
                        self.simd,
                        &k.head_rev[p.ir],
                        &self.hist[p.input][phase..phase + seg + d - 1],
                        &mut outputs[p.output][pos..pos + seg],
                    );
                }
            }
            self.time += seg as u64;
            if phase + seg == d {
                for h in &mut self.hist {
                    h.copy_within(d..2 * d - 1, 0);
                }
            }
            self.run_stages(k);
            if emit && fused {
                self.fused_head(k, outputs, pos);
            }
            pos += seg;
        }
    }

    /// Adds the head's and the first stage's contributions to the whole segment that ends now
    /// (`D` samples of each output from `pos`) by one overlap-save product at the first
    /// stage's size: its job, just run at this boundary, stored the spectrum of the last `2D`
    /// inputs in its newest FDL slot, which the head's spectrum multiplies; partition `j`
    /// multiplies the spectrum stored `j + 1` blocks ago (the stage's deferred job would have
    /// multiplied it `j` blocks ago, at the segment's start). The inverse holds the segment's
    /// outputs in its last `D` samples: one inverse per output instead of two.
    fn fused_head(&mut self, k: &Spectra, outputs: &mut [&mut [f32]], pos: usize) {
        let d = self.head_len;
        let st = &mut self.stages[0];
        let ks = &k.stages[0];
        let (bins, slots) = (st.bins, st.slots);
        // Partitions with input (stored since the reset, besides the newest) and IR.
        let reach = ks.active.min(st.filled.saturating_sub(1));
        // Every product reads inputs of the last (2 + reach) blocks: all zeros, no work.
        if self.skip_silence && self.silent >= ((2 + reach) * d) as u64 {
            return;
        }
        self.work += 1;
        let newest = st.newest;
        let slot = |j: usize| ((newest + slots - j) % slots) * bins;
        for (o, out) in outputs.iter_mut().enumerate() {
            let (acc_re, acc_im) = (&mut st.acc_re[o], &mut st.acc_im[o]);
            acc_re.fill(0.0);
            acc_im.fill(0.0);
            for p in k.paths.iter().filter(|p| p.output == o) {
                let (xr, xi) = (&st.fdl_re[p.input], &st.fdl_im[p.input]);
                // (input spectrum's slot, IR spectrum): the head, then the partitions.
                let head = (slot(0), &k.head_re[p.ir][..], &k.head_im[p.ir][..]);
                let parts = (0..reach).map(|j| {
                    let h = j * bins..(j + 1) * bins;
                    (slot(j + 1), &ks.re[p.ir][h.clone()], &ks.im[p.ir][h])
                });
                for (x, hr, hi) in std::iter::once(head).chain(parts) {
                    let (xr, xi) = (&xr[x..x + bins], &xi[x..x + bins]);
                    simd::cmac(self.simd, acc_re, acc_im, xr, xi, hr, hi);
                }
            }
            for (b, z) in st.fft.spectrum().iter_mut().enumerate() {
                z.re = acc_re[b];
                z.im = acc_im[b];
            }
            for i in 0..st.fft.inverse_steps().len() {
                let step = st.fft.inverse_steps()[i];
                st.fft.run_inverse(step, [&mut out[pos..pos + d], &mut []]);
            }
        }
    }
}

impl Runtime {
    /// Creates jobs at block boundaries and advances spread jobs.
    pub(super) fn run_stages(&mut self, k: &Spectra) {
        let now = self.time;
        for s in 0..self.stages.len() {
            let n = self.stages[s].n as u64;
            if self.stages[s].job_active {
                debug_assert!(!self.stages[s].deferred, "deferred job left unresolved");
                let frac = ((now - self.stages[s].job_t) as f64 / n as f64).min(1.0) as f32;
                self.advance(k, s, frac);
            }
            if now.is_multiple_of(n) {
                let st = &mut self.stages[s];
                let filled = (st.filled + 1).min(st.slots);
                // Partitions the job would multiply: those the IR and the input both reach.
                let reach = k.stages[s].active.min(filled);
                // Partition `j` reads the spectrum of the 2N inputs that ended `j` blocks ago.
                // If all of them (and the new window) are zeros, the job's spectra, products
                // and output are exact zeros: store a zero spectrum and do no transform.
                let window = 2 + reach.saturating_sub(1) as u64;
                st.newest = (st.newest + 1) % st.slots;
                st.filled = filled;
                if self.skip_silence && self.silent >= window * n {
                    if st.zero_slots < st.slots {
                        let b = st.newest * st.bins;
                        for i in 0..st.fdl_re.len() {
                            st.fdl_re[i][b..b + st.bins].fill(0.0);
                            st.fdl_im[i][b..b + st.bins].fill(0.0);
                        }
                        st.zero_slots += 1;
                    }
                    continue;
                }
                st.zero_slots = 0;
                st.job_active = true;
                st.job_t = now;
                st.job_done = 0;
                if st.deferred {
                    // Forward transforms now; the rest waits for `resolve_deferred`.
                    let end = st.first_mac;
                    self.advance_to(k, s, end);
                    continue;
                }
                st.clear_acc();
                if st.immediate {
                    self.advance(k, s, 1.0);
                }
            }
        }
    }

    /// At the start of a segment: completes the first stage's deferred job into the output
    /// ring, unless `fused` (the segment is whole in this call and the fused head product at
    /// its end will include the stage's partitions), in which case the job is dropped.
    pub(super) fn resolve_deferred(&mut self, k: &Spectra, fused: bool) {
        let Some(st) = self.stages.first_mut() else {
            return;
        };
        if !st.deferred || !st.job_active {
            return;
        }
        if fused {
            st.job_active = false;
        } else {
            st.clear_acc();
            self.advance(k, 0, 1.0);
        }
    }

    /// Runs stage `s`'s job up to (not including) step `end`.
    fn advance_to(&mut self, k: &Spectra, s: usize, end: usize) {
        while self.stages[s].job_done < end {
            let step = self.stages[s].job_done;
            self.work += 1;
            self.run_step(k, s, step);
            self.stages[s].job_done += 1;
        }
    }

    /// Runs the steps of stage `s`'s job whose cost-weighted start lies before `frac`.
    fn advance(&mut self, k: &Spectra, s: usize, frac: f32) {
        let total = self.stages[s].steps.len();
        while self.stages[s].job_done < total
            && (frac >= 1.0 || self.stages[s].step_start[self.stages[s].job_done] < frac)
        {
            let step = self.stages[s].job_done;
            self.work += 1;
            self.run_step(k, s, step);
            self.stages[s].job_done += 1;
        }
        if self.stages[s].job_done == total {
            self.stages[s].job_active = false;
        }
    }

    fn run_step(&mut self, k: &Spectra, s: usize, step: usize) {
        let simd_level = self.simd;
        let in_mask = self.in_mask;
        let out_mask = self.out_mask;
        let st = &mut self.stages[s];
        let (n, bins) = (st.n, st.bins);
        match st.steps[step] {
            JobStep::Forward { input, step } => {
                // The window is the 2N inputs before the job's boundary; times before the
                // last reset are silence (the ring is not cleared by `reset`).
                let zeros = (2 * n).saturating_sub(st.job_t as usize);
                let start = (st.job_t as usize + zeros).wrapping_sub(2 * n) & in_mask;
                let parts = ring_parts(&self.in_ring[input], start, 2 * n - zeros);
                st.fft.run_forward(step, Window { zeros, parts });
            }
            JobStep::Store { input } => {
                let base = st.newest * bins;
                let re = &mut st.fdl_re[input][base..base + bins];
                let im = &mut st.fdl_im[input][base..base + bins];
                for ((z, r), i) in st.fft.spectrum().iter().zip(re).zip(im) {
                    *r = z.re;
                    *i = z.im;
                }
            }
            JobStep::Mac { part: j } => {
                let ks = &k.stages[s];
                if j >= st.filled || j >= ks.active {
                    return; // silence before the first input, or past the IR's end
                }
                let fdl = ((st.newest + st.slots - j) % st.slots) * bins;
                let hb = j * bins;
                for p in &k.paths {
                    simd::cmac(
                        simd_level,
                        &mut st.acc_re[p.output],
                        &mut st.acc_im[p.output],
                        &st.fdl_re[p.input][fdl..fdl + bins],
                        &st.fdl_im[p.input][fdl..fdl + bins],
                        &ks.re[p.ir][hb..hb + bins],
                        &ks.im[p.ir][hb..hb + bins],
                    );
                }
            }
            JobStep::Load { out: o } => {
                st.inverse_live = k.stages[s].active > 0 && k.paths.iter().any(|p| p.output == o);
                if st.inverse_live {
                    let end = st.job_t + st.offset as u64;
                    self.written_to = self.written_to.max(end);
                    let (re, im) = (&st.acc_re[o], &st.acc_im[o]);
                    for ((z, &r), &i) in st.fft.spectrum().iter_mut().zip(re).zip(im) {
                        *z = Complex::new(r, i);
                    }
                }
            }
            JobStep::Inverse { out: o, step } => {
                if !st.inverse_live {
                    return;
                }
                // Only the last N samples of the 2N inverse are valid (overlap-save); they are
                // output times [t - N + O, t + O).
                let dst = (st.job_t as usize + st.offset - n) & out_mask;
                st.fft
                    .run_inverse(step, ring_parts_mut(&mut self.out_ring[o], dst, n));
            }
        }
    }
}
