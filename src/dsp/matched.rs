//! Analog-matched second-order sections: digital biquads whose magnitude follows the analog
//! prototype's up to the top of the audio band, with no added latency (minimum phase, like the bilinear
//! designs they replace, which cramp bands above about 5 kHz at 44.1/48 kHz).
//!
//! The method is M. Vicanek's, "Matched Second Order Digital Filters" (2016):
//! - the poles are the analog poles mapped by impulse invariance (`z = e^{sT}`), exact in
//!   frequency and damping;
//! - the zeros are chosen so that the squared magnitude equals the analog one at three
//!   frequencies: DC, the band's frequency and a third point. In the basis
//!   `phi1 = sin^2(w/2)`, `phi0 = 1 - phi1`, `phi2 = 4 phi0 phi1`, the squared magnitude of a
//!   second-order polynomial is `P0 phi0 + P1 phi1 + P2 phi2`, linear in `P`, and a minimum-phase
//!   polynomial with given `P` follows in closed form.
//!
//! Four refinements of the paper's recipe, each measured over the grid of the tests:
//! - The third point is not Nyquist but the top of the audio band ([`third_point`]: 18 kHz
//!   for a low band at 44.1 and 48 kHz, moving towards Nyquist with the band), where the
//!   paper's choice leaves the largest errors (a wide bell's skirt, 0.9 dB at 17 kHz).
//! - A shape whose zeros are sharper than its poles (a cut bell), or whose zeros lie above its
//!   poles at equal damping (a boosting low shelf, a cutting high shelf), is designed as its
//!   inverse and inverted, so the sharp or high features are exact poles (the paper does this
//!   for cut bells).
//! - Resonant zeros (damping below 0.35, a high-Q shelf) are beyond what three magnitude
//!   points can place: they are mapped by impulse invariance too, with the gain matched at
//!   DC, their angle stopping at Nyquist (a resonant shelf's upper corner can lie beyond it;
//!   folding it back would put a notch below Nyquist). Between damping 0.25 and 0.45 the two numerators
//!   are blended (the poles are the same, so a blend of the coefficients moves the response
//!   continuously and keeps the zeros inside the unit circle).
//! - Shapes whose zeros are fixed (the notch's null, a low cut's double zero at DC) have
//!   their poles fitted to the analog magnitude instead ([`fitted_poles`]): the denominator's
//!   squared magnitude is linear in its `phi` coefficients just as a numerator's, so three
//!   magnitude points give it and [`factor`] a stable pair (the notch from 2.38 to 0.36 dB,
//!   the 12 dB/oct low cut from 2.16 to 0.32 dB, for bands up to 5 kHz at 44.1 kHz).
//!
//! Every design takes the band's [`Omega`] (`w0 = 2 pi f0 / rate`, radians per sample, below
//! pi, with what the designs derive from it alone, computed once per frequency).

use super::biquad::Coeffs;
use std::f64::consts::{FRAC_1_SQRT_2, PI};

/// A biquadratic analog section `k (s^2 + 2 zz wz s + wz^2) / (s^2 + 2 zp wp s + wp^2)`, its
/// frequencies relative to the band's (bells, shelves, tilt).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Biquadratic {
    /// High-frequency gain (amplitude).
    pub k: f64,
    /// Zero frequency, relative.
    pub wz: f64,
    /// Zero damping.
    pub zz: f64,
    /// Pole frequency, relative.
    pub wp: f64,
    /// Pole damping.
    pub zp: f64,
}

impl Biquadratic {
    /// The RBJ analog bell: `gain_db` at the centre, bandwidth from `q`.
    pub fn bell(q: f64, gain_db: f64) -> Self {
        let a = amp(gain_db);
        Self {
            k: 1.0,
            wz: 1.0,
            zz: a / (2.0 * q),
            wp: 1.0,
            zp: 1.0 / (2.0 * a * q),
        }
    }

    /// The RBJ analog low shelf: `gain_db` below the band's frequency (its midpoint).
    pub fn low_shelf(q: f64, gain_db: f64) -> Self {
        let a = amp(gain_db);
        let z = 1.0 / (2.0 * q);
        Self {
            k: 1.0,
            wz: a.sqrt(),
            zz: z,
            wp: 1.0 / a.sqrt(),
            zp: z,
        }
    }

