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

/// `N` allpass sections `(a + z^-1) / (1 + a z^-1)` (in the branch's own, half rate) in
/// series on each of `L` lanes side by side, every lane with its own coefficients: one
/// sample of all lanes is `N` steps of lane-wise arithmetic, which the compiler vectorises,
/// and the lanes' recursions overlap instead of waiting on each other. Each lane computes
/// exactly what a chain of its own would (the same operations in the same order).
#[derive(Clone, Copy, Debug)]
struct Lanes<const L: usize, const N: usize> {
    coefs: [[f32; L]; N],
    /// Per section and lane: previous input and previous output.
    x1: [[f32; L]; N],
    y1: [[f32; L]; N],
}

impl<const L: usize, const N: usize> Lanes<L, N> {
    fn new(coefs: [[f32; L]; N]) -> Self {
        Self {
            coefs,
            x1: [[0.0; L]; N],
            y1: [[0.0; L]; N],
        }
    }

    #[inline(always)]
    fn tick(&mut self, mut x: [f32; L]) -> [f32; L] {
        for i in 0..N {
            let (c, x1, y1) = (&self.coefs[i], &mut self.x1[i], &mut self.y1[i]);
            let y: [f32; L] = std::array::from_fn(|l| c[l] * (x[l] - y1[l]) + x1[l]);
            *x1 = x;
            *y1 = y;
            x = y;
        }
        x
    }

    fn reset(&mut self) {
        self.x1 = [[0.0; L]; N];
        self.y1 = [[0.0; L]; N];
    }
}

/// Section `i`'s coefficients of the two branches of a design of `2 N` coefficients
/// (from [`design`]; they alternate between the branches): `[even, odd]`.
fn branches<const N: usize>(coefs: &[f64]) -> [[f32; 2]; N] {
    assert_eq!(coefs.len(), 2 * N, "a design of {} coefficients", 2 * N);
    std::array::from_fn(|i| [coefs[2 * i] as f32, coefs[2 * i + 1] as f32])
}

/// The lanes of `S` signals' branches side by side (`[even, odd]` per signal) for a design
/// of `2 N` coefficients.
///
/// # Panics
/// If `L` is not `2 S`.
fn signal_lanes<const S: usize, const L: usize, const N: usize>(coefs: &[f64]) -> Lanes<L, N> {
    assert_eq!(L, 2 * S, "two lanes per signal");
    Lanes::new(branches::<N>(coefs).map(|eo| std::array::from_fn(|l| eo[l % 2])))
}

/// 2x upsampling of `S` signals (a stereo pair runs as two): the two branches of each side
/// by side, `L = 2 S` lanes (`[even, odd]` per signal).
#[derive(Clone, Copy, Debug)]
pub struct Upsampler<const S: usize, const L: usize, const N: usize> {
    lanes: Lanes<L, N>,
}

impl<const S: usize, const L: usize, const N: usize> Upsampler<S, L, N> {
    /// The upsamplers of a design of `2 N` coefficients (from [`design`]).
    ///
    /// # Panics
    /// If `L` is not `2 S`.
    pub fn new(coefs: &[f64]) -> Self {
        Self {
            lanes: signal_lanes::<S, L, N>(coefs),
        }
    }

    /// One input sample of each signal in, two output samples of each at twice the rate.
    #[inline(always)]
    pub fn upsample(&mut self, x: [f32; S]) -> [[f32; 2]; S] {
        let y = self.lanes.tick(std::array::from_fn(|l| x[l / 2]));
        std::array::from_fn(|s| [y[2 * s], y[2 * s + 1]])
    }

    /// Clears the filter state.
    pub fn reset(&mut self) {
        self.lanes.reset();
    }
}

/// 2x downsampling of `S` signals through identical filters (in the character stage, a
/// shaped path and its dry reference per channel): all their branches side by side, `L = 2 S`
/// lanes.
#[derive(Clone, Copy, Debug)]
pub struct Downsampler<const S: usize, const L: usize, const N: usize> {
    lanes: Lanes<L, N>,
    /// The odd branches' one-sample delay (at the high rate) of each signal.
    odd_z1: [f32; S],
}

impl<const S: usize, const L: usize, const N: usize> Downsampler<S, L, N> {
    /// The downsamplers of a design of `2 N` coefficients (from [`design`]).
    ///
    /// # Panics
    /// If `L` is not `2 S`.
    pub fn new(coefs: &[f64]) -> Self {
        Self {
            lanes: signal_lanes::<S, L, N>(coefs),
            odd_z1: [0.0; S],
        }
    }

    /// Two samples at twice the rate of each signal in, one sample of each out:
    /// `y[n] = (A0(u_even)[n] + A1(u_odd)[n-1]) / 2`.
    #[inline(always)]
    pub fn downsample(&mut self, x: [[f32; 2]; S]) -> [f32; S] {
        let y = self.lanes.tick(std::array::from_fn(|l| {
            if l % 2 == 0 {
                x[l / 2][0]
            } else {
                self.odd_z1[l / 2]
            }
        }));
        self.odd_z1 = x.map(|pair| pair[1]);
        std::array::from_fn(|s| 0.5 * (y[2 * s] + y[2 * s + 1]))
    }

