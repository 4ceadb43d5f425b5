//! State shared between the audio thread and the editor, without locks.
//!
//! * Meters: one [`PaddedMeter`] per value, each alone on a 64-byte cache line so the audio
//!   thread's writes to one never invalidate the line the GUI reads another from (false
//!   sharing). The audio thread raises the stored peak (`fetch_max`); the editor takes it
//!   (`swap(0)`) once per frame and applies ballistics itself.
//! * [`Mailbox`]: a single-slot, lock-free hand-over of a boxed value between threads (an
//!   `AtomicPtr` swapped in and out). A newer value replaces an unread one, which goes back
//!   to the sender to be dropped there, never on the receiving (audio) thread.
//! * [`spectrum_feed`]: the `triple_buffer` crate's typed halves carrying fixed-size
//!   [`Spectrum`]s from the audio thread ([`SpectrumWriter`]) to the editor's analyzer
//!   ([`SpectrumFeed`]; the writer never waits and never sees the reader's buffer), plus a
//!   heartbeat the editor beats every frame so the audio thread analyses only while it is
//!   open.

use std::sync::atomic::{AtomicPtr, AtomicU32, Ordering};

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
    /// Each EQ band's dynamic gain change after the last block, dB.
    pub band_gain_db: [AtomicF32; crate::dsp::dynamic_eq::BANDS],
    /// Editor to audio thread: the band being listened to, plus 1 (0 = none). Honoured only
    /// while the editor beats (see [`SpectrumFeed::beat`]); never saved.
    pub solo: AtomicU32,
}

/// A single-slot lock-free mailbox for boxed values.
pub struct Mailbox<T> {
    slot: AtomicPtr<T>,
}

impl<T> Default for Mailbox<T> {
    fn default() -> Self {
        Self {
            slot: AtomicPtr::new(std::ptr::null_mut()),
        }
    }
}

impl<T> Mailbox<T> {
    /// Puts `value` in the slot and returns the value it replaces, if the receiver had not
    /// taken it yet. Never blocks.
    pub fn put(&self, value: Box<T>) -> Option<Box<T>> {
        let old = self.slot.swap(Box::into_raw(value), Ordering::AcqRel);
        // SAFETY: every non-null pointer in the slot came from `Box::into_raw` and is owned
        // by the slot; the swap transfers that ownership to us exactly once.
        (!old.is_null()).then(|| unsafe { Box::from_raw(old) })
    }

    /// Takes the value, if any. Never blocks or allocates.
    pub fn take(&self) -> Option<Box<T>> {
        let p = self.slot.swap(std::ptr::null_mut(), Ordering::AcqRel);
        // SAFETY: as in `put`.
        (!p.is_null()).then(|| unsafe { Box::from_raw(p) })
    }

    /// Whether the slot is empty.
    pub fn is_empty(&self) -> bool {
        self.slot.load(Ordering::Acquire).is_null()
    }
}

impl<T> Drop for Mailbox<T> {
    fn drop(&mut self) {
        drop(self.take());
    }
}

// SAFETY: the mailbox only moves owned `Box<T>` values between threads.
unsafe impl<T: Send> Send for Mailbox<T> {}
// SAFETY: all access goes through atomic swaps; each value is owned by exactly one side.
unsafe impl<T: Send> Sync for Mailbox<T> {}

#[cfg(test)]
mod feed_tests {
    use super::*;

    #[test]
    fn the_writer_analyses_while_the_editor_beats_and_publishes_each_analysis_once() {
        use crate::dsp::spectral::SpectralDynamics;
        let (mut w, feed) = spectrum_feed();
        assert!(!w.editor_open(1000.0), "closed until the editor beats");
        feed.beat();
        assert!(w.editor_open(1000.0));
        w.played(999);
        assert!(w.editor_open(1000.0));
        w.played(1);
        assert!(
            !w.editor_open(1000.0),
            "closed a second after the last beat"
        );
        feed.beat();
        assert!(w.editor_open(1000.0));
        let mut sd = SpectralDynamics::new(48_000.0, &Default::default());
        sd.set_analyzer(true);
        let (mut l, mut r) = (vec![0.1f32; 256], vec![0.1f32; 256]);
        sd.process(&mut [&mut l, &mut r]);
        w.publish_new(&sd, None, 48_000.0);
        assert!(feed.latest().is_some());
        w.publish_new(&sd, None, 48_000.0);
        assert!(
            feed.latest().is_none(),
            "the same analysis is not published twice"
        );
    }