    /// The RBJ analog high shelf: `gain_db` above the band's frequency.
    pub fn high_shelf(q: f64, gain_db: f64) -> Self {
        let a = amp(gain_db);
        let z = 1.0 / (2.0 * q);
        Self {
            k: a * a,
            wz: 1.0 / a.sqrt(),
            zz: z,
            wp: a.sqrt(),
            zp: z,
        }
    }

    /// Tilt: the high shelf turned down by half its gain (`-gain/2` below, `+gain/2` above).
    pub fn tilt(q: f64, gain_db: f64) -> Self {
        Self {
            k: amp(gain_db),
            ..Self::high_shelf(q, gain_db)
        }
    }

    /// `|H(j w)|^2` at `x = (w / w0)^2`.
    pub fn power(&self, x: f64) -> f64 {
        let n = (self.wz * self.wz - x).powi(2) + 4.0 * (self.zz * self.wz).powi(2) * x;
        let d = (self.wp * self.wp - x).powi(2) + 4.0 * (self.zp * self.wp).powi(2) * x;
        self.k * self.k * n / d
    }

    fn inverse(&self) -> Self {
        Self {
            k: 1.0 / self.k,
            wz: self.wp,
            zz: self.zp,
            wp: self.wz,
            zp: self.zz,
        }
    }

    /// The matched section at `w0`.
    pub fn design(&self, w0: &Omega) -> Coeffs {
        let invert = self.zp > self.zz || (self.zp == self.zz && self.wp > self.wz);
        if invert {
            invert_section(self.inverse().design_direct(w0))
        } else {
            self.design_direct(w0)
        }
    }

    fn design_direct(&self, w0: &Omega) -> Coeffs {
        let a = impulse_invariant(self.wp * w0.w, self.zp);
        let h0 = self.k * (self.wz / self.wp).powi(2);
        let three = three_point(h0, self.power(w0.x_t), self.power(1.0), w0, a);
        // How far the zeros are in the resonant regime: 0 (three points) .. 1 (matched zeros).
        let t = ramp(self.zz, 0.45, 0.25);
        if t <= 0.0 {
            return three;
        }
        // The analog zeros by impulse invariance, the gain matched at DC.
        let z = impulse_invariant_below_nyquist(self.wz * w0.w, self.zz);
        let g = self.power(0.0).sqrt() * (1.0 + a[0] + a[1]) / (1.0 + z[0] + z[1]);
        let matched = [g, g * z[0], g * z[1]];
        let b = std::array::from_fn(|i| three.b[i] + t * (matched[i] - three.b[i]));
        Coeffs { b, a }
    }
}

/// `10^(gain_db / 40)`, the RBJ `A`.
fn amp(gain_db: f64) -> f64 {
    (gain_db * (std::f64::consts::LN_10 / 40.0)).exp()
}

/// `w0` kept inside (0, pi) (a band's frequency is clamped below Nyquist, as the bilinear
/// designs' was).
fn clamp_w0(w0: f64) -> f64 {
    w0.clamp(2.0 * PI * 1e-6, 2.0 * PI * 0.499)
}

/// 0 at `from`, 1 at `to`, linear between (either order).
fn ramp(x: f64, from: f64, to: f64) -> f64 {
    ((x - from) / (to - from)).clamp(0.0, 1.0)
}

/// A band's radian frequency and what the designs derive from it alone.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Omega {
    /// `2 pi f0 / rate`, inside (0, pi).
    pub w: f64,
    /// `[phi0, phi1, phi2]` at `w`.
    phi: [f64; 3],
    /// `phi` at the third matching point ([`third_point`]).
    phi_t: [f64; 3],
    /// The inverse of `[[phi1, phi2] at w, [phi1, phi2] at the third point]`: what turns the
    /// two squared magnitudes into `P1` and `P2`.
    solve: [[f64; 2]; 2],
    /// The third matching point ([`third_point`]), radians per sample.
    w_t: f64,
    /// The third matching point in the prototypes' variable, `(w_t / w)^2`.
    x_t: f64,
}

impl Omega {
    /// `w0` radians per sample (clamped inside (0, pi)).
    pub fn new(w0: f64, rate: f64) -> Self {
        let w = clamp_w0(w0);
        let phi = phis(w);
        let wt = third_point(w, rate);
        let pt = phis(wt);
        let det = phi[1] * pt[2] - phi[2] * pt[1];
        Self {
            w,
            phi,
            phi_t: pt,
            solve: [[pt[2] / det, -phi[2] / det], [-pt[1] / det, phi[1] / det]],
            w_t: wt,
            x_t: (wt / w).powi(2),
        }
    }
}

