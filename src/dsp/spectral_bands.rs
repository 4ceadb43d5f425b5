//! Spectral dynamics per EQ band at zero latency: inside a band's shape, every frequency bin
//! is compressed (or expanded) on its own level, instead of one gain for the whole band.
//!
//! The spectral stage's parts ([`super::spectral`]) do the work: the STFT only *measures*
//! (a [`super::spectral::WINDOW`]-point packed stereo analysis every [`HOP`] samples, channels linked by the
//! larger level); the gains are applied by one minimum-phase FIR ([`MinPhase`], real
//! cepstrum) through the zero-latency [`PartitionedFir`], so nothing is delayed and a new
//! filter is exact from its first sample.
//!
//! Per band `b` and bin `k`, every hop:
//! - the **shape weight** `w_b[k]`: the band's analog prototype at a reference gain of
//!   [`REF_DB`], divided by it (1 at a bell's centre, 1 over a shelf's shelf, 0.5 at its
//!   corner, +-0.5 on the two sides of a tilt), and exactly 0 where it is below
//!   [`MIN_WEIGHT`], so what lies outside the band is never touched;
//! - the **target** `w_b[k] * G(level[k])`, `G` the band's own gain computer (threshold,
//!   ratio, the dynamic EQ's knee, at most the range; cut when loud or boost when loud, as the
//!   band's mode says), on the level of what the band listens to (the input, or the
//!   sidechain for a band set to External);
//! - smoothed in time by the band's attack and release (one-poles at the hop rate).
//!
//! The bands' gains add in dB into one curve and one filter. With every gain at 0 dB the
//! filter is the identity, so material below the thresholds (or outside every band) passes
//! unchanged. The stage runs only while a band is spectral or its gains are still letting
//! go; it then ends on the identity filter and stops (no cost when no band is spectral).
//!
//! A spectral band acts on both channels (one filter, linked detection): its placement is
//! the whole-band dynamics' (see [`super::dynamic_eq`]).

use super::dynamic_eq::{BandSettings, DynamicMode, BANDS, KNEE_DB};
use super::gain_computer::compress_db;
use super::simd::SimdLevel;
use super::spectral::{Analysis, MinPhase, PartitionedFir, BINS, FIR_LEN, HOP, SYN_N};
use super::DetectorSource;

/// The reference gain at which a band's shape is measured, dB.
pub const REF_DB: f64 = 12.0;
/// Where a band's region ends: shape weights `v` become `(v - MIN_WEIGHT) / (1 - MIN_WEIGHT)`
/// (continuous, 1 stays 1) and 0 below it, so the region of a 12 dB bell ends where it
/// rises less than 0.6 dB.
pub const MIN_WEIGHT: f32 = 0.05;
/// A band that is no longer spectral lets go until its largest gain is below this, dB.
const SILENT_DB: f32 = 0.01;
/// A bin outside a band's shape that has let go below this is exactly 0 again, dB.
const GONE_DB: f32 = 1e-3;

/// A component's gain spreads this many grid bins to each side (a Hann main lobe's half
/// width): each bin's level is the loudest within the span, and the gains are then averaged
/// over it, so a cut tone is cut by its full amount between bins too and the curve has no
/// cliff.
const SPAN: usize = 2;

/// What a band's shape weights were computed for: kind, frequency, Q, slope.
type ShapeKey = (u8, f32, f32, u8);