    #[test]
    fn triple_buffer_delivers_the_newest_frame_once_across_threads() {
        let (mut w, feed) = spectrum_feed();
        assert!(feed.latest().is_none());
        let writer = std::thread::spawn(move || {
            for i in 0..20_000 {
                w.publish(|s| {
                    s.level_db.fill(i as f32);
                    s.gain_db.fill(-(i as f32));
                });
            }
        });
        let mut last = -1.0f32;
        while !writer.is_finished() {
            if let Some(s) = feed.latest() {
                // A frame is never torn and never goes back in time.
                assert!(s.level_db.iter().all(|v| *v == s.level_db[0]));
                assert!(s.gain_db.iter().all(|v| *v == -s.level_db[0]));
                assert!(s.level_db[0] >= last);
                last = s.level_db[0];
            }
        }
        writer.join().unwrap();
        // The last frame arrives (now, or it was read just before the writer ended), once.
        if let Some(s) = feed.latest() {
            last = s.level_db[0];
        }
        assert_eq!(last, 19_999.0, "the newest frame is delivered");
        assert!(feed.latest().is_none(), "read once");
    }
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

    #[test]
    fn mailbox_hands_over_and_returns_unread_values() {
        let mb = Mailbox::default();
        assert!(mb.put(Box::new(1)).is_none());
        assert_eq!(mb.put(Box::new(2)).map(|b| *b), Some(1));
        let t = std::thread::spawn({
            let mb = std::sync::Arc::new(mb);
            move || mb.take().map(|b| *b)
        });
        assert_eq!(t.join().unwrap(), Some(2));
    }
}

/// Points of the analyzer display (log-spaced from [`DISPLAY_LOW_HZ`] to [`DISPLAY_HIGH_HZ`]).
pub const DISPLAY_POINTS: usize = 256;
/// Lowest analyzer frequency, Hz.
pub const DISPLAY_LOW_HZ: f32 = 20.0;
/// Highest analyzer frequency, Hz.
pub const DISPLAY_HIGH_HZ: f32 = 20_000.0;

/// Frequency of analyzer point `i`, Hz.
pub fn display_hz(i: usize) -> f32 {
    DISPLAY_LOW_HZ * (DISPLAY_HIGH_HZ / DISPLAY_LOW_HZ).powf(i as f32 / (DISPLAY_POINTS - 1) as f32)
}

/// One analyzer frame.
#[derive(Clone, Copy, Debug)]
pub struct Spectrum {
    /// Input level per display point (loudest bin in its band), dBFS.
    pub level_db: [f32; DISPLAY_POINTS],
    /// Spectral-dynamics gain per display point (the largest change in its band), dB.
    pub gain_db: [f32; DISPLAY_POINTS],
    /// Output level per display point, dBFS.
    pub output_db: [f32; DISPLAY_POINTS],
}

impl Default for Spectrum {
    fn default() -> Self {
        Self {
            level_db: [-120.0; DISPLAY_POINTS],
            gain_db: [0.0; DISPLAY_POINTS],
            output_db: [-120.0; DISPLAY_POINTS],
        }
    }
}

/// The editor's end of the analyzer feed: the reading half of a triple buffer of
/// [`Spectrum`]s (the `triple_buffer` crate) and the editor's heartbeat. The lock is taken by
/// the editor only; the audio thread holds the [`SpectrumWriter`] and reads the heartbeat.
pub struct SpectrumFeed {
    output: std::sync::Mutex<triple_buffer::Output<Spectrum>>,
    /// Incremented by the editor every frame.
    heartbeat: AtomicU32,
}

/// The audio thread's end of the analyzer feed: the writing half, and the bookkeeping of the
/// editor's heartbeat (the analysis runs while the editor beats, and stops one second after
/// its last frame) and of the analyses already published.
pub struct SpectrumWriter {
    input: triple_buffer::Input<Spectrum>,
    feed: std::sync::Arc<SpectrumFeed>,
    /// Heartbeat last seen, and samples processed since it last changed.
    last_beat: u32,
    since_beat: usize,
    /// The analysis last published (its count).
    last_analysis: u64,
}

