//! What a kernel knows of its IR, read-only while it runs: the routing of its channels from
//! inputs to outputs, its head taps and the spectra of its partitions.

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

pub(super) fn routing(layout: IrLayout, n_in: usize, n_out: usize) -> Vec<Path> {
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
