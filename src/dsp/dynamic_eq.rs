//! Dynamic EQ: [`BANDS`] parametric bands (bell, shelves, tilt shelf, notch, band-pass, cuts of
//! 12/24/48 dB/oct), each placed on the stereo pair, one channel, the mid or the side, and each
//! (when it has a gain) able to follow its own band-limited detector. Zero latency: every band
//! is one to four minimum-phase IIR sections applied directly to the audio. A band that is off
//! costs nothing.
//!
//! Per band and sample: the detector band-passes the EQ's input (RBJ band-pass at the band's
//! frequency and Q) on the signal the band processes (both channels, one channel, the mid or
//! the side), takes a 5 ms mean square per channel, links the channels by the larger and
//! reads it as a peak-equivalent level (mean square of a sine x2, so a sine at -6 dBFS reads
//! -6 dB), once per [`UPDATE`]-sample sub-block. The gain computer (threshold, ratio, 6 dB
//! soft knee; D. Giannoulis, M. Massberg, J. D. Reiss, "Digital Dynamic Range Compressor
//! Design", JAES 60(6), 2012) gives a gain change in dB, limited to the range, which is
//! smoothed with separate attack and release time constants (a one-pole on the gain in dB: a
//! step reaches 63 % after the set time). The band's gain is its static gain plus that change.
//! Coefficients are recomputed every [`UPDATE`] samples only while the gain, frequency or Q
//! moves.
//!
//! Stereo placement: Left and Right bands run their sections on one channel and pass the other
//! bit-exactly; Mid and Side bands run in the mid/side domain (`m = (l + r) / 2`,
//! `s = (l - r) / 2`) on one of the two, and consecutive mid/side bands share one conversion.

use super::biquad::{Coeffs, PairCoeffs, StereoState};
use super::fast_math::power_db;
use super::simd::{Isa, Kernel, SimdLevel};
use super::smoother::Smoother;
use super::DetectorSource;

/// Number of bands.
pub const BANDS: usize = 8;
/// Most biquad sections one band uses (a 48 dB/oct cut).
pub const MAX_SECTIONS: usize = 4;
/// Coefficient update interval while something moves, samples.
pub const UPDATE: usize = 16;
/// Detector mean-square time constant, ms.
pub const DETECTOR_MS: f32 = 5.0;
/// Soft-knee width of the gain computers, dB.
pub const KNEE_DB: f32 = 6.0;

/// The shape of a band (saved by position: append only).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BandKind {
    /// Peaking bell.
    Bell,
    /// Low shelf.
    LowShelf,
    /// High shelf.
    HighShelf,
    /// High-pass at the band's slope.
    LowCut,
    /// Low-pass at the band's slope.
    HighCut,
    /// Notch (zero gain at the frequency, width from Q).
    Notch,
    /// Band-pass (0 dB at the frequency, width from Q).
    BandPass,
    /// Tilt around the frequency: -gain/2 below, +gain/2 above.
    TiltShelf,
}

impl BandKind {
    /// Every kind, in saved order.
    pub const ALL: [BandKind; 8] = [
        BandKind::Bell,
        BandKind::LowShelf,
        BandKind::HighShelf,
        BandKind::LowCut,
        BandKind::HighCut,
        BandKind::Notch,
        BandKind::BandPass,
        BandKind::TiltShelf,
    ];

    /// The shape has a gain (so it can be dynamic).
    pub fn has_gain(self) -> bool {
        matches!(
            self,
            BandKind::Bell | BandKind::LowShelf | BandKind::HighShelf | BandKind::TiltShelf
        )
    }

    /// The shape follows the slope setting (the cuts).
    pub fn has_slope(self) -> bool {
        matches!(self, BandKind::LowCut | BandKind::HighCut)
    }
}

/// Steepness of the cuts (saved by position: append only).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Slope {
    /// 12 dB/octave, one section.
    Db12,
    /// 24 dB/octave, two sections.
    Db24,
    /// 48 dB/octave, four sections.
    Db48,
}

impl Slope {
    /// Biquad sections of a cut at this slope.
    pub fn sections(self) -> usize {
        match self {
            Slope::Db12 => 1,
            Slope::Db24 => 2,
            Slope::Db48 => 4,
        }
    }
}

/// Which part of the stereo signal a band processes (saved by position: append only).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Placement {
    /// Both channels, linked.
    Stereo,
    /// The left channel only.
    Left,
    /// The right channel only.
    Right,
    /// The mid `(l + r) / 2` only.
    Mid,
    /// The side `(l - r) / 2` only.
    Side,
}

impl Placement {
    /// The band runs in the mid/side domain.
    pub fn mid_side(self) -> bool {
        matches!(self, Placement::Mid | Placement::Side)
    }

    /// Which of the band's two lanes it filters (lanes are L/R, or M/S for mid/side bands).
    pub fn lanes(self) -> [bool; 2] {
        match self {
            Placement::Stereo => [true, true],
            Placement::Left | Placement::Mid => [true, false],
            Placement::Right | Placement::Side => [false, true],
        }
    }

    /// The detector's two lanes as weights of `(l, r)`: the signal the band processes.
    fn detector_weights(self) -> [[f64; 2]; 2] {
        match self {
            Placement::Stereo => [[1.0, 0.0], [0.0, 1.0]],
            Placement::Left => [[1.0, 0.0]; 2],
            Placement::Right => [[0.0, 1.0]; 2],
            Placement::Mid => [[0.5, 0.5]; 2],
            Placement::Side => [[0.5, -0.5]; 2],
        }
    }
}

/// What the band's dynamic part does when the detector exceeds the threshold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DynamicMode {
    /// Static band.
    Off,
    /// Cut the band (compression of the band), down to `-range`.
    Down,
    /// Boost the band (expansion of the band), up to `+range`.
    Up,
}

/// One band's controls.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BandSettings {
    /// The band is in the signal path.
    pub enabled: bool,
    /// Shape.
    pub kind: BandKind,
    /// Steepness (cuts only).
    pub slope: Slope,
    /// The part of the stereo signal the band processes and listens to.
    pub placement: Placement,
    /// What the detector listens to (the same part of the main or the sidechain signal).
    pub source: DetectorSource,
    /// Centre / corner frequency, Hz.
    pub freq_hz: f32,
    /// Static gain, dB (bells and shelves).
    pub gain_db: f32,
    /// Quality factor (bandwidth of bells, notches, band-passes and detectors, slope of
    /// shelves, resonance of cuts: 0.707 is Butterworth at every slope).
    pub q: f32,
    /// Dynamic behaviour (shapes with a gain only).
    pub dynamic: DynamicMode,
    /// Detector level above which the dynamic part acts, dBFS.
    pub threshold_db: f32,
    /// Compression ratio of the dynamic part (>= 1).
    pub ratio: f32,
    /// Attack time constant, ms.
    pub attack_ms: f32,
    /// Release time constant, ms.
    pub release_ms: f32,
    /// Largest dynamic gain change, dB (>= 0).
    pub range_db: f32,
}

