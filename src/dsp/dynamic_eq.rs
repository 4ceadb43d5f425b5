//! Dynamic EQ: [`BANDS`] parametric bands (bell, shelves, tilt shelf, notch, band-pass, cuts of
//! 12/24/48 dB/oct), each placed on the stereo pair, one channel, the mid or the side, and each
//! (when it has a gain) able to follow its own band-limited detector. Zero latency: every band
//! is one to four minimum-phase IIR sections, each matched to its analog prototype up to the
//! top of the audio band ([`super::matched`]), applied directly to the audio. A band that is off
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
//! Coefficients are recomputed every [`UPDATE`] samples only while the frequency or Q moves,
//! or the gain has moved by [`GAIN_STEP_DB`] (and once more when it comes to rest).
//!
//! Stereo placement: Left and Right bands run their sections on one channel and pass the other
//! bit-exactly; Mid and Side bands run in the mid/side domain (`m = (l + r) / 2`,
//! `s = (l - r) / 2`) on one of the two, and consecutive mid/side bands share one conversion.

use super::biquad::{Coeffs, PairCoeffs, StereoState};
use super::fast_math::power_db;
use super::gain_computer::compress_db;
use super::matched;
use super::simd::{Isa, Kernel, SimdLevel};
use super::smoother::Smoother;
use super::DetectorSource;

mod band;
pub use band::*;

/// Number of bands.
pub const BANDS: usize = 8;
/// Most biquad sections one band uses (a 48 dB/oct cut).
pub const MAX_SECTIONS: usize = 4;
/// Coefficient update interval while something moves, samples.
pub const UPDATE: usize = 16;
/// Smallest change of a band's gain (static plus dynamic) that redesigns its sections, dB: a
/// band whose gain moves by less keeps its coefficients (a hundredth of a dB is far below what
/// is heard, and a dynamic band's release spends most of its time moving by less than that per
/// update).
pub const GAIN_STEP_DB: f32 = 0.01;
/// Detector mean-square time constant, ms.
pub const DETECTOR_MS: f32 = 5.0;
/// Soft-knee width of the gain computers, dB.
pub const KNEE_DB: f32 = 6.0;

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
    /// What `dyn_db` moves towards (the gain computer's last output), dB.
    dyn_target: f32,
    /// The band's sections (the first `n` are in use) and their lane-masked form.
    sections: [Coeffs; MAX_SECTIONS],
    n: usize,
    pair: [PairCoeffs; MAX_SECTIONS],
    states: [StereoState; MAX_SECTIONS],
    /// The parameters the coefficients were last computed for `(freq, q, gain_db)`.
    computed: (f32, f32, f32),
    /// [`Coeffs::angle`] of `computed.0` (the detector's) and its radian frequency (the
    /// band's).
    angle: (f64, f64),
    w0: matched::Omega,
    /// One-pole coefficients of the attack and release per [`UPDATE`] samples.
    att_rel: (f32, f32),
}

