//! The analyzer feed: the `triple_buffer` crate's typed halves carrying fixed-size
//! [`Spectrum`]s from the audio thread ([`SpectrumWriter`]) to the editor's analyzer
//! ([`SpectrumFeed`]; the writer never waits and never sees the reader's buffer), plus a
//! heartbeat the editor beats every frame so the audio thread analyses only while it is open.
//! The display's frequency grid is defined here.

use std::sync::atomic::{AtomicU32, Ordering};

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
    /// The EQ bands' spectral gain per display point (the largest change in its band), dB.
    pub bands_db: [f32; DISPLAY_POINTS],
    /// Output level per display point, dBFS.
    pub output_db: [f32; DISPLAY_POINTS],
}

impl Default for Spectrum {
    fn default() -> Self {
        Self {
            level_db: [-120.0; DISPLAY_POINTS],
            gain_db: [0.0; DISPLAY_POINTS],
            bands_db: [0.0; DISPLAY_POINTS],
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
        bands: &crate::dsp::spectral_bands::SpectralBands,
        output: Option<&crate::dsp::spectral::SpectralDynamics>,
        rate: f32,
    ) {
        if sd.analyses() != self.last_analysis {
            self.last_analysis = sd.analyses();
            self.publish_analysis(sd, bands.gain_curve(), output, rate);
        }
    }

    /// Writer: reduces the spectral dynamics' analysis (the section's input), the EQ bands'
    /// spectral gains (`bands_db`, on the same grid) and, if given, an output analysis to the
    /// display points (the loudest bin and the largest gain change within each point's band)
    /// and publishes them. No allocation (runs in `process()` while
    /// the editor's analyzer is open).
    pub fn publish_analysis(
        &mut self,
        sd: &crate::dsp::spectral::SpectralDynamics,
        bands_db: &[f32],
        output: Option<&crate::dsp::spectral::SpectralDynamics>,
        rate: f32,
    ) {
        let (level, gain) = sd.analysis();
        let largest = |v: &[f32], k: std::ops::RangeInclusive<usize>| {
            v[k].iter()
                .fold(0.0f32, |g, &x| if x.abs() > g.abs() { x } else { g })
        };
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
                s.level_db[i] = level[band(i)].iter().copied().fold(f32::MIN, f32::max);
                s.gain_db[i] = largest(gain, band(i));
                s.bands_db[i] = largest(bands_db, band(i));
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
        let bands = crate::dsp::spectral_bands::SpectralBands::new(
            48_000.0,
            &std::array::from_fn(crate::dsp::dynamic_eq::BandSettings::default_for),
        );
        w.publish_new(&sd, &bands, None, 48_000.0);
        assert!(feed.latest().is_some());
        w.publish_new(&sd, &bands, None, 48_000.0);
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