/// Where a design matches the analog magnitude besides DC and the band's frequency `w`
/// (radians per sample), at `rate` Hz: a fraction `c` of the way from `w` to Nyquist, `c` such
/// that a low band is matched at 18 kHz (0.82 at 44.1 kHz, 0.75 at 48 kHz), at least 0.6 (at
/// 96 kHz and above, 28.8 kHz and higher) and at most 1 (Nyquist, below 36 kHz).
///
/// Vicanek's recipe matches at Nyquist; a section then spends its freedom on 20-22 kHz, which
/// the audio band does not contain, and misses below. Over the tests' grid (band frequencies
/// to 10 kHz, Q 0.1-18, gains to +-24 dB, error measured 20 Hz-20 kHz) the largest bell error
/// falls from 0.94 to 0.41 dB at 44.1 kHz (0.94 to 0.29 at 48 kHz, 0.43 to 0.09 at 96 kHz);
/// 17 and 19 kHz, and fixed fractions 0.6-0.9 of the way, did worse at 44.1 or 48 kHz.
fn third_point(w: f64, rate: f64) -> f64 {
    let c = (36_000.0 / rate).clamp(0.6, 1.0);
    w + c * (PI - w)
}

/// The [`Omega`] of `f_hz` at `rate`, the argument of every design here.
pub fn omega(f_hz: f64, rate: f64) -> Omega {
    Omega::new(2.0 * PI * f_hz / rate, rate)
}

/// Denominator `[a1, a2]` of the analog pole pair of natural frequency `wp` (radians per
/// sample) and damping `z`, by impulse invariance.
fn impulse_invariant(wp: f64, z: f64) -> [f64; 2] {
    let r = (-z * wp).exp();
    let a1 = if z <= 1.0 {
        -2.0 * r * (wp * (1.0 - z * z).sqrt()).cos()
    } else {
        -2.0 * r * (wp * (z * z - 1.0).sqrt()).cosh()
    };
    [a1, r * r]
}

/// [`impulse_invariant`] for zeros, whose frequency may exceed Nyquist (a resonant shelf's
/// upper corner): their angle stops at pi (a double real zero near `z = -1`) instead of
/// folding back below it, so the response follows the analog skirt continuously.
fn impulse_invariant_below_nyquist(wz: f64, z: f64) -> [f64; 2] {
    if z < 1.0 && wz * (1.0 - z * z).sqrt() > PI {
        let r = (-z * wz).exp();
        return [2.0 * r, r * r];
    }
    impulse_invariant(wz, z)
}

/// `[phi0, phi1, phi2]` at `w`.
fn phis(w: f64) -> [f64; 3] {
    let p1 = (0.5 * w).sin().powi(2);
    let p0 = 1.0 - p1;
    [p0, p1, 4.0 * p0 * p1]
}

/// `|1 + a1 e^-jw + a2 e^-2jw|^2` in the `phi` basis: `[P0, P1, P2]`.
fn power_basis(a: [f64; 2]) -> [f64; 3] {
    [
        (1.0 + a[0] + a[1]).powi(2),
        (1.0 - a[0] + a[1]).powi(2),
        -4.0 * a[1],
    ]
}

/// The minimum-phase `[b0, b1, b2]` whose squared magnitude is `[s0^2, s1^2, p2]` in the `phi`
/// basis (`s0`, `s1` >= 0: the magnitudes at DC and Nyquist); the nearest realisable one where
/// that has no real factorisation (zeros on the unit circle).
fn factor(s0: f64, s1: f64, p2: f64) -> [f64; 3] {
    let w = 0.5 * (s0 + s1);
    let b0 = 0.5 * (w + (w * w + p2).max(0.0).sqrt());
    if b0 <= 0.0 {
        return [0.0; 3];
    }
    [b0, 0.5 * (s0 - s1), -p2 / (4.0 * b0)]
}

