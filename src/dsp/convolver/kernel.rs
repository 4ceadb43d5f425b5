//! Kernels: one IR cut by its own plan into head taps and partition spectra, the routing of
//! its channels from inputs to outputs, and the delay lines that run it (input history,
//! frequency-domain delay lines, output ring). A kernel is a complete convolution engine for
//! one IR; the [`Convolver`](super::Convolver) hands over from one to the next.

use realfft::RealFftPlanner;

use super::simd::{self, SimdLevel};
use super::stage::StageRt;
use super::{CostModel, PartitionPlan, CHUNK, MAX_CHANNELS};

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

pub(super) struct StageKernel {
    /// Partitions containing any of the IR (the rest are skipped and not stored, so a kernel's
    /// size follows its IR, not the plan's capacity).
    pub(super) active: usize,
    /// Spectra of the active partitions, indexed `[ir_channel][partition * bins + bin]`,
    /// pre-scaled by `1 / (2N)`.
    pub(super) re: Vec<Vec<f32>>,
    pub(super) im: Vec<Vec<f32>>,
}

/// What a kernel knows of its IR: routing, head taps and partition spectra (read-only while
/// it runs).
pub(super) struct Spectra {
    pub(super) paths: Vec<Path>,
    pub(super) ir_len: usize,
    /// Head taps reversed, `[ir_channel][D]`.
    pub(super) head_rev: Vec<Vec<f32>>,
    /// With an FFT head: the head's spectrum at the first stage's size, `[ir_channel][bin]`,
    /// pre-scaled by `1 / (2D)`; empty otherwise.
    pub(super) head_re: Vec<Vec<f32>>,
    pub(super) head_im: Vec<Vec<f32>>,
    pub(super) stages: Vec<StageKernel>,
}

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
    hist: Vec<Vec<f32>>,
    pub(super) stages: Vec<StageRt>,
}

/// One IR ready to convolve: its [`PartitionPlan`], spectra and signal state. Built off the
/// audio thread (it allocates and plans FFTs); moved into the convolver whole, and returned by
/// it to be dropped off the audio thread.
pub struct Kernel {
    /// An opaque label set by whoever builds the kernel (the loader's render generation), so
    /// the receiver can tell which request it answers. The convolver does not read it.
    tag: u64,
    /// A hash of the IR's samples: a kernel replacing one of the same IR (a new plan for
    /// other host blocks) crossfades linearly, its output being the same signal.
    pub(super) ir_hash: u64,
    plan: PartitionPlan,
    pub(super) n_in: usize,
    pub(super) n_out: usize,
    pub(super) spectra: Spectra,
    pub(super) rt: Runtime,
}

impl Kernel {
    /// Builds a kernel for `ir` (one slice per IR channel: 1, 2 or 4, equal lengths, at most
    /// `plan.capacity` samples) routed from `n_in` inputs to `n_out` outputs, with the delay
    /// lines that run it. Allocates and plans FFTs: call it off the audio thread.
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
                    let mut cre = vec![0.0f32; active * bins];
                    let mut cim = vec![0.0f32; active * bins];
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
        let (mut head_re, mut head_im) = (Vec::new(), Vec::new());
        if plan.fft_head && !plan.stages.is_empty() {
            let fft = planner.plan_fft_forward(2 * d);
            let scale = 1.0 / (2 * d) as f32;
            for c in ir {
                let mut buf = fft.make_input_vec();
                let len = c.len().min(d);
                buf[..len].copy_from_slice(&c[..len]);
                let mut spec = fft.make_output_vec();
                fft.process(&mut buf, &mut spec).expect("sizes match");
                head_re.push(spec.iter().map(|z| z.re * scale).collect());
                head_im.push(spec.iter().map(|z| z.im * scale).collect());
            }
        }
        let routes = routing(layout, n_in, n_out);
        let paths = routes.len();
        let spectra = Spectra {
            paths: routes,
            ir_len,
            head_rev,
            head_re,
            head_im,
            stages,
        };
        // FNV-1a over the samples' bits and the channel count.
        let ir_hash = ir
            .iter()
            .flat_map(|c| c.iter())
            .fold(0xcbf2_9ce4_8422_2325u64 ^ ir.len() as u64, |h, v| {
                (h ^ v.to_bits() as u64).wrapping_mul(0x0100_0000_01b3)
            });
        Self {
            tag: 0,
            ir_hash,
            plan: plan.clone(),
            n_in,
            n_out,
            rt: Runtime::new(plan, (n_in, n_out, paths), ir_len, &mut planner),
            spectra,
        }
    }

    /// IR length in samples.
    pub fn ir_len(&self) -> usize {
        self.spectra.ir_len
    }

    /// The plan this kernel runs.
    pub fn plan(&self) -> &PartitionPlan {
        &self.plan
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

    /// Approximate heap size of the IR spectra and head taps, in bytes.
    pub fn spectra_bytes(&self) -> usize {
        let spectra: usize = self
            .spectra
            .stages
            .iter()
            .map(|s| s.re.iter().map(|v| v.len() * 8).sum::<usize>())
            .sum();
        let head: usize = (self.spectra.head_rev.iter())
            .chain(&self.spectra.head_re)
            .chain(&self.spectra.head_im)
            .map(|v| v.len() * 4)
            .sum();
        spectra + head
    }

    /// Approximate heap size of the signal state (input history, FDLs, accumulators, output
    /// ring, transform buffers), in bytes.
    pub fn state_bytes(&self) -> usize {
        let f = 4;
        let rt = &self.rt;
        let rings: usize = rt
            .in_ring
            .iter()
            .chain(&rt.out_ring)
            .chain(&rt.hist)
            .map(|v| v.len() * f)
            .sum();
        let stages: usize = rt
            .stages
            .iter()
            .map(|s| {
                let fdl: usize = s.fdl_re.iter().chain(&s.fdl_im).map(|v| v.len() * f).sum();
                let acc: usize = s.acc_re.iter().chain(&s.acc_im).map(|v| v.len() * f).sum();
                // One split transform with about 2 * (2N) complex values of buffers.
                fdl + acc + 2 * (2 * s.n) * 2 * f
            })
            .sum();
        rings + stages
    }

    /// Approximate heap size in bytes: spectra and state.
    pub fn memory_bytes(&self) -> usize {
        self.spectra_bytes() + self.state_bytes()
    }

    /// Convolves `inputs` into `outputs` (overwritten) if `emit`, else only advances the state
    /// (a replay of history: `outputs` are left as they are).
    pub(super) fn process(&mut self, inputs: &[&[f32]], outputs: &mut [&mut [f32]], emit: bool) {
        self.rt.process(&self.spectra, inputs, outputs, emit);
    }
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
    fn new(
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

    fn process(&mut self, k: &Spectra, inputs: &[&[f32]], outputs: &mut [&mut [f32]], emit: bool) {
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
