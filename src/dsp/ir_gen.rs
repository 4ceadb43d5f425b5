//! Synthetic room impulse responses: the generator behind the factory impulses.
//!
//! * **Early reflections** by the image-source method for a rectangular room (Allen & Berkley,
//!   "Image method for efficiently simulating small-room acoustics", JASA 65(4), 1979): every
//!   image up to a reflection order contributes `beta^order / distance` at its propagation
//!   delay, placed with linear (two-tap) fractional delay. Each output channel is a receiver
//!   offset sideways (a spaced pair), so the reflections arrive at slightly different times.
//! * **Late tail**: Gaussian noise per channel (independent seeds, so the channels are
//!   decorrelated), split at a crossover by a one-pole low-pass into a low and a high band,
//!   each with its own exponential decay `exp(-6.91 t / RT60)`, so high frequencies die
//!   faster as in real rooms (Moorer, "About this reverberation business", CMJ 3(2), 1979).
//!   The tail fades in over the mixing time and is level-matched to the reflections there.
//! * The direct sound sits at sample 0 (zero pre-delay), and the IR ends with a short
//!   raised-cosine fade. The result is scaled to unit mean energy per channel.
//!
//! Deterministic: the same [`RoomSpec`] and sample rate give the same samples.

use super::rng::Rng;

/// Speed of sound, m/s.
const SPEED_OF_SOUND: f64 = 343.0;

/// The description of one synthetic space.
#[derive(Clone, Debug)]
pub struct RoomSpec {
    /// File stem and display name.
    pub name: &'static str,
    /// Room dimensions in metres (x, y, z); `None` for a plate (no discrete reflections).
    pub dims_m: Option<[f64; 3]>,
    /// Wall reflection coefficient (pressure), 0..1.
    pub reflection: f64,
    /// Highest image-source reflection order.
    pub max_order: i32,
    /// Decay time of the low band, seconds.
    pub rt60_low_s: f64,
    /// Decay time of the high band, seconds.
    pub rt60_high_s: f64,
    /// Crossover between the bands, Hz.
    pub crossover_hz: f64,
    /// Where the late tail is fully in, seconds.
    pub mixing_time_s: f64,
    /// IR length, seconds.
    pub length_s: f64,
    /// Receiver spacing for the two channels, metres.
    pub spacing_m: f64,
    /// Noise seed.
    pub seed: u64,
}

/// The factory set: six spaces, from a small room to a cathedral.
pub fn factory_rooms() -> Vec<RoomSpec> {
    let room = |name, dims, reflection, order, lo, hi, xo, mix, len, seed| RoomSpec {
        name,
        dims_m: dims,
        reflection,
        max_order: order,
        rt60_low_s: lo,
        rt60_high_s: hi,
        crossover_hz: xo,
        mixing_time_s: mix,
        length_s: len,
        spacing_m: 0.3,
        seed,
    };
    vec![
        room(
            "Small Room",
            Some([4.2, 3.4, 2.6]),
            0.80,
            8,
            0.45,
            0.25,
            2500.0,
            0.025,
            0.8,
            11,
        ),
        room(
            "Medium Room",
            Some([8.0, 6.2, 3.4]),
            0.85,
            7,
            0.9,
            0.5,
            2500.0,
            0.045,
            1.6,
            12,
        ),
        room(
            "Chamber",
            Some([6.5, 4.8, 4.0]),
            0.92,
            8,
            1.5,
            1.0,
            3500.0,
            0.04,
            2.5,
            13,
        ),
        room("Plate", None, 0.0, 0, 2.0, 1.6, 5000.0, 0.004, 3.0, 14),
        room(
            "Large Hall",
            Some([36.0, 24.0, 15.0]),
            0.90,
            5,
            2.6,
            1.6,
            2000.0,
            0.11,
            4.0,
            15,
        ),
        room(
            "Cathedral",
            Some([80.0, 32.0, 30.0]),
            0.93,
            4,
            5.5,
            3.0,
            1500.0,
            0.2,
            7.5,
            16,
        ),
    ]
}

