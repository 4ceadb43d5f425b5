//! A dynamic EQ band's description (shape, slope, stereo placement, dynamics) and its design:
//! the biquad sections a band's settings give (analog-matched, [`super::super::matched`]).

use super::super::biquad::Coeffs;
use super::super::matched::{self, Biquadratic, Omega};
use super::super::DetectorSource;
use super::MAX_SECTIONS;

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
    pub(super) fn detector_weights(self) -> [[f64; 2]; 2] {
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
    /// The dynamics act per frequency bin inside the band's shape (`dsp::spectral_bands`)
    /// instead of on the whole band.
    pub spectral: bool,
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
    /// The band is enabled, has a gain and its dynamics are on (whole-band or spectral).
    pub fn is_dynamic(&self) -> bool {
        self.enabled && self.dynamic != DynamicMode::Off && self.kind.has_gain()
    }

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
            spectral: false,
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
        let w0 = matched::omega(self.freq_hz as f64, rate);
        let (c, n) = sections(
            self.kind,
            self.slope,
            &w0,
            self.q as f64,
            self.gain_db as f64,
        );
        c[..n]
            .iter()
            .map(|s| 20.0 * s.magnitude(f_hz, rate).log10())
            .sum()
    }
}

impl BandSettings {
    /// The magnitude of the band's analog prototype at `f_hz`, dB: what the matched sections
    /// approximate (the reference of the tests and of the error table in the manual).
    pub fn analog_response_db(&self, f_hz: f64) -> f64 {
        let (q, g) = (self.q as f64, self.gain_db as f64);
        let x = (f_hz / self.freq_hz as f64).powi(2);
        let power = match self.kind {
            BandKind::Bell => Biquadratic::bell(q, g).power(x),
            BandKind::LowShelf => Biquadratic::low_shelf(q, g).power(x),
            BandKind::HighShelf => Biquadratic::high_shelf(q, g).power(x),
            BandKind::TiltShelf => Biquadratic::tilt(q, g).power(x),
            BandKind::Notch => matched::notch_power(q, x),
            BandKind::BandPass => matched::band_pass_power(q, x),
            BandKind::LowCut | BandKind::HighCut => {
                let n = self.slope.sections();
                (0..n)
                    .map(|k| {
                        let qk = section_q(k, n, q);
                        if self.kind == BandKind::LowCut {
                            matched::high_pass_power(qk, x)
                        } else {
                            matched::low_pass_power(qk, x)
                        }
                    })
                    .product()
            }
        };
        10.0 * power.max(1e-300).log10()
    }
}

/// The Q of section `k` of a cut of `n` sections whose user setting is `q`: Butterworth, the
/// most resonant (last) section scaled by `q / 0.707`.
fn section_q(k: usize, n: usize, q: f64) -> f64 {
    let qk = butterworth_q(k, n);
    if k == n - 1 {
        qk * q / std::f64::consts::FRAC_1_SQRT_2
    } else {
        qk
    }
}

/// The Q of section `k` of `n` in a Butterworth cut of order `2 n`:
/// `1 / (2 cos((2k + 1) pi / 4n))`.
fn butterworth_q(k: usize, n: usize) -> f64 {
    let theta = (2 * k + 1) as f64 * std::f64::consts::PI / (4 * n) as f64;
    1.0 / (2.0 * theta.cos())
}

/// How a band's sections are designed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Design {
    /// Matched to the analog prototype up to the top of the audio band ([`matched`]): the EQ's.
    #[default]
    Matched,
    /// The bilinear transform (RBJ cookbook), as before 0.2.0: the reference of the tests and
    /// the benchmark that compare the two.
    Bilinear,
}

/// The bilinear design of a shape at a precomputed [`Coeffs::angle`] (see [`Design`]).
fn bilinear(kind: BandKind, angle: (f64, f64), q: f64, gain_db: f64, cut_q: f64) -> Coeffs {
    match kind {
        BandKind::Bell => Coeffs::bell_at(angle, q, gain_db),
        BandKind::LowShelf => Coeffs::low_shelf_at(angle, q, gain_db),
        BandKind::HighShelf => Coeffs::high_shelf_at(angle, q, gain_db),
        BandKind::TiltShelf => Coeffs::tilt_shelf_at(angle, q, gain_db),
        BandKind::Notch => Coeffs::notch_at(angle, q),
        BandKind::BandPass => Coeffs::band_pass_at(angle, q),
        BandKind::LowCut => Coeffs::high_pass_at(angle, cut_q),
        BandKind::HighCut => Coeffs::low_pass_at(angle, cut_q),
    }
}

/// [`sections`] by the chosen [`Design`]; `angle` is [`Coeffs::angle`] of the same frequency
/// (what the bilinear designs take).
pub fn sections_by(
    design: Design,
    kind: BandKind,
    slope: Slope,
    (w0, angle): (&Omega, (f64, f64)),
    q: f64,
    gain_db: f64,
) -> ([Coeffs; MAX_SECTIONS], usize) {
    if design == Design::Matched {
        return sections(kind, slope, w0, q, gain_db);
    }
    let mut c = [Coeffs::IDENTITY; MAX_SECTIONS];
    let n = if kind.has_slope() {
        slope.sections()
    } else {
        1
    };
    for (k, s) in c[..n].iter_mut().enumerate() {
        *s = bilinear(kind, angle, q, gain_db, section_q(k, n, q));
    }
    (c, n)
}

/// The biquad sections of a band shape at `w0` ([`matched::omega`]), and how many there are:
/// each the analog prototype's section matched up to the top of the audio band. Cuts cascade
/// Butterworth sections; the user's `q` scales the most resonant one (so 0.707 gives a
/// Butterworth cut of any slope, -3 dB at the corner, and more gives a peak).
pub fn sections(
    kind: BandKind,
    slope: Slope,
    w0: &Omega,
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
        BandKind::Bell => one(Biquadratic::bell(q, gain_db).design(w0)),
        BandKind::LowShelf => one(Biquadratic::low_shelf(q, gain_db).design(w0)),
        BandKind::HighShelf => one(Biquadratic::high_shelf(q, gain_db).design(w0)),
        BandKind::TiltShelf => one(Biquadratic::tilt(q, gain_db).design(w0)),
        BandKind::Notch => one(matched::notch(w0, q)),
        BandKind::BandPass => one(matched::band_pass(w0, q)),
        BandKind::LowCut | BandKind::HighCut => {
            let n = slope.sections();
            for (k, s) in c[..n].iter_mut().enumerate() {
                let qk = section_q(k, n, q);
                *s = if kind == BandKind::LowCut {
                    matched::high_pass(w0, qk)
                } else {
                    matched::low_pass(w0, qk)
                };
            }
            (c, n)
        }
    }
}
