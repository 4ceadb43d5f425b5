//! Meters: one [`PaddedMeter`] per value, each alone on a 64-byte cache line so the audio
//! thread's writes to one never invalidate the line the editor reads another from (false
//! sharing). The audio thread raises the stored peak (`fetch_max`); the editor takes it
//! (`swap(0)`) once per frame and applies ballistics itself.

use std::sync::atomic::{AtomicU32, Ordering};

use atomic_float::AtomicF32;

/// An `f32` meter value alone on its own cache line.
#[repr(C, align(64))]
#[derive(Default)]
pub struct PaddedMeter {
    value: AtomicF32,
}

impl PaddedMeter {
    /// Raises the stored peak to at least `v` (audio thread).
    #[inline]
    pub fn raise(&self, v: f32) {
        self.value.fetch_max(v, Ordering::Relaxed);
    }

    /// Takes the peak accumulated since the last call and resets it (GUI thread).
    #[inline]
    pub fn take(&self) -> f32 {
        self.value.swap(0.0, Ordering::Relaxed)
    }
}

/// Input and output peak meters per channel (linear).
#[derive(Default)]
pub struct Meters {
    /// Input peaks, `[channel]`.
    pub input: [PaddedMeter; 2],
    /// Output peaks, `[channel]`.
    pub output: [PaddedMeter; 2],
    /// Sums of squares since the editor last looked, `[in L, in R, out L, out R]`, and the
    /// frames they cover (for RMS).
    pub squares: [AtomicF32; 4],
    pub frames: AtomicU32,
    /// Largest ducking reduction, dB (>= 0).
    pub ducking: PaddedMeter,
    /// 1 while a sidechain has carried sound since the last reset, else 0.
    pub sidechain: PaddedMeter,
    /// What the host says about the sidechain port (shared with the plugin's entry).
    pub sidechain_port: std::sync::Arc<super::PortWord>,
    /// Each EQ band's dynamic gain change after the last block, dB.
    pub band_gain_db: [AtomicF32; crate::dsp::dynamic_eq::BANDS],
    /// Editor to audio thread: the band being listened to, plus 1 (0 = none). Honoured only
    /// while the editor beats (see [`SpectrumFeed::beat`](super::SpectrumFeed::beat)); never saved.
    pub solo: AtomicU32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_meter_owns_a_cache_line() {
        assert_eq!(std::mem::align_of::<PaddedMeter>(), 64);
        assert_eq!(std::mem::size_of::<PaddedMeter>(), 64);
        let m = Meters::default();
        let a = &m.input[0] as *const _ as usize;
        let b = &m.input[1] as *const _ as usize;
        let c = &m.output[0] as *const _ as usize;
        assert_eq!(b - a, 64);
        assert_eq!(c - b, 64);
        assert_eq!(a % 64, 0);
    }

    #[test]
    fn meter_keeps_the_peak_until_taken() {
        let m = PaddedMeter::default();
        m.raise(0.5);
        m.raise(0.25);
        assert_eq!(m.take(), 0.5);
        assert_eq!(m.take(), 0.0);
    }
}
