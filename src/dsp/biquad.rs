//! Second-order IIR sections: the RBJ "Audio EQ Cookbook" designs (R. Bristow-Johnson,
//! <https://www.w3.org/TR/audio-eq-cookbook/>), their analytic response, and a transposed
//! direct form II state in `f64` (stable numerics for low, narrow bells).

use std::f64::consts::PI;

use super::simd::{madd64, Isa};

/// Normalised coefficients (`a0 = 1`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Coeffs {
    /// Feed-forward `b0, b1, b2`.
    pub b: [f64; 3],
    /// Feedback `a1, a2`.
    pub a: [f64; 2],
}

impl Coeffs {
    /// The identity (passes the signal unchanged).
    pub const IDENTITY: Coeffs = Coeffs {
        b: [1.0, 0.0, 0.0],
        a: [0.0, 0.0],
    };

    fn norm(b: [f64; 3], a0: f64, a1: f64, a2: f64) -> Self {
        let inv = 1.0 / a0;
        Self {
            b: [b[0] * inv, b[1] * inv, b[2] * inv],
            a: [a1 * inv, a2 * inv],
        }
    }

    /// `(cos w, sin w)` of the normalised angular frequency `w = 2 pi f / rate` (kept inside
    /// (0, pi)). Every design below is a function of it, so a caller that only changes gains
    /// computes it once: the `*_at` forms take it.
    pub fn angle(f_hz: f64, rate: f64) -> (f64, f64) {
        let w = 2.0 * PI * (f_hz / rate).clamp(1e-6, 0.499);
        (w.cos(), w.sin())
    }

    /// `10^(gain_db / 40)`, the RBJ `A`.
    #[inline]
    fn amp(gain_db: f64) -> f64 {
        (gain_db * (std::f64::consts::LN_10 / 40.0)).exp()
    }

    /// Peaking bell: `gain_db` at `f_hz`, bandwidth from `q`.
    pub fn bell(f_hz: f64, q: f64, gain_db: f64, rate: f64) -> Self {
        Self::bell_at(Self::angle(f_hz, rate), q, gain_db)
    }

    /// [`Self::bell`] for a precomputed [`Self::angle`].
    pub fn bell_at((c, s): (f64, f64), q: f64, gain_db: f64) -> Self {
        let a = Self::amp(gain_db);
        let alpha = s / (2.0 * q);
        Self::norm(
            [1.0 + alpha * a, -2.0 * c, 1.0 - alpha * a],
            1.0 + alpha / a,
            -2.0 * c,
            1.0 - alpha / a,
        )
    }

    /// Low shelf: `gain_db` below `f_hz` (the midpoint of the slope), slope from `q`.
    pub fn low_shelf(f_hz: f64, q: f64, gain_db: f64, rate: f64) -> Self {
        Self::low_shelf_at(Self::angle(f_hz, rate), q, gain_db)
    }

    /// [`Self::low_shelf`] for a precomputed [`Self::angle`].
    pub fn low_shelf_at((c, s): (f64, f64), q: f64, gain_db: f64) -> Self {
        let a = Self::amp(gain_db);
        let k = 2.0 * a.sqrt() * s / (2.0 * q);
        Self::norm(
            [
                a * ((a + 1.0) - (a - 1.0) * c + k),
                2.0 * a * ((a - 1.0) - (a + 1.0) * c),
                a * ((a + 1.0) - (a - 1.0) * c - k),
            ],
            (a + 1.0) + (a - 1.0) * c + k,
            -2.0 * ((a - 1.0) + (a + 1.0) * c),
            (a + 1.0) + (a - 1.0) * c - k,
        )
    }

    /// High shelf: `gain_db` above `f_hz`.
    pub fn high_shelf(f_hz: f64, q: f64, gain_db: f64, rate: f64) -> Self {
        Self::high_shelf_at(Self::angle(f_hz, rate), q, gain_db)
    }

    /// [`Self::high_shelf`] for a precomputed [`Self::angle`].
    pub fn high_shelf_at((c, s): (f64, f64), q: f64, gain_db: f64) -> Self {
        let a = Self::amp(gain_db);
        let k = 2.0 * a.sqrt() * s / (2.0 * q);
        Self::norm(
            [
                a * ((a + 1.0) + (a - 1.0) * c + k),
                -2.0 * a * ((a - 1.0) + (a + 1.0) * c),
                a * ((a + 1.0) + (a - 1.0) * c - k),
            ],
            (a + 1.0) - (a - 1.0) * c + k,
            2.0 * ((a - 1.0) - (a + 1.0) * c),
            (a + 1.0) - (a - 1.0) * c - k,
        )
    }

