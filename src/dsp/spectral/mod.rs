//! Per-bin spectral dynamics at zero latency.
//!
//! STFT processors (nih-plug's Spectral Compressor, most "spectral" modes) apply their gains
//! in the frequency domain and so report their window as latency. Here the STFT only
//! *measures*; the gains are applied by a time-varying minimum-phase FIR in the time domain:
//!
//! 1. **Analysis** (side path): every [`HOP`] samples, a [`WINDOW`]-point Hann-windowed FFT of
//!    each input channel (both in one complex FFT, separated by conjugate symmetry; a 21 ms
//!    window at 48 kHz; 2048 points measured 10 % dearer for the
//!    whole stage with the same gain grid). Gains live on a grid of [`BINS`] bins (46.9 Hz
//!    apart at 48 kHz, the synthesis grid); a bin's level is the energy of it and its
//!    neighbours (nearly all of a sinusoid's main lobe wherever it falls), scaled so that a
//!    sine of amplitude `A` reads `20 log10 A` dBFS; the channels are linked by the larger
//!    level.
//! 2. **Gain computer** per bin: threshold curve `threshold + tilt * log2(f / 1 kHz)`, ratio,
//!    soft knee, range; downward (reduce what is above) or upward (raise what is below, for
//!    bins above a -90 dBFS floor so silence stays silent). Then smoothed across frequency
//!    (the "resolution": the loudest level within the band decides the gain over it, and
//!    the gains are then averaged over the band, so a compressed peak keeps its depth and a
//!    component's skirts share its gain) and in time (attack/release one-poles at the
//!    hop rate; a step reaches 63 % after the set time).
//! 3. **Synthesis**: the gain curve on the [`SYN_N`]/2+1-bin grid becomes a minimum-phase
//!    FIR of [`FIR_LEN`] taps by the real cepstrum (A. V. Oppenheim, R. W. Schafer,
//!    "Discrete-Time Signal Processing", 3rd ed., sec. 13.8: fold the cepstrum of the log
//!    magnitude, exponentiate its spectrum).
//! 4. **Application without latency**: a uniformly partitioned convolution whose first
//!    [`BLOCK`] taps are a direct-form FIR and whose other partitions run overlap-save on
//!    past input blocks only, so each output sample depends on input up to itself. The
//!    frequency-domain delay line depends only on the input, so a new filter is exact from its
//!    first sample; successive filters are crossfaded over the first [`FADE`] samples of the
//!    hop (a linear interpolation between two exact outputs, never a switch); for the rest of
//!    the hop only the new filter runs. The two channels share the partitions' complex FFTs
//!    (left real, right imaginary): the filter is real, so the product with the packed
//!    spectrum is the packed output.
//!
//! A new FIR is synthesised only when some bin's gain moved by more than [`RESYNTH_DB`]; with
//! every gain at 0 dB the filter is exactly the identity, so below threshold (or with range
//! 0) the output equals the input.

use super::simd::SimdLevel;
use super::DetectorSource;

mod analysis;
mod fir;
mod synthesis;

pub use analysis::Analysis;
pub use fir::{PartitionedFir, BLOCK, FADE, FIR_LEN};
pub use synthesis::MinPhase;

/// Analysis window, samples.
pub const WINDOW: usize = 1024;
/// Analysis hop (and filter update interval), samples.
pub const HOP: usize = 256;
/// Bins of the analysis FFT.
const FFT_BINS: usize = WINDOW / 2 + 1;
/// Bins of the gain grid (the synthesis grid).
pub const BINS: usize = SYN_N / 2 + 1;
/// Analysis bins per gain-grid bin.
const DEC: usize = (FFT_BINS - 1) / (BINS - 1);
/// Cepstrum size of the synthesis.
pub const SYN_N: usize = 1024;
/// Resynthesis threshold, dB.
pub const RESYNTH_DB: f32 = 0.01;
/// Rows of the band-maximum table: bands up to `2^TABLE_ROWS - 1` bins (all of [`BINS`]).
const TABLE_ROWS: usize = 10;
/// Upward processing leaves bins below this level alone, dBFS.
pub const UP_FLOOR_DB: f32 = -90.0;

/// Which way the spectral dynamics act.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpectralMode {
    /// Compress what rises above the threshold curve.
    Down,
    /// Raise what lies below the threshold curve (upward compression).
    Up,
}

/// The spectral dynamics' controls.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SpectralSettings {
    /// In the signal path.
    pub enabled: bool,
    /// Direction.
    pub mode: SpectralMode,
    /// Threshold at 1 kHz, dBFS.
    pub threshold_db: f32,
    /// Threshold slope, dB per octave.
    pub tilt_db: f32,
    /// Ratio (>= 1).
    pub ratio: f32,
    /// Soft-knee width, dB.
    pub knee_db: f32,
    /// Largest gain change, dB (>= 0).
    pub range_db: f32,
    /// Attack time constant, ms.
    pub attack_ms: f32,
    /// Release time constant, ms.
    pub release_ms: f32,
    /// Smoothing across frequency, octaves (0 = per bin).
    pub resolution_oct: f32,
    /// What the analysis listens to: the processed signal or the sidechain.
    pub source: DetectorSource,
}

impl Default for SpectralSettings {
    fn default() -> Self {
        Self {
            enabled: false,
            mode: SpectralMode::Down,
            threshold_db: -30.0,
            tilt_db: 0.0,
            ratio: 3.0,
            knee_db: 6.0,
            range_db: 12.0,
            attack_ms: 20.0,
            release_ms: 150.0,
            resolution_oct: 1.0 / 6.0,
            source: DetectorSource::Internal,
        }
    }
}