/// The spectral dynamics of the EQ bands whose dynamics are spectral.
pub struct SpectralBands {
    rate: f32,
    simd: SimdLevel,
    bands: [BandSettings; BANDS],
    /// The stage processes audio (some band is spectral, or gains are letting go).
    running: bool,
    /// The identity filter was loaded to end; the stage stops once its fade is over.
    ending: bool,
    /// Samples since the stage started (hops are aligned to it).
    time: u64,
    /// The input's and the sidechain's levels.
    main: Analysis,
    key: Analysis,
    /// The levels of the input and the key, each bin the loudest within [`SPAN`] bins, and
    /// one band's targets before the average.
    spread: [Vec<f32>; 2],
    target: Vec<f32>,
    /// Shape weights `[band * BINS + bin]` and what they were computed for.
    weights: Vec<f32>,
    shaped_for: [Option<ShapeKey>; BANDS],
    /// The bins where each band's weights are not 0, and where its gains may not be 0
    /// (inclusive ranges; outside them the gains are exactly 0).
    shape_span: [(usize, usize); BANDS],
    span: [(usize, usize); BANDS],
    /// Smoothed gains `[band * BINS + bin]`, dB, and which bands have any.
    gains: Vec<f32>,
    live: [bool; BANDS],
    /// Each band's largest gain change of the last hop, dB (for the meters).
    extreme: [f32; BANDS],
    /// The sum of the bands' gains, dB.
    total: Vec<f32>,
    identity: Vec<f32>,
    synthesis: MinPhase,
    fir: PartitionedFir,
}

impl SpectralBands {
    /// The stage at `rate` Hz for `bands`. Allocates and plans every FFT.
    pub fn new(rate: f32, bands: &[BandSettings; BANDS]) -> Self {
        let mut identity = vec![0.0; FIR_LEN];
        identity[0] = 1.0;
        Self {
            rate,
            simd: SimdLevel::detect(),
            bands: *bands,
            running: false,
            ending: false,
            time: 0,
            main: Analysis::new(rate),
            key: Analysis::new(rate),
            spread: [vec![-200.0; BINS], vec![-200.0; BINS]],
            target: vec![0.0; BINS],
            weights: vec![0.0; BANDS * BINS],
            shaped_for: [None; BANDS],
            shape_span: [EMPTY; BANDS],
            span: [EMPTY; BANDS],
            gains: vec![0.0; BANDS * BINS],
            live: [false; BANDS],
            extreme: [0.0; BANDS],
            total: vec![0.0; BINS],
            identity,
            synthesis: MinPhase::new(),
            fir: PartitionedFir::new(SimdLevel::detect()),
        }
    }

    /// Runs the vectorised passes at `level` (capped at what the CPU supports).
    pub fn set_simd_level(&mut self, level: SimdLevel) {
        self.simd = level;
        self.fir.set_simd_level(level);
    }

    /// New band settings (take effect at the next hop).
    pub fn set_settings(&mut self, bands: &[BandSettings; BANDS]) {
        self.bands = *bands;
    }

    /// Band `b` is spectral now.
    fn active(&self, b: usize) -> bool {
        let s = &self.bands[b];
        s.spectral && s.is_dynamic()
    }

    /// Clears all state; the filter becomes the identity and the stage stops.
    pub fn reset(&mut self) {
        self.running = false;
        self.ending = false;
        self.time = 0;
        self.main.reset();
        self.key.reset();
        self.gains.fill(0.0);
        self.total.fill(0.0);
        self.span = [EMPTY; BANDS];
        self.live = [false; BANDS];
        self.extreme = [0.0; BANDS];
        self.synthesis.reset();
        self.fir.reset();
    }

    /// The stage is processing audio (a band is spectral or still letting go).
    pub fn running(&self) -> bool {
        self.running
    }

    /// Each band's largest gain change in the last hop, dB (0 for a band that is not
    /// spectral): its meter.
    pub fn band_gain_db(&self) -> [f32; BANDS] {
        self.extreme
    }

    /// The gain curve applied now, dB, on the analysis grid ([`Self::bin_hz`]).
    pub fn gain_curve(&self) -> &[f32] {
        &self.total
    }

    /// Frequency of grid bin `k`, Hz.
    pub fn bin_hz(&self, k: usize) -> f32 {
        k as f32 * self.rate / SYN_N as f32
    }