impl Band {
    fn is_dynamic(&self) -> bool {
        self.settings.is_dynamic() && !self.settings.spectral
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

/// A lane pair converted between left/right and mid/side (`forward`: to mid/side).
#[inline(always)]
fn mid_side(v: [f64; 2], forward: bool) -> [f64; 2] {
    if forward {
        [0.5 * (v[0] + v[1]), 0.5 * (v[0] - v[1])]
    } else {
        [v[0] + v[1], v[0] - v[1]]
    }
}

/// Most sections in series: every band's.
const CASCADE: usize = BANDS * MAX_SECTIONS;

/// The enabled bands' sections of one sub-block in series, with the mid/side conversions
/// between them: run sample by sample through all of them, so the sections' recursions are
/// independent chains the processor overlaps (run section by section over the sub-block,
/// each section waits on its own recursion sample after sample). Each section does the same
/// operations in the same order either way, so the output is the same to the bit.
#[derive(Clone, Copy, Debug)]
struct Cascade {
    len: usize,
    coefs: [PairCoeffs; CASCADE],
    states: [StereoState; CASCADE],
    /// Before section `j`: `Some(true)` to mid/side, `Some(false)` back to left/right.
    convert: [Option<bool>; CASCADE],
    /// Back to left/right after the last section.
    back: bool,
}

impl Cascade {
    const EMPTY: Self = Self {
        len: 0,
        coefs: [PairCoeffs::IDENTITY; CASCADE],
        states: [StereoState::ZERO; CASCADE],
        convert: [None; CASCADE],
        back: false,
    };

    /// Runs `x` (pairs of lane samples) through the sections in place.
    #[inline(always)]
    fn run<I: Isa>(&mut self, x: &mut [[f64; 2]]) {
        // Up to eight sections (eight bells, the common case) with their count fixed at
        // compile time: the states stay in registers instead of making a round trip through
        // memory on every section's recursion.
        match self.len {
            1 => self.run_fixed::<I, 1>(x),
            2 => self.run_fixed::<I, 2>(x),
            3 => self.run_fixed::<I, 3>(x),
            4 => self.run_fixed::<I, 4>(x),
            5 => self.run_fixed::<I, 5>(x),
            6 => self.run_fixed::<I, 6>(x),
            7 => self.run_fixed::<I, 7>(x),
            8 => self.run_fixed::<I, 8>(x),
            _ => self.run_any::<I>(x),
        }
    }

    /// [`Self::run`] for exactly `N` sections.
    #[inline(always)]
    fn run_fixed<I: Isa, const N: usize>(&mut self, x: &mut [[f64; 2]]) {
        let coefs: [PairCoeffs; N] = std::array::from_fn(|j| self.coefs[j]);
        let convert: [Option<bool>; N] = std::array::from_fn(|j| self.convert[j]);
        let mut states: [StereoState; N] = std::array::from_fn(|j| self.states[j]);
        for v in x.iter_mut() {
            let mut s = *v;
            for j in 0..N {
                if let Some(forward) = convert[j] {
                    s = mid_side(s, forward);
                }
                s = coefs[j].tick_fused::<I>(&mut states[j], s);
            }
            if self.back {
                s = mid_side(s, false);
            }
            *v = s;
        }
        self.states[..N].copy_from_slice(&states);
    }

    /// [`Self::run`] for any number of sections.
    #[inline(always)]
    fn run_any<I: Isa>(&mut self, x: &mut [[f64; 2]]) {
        let n = self.len;
        let (coefs, states, convert) =
            (&self.coefs[..n], &mut self.states[..n], &self.convert[..n]);
        for v in x.iter_mut() {
            let mut s = *v;
            for ((c, st), conv) in coefs.iter().zip(states.iter_mut()).zip(convert) {
                if let Some(forward) = *conv {
                    s = mid_side(s, forward);
                }
                s = c.tick_fused::<I>(st, s);
            }
            if self.back {
                s = mid_side(s, false);
            }
            *v = s;
        }
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
    design: Design,
    /// The sections of the sub-block being processed.
    cascade: Cascade,
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
            dyn_target: 0.0,
            sections: [Coeffs::IDENTITY; MAX_SECTIONS],
            n: 1,
            pair: [PairCoeffs::IDENTITY; MAX_SECTIONS],
            states: [StereoState::default(); MAX_SECTIONS],
            computed: (f32::NAN, f32::NAN, f32::NAN),
            angle: (1.0, 0.0),
            w0: matched::Omega::new(1.0, rate as f64),
            att_rel: (1.0, 1.0),
        };
        let mut eq = Self {
            rate,
            bands: std::array::from_fn(|i| band(&settings[i])),
            detectors: Detectors::default(),
            countdown: 0,
            ms_coef: 1.0 - (-1.0 / (DETECTOR_MS as f64 * 1e-3 * rate as f64)).exp(),
            simd: SimdLevel::detect(),
            design: Design::Matched,
            cascade: Cascade::EMPTY,
        };
        eq.set_settings(settings);
        eq.reset();
        eq
    }

    /// Designs the bands' sections by `design` from the next update on (the bilinear designs
    /// of 0.1.0 are kept as the reference of the comparisons; the EQ uses the matched ones).
    pub fn set_design(&mut self, design: Design) {
        self.design = design;
        for b in &mut self.bands {
            b.computed = (f32::NAN, f32::NAN, f32::NAN);
        }
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
            b.dyn_target = 0.0;
            b.computed = (f32::NAN, f32::NAN, f32::NAN);
            Self::update(b, self.rate, self.design, true);
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

    fn update(b: &mut Band, rate: f32, design: Design, force: bool) {
        let (f, q, g) = (b.freq.current(), b.q.current(), b.gain.current());
        let total = g + b.dyn_db;
        let key = (f, q, total);
        // A gain at rest is designed exactly, however little it moved since the last design
        // (so a band that settles sounds as one that started there).
        let at_rest = b.dyn_db == b.dyn_target && !b.gain.is_smoothing();
        let moved = (key.2 - b.computed.2).abs();
        if !force
            && (key.0 - b.computed.0).abs() < 1e-3
            && (key.1 - b.computed.1).abs() < 1e-4
            && (moved < GAIN_STEP_DB && !(at_rest && moved > 0.0))
        {
            return;
        }
        // Frequency and Q glide only after automation; the dynamic gain moves all the time,
        // and then only the gain-dependent terms are recomputed.
        let (q64, g64) = (q as f64, total as f64);
        if force || key.0 != b.computed.0 || key.1 != b.computed.1 {
            b.angle = Coeffs::angle(f as f64, rate as f64);
            b.w0 = matched::omega(f as f64, rate as f64);
            b.detector = Coeffs::band_pass_at(b.angle, q64);
        }
        b.computed = key;
        let s = b.settings;
        let (sections, n) = sections_by(design, s.kind, s.slope, (&b.w0, b.angle), q64, g64);
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
                self.0.process_impl::<I>(self.1, self.2)
            }
        }
        self.simd.run(Process(self, channels, key))
    }

