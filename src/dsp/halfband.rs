//! 2x up- and down-sampling with polyphase IIR half-band filters (two parallel chains of
//! first-order allpass sections in `z^-2`), for oversampled nonlinear processing.
//!
//! `H(z) = (A0(z^2) + z^-1 A1(z^2)) / 2`, where each `Ai` is a cascade of sections
//! `(a + z^-2) / (1 + a z^-2)`. The coefficients come from the elliptic half-band design of
//! Valenzuela & Constantinides, "Digital signal processing schemes for efficient interpolation
//! and decimation", IEE Proc. G 130(6), 1983 (the same design Laurent de Soras' HIIR uses).
//! Causal and recursive: no look-ahead, so no reported latency; the price is a small,
//! frequency-dependent group delay (measured in the tests and documented in docs/MANUAL.md, Character modes).

/// Designs `n_coefs` allpass coefficients for a half-band filter whose transition band is
/// `transition` (fraction of the sample rate, e.g. 0.04: pass band up to 0.5 - 0.04 of the
/// half-rate Nyquist). Coefficients alternate between the two branches.
pub fn design(n_coefs: usize, transition: f64) -> Vec<f64> {
    let k = ((1.0 - 2.0 * transition) * std::f64::consts::FRAC_PI_4)
        .tan()
        .powi(2);
    let kksqrt = (1.0 - k * k).powf(0.25);
    let e = 0.5 * (1.0 - kksqrt) / (1.0 + kksqrt);
    let e4 = e.powi(4);
    let q = e * (1.0 + e4 * (2.0 + e4 * (15.0 + 150.0 * e4)));
    let order = 2 * n_coefs + 1;
    (0..n_coefs)
        .map(|index| {
            let c = (index + 1) as f64;
            let mut num = 0.0;
            let mut sign = 1.0;
            for i in 0..64 {
                let term = q.powi(i * (i + 1))
                    * ((2 * i + 1) as f64 * c * std::f64::consts::PI / order as f64).sin()
                    * sign;
                num += term;
                sign = -sign;
                if term.abs() < 1e-100 {
                    break;
                }
            }
            let mut den = 0.0;
            let mut sign = -1.0;
            for i in 1..64 {
                let term = q.powi(i * i)
                    * (2.0 * i as f64 * c * std::f64::consts::PI / order as f64).cos()
                    * sign;
                den += term;
                sign = -sign;
                if term.abs() < 1e-100 {
                    break;
                }
            }
            let ww = num * q.powf(0.25) / (den + 0.5);
            let wwsq = ww * ww;
            let x = ((1.0 - wwsq * k) * (1.0 - wwsq / k)).sqrt() / (1.0 + wwsq);
            (1.0 - x) / (1.0 + x)
        })
        .collect()
}

/// A chain of allpass sections `(a + z^-1) / (1 + a z^-1)` in the branch's own (half) rate.
#[derive(Clone, Debug)]
struct Branch {
    coefs: Vec<f32>,
    /// Per section: previous input and previous output.
    x1: Vec<f32>,
    y1: Vec<f32>,
}

impl Branch {
    fn new(coefs: Vec<f32>) -> Self {
        let n = coefs.len();
        Self {
            coefs,
            x1: vec![0.0; n],
            y1: vec![0.0; n],
        }
    }

    #[inline]
    fn tick(&mut self, mut x: f32) -> f32 {
        for i in 0..self.coefs.len() {
            let y = self.coefs[i] * (x - self.y1[i]) + self.x1[i];
            self.x1[i] = x;
            self.y1[i] = y;
            x = y;
        }
        x
    }

    fn reset(&mut self) {
        self.x1.fill(0.0);
        self.y1.fill(0.0);
    }
}

/// Polyphase half-band filter pair used for 2x oversampling of one channel.
#[derive(Clone, Debug)]
pub struct HalfbandPair {
    up: [Branch; 2],
    down: [Branch; 2],
    /// The odd branch's one-sample delay (at the high rate) on the way down.
    down_odd_z1: f32,
}

/// The default design: 8 coefficients, transition 0.0435 (pass band to 21.9 kHz at 48 kHz,
/// about 90 dB stop-band rejection).
pub fn default_coefs() -> Vec<f64> {
    design(8, 0.0435)
}