    /// High-pass (low cut), 12 dB/octave; `q = 1/sqrt(2)` is Butterworth.
    pub fn high_pass(f_hz: f64, q: f64, rate: f64) -> Self {
        Self::high_pass_at(Self::angle(f_hz, rate), q)
    }

    /// [`Self::high_pass`] for a precomputed [`Self::angle`].
    pub fn high_pass_at((c, s): (f64, f64), q: f64) -> Self {
        let alpha = s / (2.0 * q);
        Self::norm(
            [(1.0 + c) / 2.0, -(1.0 + c), (1.0 + c) / 2.0],
            1.0 + alpha,
            -2.0 * c,
            1.0 - alpha,
        )
    }

    /// Low-pass (high cut), 12 dB/octave.
    pub fn low_pass(f_hz: f64, q: f64, rate: f64) -> Self {
        Self::low_pass_at(Self::angle(f_hz, rate), q)
    }

    /// [`Self::low_pass`] for a precomputed [`Self::angle`].
    pub fn low_pass_at((c, s): (f64, f64), q: f64) -> Self {
        let alpha = s / (2.0 * q);
        Self::norm(
            [(1.0 - c) / 2.0, 1.0 - c, (1.0 - c) / 2.0],
            1.0 + alpha,
            -2.0 * c,
            1.0 - alpha,
        )
    }

    /// Notch: zero gain at `f_hz`, width from `q` (RBJ).
    pub fn notch(f_hz: f64, q: f64, rate: f64) -> Self {
        Self::notch_at(Self::angle(f_hz, rate), q)
    }

    /// [`Self::notch`] for a precomputed [`Self::angle`].
    pub fn notch_at((c, s): (f64, f64), q: f64) -> Self {
        let alpha = s / (2.0 * q);
        Self::norm([1.0, -2.0 * c, 1.0], 1.0 + alpha, -2.0 * c, 1.0 - alpha)
    }

    /// Tilt shelf: `-gain_db / 2` far below `f_hz`, `+gain_db / 2` far above, 0 dB at the
    /// pivot (a high shelf of `gain_db` turned down by half its gain).
    pub fn tilt_shelf(f_hz: f64, q: f64, gain_db: f64, rate: f64) -> Self {
        Self::tilt_shelf_at(Self::angle(f_hz, rate), q, gain_db)
    }

    /// [`Self::tilt_shelf`] for a precomputed [`Self::angle`].
    pub fn tilt_shelf_at(angle: (f64, f64), q: f64, gain_db: f64) -> Self {
        let mut h = Self::high_shelf_at(angle, q, gain_db);
        let k = 1.0 / Self::amp(gain_db);
        for b in &mut h.b {
            *b *= k;
        }
        h
    }

    /// Band-pass with 0 dB peak gain at `f_hz` (the detectors' filter).
    pub fn band_pass(f_hz: f64, q: f64, rate: f64) -> Self {
        Self::band_pass_at(Self::angle(f_hz, rate), q)
    }

    /// [`Self::band_pass`] for a precomputed [`Self::angle`].
    pub fn band_pass_at((c, s): (f64, f64), q: f64) -> Self {
        let alpha = s / (2.0 * q);
        Self::norm([alpha, 0.0, -alpha], 1.0 + alpha, -2.0 * c, 1.0 - alpha)
    }

    /// Magnitude response at `f_hz`, linear (analytic: `|H(e^jw)|`).
    pub fn magnitude(&self, f_hz: f64, rate: f64) -> f64 {
        self.magnitude_at(2.0 * PI * f_hz / rate)
    }

    /// Magnitude response at `w` radians per sample, linear.
    pub fn magnitude_at(&self, w: f64) -> f64 {
        let (c1, s1, c2, s2) = (w.cos(), w.sin(), (2.0 * w).cos(), (2.0 * w).sin());
        let nr = self.b[0] + self.b[1] * c1 + self.b[2] * c2;
        let ni = -(self.b[1] * s1 + self.b[2] * s2);
        let dr = 1.0 + self.a[0] * c1 + self.a[1] * c2;
        let di = -(self.a[0] * s1 + self.a[1] * s2);
        ((nr * nr + ni * ni) / (dr * dr + di * di)).sqrt()
    }
}