    #[inline(always)]
    fn process_impl<I: Isa>(&mut self, channels: &mut [&mut [f32]; 2], key: Option<[&[f32]; 2]>) {
        let n = channels[0].len();
        let (rate, design) = (self.rate, self.design);
        let mut pos = 0;
        let mut buf = [[0.0f64; 2]; UPDATE];
        while pos < n {
            if self.countdown == 0 {
                for b in self.bands.iter_mut().filter(|b| b.settings.enabled) {
                    Self::update(b, rate, design, false);
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
                        b.dyn_target = 0.0;
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
                    // The one-pole lands on its target (see `update`).
                    if (target - b.dyn_db).abs() < 1e-4 {
                        b.dyn_db = target;
                    }
                    b.dyn_target = target;
                    if !b.dyn_db.is_finite() {
                        b.dyn_db = 0.0;
                        b.dyn_target = 0.0;
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
            let c = &mut self.cascade;
            c.len = 0;
            let mut in_mid_side = false;
            for b in self.bands.iter().filter(|b| b.settings.enabled) {
                let ms = b.settings.placement.mid_side();
                for (j, (p, st)) in b.pair[..b.n].iter().zip(&b.states).enumerate() {
                    let k = c.len;
                    c.coefs[k] = *p;
                    c.states[k] = *st;
                    c.convert[k] = (j == 0 && ms != in_mid_side).then_some(ms);
                    c.len += 1;
                }
                in_mid_side = ms;
            }
            c.back = in_mid_side;
            c.run::<I>(x);
            let mut k = 0;
            for b in self.bands.iter_mut().filter(|b| b.settings.enabled) {
                for st in &mut b.states[..b.n] {
                    *st = c.states[k];
                    st.sanitize();
                    k += 1;
                }
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
mod tests;