/// The second stage of 4x oversampling (2x to 4x): it carries a signal the first stage has
/// already band-limited to its pass band (below 0.115 of its own rate), so its transition can
/// be wide: 4 coefficients, transition 0.13 (stop band from 0.38 of its rate).
pub fn second_stage_coefs() -> Vec<f64> {
    design(4, 0.13)
}

/// How many times the sample rate a nonlinear stage runs at (saved by position: append only).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Oversampling {
    /// The host's rate.
    #[default]
    Off,
    /// Twice the rate: one half-band stage.
    X2,
    /// Four times the rate: two half-band stages.
    X4,
}

impl Oversampling {
    /// The rate multiple.
    pub fn factor(self) -> usize {
        match self {
            Oversampling::Off => 1,
            Oversampling::X2 => 2,
            Oversampling::X4 => 4,
        }
    }
}

impl From<bool> for Oversampling {
    /// `true` is the 2x of the on/off switch.
    fn from(on: bool) -> Self {
        if on {
            Oversampling::X2
        } else {
            Oversampling::Off
        }
    }
}

impl HalfbandPair {
    /// Filters for the given coefficients (from [`design`]). Allocates.
    pub fn new(coefs: &[f64]) -> Self {
        let even: Vec<f32> = coefs.iter().step_by(2).map(|&c| c as f32).collect();
        let odd: Vec<f32> = coefs.iter().skip(1).step_by(2).map(|&c| c as f32).collect();
        Self {
            up: [Branch::new(even.clone()), Branch::new(odd.clone())],
            down: [Branch::new(even), Branch::new(odd)],
            down_odd_z1: 0.0,
        }
    }

    /// One input sample in, two output samples at twice the rate.
    #[inline]
    pub fn upsample(&mut self, x: f32) -> [f32; 2] {
        [self.up[0].tick(x), self.up[1].tick(x)]
    }

    /// Two samples at twice the rate in, one sample out.
    #[inline]
    pub fn downsample(&mut self, x: [f32; 2]) -> f32 {
        // y[n] = (A0(u_even)[n] + A1(u_odd)[n-1]) / 2
        let a = self.down[0].tick(x[0]);
        let b = self.down[1].tick(self.down_odd_z1);
        self.down_odd_z1 = x[1];
        0.5 * (a + b)
    }