/// Transposed direct form II state of one channel.
#[derive(Clone, Copy, Debug, Default)]
pub struct State {
    s1: f64,
    s2: f64,
}

impl State {
    /// One sample through `c`.
    #[inline]
    pub fn tick(&mut self, c: &Coeffs, x: f64) -> f64 {
        let y = c.b[0] * x + self.s1;
        self.s1 = c.b[1] * x - c.a[0] * y + self.s2;
        self.s2 = c.b[2] * x - c.a[1] * y;
        y
    }

    /// Clears the state.
    pub fn reset(&mut self) {
        *self = Self::default();
    }

    /// Flushes values that are not finite or are below the `f32` subnormal range, so that
    /// bad input cannot poison the filter and tails cannot stall the CPU.
    #[inline]
    pub fn sanitize(&mut self) {
        for v in [&mut self.s1, &mut self.s2] {
            if !v.is_finite() || v.abs() < 1e-30 {
                *v = 0.0;
            }
        }
    }

    /// Filters `x` in place from the current state.
    pub fn filter(&mut self, c: &Coeffs, x: &mut [f32]) {
        for v in x.iter_mut() {
            *v = self.tick(c, *v as f64) as f32;
        }
    }
}

/// Transposed direct form II state of a stereo pair, both channels through the same
/// coefficients in lock-step (written lane by lane so the compiler pairs them into one SIMD
/// register).
#[derive(Clone, Copy, Debug, Default)]
pub struct StereoState {
    s1: [f64; 2],
    s2: [f64; 2],
}

impl StereoState {
    /// Silence.
    pub const ZERO: StereoState = StereoState {
        s1: [0.0; 2],
        s2: [0.0; 2],
    };

    /// One stereo sample through `c`.
    #[inline(always)]
    pub fn tick(&mut self, c: &Coeffs, x: [f64; 2]) -> [f64; 2] {
        let y = [c.b[0] * x[0] + self.s1[0], c.b[0] * x[1] + self.s1[1]];
        self.s1 = [
            c.b[1] * x[0] - c.a[0] * y[0] + self.s2[0],
            c.b[1] * x[1] - c.a[0] * y[1] + self.s2[1],
        ];
        self.s2 = [c.b[2] * x[0] - c.a[1] * y[0], c.b[2] * x[1] - c.a[1] * y[1]];
        y
    }

    /// Flushes non-finite and sub-`f32`-range values (see [`State::sanitize`]).
    #[inline]
    pub fn sanitize(&mut self) {
        for v in self.s1.iter_mut().chain(self.s2.iter_mut()) {
            if !v.is_finite() || v.abs() < 1e-30 {
                *v = 0.0;
            }
        }
    }
}

/// Coefficients of a stereo section whose two lanes may differ (a lane that is left alone
/// runs [`Coeffs::IDENTITY`], which passes it bit-exactly).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PairCoeffs {
    b0: [f64; 2],
    b1: [f64; 2],
    b2: [f64; 2],
    a1: [f64; 2],
    a2: [f64; 2],
}

impl PairCoeffs {
    /// Both lanes identity.
    pub const IDENTITY: PairCoeffs = PairCoeffs {
        b0: [1.0; 2],
        b1: [0.0; 2],
        b2: [0.0; 2],
        a1: [0.0; 2],
        a2: [0.0; 2],
    };

    /// `c` on the lanes where `lanes` is true, the identity elsewhere.
    pub fn masked(c: &Coeffs, lanes: [bool; 2]) -> Self {
        let pick = |k: usize| if lanes[k] { *c } else { Coeffs::IDENTITY };
        let (l, r) = (pick(0), pick(1));
        Self {
            b0: [l.b[0], r.b[0]],
            b1: [l.b[1], r.b[1]],
            b2: [l.b[2], r.b[2]],
            a1: [l.a[0], r.a[0]],
            a2: [l.a[1], r.a[1]],
        }
    }

    /// The lanes that run the identity (left alone by [`Self::masked`]).
    pub fn identity_lanes(&self) -> [bool; 2] {
        std::array::from_fn(|k| {
            self.b0[k] == 1.0
                && self.b1[k] == 0.0
                && self.b2[k] == 0.0
                && self.a1[k] == 0.0
                && self.a2[k] == 0.0
        })
    }

