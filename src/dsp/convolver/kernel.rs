//! Kernels: one IR cut by its own plan into head taps and partition spectra ([`Spectra`]),
//! with the delay lines that run it ([`Runtime`]). A kernel is a complete convolution engine
//! for one IR; the [`Convolver`](super::Convolver) hands over from one to the next.

use realfft::RealFftPlanner;

use super::runtime::Runtime;
use super::spectra::{routing, IrLayout, Spectra, StageKernel};
use super::{PartitionPlan, MAX_CHANNELS};

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