impl BandSettings {
    /// The default of band `i` (disabled): low shelf, three bells, high shelf, low cut, a
    /// bell, high cut.
    pub fn default_for(i: usize) -> Self {
        let (kind, freq_hz) = match i {
            0 => (BandKind::LowShelf, 100.0),
            1 => (BandKind::Bell, 400.0),
            2 => (BandKind::Bell, 1500.0),
            3 => (BandKind::Bell, 5000.0),
            4 => (BandKind::HighShelf, 10_000.0),
            5 => (BandKind::LowCut, 30.0),
            6 => (BandKind::Bell, 2500.0),
            _ => (BandKind::HighCut, 18_000.0),
        };
        Self {
            enabled: false,
            kind,
            slope: Slope::Db12,
            placement: Placement::Stereo,
            source: DetectorSource::Internal,
            freq_hz,
            gain_db: 0.0,
            q: 0.707,
            dynamic: DynamicMode::Off,
            threshold_db: -24.0,
            ratio: 4.0,
            attack_ms: 10.0,
            release_ms: 150.0,
            range_db: 12.0,
        }
    }

    /// The band's static magnitude response at `f_hz` (at rest, no dynamic gain), dB: what the
    /// editor draws.
    pub fn response_db(&self, f_hz: f64, rate: f64) -> f64 {
        let angle = Coeffs::angle(self.freq_hz as f64, rate);
        let (c, n) = sections(
            self.kind,
            self.slope,
            angle,
            self.q as f64,
            self.gain_db as f64,
        );
        c[..n]
            .iter()
            .map(|s| 20.0 * s.magnitude(f_hz, rate).log10())
            .sum()
    }
}

/// The Q of section `k` of `n` in a Butterworth cut of order `2 n`:
/// `1 / (2 cos((2k + 1) pi / 4n))`.
fn butterworth_q(k: usize, n: usize) -> f64 {
    let theta = (2 * k + 1) as f64 * std::f64::consts::PI / (4 * n) as f64;
    1.0 / (2.0 * theta.cos())
}

/// The biquad sections of a band shape at a precomputed [`Coeffs::angle`], and how many there
/// are. Cuts cascade Butterworth sections; the user's `q` scales the most resonant one (so
/// 0.707 gives a Butterworth cut of any slope, -3 dB at the corner, and more gives a peak).
pub fn sections(
    kind: BandKind,
    slope: Slope,
    angle: (f64, f64),
    q: f64,
    gain_db: f64,
) -> ([Coeffs; MAX_SECTIONS], usize) {
    let mut c = [Coeffs::IDENTITY; MAX_SECTIONS];
    let one = |x: Coeffs| {
        let mut c = [Coeffs::IDENTITY; MAX_SECTIONS];
        c[0] = x;
        (c, 1)
    };
    match kind {
        BandKind::Bell => one(Coeffs::bell_at(angle, q, gain_db)),
        BandKind::LowShelf => one(Coeffs::low_shelf_at(angle, q, gain_db)),
        BandKind::HighShelf => one(Coeffs::high_shelf_at(angle, q, gain_db)),
        BandKind::TiltShelf => one(Coeffs::tilt_shelf_at(angle, q, gain_db)),
        BandKind::Notch => one(Coeffs::notch_at(angle, q)),
        BandKind::BandPass => one(Coeffs::band_pass_at(angle, q)),
        BandKind::LowCut | BandKind::HighCut => {
            let n = slope.sections();
            for (k, s) in c[..n].iter_mut().enumerate() {
                let mut qk = butterworth_q(k, n);
                if k == n - 1 {
                    qk *= q / std::f64::consts::FRAC_1_SQRT_2;
                }
                *s = if kind == BandKind::LowCut {
                    Coeffs::high_pass_at(angle, qk)
                } else {
                    Coeffs::low_pass_at(angle, qk)
                };
            }
            (c, n)
        }
    }
}

/// Static gain change of a downward gain computer with a soft knee, dB (<= 0).
/// `level_db` is the detector level, `ratio >= 1`; the quadratic knee of D. Giannoulis,
/// M. Massberg, J. D. Reiss, "Digital Dynamic Range Compressor Design - A Tutorial and
/// Analysis", JAES 60(6), 2012, eq. 4. Written without branches (the knee part is the square
/// of the clamped overshoot, the linear part the overshoot past the knee), so that a loop of
/// them vectorises; a knee narrower than 0.001 dB counts as 0.001 dB.
#[inline(always)]
pub fn compress_db(level_db: f32, threshold_db: f32, ratio: f32, knee_db: f32) -> f32 {
    let over = level_db - threshold_db;
    let slope = 1.0 - 1.0 / ratio.max(1.0);
    let knee = knee_db.max(1e-3);
    let in_knee = (over + 0.5 * knee).max(0.0).min(knee);
    -slope * (in_knee * in_knee / (2.0 * knee) + (over - 0.5 * knee).max(0.0))
}

#[derive(Clone, Debug)]
struct Band {
    settings: BandSettings,
    freq: Smoother,
    q: Smoother,
    gain: Smoother,
    /// Detector filter (its state lives in [`Detectors`]).
    detector: Coeffs,
    /// Smoothed dynamic gain change, dB.
    dyn_db: f32,
    /// The band's sections (the first `n` are in use) and their lane-masked form.
    sections: [Coeffs; MAX_SECTIONS],
    n: usize,
    pair: [PairCoeffs; MAX_SECTIONS],
    states: [StereoState; MAX_SECTIONS],
    /// The parameters the coefficients were last computed for `(freq, q, gain_db)`.
    computed: (f32, f32, f32),
    /// [`Coeffs::angle`] of `computed.0`.
    angle: (f64, f64),
    /// One-pole coefficients of the attack and release per [`UPDATE`] samples.
    att_rel: (f32, f32),
}

impl Band {
    fn is_dynamic(&self) -> bool {
        self.settings.enabled
            && self.settings.dynamic != DynamicMode::Off
            && self.settings.kind.has_gain()
    }
}

