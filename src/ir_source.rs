//! Where an impulse response comes from and how it reaches the convolver's layout: the
//! factory rooms (the default one embedded, the others generated at 48 kHz), loaded files,
//! the conversion to the session rate and the auto-gain, the edits, and the kernel (with its
//! partition plan) the convolver runs. Used by the background loader, the offline renderer, the
//! tests and the benchmarks, so all of them play the same IR for the same settings.

use std::sync::Arc;

use crate::dsp::convolver::{CostModel, IrLayout, Kernel, PartitionPlan};
use crate::ir_file::{self, IrData};
use crate::params::Room;

/// Longest IR the plugin plays, in seconds (at rates up to 96 kHz; half of it at 192 kHz).
/// Longer files and edits are cut to it. The convolver itself is sized for each IR.
pub const IR_CAPACITY_SECONDS: f32 = 20.0;

/// IR capacity in samples at `sample_rate`.
pub fn ir_capacity(sample_rate: f32) -> usize {
    (IR_CAPACITY_SECONDS * sample_rate.min(96_000.0)) as usize
}

/// The partition plan for an IR of `len` samples with `channels` channels (1, 2 or 4),
/// played from two inputs into two outputs by a host that calls with blocks of `block`
/// samples (its maximum block): chosen for that IR and that block, so cost and memory
/// follow the IR and the cost per second falls as the block grows. Any call size stays exact.
pub fn plan_for_ir(len: usize, channels: usize, block: usize) -> PartitionPlan {
    let paths = match IrLayout::from_channels(channels) {
        Some(IrLayout::TrueStereo) => 4,
        _ => 2,
    };
    PartitionPlan::for_ir_and_call(len.max(1), paths, 2, 2, &CostModel::default(), block)
}

/// The kernel for `ir` (1, 2 or 4 equal-length channels), stereo in and out, cut by its own
/// plan ([`plan_for_ir`]) for host blocks of `block` samples. Allocates and plans FFTs:
/// milliseconds, off the audio thread.
pub fn kernel_for(ir: &[&[f32]], block: usize) -> Kernel {
    let plan = plan_for_ir(ir[0].len(), ir.len(), block);
    Kernel::new(&plan, ir, 2, 2)
}

/// The default impulse response, "Medium Room" from `impulses/` (48 kHz, 24-bit stereo),
/// embedded in the binary so the plugin sounds with no file on disk.
pub const DEFAULT_IR_WAV: &[u8] = include_bytes!("../impulses/Medium Room.wav");

/// Rate at which the factory rooms are generated (and the embedded one stored), Hz.
pub const FACTORY_RATE_HZ: u32 = 48_000;

/// A factory room's IR at `sample_rate` (stereo). The default room is the embedded WAV; the
/// others are rendered by the generator that made the files in `impulses/`, at
/// [`FACTORY_RATE_HZ`]. Both reach the session rate through [`ir_file::to_session_rate`], so a
/// room is the same filter, equally loud and long, at every rate (the generator's noise
/// would otherwise fill whatever band the rate offers). [`Room::File`] is not a factory room:
/// it gives the default. Allocates; takes milliseconds.
pub fn room_ir(room: Room, sample_rate: f32) -> [Vec<f32>; 2] {
    let spec = room.factory_spec().filter(|_| room != Room::MediumRoom);
    let ir = if let Some(spec) = spec {
        let [l, r] = crate::dsp::ir_gen::render(&spec, FACTORY_RATE_HZ as f64);
        ir_file::IrData {
            name: room.name().to_string(),
            sample_rate: FACTORY_RATE_HZ,
            channels: vec![l, r],
        }
    } else {
        // The default room (and Loaded File without a file) is the embedded WAV.
        ir_file::decode_wav(DEFAULT_IR_WAV, "Medium Room").expect("embedded IR is valid")
    };
    let ir = ir_file::to_session_rate(&ir, sample_rate.round() as u32);
    let mut ch = ir.channels.into_iter();
    [ch.next().unwrap_or_default(), ch.next().unwrap_or_default()]
}

/// The IR loaded when nothing else is: the factory "Medium Room" at `sample_rate`.
pub fn default_ir(sample_rate: f32) -> [Vec<f32>; 2] {
    room_ir(Room::MediumRoom, sample_rate)
}

/// The IR the plugin plays for `source` at `rate` Hz with `edits`: exactly what its
/// background task renders (the offline renderer and the tests use it too). Allocates.
pub fn render_ir(
    source: &Source,
    rate: f32,
    edits: &crate::dsp::ir_edit::IrEdits,
) -> crate::dsp::ir_edit::EditedIr {
    let prepared = prepare(source, rate, edits.auto_gain);
    crate::dsp::ir_edit::apply(&prepared, rate, edits, ir_capacity(rate))
}

/// Where an IR comes from.
pub enum Source {
    /// A factory room, rendered by the generator at the session rate.
    Factory(Room),
    /// A decoded file and its path.
    File(Arc<IrData>, String),
}

/// The source's samples at `rate` Hz (resampled if needed), energy-normalised if `auto_gain`.
/// Allocates; milliseconds.
pub fn prepare(source: &Source, rate: f32, auto_gain: bool) -> Vec<Vec<f32>> {
    let rate_hz = rate.round() as u32;
    let mut ir = match source {
        Source::Factory(room) => {
            let [l, r] = room_ir(*room, rate);
            IrData {
                name: room.name().to_string(),
                sample_rate: rate_hz,
                channels: vec![l, r],
            }
        }
        Source::File(ir, _) => ir_file::to_session_rate(ir, rate_hz),
    };
    if auto_gain {
        ir_file::normalize_energy(&mut ir);
    }
    ir.channels
}