/// Spectral dynamics for two channels.
pub struct SpectralDynamics {
    rate: f32,
    settings: SpectralSettings,
    /// Analyse even when disabled (an open editor shows the spectrum).
    analyzer: bool,
    simd: SimdLevel,
    /// Samples since reset (hops are aligned to it).
    time: u64,
    /// The side path: levels and the gain curve.
    analysis: Analysis,
    // Synthesis.
    /// Designs the filters.
    synthesis: MinPhase,
    /// The filter applied to the audio.
    fir: PartitionedFir,
}

impl SpectralDynamics {
    /// Spectral dynamics at `rate` Hz. Allocates and plans every FFT.
    pub fn new(rate: f32, settings: &SpectralSettings) -> Self {
        let mut s = Self {
            rate,
            settings: *settings,
            analyzer: false,
            simd: SimdLevel::detect(),
            time: 0,
            analysis: Analysis::new(rate),
            synthesis: MinPhase::new(),
            fir: PartitionedFir::new(SimdLevel::detect()),
        };
        s.reset();
        s
    }

    /// Runs the vectorised passes at `level` (capped at what the CPU supports).
    pub fn set_simd_level(&mut self, level: SimdLevel) {
        self.simd = level;
        self.fir.set_simd_level(level);
    }

    /// New settings (take effect at the next hop).
    pub fn set_settings(&mut self, settings: &SpectralSettings) {
        if settings.enabled && !self.settings.enabled {
            self.reset();
        }
        self.settings = *settings;
    }

    /// Clears all state; the filter becomes the identity.
    pub fn reset(&mut self) {
        self.time = 0;
        self.analysis.reset();
        self.fir.reset();
        self.synthesis.reset();
    }

    /// Runs the analysis while disabled too (for an open editor). Gains stay at 0 dB then.
    pub fn set_analyzer(&mut self, on: bool) {
        self.analyzer = on;
    }

    /// Number of analyses since construction (changes when [`Self::analysis`] does).
    pub fn analyses(&self) -> u64 {
        self.analysis.analyses
    }

    /// Per-bin input level (dBFS) and applied gain (dB) of the last hop, [`BINS`] each, for
    /// the editor.
    pub fn analysis(&self) -> (&[f32], &[f32]) {
        (&self.analysis.level_db, &self.analysis.gain_db)
    }

    /// Frequency of gain-grid bin `k`, Hz.
    pub fn bin_hz(&self, k: usize) -> f32 {
        (DEC * k) as f32 * self.rate / WINDOW as f32
    }

    /// The threshold curve at `f_hz`, dBFS.
    pub fn threshold_at(s: &SpectralSettings, f_hz: f32) -> f32 {
        s.threshold_db + s.tilt_db * (f_hz.max(10.0) / 1000.0).log2()
    }

    /// Processes two channels in place, any length. No allocation.
    ///
    /// # Panics
    /// If the channels differ in length.
    pub fn process(&mut self, channels: &mut [&mut [f32]; 2]) {
        self.process_keyed(channels, None);
    }

    /// [`Self::process`] with a sidechain `key` (two channels of the same length) that the
    /// analysis listens to when the source is External; without one it listens to the input.
    ///
    /// # Panics
    /// If the channels or the key differ in length.
    pub fn process_keyed(&mut self, channels: &mut [&mut [f32]; 2], key: Option<[&[f32]; 2]>) {
        let n = super::keyed_len(channels, key);
        let key = key.filter(|_| self.settings.source == DetectorSource::External);
        if !self.settings.enabled {
            if self.analyzer {
                self.analyse_only(channels);
            }
            return;
        }
        let mut i = 0;
        while i < n {
            // Analysis and synthesis at hop boundaries (a new filter waits for a fade to end).
            if self.fir.at_block_start()
                && self.time.is_multiple_of(HOP as u64)
                && !self.fir.fading()
            {
                self.analysis.analyse(self.simd, &self.settings);
                if let Some(taps) = self.synthesis.design(self.simd, &self.analysis.gain_db) {
                    self.fir.load(taps);
                }
            }
            let m = self.fir.segment(n - i);
            let [l, r] = channels;
            for (c, x) in [&l[i..i + m], &r[i..i + m]].into_iter().enumerate() {
                // The analysis hears the key, if it has one.
                let heard = key.map_or(x, |k| &k[c][i..i + m]);
                self.analysis.feed(c, heard);
            }
            self.fir
                .process_segment([&mut l[i..i + m], &mut r[i..i + m]]);
            self.analysis.advance(m);
            self.time += m as u64;
            i += m;
        }
    }

    /// Feeds the analysis ring and analyses every hop, without touching the audio.
    fn analyse_only(&mut self, channels: &mut [&mut [f32]; 2]) {
        let n = channels[0].len();
        let mut i = 0;
        while i < n {
            let m = (HOP - (self.time % HOP as u64) as usize).min(n - i);
            for (c, ch) in channels.iter().enumerate() {
                self.analysis.feed(c, &ch[i..i + m]);
            }
            self.analysis.advance(m);
            self.time += m as u64;
            if self.time.is_multiple_of(HOP as u64) {
                self.analysis.analyse(self.simd, &self.settings);
                self.analysis.gain_db.fill(0.0);
            }
            i += m;
        }
    }
}

#[cfg(test)]
mod tests;
