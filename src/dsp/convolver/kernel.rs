//! Kernels: one IR's head taps and partition spectra for one plan, and the routing of its
//! channels from inputs to outputs.

use realfft::RealFftPlanner;

use super::{PartitionPlan, MAX_CHANNELS};

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

/// The precomputed form of one IR for one [`PartitionPlan`]: reversed head taps and
/// partition spectra. Built off the audio thread; moved into the convolver whole.
pub struct Kernel {
    /// An opaque label set by whoever builds the kernel (the loader's render generation), so
    /// the receiver can tell which request it answers. The convolver does not read it.
    pub(super) tag: u64,
    pub(super) plan: PartitionPlan,
    pub(super) n_in: usize,
    pub(super) n_out: usize,
    pub(super) paths: Vec<Path>,
    pub(super) ir_len: usize,
    /// Head taps reversed, `[ir_channel][D]`.
    pub(super) head_rev: Vec<Vec<f32>>,
    pub(super) stages: Vec<StageKernel>,
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