/// Lanes of the detectors: band `k`, lane `c` is lane `2 k + c`.
const LANES: usize = 2 * BANDS;

/// The detectors of all bands side by side, one lane per band and channel (structure of
/// arrays), so one sample of all sixteen band-pass filters and mean squares is a handful of
/// vector instructions and the recursions overlap instead of waiting on each other.
/// Band-pass sections have `b1 = 0` and `b2 = -b0`, so three coefficients per lane. Each
/// lane's input is a weighted sum of the two main and the two key channels (the part of the
/// signal its band processes, of the main input or of the sidechain).
#[derive(Clone, Copy, Debug, Default)]
struct Detectors {
    wl: [f64; LANES],
    wr: [f64; LANES],
    kl: [f64; LANES],
    kr: [f64; LANES],
    b0: [f64; LANES],
    a1: [f64; LANES],
    a2: [f64; LANES],
    s1: [f64; LANES],
    s2: [f64; LANES],
    /// Mean square of each lane's output.
    ms: [f64; LANES],
}

impl Detectors {
    /// Runs every lane over `m` samples of the two main and the two key channels.
    #[inline(always)]
    fn run(&mut self, ms_coef: f64, x: [&[f32]; 2], key: [&[f32]; 2]) {
        let mut d = *self;
        let samples = x[0].iter().zip(x[1]).zip(key[0].iter().zip(key[1]));
        for ((&l, &r), (&a, &b)) in samples {
            let (l, r, a, b) = (l as f64, r as f64, a as f64, b as f64);
            for j in 0..LANES {
                let x = d.wl[j] * l + d.wr[j] * r + d.kl[j] * a + d.kr[j] * b;
                let y = d.b0[j] * x + d.s1[j];
                d.s1[j] = d.s2[j] - d.a1[j] * y;
                d.s2[j] = -d.b0[j] * x - d.a2[j] * y;
                d.ms[j] += ms_coef * (y * y - d.ms[j]);
            }
        }
        *self = d;
    }

    /// Makes band `k`'s lanes use `c` (a band-pass) on the part `placement` of the main or
    /// the key signal, or stops them (`None`).
    fn set(&mut self, k: usize, c: Option<(&Coeffs, Placement, bool)>) {
        for (lane, j) in (2 * k..2 * k + 2).enumerate() {
            match c {
                Some((c, p, keyed)) => {
                    let w = p.detector_weights()[lane];
                    let (main, key) = if keyed { ([0.0; 2], w) } else { (w, [0.0; 2]) };
                    self.wl[j] = main[0];
                    self.wr[j] = main[1];
                    self.kl[j] = key[0];
                    self.kr[j] = key[1];
                    self.b0[j] = c.b[0];
                    self.a1[j] = c.a[0];
                    self.a2[j] = c.a[1];
                }
                None => {
                    self.wl[j] = 0.0;
                    self.wr[j] = 0.0;
                    self.kl[j] = 0.0;
                    self.kr[j] = 0.0;
                    self.b0[j] = 0.0;
                    self.a1[j] = 0.0;
                    self.a2[j] = 0.0;
                    self.s1[j] = 0.0;
                    self.s2[j] = 0.0;
                    self.ms[j] = 0.0;
                }
            }
        }
    }

    /// Flushes non-finite and sub-`f32`-range state (as [`StereoState::sanitize`]).
    fn sanitize(&mut self) {
        for v in self.s1.iter_mut().chain(&mut self.s2).chain(&mut self.ms) {
            if !v.is_finite() || v.abs() < 1e-30 {
                *v = 0.0;
            }
        }
    }
}

/// Converts lane pairs between left/right and mid/side in place.
#[inline(always)]
fn to_mid_side(x: &mut [[f64; 2]], forward: bool) {
    for v in x.iter_mut() {
        *v = if forward {
            [0.5 * (v[0] + v[1]), 0.5 * (v[0] - v[1])]
        } else {
            [v[0] + v[1], v[0] - v[1]]
        };
    }
}

/// The dynamic EQ for two channels.
pub struct DynamicEq {
    rate: f32,
    bands: [Band; BANDS],
    detectors: Detectors,
    /// Samples until the next coefficient check.
    countdown: usize,
    ms_coef: f64,
    simd: SimdLevel,
}

impl DynamicEq {
    /// An EQ at `rate` Hz. Does not allocate; calls may have any length.
    pub fn new(rate: f32, settings: &[BandSettings; BANDS]) -> Self {
        let band = |s: &BandSettings| Band {
            settings: *s,
            freq: Smoother::new(s.freq_hz, 20.0, rate),
            q: Smoother::new(s.q, 20.0, rate),
            gain: Smoother::new(s.gain_db, 20.0, rate),
            detector: Coeffs::IDENTITY,
            dyn_db: 0.0,
            sections: [Coeffs::IDENTITY; MAX_SECTIONS],
            n: 1,
            pair: [PairCoeffs::IDENTITY; MAX_SECTIONS],
            states: [StereoState::default(); MAX_SECTIONS],
            computed: (f32::NAN, f32::NAN, f32::NAN),
            angle: (1.0, 0.0),
            att_rel: (1.0, 1.0),
        };
        let mut eq = Self {
            rate,
            bands: std::array::from_fn(|i| band(&settings[i])),
            detectors: Detectors::default(),
            countdown: 0,
            ms_coef: 1.0 - (-1.0 / (DETECTOR_MS as f64 * 1e-3 * rate as f64)).exp(),
            simd: SimdLevel::detect(),
        };
        eq.set_settings(settings);
        eq.reset();
        eq
    }

    /// Runs the vectorised passes at `level` (capped at what the CPU supports).
    pub fn set_simd_level(&mut self, level: SimdLevel) {
        self.simd = level;
    }

    /// New targets; frequency, Q and gain glide over 20 ms. A change of shape, slope or
    /// placement takes effect at the next update; a band switched on starts from silence.
    pub fn set_settings(&mut self, settings: &[BandSettings; BANDS]) {
        let per_update = UPDATE as f32 / self.rate;
        let one_pole = |ms: f32| 1.0 - (-per_update / (ms * 1e-3)).exp();
        for (b, s) in self.bands.iter_mut().zip(settings) {
            let old = b.settings;
            if (old.kind, old.slope, old.placement) != (s.kind, s.slope, s.placement) {
                b.computed = (f32::NAN, f32::NAN, f32::NAN);
            }
            if s.enabled && !old.enabled {
                b.states = [StereoState::default(); MAX_SECTIONS];
            }
            b.settings = *s;
            b.att_rel = (
                one_pole(s.attack_ms.max(0.1)),
                one_pole(s.release_ms.max(1.0)),
            );
            b.freq.set_target(s.freq_hz.clamp(10.0, 0.45 * self.rate));
            b.q.set_target(s.q.clamp(0.1, 40.0));
            b.gain.set_target(s.gain_db.clamp(-48.0, 48.0));
        }
    }