    /// Processes two channels in place with a sidechain `key` (heard by the bands set to
    /// External; without one they hear the input), any length. No allocation.
    ///
    /// # Panics
    /// If the channels or the key differ in length.
    pub fn process_keyed(&mut self, channels: &mut [&mut [f32]; 2], key: Option<[&[f32]; 2]>) {
        let n = super::keyed_len(channels, key);
        if !self.running {
            if !(0..BANDS).any(|b| self.active(b)) {
                return;
            }
            self.reset();
            self.running = true;
        }
        let mut i = 0;
        while i < n {
            if self.fir.at_block_start()
                && self.time.is_multiple_of(HOP as u64)
                && !self.fir.fading()
            {
                if self.ending {
                    // The identity is playing: the output is the input from here on.
                    self.running = false;
                    self.ending = false;
                    return;
                }
                self.update(key.is_some());
            }
            let m = self.fir.segment(n - i);
            let [l, r] = channels;
            for (c, x) in [&l[i..i + m], &r[i..i + m]].into_iter().enumerate() {
                self.main.feed(c, x);
                if let Some(k) = key {
                    self.key.feed(c, &k[c][i..i + m]);
                }
            }
            self.fir
                .process_segment([&mut l[i..i + m], &mut r[i..i + m]]);
            self.main.advance(m);
            self.key.advance(m);
            self.time += m as u64;
            i += m;
        }
    }

    /// One hop: levels, every band's gains, their sum, and a new filter if it moved.
    fn update(&mut self, keyed: bool) {
        let active: [bool; BANDS] = std::array::from_fn(|b| self.active(b));
        self.main.measure(self.simd);
        let key_heard = keyed
            && (0..BANDS).any(|b| active[b] && self.bands[b].source == DetectorSource::External);
        spread(self.main.levels(), &mut self.spread[0]);
        if key_heard {
            self.key.measure(self.simd);
            spread(self.key.levels(), &mut self.spread[1]);
        }
        for (b, &active) in active.iter().enumerate() {
            self.update_band(b, active, key_heard);
        }
        self.total.fill(0.0);
        for b in (0..BANDS).filter(|&b| self.live[b]) {
            let (lo, hi) = self.span[b];
            for (t, g) in self.total[lo..=hi]
                .iter_mut()
                .zip(&self.gains[b * BINS + lo..=b * BINS + hi])
            {
                *t += g;
            }
        }
        for t in &mut self.total {
            *t = t.clamp(-48.0, 48.0);
        }
        if !self.live.iter().any(|&l| l) {
            // Nothing left: end on the exact identity, then stop.
            self.synthesis.reset();
            self.fir.load(&self.identity);
            self.ending = true;
            return;
        }
        if let Some(taps) = self.synthesis.design(self.simd, &self.total) {
            self.fir.load(taps);
        }
    }

