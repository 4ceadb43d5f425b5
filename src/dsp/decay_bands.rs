//! Frequency-dependent decay of an impulse response (a "decay rate EQ"): the IR's tail decays
//! in a multiple of its own time per region, low, mid and high, split at two crossovers. The
//! reshaping starts at a given sample (the early/late split), so the early part is untouched.
//!
//! A room's decay time changes with frequency inside each region too (air absorbs the top
//! octaves faster), so one envelope per region would scale each frequency's decay by a
//! different amount. The IR is therefore split into sub-bands about an octave wide whose
//! edges include the two crossovers; each sub-band's decay time is measured and reshaped by
//! its region's multiplier, so every octave follows the multiplier of its region.
//!
//! The split is zero-phase and complementary: from the top edge down, the rest is run through
//! a fourth-order Butterworth low-pass forwards and backwards (an eighth-order magnitude, no
//! phase), the sub-band is the rest minus that. The sub-bands sum to the IR sample for sample.
//!
//! Offline: allocates, runs on the background task like the other IR edits.

use super::biquad::{Coeffs, State};
use super::line_fit::LineFit;

/// Largest boost a lengthened band's tail gets, dB (as the broadband decay edit).
pub const MAX_BOOST_DB: f64 = 30.0;

/// The three decay multipliers and the crossovers between them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BandDecay {
    /// Decay time of the band below `low_hz`, as a fraction of the band's own (0.25-2).
    pub low: f64,
    /// Decay time between the crossovers, as a fraction of the band's own.
    pub mid: f64,
    /// Decay time above `high_hz`, as a fraction of the band's own.
    pub high: f64,
    /// Lower crossover, Hz.
    pub low_hz: f64,
    /// Upper crossover, Hz (above `low_hz`).
    pub high_hz: f64,
}

impl Default for BandDecay {
    fn default() -> Self {
        Self {
            low: 1.0,
            mid: 1.0,
            high: 1.0,
            low_hz: 300.0,
            high_hz: 4000.0,
        }
    }
}

impl BandDecay {
    /// True when every multiplier is 1 (the IR is left as it is).
    pub fn is_neutral(&self) -> bool {
        [self.low, self.mid, self.high]
            .iter()
            .all(|m| (m - 1.0).abs() < 1e-6)
    }
}

/// Butterworth fourth order: the two sections' Q.
const BUTTERWORTH_Q: [f64; 2] = [0.541_196_100_146_197, 1.306_562_964_876_376_7];

/// `x` through a fourth-order Butterworth low-pass at `hz`, forwards then backwards.
fn zero_phase_low_pass(x: &[f64], hz: f64, rate: f64) -> Vec<f64> {
    let sections = BUTTERWORTH_Q.map(|q| Coeffs::low_pass(hz, q, rate));
    let mut y = x.to_vec();
    for pass in 0..2 {
        for c in &sections {
            let mut s = State::default();
            if pass == 0 {
                y.iter_mut().for_each(|v| *v = s.tick(c, *v));
            } else {
                y.iter_mut().rev().for_each(|v| *v = s.tick(c, *v));
            }
        }
    }
    y
}

/// Lowest and highest sub-band edges, Hz (below and above them a region is one sub-band).
const EDGE_RANGE_HZ: (f64, f64) = (40.0, 16_000.0);

/// The sub-band edges (ascending, Hz) for `d` at `rate`, and each sub-band's region (0 low,
/// 1 mid, 2 high; one more sub-band than edges). The crossovers are edges; the regions are
/// cut into sub-bands of about an octave.
pub fn plan(d: &BandDecay, rate: f64) -> (Vec<f64>, Vec<usize>) {
    let top = EDGE_RANGE_HZ.1.min(rate * 0.4);
    let low_hz = d.low_hz.clamp(EDGE_RANGE_HZ.0, top / 2.0);
    let high_hz = d.high_hz.clamp(low_hz * 1.5, top);
    let mut edges = Vec::new();
    let mut regions = Vec::new();
    // Low: octaves down from the crossover.
    let mut below = Vec::new();
    let mut f = low_hz / 2.0;
    while f >= EDGE_RANGE_HZ.0 {
        below.push(f);
        f /= 2.0;
    }
    below.reverse();
    regions.extend(std::iter::repeat_n(0, below.len() + 1));
    edges.extend(below);
    // Mid: the crossovers and evenly spaced (in octaves) edges between them.
    let n = ((high_hz / low_hz).log2().round() as usize).max(1);
    edges.extend((0..n).map(|i| low_hz * (high_hz / low_hz).powf(i as f64 / n as f64)));
    regions.extend(std::iter::repeat_n(1, n));
    edges.push(high_hz);
    // High: octaves up from the crossover.
    let mut f = high_hz * 2.0;
    regions.push(2);
    while f <= top {
        edges.push(f);
        regions.push(2);
        f *= 2.0;
    }
    (edges, regions)
}