    /// Clears the filter states.
    pub fn reset(&mut self) {
        self.lanes.reset();
        self.odd_z1 = [0.0; S];
    }
}

/// Sections per branch of the first stage ([`default_coefs`]) and of the second stage of 4x
/// ([`second_stage_coefs`]).
pub const STAGE1: usize = 4;
/// See [`STAGE1`].
pub const STAGE2: usize = 2;

/// One signal up and down through a half-band design of `2 N` coefficients (the filters'
/// tests; the character stage runs [`Upsampler`] and [`Downsampler`] on its channels
/// together).
#[derive(Clone, Copy, Debug)]
pub struct HalfbandPair<const N: usize> {
    up: Upsampler<1, 2, N>,
    down: Downsampler<1, 2, N>,
}

/// The default design: 8 coefficients ([`STAGE1`] per branch), transition 0.0435 (pass band
/// to 21.9 kHz at 48 kHz, about 90 dB stop-band rejection).
pub fn default_coefs() -> Vec<f64> {
    design(2 * STAGE1, 0.0435)
}

/// The second stage of 4x oversampling (2x to 4x): it carries a signal the first stage has
/// already band-limited to its pass band (below 0.115 of its own rate), so its transition can
/// be wide: 4 coefficients ([`STAGE2`] per branch), transition 0.13 (stop band from 0.38 of
/// its rate).
pub fn second_stage_coefs() -> Vec<f64> {
    design(2 * STAGE2, 0.13)
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

impl<const N: usize> HalfbandPair<N> {
    /// Filters for a design of `2 N` coefficients (from [`design`]).
    pub fn new(coefs: &[f64]) -> Self {
        Self {
            up: Upsampler::new(coefs),
            down: Downsampler::new(coefs),
        }
    }

    /// One input sample in, two output samples at twice the rate.
    #[inline]
    pub fn upsample(&mut self, x: f32) -> [f32; 2] {
        self.up.upsample([x])[0]
    }

    /// Two samples at twice the rate in, one sample out.
    #[inline]
    pub fn downsample(&mut self, x: [f32; 2]) -> f32 {
        self.down.downsample([x])[0]
    }

    /// Clears the filter states.
    pub fn reset(&mut self) {
        self.up.reset();
        self.down.reset();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use realfft::RealFftPlanner;

    /// Magnitude response (dB) of up->down at the input rate, from the impulse response.
    fn response(coefs: &[f64]) -> Vec<f64> {
        let n = 8192;
        let mut f = HalfbandPair::<STAGE1>::new(coefs);
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

    /// The textbook form: one branch, one section after the other, one sample at a time.
    fn naive_branch(coefs: &[f32], state: &mut [(f32, f32)], mut x: f32) -> f32 {
        for (c, (x1, y1)) in coefs.iter().zip(state.iter_mut()) {
            let y = c * (x - *y1) + *x1;
            (*x1, *y1) = (x, y);
            x = y;
        }
        x
    }

    /// [`Upsampler`] and [`Downsampler`] of a design, on as many signals as the character
    /// stage runs (two channels up; their shaped and dry paths down), against the textbook
    /// chains.
    fn check_side_by_side<const N: usize>(coefs: &[f64]) {
        let even: Vec<f32> = coefs.iter().step_by(2).map(|&c| c as f32).collect();
        let odd: Vec<f32> = coefs.iter().skip(1).step_by(2).map(|&c| c as f32).collect();
        let mut st = vec![vec![(0.0f32, 0.0f32); N]; 12];
        let mut z1 = [0.0f32; 4];
        let mut up = Upsampler::<2, 4, N>::new(coefs);
        let mut down = Downsampler::<4, 8, N>::new(coefs);
        let mut rng = crate::dsp::rng::Rng::new(9);
        let mut r = || rng.bipolar() as f32;
        for _ in 0..5000 {
            let x = [r(), r()];
            let want: [[f32; 2]; 2] = std::array::from_fn(|s| {
                [
                    naive_branch(&even, &mut st[2 * s], x[s]),
                    naive_branch(&odd, &mut st[2 * s + 1], x[s]),
                ]
            });
            assert_eq!(up.upsample(x), want);
            let hi: [[f32; 2]; 4] = std::array::from_fn(|_| [r(), r()]);
            let want: [f32; 4] = std::array::from_fn(|s| {
                let a = naive_branch(&even, &mut st[4 + 2 * s], hi[s][0]);
                let b = naive_branch(&odd, &mut st[5 + 2 * s], z1[s]);
                0.5 * (a + b)
            });
            z1 = hi.map(|p| p[1]);
            assert_eq!(down.downsample(hi), want);
        }
    }

    #[test]
    fn side_by_side_branches_equal_the_textbook_chains_bit_for_bit() {
        check_side_by_side::<STAGE1>(&default_coefs());
        check_side_by_side::<STAGE2>(&second_stage_coefs());
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
        let mut f = HalfbandPair::<STAGE1>::new(&coefs);
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
            HalfbandPair::<STAGE1>::new(&default_coefs()),
            HalfbandPair::<STAGE2>::new(&second_stage_coefs()),
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
        let mut f = HalfbandPair::<STAGE1>::new(&coefs);
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