    /// Clears the filter states.
    pub fn reset(&mut self) {
        for b in self.up.iter_mut().chain(self.down.iter_mut()) {
            b.reset();
        }
        self.down_odd_z1 = 0.0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use realfft::RealFftPlanner;

    /// Magnitude response (dB) of up->down at the input rate, from the impulse response.
    fn response(coefs: &[f64]) -> Vec<f64> {
        let n = 8192;
        let mut f = HalfbandPair::new(coefs);
        let mut h: Vec<f32> = (0..n)
            .map(|i| {
                let up = f.upsample(if i == 0 { 1.0 } else { 0.0 });
                f.downsample(up)
            })
            .collect();
        let fft = RealFftPlanner::<f32>::new().plan_fft_forward(n);
        let mut spec = fft.make_output_vec();
        fft.process(&mut h, &mut spec).unwrap();
        spec.iter()
            .map(|z| 20.0 * (z.norm() as f64).max(1e-12).log10())
            .collect()
    }

    #[test]
    fn passband_is_flat_and_impulse_starts_at_zero() {
        let coefs = default_coefs();
        assert!(
            coefs.iter().all(|&c| c > 0.0 && c < 1.0),
            "stable allpass coefficients {coefs:?}"
        );
        let db = response(&coefs);
        // Up to 20 kHz at 48 kHz (bin = 48000 / 8192 Hz) the cascade is flat within 0.01 dB.
        let top = (20_000.0 / (48_000.0 / 8192.0)) as usize;
        for (i, v) in db.iter().enumerate().take(top) {
            assert!(v.abs() < 0.01, "bin {i}: {v} dB");
        }
        let mut f = HalfbandPair::new(&coefs);
        let h: Vec<f32> = (0..256)
            .map(|i| {
                let up = f.upsample(if i == 0 { 1.0 } else { 0.0 });
                f.downsample(up)
            })
            .collect();
        assert!(h[0] != 0.0, "the response starts at sample 0");
        // Group delay at 1 kHz (48 kHz), from the phase slope of the impulse response.
        let phase = |hz: f64| {
            let w = std::f64::consts::TAU * hz / 48_000.0;
            let (re, im) = h.iter().enumerate().fold((0.0, 0.0), |(a, b), (n, v)| {
                (
                    a + *v as f64 * (w * n as f64).cos(),
                    b - *v as f64 * (w * n as f64).sin(),
                )
            });
            f64::atan2(im, re)
        };
        let gd = -(phase(1010.0) - phase(990.0)) / (std::f64::consts::TAU * 20.0 / 48_000.0);
        println!("group delay at 1 kHz: {gd:.3} samples");
        assert!(gd > 0.0 && gd < 6.0, "group delay {gd}");
    }

    #[test]
    fn four_times_upsampling_rejects_every_image() {
        // 48 kHz to 192 kHz through both stages: a 16 kHz tone's images (at 32, 64, 80, 112,
        // 128, 160 and 176 kHz) must all be far below it.
        let (mut a, mut b) = (
            HalfbandPair::new(&default_coefs()),
            HalfbandPair::new(&second_stage_coefs()),
        );
        let n = 16384;
        let mut hi = Vec::with_capacity(4 * n);
        for i in 0..n {
            let x = (std::f64::consts::TAU * 16_000.0 * i as f64 / 48_000.0).sin() as f32;
            for v in a.upsample(x) {
                hi.extend(b.upsample(v));
            }
        }
        let len = 32768;
        let mut seg: Vec<f32> = hi[hi.len() - len..]
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let w = 0.5 - 0.5 * (std::f64::consts::TAU * i as f64 / len as f64).cos();
                v * (w * w) as f32
            })
            .collect();
        let fft = RealFftPlanner::<f32>::new().plan_fft_forward(len);
        let mut spec = fft.make_output_vec();
        fft.process(&mut seg, &mut spec).unwrap();
        let hz = 192_000.0 / len as f64;
        let tone = (16_000.0 / hz).round() as usize;
        let peak = spec[tone - 8..=tone + 8]
            .iter()
            .fold(0.0f32, |m, z| m.max(z.norm()));
        let worst = spec
            .iter()
            .enumerate()
            .filter(|(i, _)| (*i as f64 * hz) > 24_000.0)
            .fold(0.0f32, |m, (_, z)| m.max(z.norm()));
        let ratio = 20.0 * (worst / peak).log10();
        println!("4x images: {ratio:.1} dB");
        assert!(ratio < -70.0, "largest image {ratio} dB");
    }

    #[test]
    fn rejects_images_in_the_stop_band() {
        // Upsampling a 16 kHz tone (48 kHz in, 96 kHz out): its image at 32 kHz must be gone.
        let coefs = default_coefs();
        let mut f = HalfbandPair::new(&coefs);
        let n = 16384;
        let mut hi = Vec::with_capacity(2 * n);
        for i in 0..n {
            let x = (std::f64::consts::TAU * 16_000.0 * i as f64 / 48_000.0).sin() as f32;
            hi.extend(f.upsample(x));
        }
        let seg: Vec<f32> = hi[hi.len() - 16384..]
            .iter()
            .enumerate()
            .map(|(i, v)| {
                v * (0.5 - 0.5 * (std::f64::consts::TAU * i as f64 / 16384.0).cos()) as f32
            })
            .collect();
        let fft = RealFftPlanner::<f32>::new().plan_fft_forward(16384);
        let mut spec = fft.make_output_vec();
        fft.process(&mut seg.clone(), &mut spec).unwrap();
        let bin = |hz: f64| (hz / (96_000.0 / 16384.0)).round() as usize;
        let peak = |c: usize| {
            (c - 4..=c + 4)
                .map(|k| spec[k].norm())
                .fold(0.0f32, f32::max)
        };
        let ratio = 20.0 * (peak(bin(32_000.0)) / peak(bin(16_000.0))).log10();
        assert!(ratio < -70.0, "image rejection {ratio} dB");
    }
}