    /// Clears all filter and detector state and ends every glide.
    pub fn reset(&mut self) {
        for b in &mut self.bands {
            for s in [&mut b.freq, &mut b.q, &mut b.gain] {
                let t = s.target();
                s.reset(t);
            }
            b.states = [StereoState::default(); MAX_SECTIONS];
            b.dyn_db = 0.0;
            b.computed = (f32::NAN, f32::NAN, f32::NAN);
            Self::update(b, self.rate, true);
        }
        self.detectors = Detectors::default();
        self.countdown = 0;
    }

    /// Current dynamic gain change of each band, dB (for the editor).
    pub fn dynamic_gain_db(&self) -> [f32; BANDS] {
        std::array::from_fn(|i| self.bands[i].dyn_db)
    }

    /// The magnitude response of the whole EQ at `f_hz` right now, dB (for the editor).
    pub fn response_db(&self, f_hz: f64) -> f64 {
        self.bands
            .iter()
            .filter(|b| b.settings.enabled)
            .flat_map(|b| &b.sections[..b.n])
            .map(|c| 20.0 * c.magnitude(f_hz, self.rate as f64).log10())
            .sum()
    }

    fn update(b: &mut Band, rate: f32, force: bool) {
        let (f, q, g) = (b.freq.current(), b.q.current(), b.gain.current());
        let total = g + b.dyn_db;
        let key = (f, q, total);
        if !force
            && (key.0 - b.computed.0).abs() < 1e-3
            && (key.1 - b.computed.1).abs() < 1e-4
            && (key.2 - b.computed.2).abs() < 1e-3
        {
            return;
        }
        // Frequency and Q glide only after automation; the dynamic gain moves all the time,
        // and then only the gain-dependent terms are recomputed.
        let (q64, g64) = (q as f64, total as f64);
        if force || key.0 != b.computed.0 || key.1 != b.computed.1 {
            b.angle = Coeffs::angle(f as f64, rate as f64);
            b.detector = Coeffs::band_pass_at(b.angle, q64);
        }
        b.computed = key;
        let s = b.settings;
        let (sections, n) = sections(s.kind, s.slope, b.angle, q64, g64);
        if n > b.n {
            // Sections joining the cascade start from silence.
            for st in &mut b.states[b.n..n] {
                *st = StereoState::default();
            }
        }
        b.sections = sections;
        b.n = n;
        let lanes = s.placement.lanes();
        for (p, c) in b.pair.iter_mut().zip(&sections) {
            *p = PairCoeffs::masked(c, lanes);
        }
    }

    /// Processes two channels in place, any length. No allocation.
    ///
    /// # Panics
    /// If the channels differ in length.
    pub fn process(&mut self, channels: &mut [&mut [f32]; 2]) {
        self.process_keyed(channels, None);
    }

    /// [`Self::process`] with a sidechain `key` (two channels of the same length) for the bands
    /// whose detectors listen to it; without one they listen to the main input.
    ///
    /// # Panics
    /// If the channels or the key differ in length.
    pub fn process_keyed(&mut self, channels: &mut [&mut [f32]; 2], key: Option<[&[f32]; 2]>) {
        super::keyed_len(channels, key);
        if self.bands.iter().all(|b| !b.settings.enabled) {
            return;
        }
        struct Process<'a, 'b>(
            &'a mut DynamicEq,
            &'a mut [&'b mut [f32]; 2],
            Option<[&'a [f32]; 2]>,
        );
        impl Kernel for Process<'_, '_> {
            type Output = ();
            #[inline(always)]
            fn run<I: Isa>(self) {
                self.0.process_impl(self.1, self.2)
            }
        }
        self.simd.run(Process(self, channels, key))
    }