/// Splits `x` into one sub-band per gap between `edges` (ascending, Hz) and one each below
/// and above them, lowest first; the sub-bands sum to `x` exactly (up to rounding).
pub fn split(x: &[f32], edges: &[f64], rate: f64) -> Vec<Vec<f64>> {
    let mut rest: Vec<f64> = x.iter().map(|v| *v as f64).collect();
    let mut bands = Vec::with_capacity(edges.len() + 1);
    for &edge in edges.iter().rev() {
        let low = zero_phase_low_pass(&rest, edge, rate);
        bands.push(rest.iter().zip(&low).map(|(a, b)| a - b).collect());
        rest = low;
    }
    bands.push(rest);
    bands.reverse();
    bands
}

/// The Schroeder curve of channels from sample `from` on, dB re its value at `from`
/// (`n - from` values), extended past where it is trustworthy by a straight line: past -45 dB
/// or the last tenth (where the backward integral falls away by truncation, whatever the
/// decay), the curve continues with the slope of its least-squares fit from -5 dB to there.
/// `None` for a silent sub-band or one that does not decay.
fn decay_curve(ch: &[&[f64]], from: usize) -> Option<Vec<f64>> {
    let n = ch[0].len();
    let mut edc = vec![0.0f64; n - from];
    let mut acc = 0.0;
    for i in (from..n).rev() {
        acc += ch.iter().map(|c| c[i] * c[i]).sum::<f64>();
        edc[i - from] = acc;
    }
    let total = *edc.first()?;
    if total <= 0.0 {
        return None;
    }
    let mut db: Vec<f64> = edc
        .iter()
        .map(|e| 10.0 * (e / total).max(1e-30).log10())
        .collect();
    let usable = db.len() - db.len() / 10;
    let end = db[..usable]
        .iter()
        .position(|d| *d <= -45.0)
        .unwrap_or(usable);
    let mut fit = LineFit::default();
    for (t, d) in db.iter().enumerate().take(end) {
        if *d <= -5.0 {
            fit.add(t as f64, *d);
        }
    }
    let slope = fit.slope();
    if !(fit.count() >= 2 && slope < 0.0 && db[end - 1] <= -15.0) {
        return None;
    }
    let at_end = db[end - 1];
    for (k, d) in db.iter_mut().enumerate().skip(end) {
        *d = at_end + slope * (k + 1 - end) as f64;
    }
    Some(db)
}