/// Renders `spec` at `sample_rate` Hz into two channels. Allocates.
pub fn render(spec: &RoomSpec, sample_rate: f64) -> [Vec<f32>; 2] {
    let len = (spec.length_s * sample_rate).round() as usize;
    let mut out = [vec![0.0f64; len], vec![0.0f64; len]];

    // Early reflections.
    if let Some([lx, ly, lz]) = spec.dims_m {
        let src = [0.31 * lx, 0.37 * ly, 0.45 * lz];
        for (ch, buf) in out.iter_mut().enumerate() {
            let side = if ch == 0 { -0.5 } else { 0.5 } * spec.spacing_m;
            let rcv = [0.68 * lx, 0.58 * ly + side, 0.4 * lz];
            let direct = dist(src, rcv);
            let k = spec.max_order;
            for i in -k..=k {
                for j in -k..=k {
                    for l in -k..=k {
                        let order = i.abs() + j.abs() + l.abs();
                        if order > k {
                            continue;
                        }
                        let img = [
                            image(i, lx, src[0]),
                            image(j, ly, src[1]),
                            image(l, lz, src[2]),
                        ];
                        let d = dist(img, rcv);
                        let t = (d - direct) / SPEED_OF_SOUND * sample_rate;
                        let amp = spec.reflection.powi(order) * direct / d;
                        let n = t.floor() as usize;
                        let frac = t - t.floor();
                        if n + 1 < len {
                            buf[n] += amp * (1.0 - frac);
                            buf[n + 1] += amp * frac;
                        }
                    }
                }
            }
        }
    } else {
        for buf in out.iter_mut() {
            buf[0] = 1.0;
        }
    }

    // Late tail, level-matched to the reflections' energy around the mixing time.
    let mix_n =
        ((spec.mixing_time_s * sample_rate) as usize).clamp(1, len.saturating_sub(1).max(1));
    let a = (-std::f64::consts::TAU * spec.crossover_hz / sample_rate).exp();
    let win = mix_n.min(len / 4).max(8);
    for (ch, buf) in out.iter_mut().enumerate() {
        let er_energy: f64 = if spec.dims_m.is_some() {
            buf[mix_n.saturating_sub(win / 2)..(mix_n + win / 2).min(len)]
                .iter()
                .map(|v| v * v)
                .sum::<f64>()
                / win as f64
        } else {
            0.05
        };
        let level = er_energy.sqrt().max(1e-4);
        let mut rng = Rng::new(spec.seed * 7919 + ch as u64 * 104_729);
        let mut lp = 0.0f64;
        for (n, v) in buf.iter_mut().enumerate() {
            let t = (n as f64 - mix_n as f64) / sample_rate;
            let g = rng.gaussian();
            lp = (1.0 - a) * g + a * lp;
            let hp = g - lp;
            let env_lo = (-6.91 * t / spec.rt60_low_s).exp();
            let env_hi = (-6.91 * t / spec.rt60_high_s).exp();
            // Raised-cosine fade-in up to the mixing time.
            let fade = if n >= mix_n {
                1.0
            } else {
                0.5 - 0.5 * (std::f64::consts::PI * n as f64 / mix_n as f64).cos()
            };
            *v += level * fade * (lp * 2.0 * env_lo + hp * env_hi);
        }
    }

    // Fade-out over the last 5 % and unit mean energy per channel.
    let fade_len = (len / 20).max(1);
    for buf in out.iter_mut() {
        for i in 0..fade_len {
            let g = 0.5 - 0.5 * (std::f64::consts::PI * i as f64 / fade_len as f64).cos();
            buf[len - 1 - i] *= g;
        }
    }
    let energy: f64 = out
        .iter()
        .flat_map(|b| b.iter())
        .map(|v| v * v)
        .sum::<f64>()
        / 2.0;
    let scale = 1.0 / energy.sqrt().max(1e-12);
    let [l, r] = out;
    [
        l.iter().map(|v| (v * scale) as f32).collect(),
        r.iter().map(|v| (v * scale) as f32).collect(),
    ]
}

fn image(i: i32, l: f64, s: f64) -> f64 {
    let base = 2.0 * ((i as f64) / 2.0).ceil() * l;
    if i % 2 == 0 {
        base + s
    } else {
        base - s
    }
}

fn dist(a: [f64; 3], b: [f64; 3]) -> f64 {
    ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2)).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Energy decay of band-limited content measured by Schroeder backward integration.
    fn rt60_estimate(x: &[f32], rate: f64) -> f64 {
        let mut edc: Vec<f64> = x.iter().map(|v| (*v as f64).powi(2)).collect();
        for i in (0..edc.len() - 1).rev() {
            edc[i] += edc[i + 1];
        }
        let db = |i: usize| 10.0 * (edc[i] / edc[0]).log10();
        let t5 = (0..edc.len()).find(|&i| db(i) < -5.0).unwrap();
        let t25 = (0..edc.len()).find(|&i| db(i) < -25.0).unwrap();
        3.0 * (t25 - t5) as f64 / rate
    }

    #[test]
    fn direct_sound_at_zero_and_decay_close_to_spec() {
        for spec in factory_rooms() {
            let [l, r] = render(&spec, 48_000.0);
            let peak = l.iter().fold(0.0f32, |m, v| m.max(v.abs()));
            assert!(
                l[0].abs() > 0.3 * peak,
                "{}: direct sound at sample 0",
                spec.name
            );
            assert!(l.iter().chain(&r).all(|v| v.is_finite()));
            // Broadband T20 lies between the band RT60s.
            let t = rt60_estimate(&l, 48_000.0);
            assert!(
                t > 0.5 * spec.rt60_high_s && t < 1.3 * spec.rt60_low_s,
                "{}: T20 {t}",
                spec.name
            );
            // Channels are decorrelated in the tail.
            let a = l.len() / 3;
            let (x, y) = (&l[a..a + 4800], &r[a..a + 4800]);
            let c: f64 = x
                .iter()
                .zip(y)
                .map(|(p, q)| *p as f64 * *q as f64)
                .sum::<f64>()
                / (x.iter().map(|p| (*p as f64).powi(2)).sum::<f64>()
                    * y.iter().map(|q| (*q as f64).powi(2)).sum::<f64>())
                .sqrt();
            assert!(c.abs() < 0.3, "{}: correlation {c}", spec.name);
        }
    }

    #[test]
    fn deterministic() {
        let spec = &factory_rooms()[0];
        assert_eq!(render(spec, 44_100.0), render(spec, 44_100.0));
    }
}