/// Zeros over the poles `a` making the magnitude `h0` at DC, the squared magnitude `p_t` at
/// the third matching point and `p_w0` at `w0`.
fn three_point(h0: f64, p_t: f64, p_w0: f64, w0: &Omega, a: [f64; 2]) -> Coeffs {
    let pa = power_basis(a);
    let dot = |p: &[f64; 3]| pa[0] * p[0] + pa[1] * p[1] + pa[2] * p[2];
    let (ph, pt) = (w0.phi, w0.phi_t);
    let s0 = h0 * (1.0 + a[0] + a[1]).abs();
    let r0 = p_w0 * dot(&ph) - s0 * s0 * ph[0];
    let rt = p_t * dot(&pt) - s0 * s0 * pt[0];
    let m = &w0.solve;
    let p1 = m[0][0] * r0 + m[0][1] * rt;
    let p2 = m[1][0] * r0 + m[1][1] * rt;
    Coeffs {
        b: factor(s0, p1.max(0.0).sqrt(), p2),
        a,
    }
}

/// `1 / H` of a minimum-phase section (its zeros become the poles).
fn invert_section(c: Coeffs) -> Coeffs {
    let k = 1.0 / c.b[0];
    Coeffs {
        b: [k, c.a[0] * k, c.a[1] * k],
        a: [c.b[1] * k, c.b[2] * k],
    }
}

/// Second-order analog low-pass `1 / (s^2 + s/q + 1)`, squared magnitude at `x`.
pub fn low_pass_power(q: f64, x: f64) -> f64 {
    1.0 / ((1.0 - x).powi(2) + x / (q * q))
}

/// Second-order analog high-pass `s^2 / (s^2 + s/q + 1)`, squared magnitude at `x`.
pub fn high_pass_power(q: f64, x: f64) -> f64 {
    x * x * low_pass_power(q, x)
}

/// Analog band-pass `(s/q) / (s^2 + s/q + 1)` (0 dB at the centre), squared magnitude at `x`.
pub fn band_pass_power(q: f64, x: f64) -> f64 {
    x / (q * q) * low_pass_power(q, x)
}

/// Analog notch `(s^2 + 1) / (s^2 + s/q + 1)`, squared magnitude at `x`.
pub fn notch_power(q: f64, x: f64) -> f64 {
    (1.0 - x).powi(2) * low_pass_power(q, x)
}

/// Matched low-pass (12 dB/octave section, resonance `q`): zeros from DC, `w0` and the third
/// point.
pub fn low_pass(w0: &Omega, q: f64) -> Coeffs {
    let a = impulse_invariant(w0.w, 0.5 / q);
    three_point(1.0, low_pass_power(q, w0.x_t), q * q, w0, a)
}

/// Matched high-pass: a double zero at DC (the analog 12 dB/octave asymptote). A resonant
/// section (`q` from 0.707, Butterworth) has the analog poles by impulse invariance (exact in
/// frequency and damping: its peak is where the analog one is) and its gain matched at `w0`;
/// up to `q` 0.5 the poles are fitted to the analog magnitude ([`fitted_poles`]) at a low
/// point ([`high_pass_low_point`]), at `w0` and at the third point (a gentle cut's skirt
/// reaches the top of the band, which the impulse-invariant poles miss by up to 2.2 dB);
/// between the two the coefficients are blended (both denominators are stable, and so is
/// every blend of them: the stability triangle is convex). Where no stable pair fits (`q`
/// near 0.1 with the band's frequency above 0.93 Nyquist, beyond the EQ's range), the
/// impulse-invariant design.
pub fn high_pass(w0: &Omega, q: f64) -> Coeffs {
    let zeros = [1.0, -2.0, 1.0];
    let invariant = || {
        let a = impulse_invariant(w0.w, 0.5 / q);
        let g = high_pass_power(q, 1.0).sqrt() / Coeffs { b: zeros, a }.magnitude_at(w0.w);
        Coeffs {
            b: [g, -2.0 * g, g],
            a,
        }
    };
    let t = ramp(q, 0.5, FRAC_1_SQRT_2).max(ramp(w0.w, 0.5 * PI, 0.7 * PI));
    if t >= 1.0 {
        return invariant();
    }
    let points = [high_pass_low_point(w0.w, q), w0.w, w0.w_t];
    match fitted_poles(zeros, points, |w| high_pass_power(q, (w / w0.w).powi(2))) {
        Some(f) if t <= 0.0 => f,
        Some(f) => {
            let inv = invariant();
            Coeffs {
                b: std::array::from_fn(|i| f.b[i] + t * (inv.b[i] - f.b[i])),
                a: std::array::from_fn(|i| f.a[i] + t * (inv.a[i] - f.a[i])),
            }
        }
        None => invariant(),
    }
}