    /// Band `b`'s gains for one hop, over the bins where its shape is or its gains still
    /// are (everything else stays exactly 0).
    fn update_band(&mut self, b: usize, active: bool, key_heard: bool) {
        if active {
            self.shape(b);
        }
        let shape = if active { self.shape_span[b] } else { EMPTY };
        let (lo, hi) = union(shape, self.span[b]);
        if lo > hi {
            self.live[b] = false;
            self.extreme[b] = 0.0;
            return;
        }
        let s = self.bands[b];
        let hop_s = HOP as f32 / self.rate;
        let coef = |ms: f32| 1.0 - (-hop_s / (ms.max(0.1) * 1e-3)).exp();
        let (att, rel) = (coef(s.attack_ms), coef(s.release_ms.max(1.0)));
        let gains = &mut self.gains[b * BINS..(b + 1) * BINS];
        if active {
            let w = &self.weights[b * BINS..(b + 1) * BINS];
            let heard = usize::from(key_heard && s.source == DetectorSource::External);
            let range = s.range_db.max(0.0);
            let sign = if s.dynamic == DynamicMode::Down {
                1.0
            } else {
                -1.0
            };
            let (tlo, thi) = (lo.saturating_sub(SPAN), (hi + SPAN).min(BINS - 1));
            for (t, &level) in self.target[tlo..=thi]
                .iter_mut()
                .zip(&self.spread[heard][tlo..=thi])
            {
                *t = sign * compress_db(level, s.threshold_db, s.ratio, KNEE_DB).max(-range);
            }
            // The targets averaged over the same span, then weighted by the shape (so nothing
            // outside the band moves).
            for k in lo..=hi {
                let (a, z) = (k.saturating_sub(SPAN), (k + SPAN).min(BINS - 1));
                let mean = self.target[a..=z].iter().sum::<f32>() / (z + 1 - a) as f32;
                let t = w[k] * mean;
                let g = &mut gains[k];
                let c = if t.abs() > g.abs() { att } else { rel };
                let v = *g + c * (t - *g);
                *g = if v.is_finite() { v } else { 0.0 };
            }
        } else {
            for g in &mut gains[lo..=hi] {
                *g -= rel * *g;
            }
        }
        // Where the gains still are (the rest set to exactly 0), and the largest.
        let mut span = shape;
        let mut extreme = 0.0f32;
        for (k, g) in gains.iter_mut().enumerate().take(hi + 1).skip(lo) {
            if g.abs() > GONE_DB {
                span = union(span, (k, k));
            } else if !(shape.0..=shape.1).contains(&k) {
                *g = 0.0;
            }
            if g.abs() > extreme.abs() {
                extreme = *g;
            }
        }
        self.live[b] = active || extreme.abs() > SILENT_DB;
        if !self.live[b] {
            gains[lo..=hi].fill(0.0);
            span = EMPTY;
        }
        self.span[b] = span;
        self.extreme[b] = if self.live[b] { extreme } else { 0.0 };
    }

    /// Computes band `b`'s shape weights if its shape changed since they were last computed.
    fn shape(&mut self, b: usize) {
        let s = self.bands[b];
        let key = (s.kind as u8, s.freq_hz, s.q, s.slope as u8);
        if self.shaped_for[b] == Some(key) {
            return;
        }
        self.shaped_for[b] = Some(key);
        let reference = BandSettings {
            gain_db: REF_DB as f32,
            ..s
        };
        for (k, w) in self.weights[b * BINS..(b + 1) * BINS]
            .iter_mut()
            .enumerate()
        {
            let f = (k as f64 * self.rate as f64 / SYN_N as f64).max(1.0);
            let v = (reference.analog_response_db(f) / REF_DB) as f32;
            *w = v.signum() * ((v.abs() - MIN_WEIGHT) / (1.0 - MIN_WEIGHT)).max(0.0);
        }
        let w = &self.weights[b * BINS..(b + 1) * BINS];
        self.shape_span[b] = match (
            w.iter().position(|&v| v != 0.0),
            w.iter().rposition(|&v| v != 0.0),
        ) {
            (Some(lo), Some(hi)) => (lo, hi),
            _ => EMPTY,
        };
    }
}

/// An empty range of bins.
const EMPTY: (usize, usize) = (1, 0);

/// The smallest range of bins holding both (inclusive; [`EMPTY`] when both are).
fn union(a: (usize, usize), b: (usize, usize)) -> (usize, usize) {
    match (a.0 <= a.1, b.0 <= b.1) {
        (true, true) => (a.0.min(b.0), a.1.max(b.1)),
        (true, false) => a,
        (false, _) => b,
    }
}

/// `out[k]`: the largest of `levels` within [`SPAN`] bins of `k`.
fn spread(levels: &[f32], out: &mut [f32]) {
    for (k, o) in out.iter_mut().enumerate() {
        let (lo, hi) = (k.saturating_sub(SPAN), (k + SPAN).min(levels.len() - 1));
        *o = levels[lo..=hi].iter().copied().fold(f32::MIN, f32::max);
    }
}

#[cfg(test)]
mod tests;