/// Reshapes the decay of `ch` (all channels, at `rate` Hz) from sample `start` on: each
/// sub-band ([`plan`]) is given the envelope that turns its decay curve `D(t)` into
/// `D(t / m)`, `m` its region's multiplier: the gain `D(t / m) - D(t)` dB, at most
/// [`MAX_BOOST_DB`]. A single exponential decay of time `T` becomes one of
/// time `m T`; a curved one (a fast early decay and a slower late one) keeps its shape, scaled
/// in time. Samples before `start` are left exactly as they are.
pub fn apply(ch: &mut [Vec<f32>], rate: f64, d: &BandDecay, start: usize) {
    if d.is_neutral() || ch.is_empty() || start >= ch[0].len() {
        return;
    }
    let (edges, regions) = plan(d, rate);
    let multipliers = [d.low, d.mid, d.high].map(|m| m.clamp(0.25, 2.0));
    let bands: Vec<Vec<Vec<f64>>> = ch.iter().map(|c| split(c, &edges, rate)).collect();
    let mut out: Vec<Vec<f64>> = ch.iter().map(|c| vec![0.0; c.len()]).collect();
    for (b, region) in regions.iter().enumerate() {
        let band: Vec<&[f64]> = bands.iter().map(|c| c[b].as_slice()).collect();
        let m = multipliers[*region];
        let curve = if (m - 1.0).abs() > 1e-6 {
            decay_curve(&band, start)
        } else {
            None
        };
        let gain = |t: usize| -> f64 {
            let Some(curve) = &curve else { return 1.0 };
            let x = t as f64 / m;
            let k = x as usize;
            let at_x = match curve.get(k + 1) {
                Some(next) => curve[k] + (next - curve[k]) * (x - k as f64),
                // Past the end (a shortened decay): the line continues.
                None => {
                    let last = curve.len() - 1;
                    let slope = curve[last] - curve[last.saturating_sub(1)];
                    curve[last] + slope * (x - last as f64)
                }
            };
            10f64.powf((at_x - curve[t]).min(MAX_BOOST_DB) / 20.0)
        };
        for (o, c) in out.iter_mut().zip(&band) {
            for (o, v) in o.iter_mut().zip(c.iter()).take(start) {
                *o += v;
            }
        }
        for t in 0..ch[0].len() - start {
            let g = gain(t);
            for (o, c) in out.iter_mut().zip(&band) {
                o[start + t] += c[start + t] * g;
            }
        }
    }
    for (c, o) in ch.iter_mut().zip(&out) {
        // Before the start the sub-bands sum back to the input: keep it bit for bit.
        for (v, o) in c.iter_mut().zip(o).skip(start) {
            *v = *o as f32;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dsp::rng::Rng;
    use crate::dsp::test_util::{t30, t30_in_octave};

    const RATE: f64 = 48_000.0;

    /// Decaying noise of reverberation time `t60` (all frequencies alike), `seconds` long,
    /// after a direct sound at sample 0 and a few early reflections.
    fn hall(t60: f64, seconds: f64, seed: u64) -> Vec<f32> {
        let mut rng = Rng::new(seed);
        let n = (seconds * RATE) as usize;
        let mut h: Vec<f32> = (0..n)
            .map(|i| {
                let t = i as f64 / RATE;
                (0.3 * rng.gaussian() * 10f64.powf(-3.0 * t / t60)) as f32
            })
            .collect();
        h[0] = 1.0;
        h[600] += 0.6;
        h[1500] -= 0.4;
        h
    }

    fn level_db(x: &[f32]) -> f64 {
        10.0 * x.iter().map(|v| (*v as f64).powi(2)).sum::<f64>().log10()
    }

    #[test]
    fn the_sub_bands_sum_back_to_the_input_and_keep_to_their_regions() {
        let d = BandDecay::default();
        let (edges, regions) = plan(&d, RATE);
        assert_eq!(regions.len(), edges.len() + 1);
        assert!(
            edges.contains(&d.low_hz) && edges.contains(&d.high_hz),
            "{edges:?}"
        );
        assert!(edges
            .windows(2)
            .all(|w| w[1] / w[0] > 1.3 && w[1] / w[0] < 2.1));
        let h = hall(1.5, 1.0, 1);
        let bands = split(&h, &edges, RATE);
        let worst = (0..h.len())
            .map(|i| (bands.iter().map(|b| b[i]).sum::<f64>() - h[i] as f64).abs())
            .fold(0.0f64, f64::max);
        assert!(worst < 1e-9, "{worst}");
        // A tone 1.5 octaves from the crossovers is in its own region's sub-bands, the others
        // 60 dB down.
        let tone = |hz: f64| -> Vec<f32> {
            (0..48_000)
                .map(|i| (2.0 * std::f64::consts::PI * hz * i as f64 / RATE).sin() as f32)
                .collect()
        };
        for (hz, own) in [(100.0, 0), (1100.0, 1), (11_000.0, 2)] {
            let bands = split(&tone(hz), &edges, RATE);
            let mut region = [vec![0.0f64; 48_000], vec![0.0; 48_000], vec![0.0; 48_000]];
            for (b, r) in bands.iter().zip(&regions) {
                region[*r].iter_mut().zip(b).for_each(|(a, v)| *a += v);
            }
            for (r, x) in region.iter().enumerate() {
                let e: f64 = x[8000..40_000].iter().map(|v| v * v).sum();
                let db = 10.0 * (e / 16_000.0).log10();
                if r == own {
                    assert!(db.abs() < 0.01, "{hz} Hz in its region: {db:.3} dB");
                } else {
                    assert!(db < -60.0, "{hz} Hz in region {r}: {db:.1} dB");
                }
            }
        }
    }

    #[test]
    fn each_band_decays_by_its_multiplier_and_the_early_part_stays() {
        // Eight channels of one hall (T60 1.2 s, all frequencies alike), reshaped together:
        // Low 150 %, Mid 100 %, High 50 %, from 50 ms. The T30 of an octave inside each band
        // (cut by the zero-phase split, the energy of all eight channels: a low octave of one
        // channel of noise holds too few modes for a steady T30) follows the multiplier
        // within 5 %; the first 50 ms are untouched.
        let t60 = 1.2;
        let start = (0.05 * RATE) as usize;
        let d = BandDecay {
            low: 1.5,
            mid: 1.0,
            high: 0.5,
            low_hz: 300.0,
            high_hz: 4000.0,
        };
        let src: Vec<Vec<f32>> = (0..8).map(|k| hall(t60, 2.5, 2 + k)).collect();
        let mut ch = src.clone();
        apply(&mut ch, RATE, &d, start);
        for (c, s) in ch.iter().zip(&src) {
            assert_eq!(c[..start], s[..start], "the first 50 ms are untouched");
        }
        let t30_of = |x: &[Vec<f32>], octave: &[f64; 2]| {
            let bands: Vec<Vec<f64>> = x.iter().map(|c| split(c, octave, RATE).remove(1)).collect();
            let refs: Vec<&[f64]> = bands.iter().map(Vec::as_slice).collect();
            t30(&refs, start, RATE)
        };
        let octaves = [
            ([75.0, 150.0], d.low),
            ([1100.0, 2100.0], d.mid),
            ([8e3, 16e3], d.high),
        ];
        for (octave, m) in octaves {
            let (before, after) = (t30_of(&src, &octave), t30_of(&ch, &octave));
            let ratio = after / before;
            assert!(
                (ratio / m - 1.0).abs() < 0.05,
                "{octave:?} Hz: T30 {before:.3} s -> {after:.3} s, ratio {ratio:.3}, want {m}"
            );
        }
        // An octave as two RBJ band-pass sections (broader skirts) sees the same, within 5 %.
        for (hz, m) in [(100.0, d.low), (1500.0, d.mid), (11_000.0, d.high)] {
            let t = |x: &[Vec<f32>]| {
                x.iter()
                    .map(|c| t30_in_octave(c, hz, start, RATE))
                    .sum::<f64>()
                    / 8.0
            };
            let ratio = t(&ch) / t(&src);
            assert!(
                (ratio / m - 1.0).abs() < 0.05,
                "{hz} Hz: ratio {ratio:.3}, want {m}"
            );
        }
        // The early part's level: unchanged (it is bit-exact).
        for (c, s) in ch.iter().zip(&src) {
            assert!((level_db(&c[..start]) - level_db(&s[..start])).abs() < 0.5);
        }
    }

    #[test]
    fn neutral_multipliers_leave_the_ir_bit_exact() {
        let src = hall(1.0, 0.5, 4);
        let mut ch = vec![src.clone()];
        apply(&mut ch, RATE, &BandDecay::default(), 100);
        assert_eq!(ch[0], src);
    }

    #[test]
    fn a_lengthened_band_is_boosted_at_most_by_the_limit() {
        // A very short decay lengthened 2x over a long IR: the envelope would grow without
        // bound; it stops at MAX_BOOST_DB.
        let src = hall(0.2, 2.0, 5);
        let mut ch = vec![src.clone()];
        let d = BandDecay {
            low: 2.0,
            mid: 2.0,
            high: 2.0,
            ..BandDecay::default()
        };
        apply(&mut ch, RATE, &d, 0);
        let tail = |x: &[f32]| level_db(&x[80_000..]);
        let boost = tail(&ch[0]) - tail(&src);
        assert!(boost > 25.0 && boost < MAX_BOOST_DB + 0.5, "{boost}");
    }
}