/// Matched band-pass (0 dB at `w0`): a zero at DC, matched at `w0` and the third point.
pub fn band_pass(w0: &Omega, q: f64) -> Coeffs {
    let a = impulse_invariant(w0.w, 0.5 / q);
    three_point(0.0, band_pass_power(q, w0.x_t), 1.0, w0, a)
}

/// Matched notch: zeros on the unit circle at `w0` (a true null), the poles fitted to the
/// analog magnitude ([`fitted_poles`]) at DC, at the lower -3 dB edge and at the third point;
/// where no stable pair fits, impulse-invariant poles with the gain matched at DC.
pub fn notch(w0: &Omega, q: f64) -> Coeffs {
    let c = w0.w.cos();
    let zeros = [1.0, -2.0 * c, 1.0];
    let half = 0.5 / q;
    let lower = w0.w * ((1.0 + half * half).sqrt() - half);
    let points = [0.0, lower, w0.w_t];
    if let Some(c) = fitted_poles(zeros, points, |w| notch_power(q, (w / w0.w).powi(2))) {
        return c;
    }
    let a = impulse_invariant(w0.w, 0.5 / q);
    let g = (1.0 + a[0] + a[1]) / (2.0 - 2.0 * c);
    Coeffs {
        b: [g, -2.0 * c * g, g],
        a,
    }
}

/// The lower matching point of a high-pass: half its frequency, or half its lower pole's
/// where the poles are real (`q` < 0.5: the 12 dB/octave asymptote lies below that pole).
fn high_pass_low_point(w0: f64, q: f64) -> f64 {
    let h = 0.5 / q;
    let lower = h - (h * h - 1.0).max(0.0).sqrt();
    0.5 * w0 * lower.min(1.0)
}

/// Poles over the fixed `zeros` such that the squared magnitude equals `target` at the three
/// `points` (radians per sample, distinct): the denominator's squared magnitude is linear in
/// its `phi`-basis coefficients `E`, `E(w) = |zeros(w)|^2 / target(w)` at each point, and a
/// stable denominator with that squared magnitude follows by [`factor`]. `None` where the fit
/// has no stable realisation (poles on or outside the unit circle, or a negative power).
fn fitted_poles(zeros: [f64; 3], points: [f64; 3], target: impl Fn(f64) -> f64) -> Option<Coeffs> {
    let z =
        power_basis([zeros[1] / zeros[0], zeros[2] / zeros[0]]).map(|p| p * zeros[0] * zeros[0]);
    let mut m = [[0.0; 3]; 3];
    let mut r = [0.0; 3];
    for (k, &w) in points.iter().enumerate() {
        let ph = phis(w);
        m[k] = ph;
        r[k] = (z[0] * ph[0] + z[1] * ph[1] + z[2] * ph[2]) / target(w);
    }
    let e = solve3(m, r)?;
    if !(e[0] > 0.0 && e[1] > 0.0) || e.iter().any(|v| !v.is_finite()) {
        return None;
    }
    let (s0, s1) = (e[0].sqrt(), e[1].sqrt());
    // A real factorisation needs the discriminant of `factor` to be positive.
    let w = 0.5 * (s0 + s1);
    if w * w + e[2] <= 0.0 {
        return None;
    }
    let d = factor(s0, s1, e[2]);
    let a = [d[1] / d[0], d[2] / d[0]];
    // Strictly inside the stability triangle, with a margin for the arithmetic.
    if !(a[1].abs() < 1.0 - 1e-12 && a[0].abs() < 1.0 + a[1] - 1e-12) {
        return None;
    }
    Some(Coeffs {
        b: zeros.map(|v| v / d[0]),
        a,
    })
}

/// `m x = r` by Cramer's rule; `None` if `m` is singular.
fn solve3(m: [[f64; 3]; 3], r: [f64; 3]) -> Option<[f64; 3]> {
    let det = |m: &[[f64; 3]; 3]| {
        m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1])
            - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
            + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
    };
    let d = det(&m);
    if d.abs() < 1e-300 {
        return None;
    }
    Some(std::array::from_fn(|j| {
        let mut mj = m;
        for k in 0..3 {
            mj[k][j] = r[k];
        }
        det(&mj) / d
    }))
}

#[cfg(test)]
mod tests;