    #[inline(always)]
    fn process_impl(&mut self, channels: &mut [&mut [f32]; 2], key: Option<[&[f32]; 2]>) {
        let n = channels[0].len();
        let rate = self.rate;
        let mut pos = 0;
        let mut buf = [[0.0f64; 2]; UPDATE];
        while pos < n {
            if self.countdown == 0 {
                for b in self.bands.iter_mut().filter(|b| b.settings.enabled) {
                    Self::update(b, rate, false);
                }
                self.countdown = UPDATE;
            }
            let m = self.countdown.min(n - pos);
            // The detectors read this sub-block before the bands change it.
            if self.bands.iter().any(Band::is_dynamic) {
                for (k, b) in self.bands.iter().enumerate() {
                    let running = self.detectors.b0[2 * k] != 0.0;
                    if b.is_dynamic() {
                        let keyed = key.is_some() && b.settings.source == DetectorSource::External;
                        self.detectors
                            .set(k, Some((&b.detector, b.settings.placement, keyed)));
                    } else if running {
                        self.detectors.set(k, None);
                    }
                }
                let [c0, c1] = &*channels;
                let x = [&c0[pos..pos + m], &c1[pos..pos + m]];
                let k = key.map_or(x, |[a, b]| [&a[pos..pos + m], &b[pos..pos + m]]);
                self.detectors.run(self.ms_coef, x, k);
            }
            for b in self.bands.iter_mut().filter(|b| b.settings.enabled) {
                b.freq.skip(m);
                b.q.skip(m);
                b.gain.skip(m);
            }
            // Gain computers and smoothing once per whole sub-block, on a fixed grid of
            // UPDATE samples (so host call sizes cannot change the result; the detector's 5 ms
            // mean square is smooth at this scale). The one-poles use the coefficient of
            // UPDATE samples, so the time constants are exact.
            if self.countdown == m {
                for (k, b) in self.bands.iter_mut().enumerate() {
                    if !b.is_dynamic() {
                        b.dyn_db = 0.0;
                        continue;
                    }
                    let s = b.settings;
                    let (att, rel) = b.att_rel;
                    // Stereo link: the louder lane.
                    let ms = self.detectors.ms[2 * k].max(self.detectors.ms[2 * k + 1]);
                    let level_db = power_db(2.0 * ms as f32);
                    let over = -compress_db(level_db, s.threshold_db, s.ratio, KNEE_DB);
                    let target = match s.dynamic {
                        DynamicMode::Down => -over.min(s.range_db.max(0.0)),
                        _ => over.min(s.range_db.max(0.0)),
                    };
                    let c = if target.abs() > b.dyn_db.abs() {
                        att
                    } else {
                        rel
                    };
                    b.dyn_db += c * (target - b.dyn_db);
                    if !b.dyn_db.is_finite() {
                        b.dyn_db = 0.0;
                    }
                }
            }
            // The enabled bands in series over the sub-block, in f64, each section over the
            // whole sub-block (mid/side conversions only where the domain changes).
            let [c0, c1] = channels;
            let (x0, x1) = (&mut c0[pos..pos + m], &mut c1[pos..pos + m]);
            let x = &mut buf[..m];
            for ((v, l), r) in x.iter_mut().zip(&*x0).zip(&*x1) {
                *v = [*l as f64, *r as f64];
            }
            let mut mid_side = false;
            for b in self.bands.iter_mut().filter(|b| b.settings.enabled) {
                let ms = b.settings.placement.mid_side();
                if ms != mid_side {
                    to_mid_side(x, ms);
                    mid_side = ms;
                }
                for (p, st) in b.pair[..b.n].iter().zip(&mut b.states) {
                    p.run(st, x);
                    st.sanitize();
                }
            }
            if mid_side {
                to_mid_side(x, false);
            }
            for ((v, l), r) in x.iter().zip(x0).zip(x1) {
                *l = v[0] as f32;
                *r = v[1] as f32;
            }
            self.detectors.sanitize();
            pos += m;
            self.countdown -= m;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dsp::test_util;
    use crate::dsp::DetectorSource;

    #[test]
    fn branch_free_gain_computer_equals_the_piecewise_curve() {
        // Giannoulis et al. 2012, eq. 4, as written there.
        let reference = |x: f32, t: f32, r: f32, w: f32| {
            let over = x - t;
            if 2.0 * over < -w {
                0.0
            } else if 2.0 * over.abs() <= w {
                (1.0 / r - 1.0) * (over + w / 2.0).powi(2) / (2.0 * w)
            } else {
                (1.0 / r - 1.0) * over
            }
        };
        for knee in [0.0f32, 1.0, 6.0, 24.0] {
            for ratio in [1.0f32, 1.5, 4.0, 100.0] {
                for i in 0..=400 {
                    let x = -80.0 + i as f32 * 0.2;
                    let want = if knee == 0.0 {
                        (1.0 / ratio - 1.0) * (x + 20.0).max(0.0)
                    } else {
                        reference(x, -20.0, ratio, knee)
                    };
                    let got = compress_db(x, -20.0, ratio, knee);
                    assert!((got - want).abs() < 1e-3, "{x} dB, {ratio}:1, knee {knee}");
                }
            }
        }
    }

    const RATE: f32 = 48_000.0;

    fn sine(f: f64, amp: f64, len: usize) -> Vec<f32> {
        test_util::sine(f, amp, len, 0, RATE)
    }

    fn run(eq: &mut DynamicEq, x: &[f32], calls: &[usize]) -> Vec<f32> {
        test_util::run_stereo(|ch| eq.process(ch), x, calls)
    }

    fn amp(y: &[f32], f: f64) -> f64 {
        test_util::amplitude(y, f, RATE)
    }

    fn bands(first: BandSettings) -> [BandSettings; BANDS] {
        let mut b: [BandSettings; BANDS] = std::array::from_fn(BandSettings::default_for);
        b[0] = first;
        b
    }

    #[test]
    fn static_bands_match_the_analytic_response_within_a_tenth_of_a_db() {
        let kinds = [
            (BandKind::Bell, 1000.0, 6.0, 1.5),
            (BandKind::Bell, 80.0, -9.0, 4.0),
            (BandKind::LowShelf, 200.0, 5.0, 0.707),
            (BandKind::HighShelf, 6000.0, -7.0, 0.9),
            (BandKind::LowCut, 150.0, 0.0, 0.707),
            (BandKind::HighCut, 9000.0, 0.0, 1.2),
            (BandKind::Notch, 1200.0, 0.0, 2.0),
            (BandKind::BandPass, 2000.0, 0.0, 0.8),
            (BandKind::TiltShelf, 1000.0, 8.0, 0.707),
        ];
        for (kind, f0, g, q) in kinds {
            let s = BandSettings {
                enabled: true,
                kind,
                freq_hz: f0,
                gain_db: g,
                q,
                ..BandSettings::default_for(0)
            };
            let mut eq = DynamicEq::new(RATE, &bands(s));
            let (f0, q, g) = (f0 as f64, q as f64, g as f64);
            let want = match kind {
                BandKind::Bell => Coeffs::bell(f0, q, g, 48e3),
                BandKind::LowShelf => Coeffs::low_shelf(f0, q, g, 48e3),
                BandKind::HighShelf => Coeffs::high_shelf(f0, q, g, 48e3),
                BandKind::LowCut => Coeffs::high_pass(f0, q, 48e3),
                BandKind::HighCut => Coeffs::low_pass(f0, q, 48e3),
                BandKind::Notch => Coeffs::notch(f0, q, 48e3),
                BandKind::BandPass => Coeffs::band_pass(f0, q, 48e3),
                BandKind::TiltShelf => Coeffs::tilt_shelf(f0, q, g, 48e3),
            };
            for f in [60.0, 150.0, 1000.0, 3000.0, 9000.0, 15_000.0] {
                // Whole periods after the filter has settled.
                let x = sine(f, 0.25, 48_000 + 4800);
                let y = run(&mut eq, &x, &[64, 17, 256]);
                let got = 20.0 * (amp(&y[48_000..], f) / 0.25).log10();
                let exp = 20.0 * want.magnitude(f, 48e3).log10();
                assert!(
                    (got - exp).abs() < 0.1,
                    "{kind:?} at {f} Hz: {got} vs {exp} dB"
                );
                assert!(
                    (s.response_db(f, 48e3) - exp).abs() < 1e-9,
                    "the editor's curve"
                );
                eq.reset();
            }
        }
        // The new shapes meet their definitions.
        let notch = Coeffs::notch(1200.0, 2.0, 48e3);
        assert!(notch.magnitude(1200.0, 48e3) < 1e-9);
        let tilt = |f| {
            20.0 * Coeffs::tilt_shelf(1000.0, 0.707, 8.0, 48e3)
                .magnitude(f, 48e3)
                .log10()
        };
        assert!((tilt(10.0) + 4.0).abs() < 0.05, "{}", tilt(10.0));
        assert!((tilt(20_000.0) - 4.0).abs() < 0.1, "{}", tilt(20_000.0));
        assert!(tilt(1000.0).abs() < 1e-9);
    }

    #[test]
    fn cuts_of_every_slope_are_butterworth_and_their_q_makes_a_peak() {
        // A digital Butterworth of order N by the bilinear transform (prewarped at the corner):
        // |H|^2 = 1 / (1 + (tan(w/2) / tan(wc/2))^(+-2N)).
        let fc = 1000.0;
        let t = |f: f64| (std::f64::consts::PI * f / 48e3).tan();
        for (slope, order) in [(Slope::Db12, 2), (Slope::Db24, 4), (Slope::Db48, 8)] {
            for kind in [BandKind::LowCut, BandKind::HighCut] {
                let s = BandSettings {
                    enabled: true,
                    kind,
                    slope,
                    freq_hz: fc as f32,
                    q: std::f32::consts::FRAC_1_SQRT_2,
                    ..BandSettings::default_for(0)
                };
                let mut eq = DynamicEq::new(RATE, &bands(s));
                for f in [250.0, 500.0, 1000.0, 2000.0, 4000.0] {
                    let r: f64 = if kind == BandKind::LowCut {
                        t(fc) / t(f)
                    } else {
                        t(f) / t(fc)
                    };
                    let exp = -10.0 * (1.0 + r.powi(2 * order)).log10();
                    let x = sine(f, 0.25, 48_000 + 4800);
                    let y = run(&mut eq, &x, &[64, 17, 256]);
                    let got = 20.0 * (amp(&y[48_000..], f) / 0.25).log10();
                    let tol = if exp > -60.0 { 0.1 } else { 1.0 };
                    assert!(
                        (got - exp).abs() < tol,
                        "{kind:?} {slope:?} at {f} Hz: {got} vs {exp} dB"
                    );
                    eq.reset();
                }
                // A higher Q raises the corner above -3 dB at every slope.
                let peaky = BandSettings { q: 3.0, ..s };
                assert!(peaky.response_db(fc, 48e3) > 3.0, "{slope:?}");
            }
        }
    }

    #[test]
    fn a_change_of_shape_or_slope_alone_takes_effect() {
        // Frequency, Q and gain stay; only the shape, then the slope, changes.
        let mut s = BandSettings {
            enabled: true,
            kind: BandKind::Bell,
            freq_hz: 1000.0,
            gain_db: 6.0,
            q: 2.0,
            ..BandSettings::default_for(0)
        };
        let mut eq = DynamicEq::new(RATE, &bands(s));
        let x = sine(1000.0, 0.25, 24_000);
        let level = |eq: &mut DynamicEq, f: f64| {
            let x = sine(f, 0.25, 24_000);
            let y = run(eq, &x, &[64]);
            20.0 * (amp(&y[12_000..], f) / 0.25).log10()
        };
        run(&mut eq, &x, &[64]);
        assert!((level(&mut eq, 1000.0) - 6.0).abs() < 0.1);
        s.kind = BandKind::Notch;
        eq.set_settings(&bands(s));
        assert!(level(&mut eq, 1000.0) < -40.0, "now a notch");
        s.kind = BandKind::LowCut;
        s.q = std::f32::consts::FRAC_1_SQRT_2;
        eq.set_settings(&bands(s));
        let twelve = level(&mut eq, 250.0);
        s.slope = Slope::Db48;
        eq.set_settings(&bands(s));
        let fortyeight = level(&mut eq, 250.0);
        assert!(fortyeight < twelve - 40.0, "{twelve} -> {fortyeight} dB");
    }

    #[test]
    fn a_sidechain_key_drives_external_bands_only() {
        // A quiet 1 kHz main signal and a loud 1 kHz key: the External band compresses the main
        // signal by the key's level (-10.5 dB), the Internal one does not, and without a key
        // the External band listens to the main signal.
        let len = 48_000;
        let (quiet, loud) = (10f64.powf(-40.0 / 20.0), 10f64.powf(-6.0 / 20.0));
        let x = sine(1000.0, quiet, len);
        let key = sine(1000.0, loud, len);
        let gain = |source: DetectorSource, keyed: bool, placement: Placement| {
            let mut b: [BandSettings; BANDS] = std::array::from_fn(BandSettings::default_for);
            b[2] = BandSettings {
                source,
                placement,
                ..compressing_bell(2)
            };
            let mut eq = DynamicEq::new(RATE, &b);
            let (mut l, mut r) = (x.clone(), x.clone());
            for (k, (a, c)) in l.chunks_mut(64).zip(r.chunks_mut(64)).enumerate() {
                let ks = &key[k * 64..k * 64 + a.len()];
                let silent = [0.0f32; 64];
                // The key on the left channel only: a Right band hears nothing of it.
                eq.process_keyed(&mut [a, c], keyed.then_some([ks, &silent[..ks.len()]]));
            }
            eq.dynamic_gain_db()[2]
        };
        let ext = gain(DetectorSource::External, true, Placement::Stereo);
        assert!((ext + 10.5).abs() < 1.0, "external: {ext} dB");
        assert!((gain(DetectorSource::External, true, Placement::Left) + 10.5).abs() < 1.0);
        assert_eq!(gain(DetectorSource::External, true, Placement::Right), 0.0);
        assert_eq!(gain(DetectorSource::Internal, true, Placement::Stereo), 0.0);
        assert_eq!(
            gain(DetectorSource::External, false, Placement::Stereo),
            0.0
        );
    }

    /// Two different noises, band-limited so that a bell has something to act on.
    fn stereo_noise(len: usize) -> [Vec<f32>; 2] {
        let mut rng = crate::dsp::rng::Rng::new(11);
        std::array::from_fn(|_| (0..len).map(|_| 0.3 * rng.bipolar() as f32).collect())
    }

    fn run_pair(eq: &mut DynamicEq, x: &[Vec<f32>; 2], calls: &[usize]) -> [Vec<f32>; 2] {
        let mut y = x.clone();
        let [l, r] = &mut y;
        let (mut pos, mut k) = (0, 0);
        while pos < l.len() {
            let n = calls[k % calls.len()].min(l.len() - pos);
            eq.process(&mut [&mut l[pos..pos + n], &mut r[pos..pos + n]]);
            pos += n;
            k += 1;
        }
        y
    }

    #[test]
    fn each_placement_leaves_the_rest_of_the_signal_untouched() {
        let x = stereo_noise(24_000);
        let mut worst = [0.0f64; 5];
        for (i, placement) in [
            Placement::Left,
            Placement::Right,
            Placement::Mid,
            Placement::Side,
            Placement::Stereo,
        ]
        .into_iter()
        .enumerate()
        {
            // A dynamic bell and a 48 dB cut on that placement, plus a Stereo band on both
            // sides of them in the chain does not run here (it would touch everything).
            let mut b: [BandSettings; BANDS] = std::array::from_fn(BandSettings::default_for);
            b[1] = BandSettings {
                placement,
                gain_db: 9.0,
                ..compressing_bell(1)
            };
            b[5] = BandSettings {
                enabled: true,
                kind: BandKind::LowCut,
                slope: Slope::Db48,
                freq_hz: 400.0,
                placement,
                ..BandSettings::default_for(5)
            };
            let mut eq = DynamicEq::new(RATE, &b);
            let y = run_pair(&mut eq, &x, &[64, 13, 500]);
            let changed = |a: &[f32], b: &[f32]| {
                a.iter()
                    .zip(b)
                    .map(|(p, q)| (p - q).abs() as f64)
                    .fold(0.0, f64::max)
            };
            let (side_in, side_out): (Vec<f32>, Vec<f32>) = (
                x[0].iter().zip(&x[1]).map(|(l, r)| l - r).collect(),
                y[0].iter().zip(&y[1]).map(|(l, r)| l - r).collect(),
            );
            let (mid_in, mid_out): (Vec<f32>, Vec<f32>) = (
                x[0].iter().zip(&x[1]).map(|(l, r)| l + r).collect(),
                y[0].iter().zip(&y[1]).map(|(l, r)| l + r).collect(),
            );
            match placement {
                Placement::Left => {
                    assert_eq!(y[1], x[1], "a Left band leaves the right channel bit-exact");
                    assert!(changed(&y[0], &x[0]) > 0.05);
                }
                Placement::Right => {
                    assert_eq!(y[0], x[0], "a Right band leaves the left channel bit-exact");
                    assert!(changed(&y[1], &x[1]) > 0.05);
                }
                Placement::Mid => {
                    worst[i] = changed(&side_out, &side_in);
                    assert!(worst[i] < 1e-6, "Mid band moved L-R by {}", worst[i]);
                    assert!(changed(&mid_out, &mid_in) > 0.05);
                }
                Placement::Side => {
                    worst[i] = changed(&mid_out, &mid_in);
                    assert!(worst[i] < 1e-6, "Side band moved L+R by {}", worst[i]);
                    assert!(changed(&side_out, &side_in) > 0.05);
                }
                Placement::Stereo => {
                    assert!(changed(&y[0], &x[0]) > 0.05 && changed(&y[1], &x[1]) > 0.05);
                }
            }
        }
    }

    #[test]
    fn a_band_listens_only_to_the_signal_it_processes() {
        // A loud 1 kHz tone on the side only (l = -r): a Mid band's detector hears nothing,
        // a Side band's the whole tone; a loud tone on the right: a Left band hears nothing.
        let len = 48_000;
        let tone = sine(1000.0, 0.5, len);
        let neg: Vec<f32> = tone.iter().map(|v| -v).collect();
        let silent = vec![0.0f32; len];
        for (placement, x, reacts) in [
            (Placement::Mid, [tone.clone(), neg.clone()], false),
            (Placement::Side, [tone.clone(), neg.clone()], true),
            (Placement::Left, [silent.clone(), tone.clone()], false),
            (Placement::Right, [silent.clone(), tone.clone()], true),
            (Placement::Stereo, [silent.clone(), tone.clone()], true),
        ] {
            let mut b: [BandSettings; BANDS] = std::array::from_fn(BandSettings::default_for);
            b[0] = BandSettings {
                placement,
                ..compressing_bell(0)
            };
            let mut eq = DynamicEq::new(RATE, &b);
            run_pair(&mut eq, &x, &[64]);
            let g = eq.dynamic_gain_db()[0];
            if reacts {
                assert!(g < -8.0, "{placement:?}: {g} dB");
            } else {
                assert_eq!(g, 0.0, "{placement:?} heard another signal");
            }
        }
    }

    /// Band `i` as a 1 kHz bell (Q 2) compressing above -20 dB at 4:1 (range 24 dB).
    fn compressing_bell(i: usize) -> BandSettings {
        BandSettings {
            enabled: true,
            kind: BandKind::Bell,
            freq_hz: 1000.0,
            q: 2.0,
            dynamic: DynamicMode::Down,
            threshold_db: -20.0,
            ratio: 4.0,
            attack_ms: 5.0,
            release_ms: 100.0,
            range_db: 24.0,
            ..BandSettings::default_for(i)
        }
    }

    #[test]
    fn dynamic_bell_follows_the_static_curve_selectively() {
        // 1 kHz at -6 dBFS, threshold -20, ratio 4: the band's gain settles at
        // -(14)(1 - 1/4) = -10.5 dB; a 100 Hz tone is left alone.
        let s = compressing_bell(0);
        let mut eq = DynamicEq::new(RATE, &bands(s));
        let a = 10f64.powf(-6.0 / 20.0);
        let low = 10f64.powf(-30.0 / 20.0);
        let len = 96_000;
        let x: Vec<f32> = sine(1000.0, a, len)
            .iter()
            .zip(sine(100.0, low, len))
            .map(|(p, q)| p + q)
            .collect();
        let y = run(&mut eq, &x, &[64]);
        let tail = &y[len - 48_000..];
        let g1k = 20.0 * (amp(tail, 1000.0) / a).log10();
        let g100 = 20.0 * (amp(tail, 100.0) / low).log10();
        assert!((g1k + 10.5).abs() < 1.0, "1 kHz gain {g1k} dB");
        assert!(g100.abs() < 0.5, "100 Hz gain {g100} dB");
        // Upward: the band boosts by the same amount, limited by the range.
        let up = BandSettings {
            dynamic: DynamicMode::Up,
            range_db: 6.0,
            ..s
        };
        let mut eq = DynamicEq::new(RATE, &bands(up));
        let y = run(&mut eq, &x, &[64]);
        let g = 20.0 * (amp(&y[len - 48_000..], 1000.0) / a).log10();
        assert!((g - 6.0).abs() < 0.5, "upward, limited to +6 dB: {g}");
    }

    #[test]
    fn either_channel_drives_the_linked_gain_of_any_band() {
        // A loud 1 kHz tone in one channel only, a quiet probe in the other: each band's
        // detector hears the loud side, and both sides get the same -10.5 dB.
        let (loud, quiet) = (10f64.powf(-6.0 / 20.0), 10f64.powf(-40.0 / 20.0));
        let len = 96_000;
        for band in 0..BANDS {
            for loud_side in 0..2 {
                let mut b: [BandSettings; BANDS] = std::array::from_fn(BandSettings::default_for);
                b[band] = compressing_bell(band);
                let mut eq = DynamicEq::new(RATE, &b);
                let mut x = [sine(1000.0, quiet, len), sine(1000.0, quiet, len)];
                x[loud_side] = sine(1000.0, loud, len);
                let [x0, x1] = &mut x;
                for (l, r) in x0.chunks_mut(64).zip(x1.chunks_mut(64)) {
                    eq.process(&mut [l, r]);
                }
                for c in 0..2 {
                    let a = if c == loud_side { loud } else { quiet };
                    let g = 20.0 * (amp(&x[c][len - 48_000..], 1000.0) / a).log10();
                    assert!(
                        (g + 10.5).abs() < 1.0,
                        "band {band}, loud side {loud_side}, channel {c}: {g} dB"
                    );
                }
            }
        }
    }

    #[test]
    fn attack_and_release_times_match_the_settings() {
        let s = BandSettings {
            enabled: true,
            kind: BandKind::Bell,
            freq_hz: 1000.0,
            q: 1.0,
            dynamic: DynamicMode::Down,
            threshold_db: -30.0,
            ratio: 10.0,
            attack_ms: 50.0,
            release_ms: 200.0,
            range_db: 12.0,
            ..BandSettings::default_for(0)
        };
        let mut eq = DynamicEq::new(RATE, &bands(s));
        // Quiet, then loud for 1 s, then quiet: trace the band's gain change.
        let mut trace = Vec::new();
        for (amp, secs) in [(0.001, 0.5), (0.5, 1.0), (0.001, 1.5)] {
            let x = sine(1000.0, amp, (secs * RATE as f64) as usize);
            for chunk in x.chunks(16) {
                let (mut l, mut r) = (chunk.to_vec(), chunk.to_vec());
                eq.process(&mut [&mut l, &mut r]);
                trace.push(eq.dynamic_gain_db()[0]);
            }
        }
        let per = 16.0 / RATE * 1e3; // ms per trace step
        let on = (0.5 * RATE / 16.0) as usize;
        let off = (1.5 * RATE / 16.0) as usize;
        let full = trace[off - 1];
        assert!((full + 12.0).abs() < 0.2, "settles at the range: {full}");
        let t63 = |from: usize, target: f32, start: f32| {
            let lim = start + 0.632 * (target - start);
            (from..trace.len())
                .find(|&i| (trace[i] - start).abs() >= (lim - start).abs())
                .unwrap()
                - from
        };
        let attack = t63(on, full, 0.0) as f32 * per;
        let release = t63(off, 0.0, full) as f32 * per;
        assert!((attack / 50.0 - 1.0).abs() < 0.2, "attack {attack} ms");
        assert!((release / 200.0 - 1.0).abs() < 0.2, "release {release} ms");
    }

    #[test]
    fn automation_and_dynamic_gain_changes_do_not_click() {
        // A 1 kHz sine; every 1024 samples the band's gain (+-12 dB), frequency and Q jump
        // (stepped host automation), and the dynamic part works hard. The output stays a
        // slowly modulated sine: no step larger than a sine of the output's peak can make
        // (2 pi f / fs * peak), plus 10 %. Without the bands' 20 ms glides this fails.
        let f = 1000.0;
        let x = sine(f, 0.3, 96_000);
        let mut s = BandSettings {
            enabled: true,
            dynamic: DynamicMode::Down,
            threshold_db: -30.0,
            attack_ms: 1.0,
            release_ms: 20.0,
            ..BandSettings::default_for(2)
        };
        let mut eq = DynamicEq::new(RATE, &bands(s));
        let (mut l, mut r) = (x.clone(), x.clone());
        for (k, (a, b)) in l.chunks_mut(64).zip(r.chunks_mut(64)).enumerate() {
            let up = (k / 16) % 2 == 0;
            s.gain_db = if up { 12.0 } else { -12.0 };
            s.freq_hz = if up { 700.0 } else { 1400.0 };
            s.q = if up { 0.7 } else { 3.0 };
            eq.set_settings(&bands(s));
            eq.process(&mut [a, b]);
        }
        let peak = l.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        let jump = l
            .windows(2)
            .map(|w| (w[1] - w[0]).abs())
            .fold(0.0, f32::max);
        let bound = 1.1 * std::f32::consts::TAU * f as f32 / RATE * peak;
        assert!(jump <= bound, "jump {jump} vs {bound}");
    }

    #[test]
    fn output_does_not_depend_on_call_sizes() {
        let s = BandSettings {
            enabled: true,
            dynamic: DynamicMode::Down,
            threshold_db: -30.0,
            gain_db: 4.0,
            ..BandSettings::default_for(2)
        };
        let mut b = bands(s);
        b[4].enabled = true;
        b[4].dynamic = DynamicMode::Up;
        b[4].threshold_db = -40.0;
        b[5].enabled = true;
        b[5].slope = Slope::Db48;
        b[5].placement = Placement::Side;
        b[6].enabled = true;
        b[6].placement = Placement::Mid;
        b[6].dynamic = DynamicMode::Down;
        b[6].threshold_db = -40.0;
        let x: Vec<f32> = sine(1500.0, 0.4, 20_000)
            .iter()
            .zip(sine(9000.0, 0.2, 20_000))
            .enumerate()
            .map(|(n, (p, q))| (p + q) * if (n / 3000) % 2 == 0 { 1.0 } else { 0.05 })
            .collect();
        let mut eq = DynamicEq::new(RATE, &b);
        let a = run(&mut eq, &x, &[256]);
        let mut eq = DynamicEq::new(RATE, &b);
        let c = run(&mut eq, &x, &[1, 7, 250, 16, 33]);
        assert_eq!(a, c);
    }

    #[test]
    fn bad_input_does_not_poison_the_state() {
        let s = BandSettings {
            enabled: true,
            dynamic: DynamicMode::Down,
            ..BandSettings::default_for(2)
        };
        let mut eq = DynamicEq::new(RATE, &bands(s));
        let mut x = sine(1000.0, 0.5, 256);
        x[10] = f32::NAN;
        x[11] = f32::INFINITY;
        run(&mut eq, &x, &[256]);
        let y = run(&mut eq, &sine(1000.0, 0.5, 4800), &[256]);
        // NaN entered the filter state; the state was flushed at the block end.
        assert!(y[256..].iter().all(|v| v.is_finite()));
    }
}