/// A connected writer and feed. Allocates.
pub fn spectrum_feed() -> (SpectrumWriter, std::sync::Arc<SpectrumFeed>) {
    let (input, output) = triple_buffer::triple_buffer(&Spectrum::default());
    let feed = std::sync::Arc::new(SpectrumFeed {
        output: std::sync::Mutex::new(output),
        heartbeat: AtomicU32::new(0),
    });
    (
        SpectrumWriter {
            input,
            feed: feed.clone(),
            last_beat: 0,
            since_beat: usize::MAX,
            last_analysis: 0,
        },
        feed,
    )
}

impl SpectrumWriter {
    /// Whether the editor has beaten within the last second (`rate` samples), before a block.
    pub fn editor_open(&mut self, rate: f32) -> bool {
        let beat = self.feed.heartbeat();
        if beat != self.last_beat {
            self.last_beat = beat;
            self.since_beat = 0;
        }
        self.since_beat < rate as usize
    }

    /// Counts `samples` processed since the last heartbeat, after a block.
    pub fn played(&mut self, samples: usize) {
        self.since_beat = self.since_beat.saturating_add(samples);
    }

    /// Publishes the spectral analysis (and the output's) if it is newer than the last one
    /// published. No allocation.
    pub fn publish_new(
        &mut self,
        sd: &crate::dsp::spectral::SpectralDynamics,
        output: Option<&crate::dsp::spectral::SpectralDynamics>,
        rate: f32,
    ) {
        if sd.analyses() != self.last_analysis {
            self.last_analysis = sd.analyses();
            self.publish_analysis(sd, output, rate);
        }
    }

    /// Writer: reduces the spectral dynamics' analysis (the section's input) and, if given,
    /// an output analysis to the display points (the loudest bin and the largest gain change
    /// within each point's band) and publishes them. No allocation (runs in `process()` while
    /// the editor's analyzer is open).
    pub fn publish_analysis(
        &mut self,
        sd: &crate::dsp::spectral::SpectralDynamics,
        output: Option<&crate::dsp::spectral::SpectralDynamics>,
        rate: f32,
    ) {
        let (level, gain) = sd.analysis();
        let bin_hz = rate / crate::dsp::spectral::WINDOW as f32;
        let last = level.len() - 1;
        let half_step = (display_hz(1) / display_hz(0)).sqrt();
        let band = |i: usize| {
            let f = display_hz(i);
            let lo = ((f / half_step / bin_hz).round() as usize).min(last);
            let hi = ((f * half_step / bin_hz).round() as usize).clamp(lo, last);
            lo..=hi
        };
        self.publish(|s| {
            for i in 0..DISPLAY_POINTS {
                let mut l = f32::MIN;
                let mut g = 0.0f32;
                for k in band(i) {
                    l = l.max(level[k]);
                    if gain[k].abs() > g.abs() {
                        g = gain[k];
                    }
                }
                s.level_db[i] = l;
                s.gain_db[i] = g;
                s.output_db[i] = match output {
                    Some(o) => band(i).map(|k| o.analysis().0[k]).fold(f32::MIN, f32::max),
                    None => -120.0,
                };
            }
        });
    }

    /// Fills the back buffer and publishes it. Never blocks, never allocates.
    pub fn publish(&mut self, fill: impl FnOnce(&mut Spectrum)) {
        fill(self.input.input_buffer_mut());
        self.input.publish();
    }
}

impl SpectrumFeed {
    /// Editor: the newest frame, if one arrived since the last call.
    pub fn latest(&self) -> Option<Spectrum> {
        let mut out = self.output.lock().unwrap_or_else(|e| e.into_inner());
        out.update().then(|| *out.output_buffer())
    }

    /// Editor: "I am open" (call every frame).
    pub fn beat(&self) {
        self.heartbeat.fetch_add(1, Ordering::Relaxed);
    }

    /// The heartbeat counter.
    pub fn heartbeat(&self) -> u32 {
        self.heartbeat.load(Ordering::Relaxed)
    }
}