    /// One pair of lane samples through the section.
    #[inline(always)]
    pub fn tick(&self, st: &mut StereoState, v: [f64; 2]) -> [f64; 2] {
        let y = [self.b0[0] * v[0] + st.s1[0], self.b0[1] * v[1] + st.s1[1]];
        st.s1 = [
            self.b1[0] * v[0] - self.a1[0] * y[0] + st.s2[0],
            self.b1[1] * v[1] - self.a1[1] * y[1] + st.s2[1],
        ];
        st.s2 = [
            self.b2[0] * v[0] - self.a2[0] * y[0],
            self.b2[1] * v[1] - self.a2[1] * y[1],
        ];
        y
    }

    /// [`Self::tick`] with fused multiply-adds where instruction set `I` has them (each
    /// output and state is then rounded once or twice instead of three times, and the
    /// recursion's chain is two instructions shorter); exactly [`Self::tick`] elsewhere. Lanes
    /// running the identity still pass their samples bit-exactly.
    #[inline(always)]
    pub fn tick_fused<I: Isa>(&self, st: &mut StereoState, v: [f64; 2]) -> [f64; 2] {
        if !I::FUSED {
            return self.tick(st, v);
        }
        let y: [f64; 2] = std::array::from_fn(|k| madd64::<I>(self.b0[k], v[k], st.s1[k]));
        st.s1 = std::array::from_fn(|k| {
            madd64::<I>(self.b1[k], v[k], madd64::<I>(-self.a1[k], y[k], st.s2[k]))
        });
        st.s2 = std::array::from_fn(|k| madd64::<I>(self.b2[k], v[k], -self.a2[k] * y[k]));
        y
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Response measured through the DFT of the filtered delta, in dB.
    fn measured_db(c: &Coeffs, f: f64, rate: f64) -> f64 {
        let n = 1 << 15;
        let mut x = vec![0.0f32; n];
        x[0] = 1.0;
        State::default().filter(c, &mut x);
        let (mut re, mut im) = (0.0f64, 0.0f64);
        for (i, v) in x.iter().enumerate() {
            let ph = -2.0 * PI * f * i as f64 / rate;
            re += *v as f64 * ph.cos();
            im += *v as f64 * ph.sin();
        }
        20.0 * re.hypot(im).log10()
    }

    #[test]
    fn stereo_state_equals_two_mono_states() {
        let c = Coeffs::bell(700.0, 1.3, 5.0, 48_000.0);
        let (mut a, mut b, mut st) = (State::default(), State::default(), StereoState::default());
        let mut rng = crate::dsp::rng::Rng::new(2);
        for _ in 0..1000 {
            let x = [rng.bipolar(), rng.bipolar()];
            let y = st.tick(&c, x);
            assert_eq!(y, [a.tick(&c, x[0]), b.tick(&c, x[1])]);
        }
    }

    #[test]
    fn designs_meet_their_definitions_and_the_analytic_response() {
        let r = 48_000.0;
        let bell = Coeffs::bell(1000.0, 2.0, -9.0, r);
        assert!((20.0 * bell.magnitude(1000.0, r).log10() + 9.0).abs() < 1e-9);
        assert!((20.0 * bell.magnitude(20.0, r).log10()).abs() < 0.05);
        let ls = Coeffs::low_shelf(200.0, 0.707, 6.0, r);
        assert!((20.0 * ls.magnitude(10.0, r).log10() - 6.0).abs() < 0.05);
        assert!((20.0 * ls.magnitude(200.0, r).log10() - 3.0).abs() < 0.01);
        let hs = Coeffs::high_shelf(5000.0, 0.707, -4.0, r);
        assert!((20.0 * hs.magnitude(20_000.0, r).log10() + 4.0).abs() < 0.1);
        let hp = Coeffs::high_pass(100.0, std::f64::consts::FRAC_1_SQRT_2, r);
        assert!((20.0 * hp.magnitude(100.0, r).log10() + 3.01).abs() < 0.01);
        let bp = Coeffs::band_pass(3000.0, 1.0, r);
        assert!((bp.magnitude(3000.0, r) - 1.0).abs() < 1e-9);
        for c in [bell, ls, hs, hp, Coeffs::low_pass(8000.0, 0.9, r)] {
            for f in [50.0, 300.0, 1000.0, 4000.0, 15_000.0] {
                let want = 20.0 * c.magnitude(f, r).log10();
                let got = measured_db(&c, f, r);
                assert!((got - want).abs() < 0.01, "{c:?} at {f}: {got} vs {want}");
            }
        }
    }
}
