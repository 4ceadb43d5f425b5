//! Analog-matched second-order sections: digital biquads whose magnitude follows the analog
//! prototype's up to Nyquist, with no added latency (minimum phase, like the bilinear
//! designs they replace, which cramp bands above about 5 kHz at 44.1/48 kHz).
//!
//! The method is M. Vicanek's, "Matched Second Order Digital Filters" (2016):
//! - the poles are the analog poles mapped by impulse invariance (`z = e^{sT}`), exact in
//!   frequency and damping;
//! - the zeros are chosen so that the squared magnitude equals the analog one at DC, at
//!   Nyquist and at a third frequency (the band's frequency). In the basis
//!   `phi1 = sin^2(w/2)`, `phi0 = 1 - phi1`, `phi2 = 4 phi0 phi1`, the squared magnitude of a
//!   second-order polynomial is `P0 phi0 + P1 phi1 + P2 phi2`, linear in `P`, and a minimum-phase
//!   polynomial with given `P` follows in closed form.
//!
//! Two refinements of the paper's recipe, both measured over the grid of the tests:
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
//!
//! Every design takes the band's [`Omega`] (`w0 = 2 pi f0 / rate`, radians per sample, below
//! pi, with what the designs derive from it alone, computed once per frequency).

use super::biquad::Coeffs;
use std::f64::consts::PI;

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
        let hn = self.power(w0.x_nyquist).sqrt();
        let three = three_point(h0, hn, self.power(1.0), w0, a);
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
    /// `1 / phi2`.
    inv_phi2: f64,
    /// `(pi / w)^2`: Nyquist in the prototypes' variable.
    x_nyquist: f64,
}

impl Omega {
    /// `w0` radians per sample (clamped inside (0, pi)).
    pub fn new(w0: f64) -> Self {
        let w = clamp_w0(w0);
        let phi = phis(w);
        Self {
            w,
            phi,
            inv_phi2: 1.0 / phi[2],
            x_nyquist: (PI / w).powi(2),
        }
    }
}

/// The [`Omega`] of `f_hz` at `rate`, the argument of every design here.
pub fn omega(f_hz: f64, rate: f64) -> Omega {
    Omega::new(2.0 * PI * f_hz / rate)
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

/// Zeros over the poles `a` making the magnitude `h0` at DC, `hn` at Nyquist and the squared
/// magnitude `p_w0` at `w0`.
fn three_point(h0: f64, hn: f64, p_w0: f64, w0: &Omega, a: [f64; 2]) -> Coeffs {
    let pa = power_basis(a);
    let ph = w0.phi;
    let at_w0 = pa[0] * ph[0] + pa[1] * ph[1] + pa[2] * ph[2];
    let s0 = h0 * (1.0 + a[0] + a[1]).abs();
    let s1 = hn * (1.0 - a[0] + a[1]).abs();
    let p2 = (p_w0 * at_w0 - s0 * s0 * ph[0] - s1 * s1 * ph[1]) * w0.inv_phi2;
    Coeffs {
        b: factor(s0, s1, p2),
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

/// Matched low-pass (12 dB/octave section, resonance `q`): zeros from DC, Nyquist and `w0`.
pub fn low_pass(w0: &Omega, q: f64) -> Coeffs {
    let a = impulse_invariant(w0.w, 0.5 / q);
    let hn = low_pass_power(q, w0.x_nyquist).sqrt();
    three_point(1.0, hn, q * q, w0, a)
}

/// Matched high-pass: a double zero at DC (the analog 12 dB/octave asymptote), the gain
/// matched at `w0` (where the cut is heard).
pub fn high_pass(w0: &Omega, q: f64) -> Coeffs {
    let a = impulse_invariant(w0.w, 0.5 / q);
    let shape = Coeffs {
        b: [1.0, -2.0, 1.0],
        a,
    };
    let g = (high_pass_power(q, 1.0).sqrt()) / shape.magnitude_at(w0.w);
    Coeffs {
        b: [g, -2.0 * g, g],
        a,
    }
}

/// Matched band-pass (0 dB at `w0`): a zero at DC, matched at Nyquist and `w0`.
pub fn band_pass(w0: &Omega, q: f64) -> Coeffs {
    let a = impulse_invariant(w0.w, 0.5 / q);
    let hn = band_pass_power(q, w0.x_nyquist).sqrt();
    three_point(0.0, hn, 1.0, w0, a)
}

/// Matched notch: zeros on the unit circle at `w0` (a true null), the gain matched at DC.
pub fn notch(w0: &Omega, q: f64) -> Coeffs {
    let a = impulse_invariant(w0.w, 0.5 / q);
    let c = w0.w.cos();
    let g = (1.0 + a[0] + a[1]) / (2.0 - 2.0 * c);
    Coeffs {
        b: [g, -2.0 * c * g, g],
        a,
    }
}

#[cfg(test)]
mod tests;
