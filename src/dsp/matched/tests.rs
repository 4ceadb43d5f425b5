use super::*;

const RATES: [f64; 3] = [44_100.0, 48_000.0, 96_000.0];
const QS: [f64; 9] = [0.1, 0.3, 0.5, 0.707, 1.0, 2.0, 5.0, 10.0, 18.0];
const GAINS: [f64; 10] = [-24.0, -12.0, -6.0, -1.0, -0.1, 0.1, 1.0, 6.0, 12.0, 24.0];

fn f0s(rate: f64) -> impl Iterator<Item = f64> {
    (0..=24)
        .map(|i| 20.0 * 1000f64.powf(i as f64 / 24.0))
        .filter(move |f| *f < 0.5 * rate)
}

fn shapes(q: f64, g: f64) -> [Biquadratic; 4] {
    [
        Biquadratic::bell(q, g),
        Biquadratic::low_shelf(q, g),
        Biquadratic::high_shelf(q, g),
        Biquadratic::tilt(q, g),
    ]
}

/// Roots of `1 + c1 z^-1 + c2 z^-2` are inside the unit circle (the stability triangle),
/// or on it where `on_circle` allows.
fn inside(c1: f64, c2: f64, on_circle: bool) -> bool {
    let tol = if on_circle { 1e-9 } else { 0.0 };
    c2.abs() < 1.0 + tol && c1.abs() < 1.0 + c2 + tol
}

#[test]
fn every_design_is_stable_and_minimum_phase() {
    let mut all = Vec::new();
    for rate in RATES {
        for f0 in f0s(rate) {
            let w0 = omega(f0, rate);
            for q in QS {
                for g in GAINS {
                    all.extend(shapes(q, g).map(|s| (s.design(&w0), false)));
                }
                all.push((low_pass(&w0, q), false));
                all.push((high_pass(&w0, q), true));
                all.push((band_pass(&w0, q), true));
                all.push((notch(&w0, q), true));
            }
        }
    }
    for (c, zeros_on_circle) in all {
        assert!(c.b.iter().chain(&c.a).all(|v| v.is_finite()), "{c:?}");
        assert!(inside(c.a[0], c.a[1], false), "unstable: {c:?}");
        let (z1, z2) = (c.b[1] / c.b[0], c.b[2] / c.b[0]);
        assert!(inside(z1, z2, zeros_on_circle), "not minimum phase: {c:?}");
    }
}

#[test]
fn three_point_matches_dc_nyquist_and_the_band_frequency_exactly() {
    let rate = 48_000.0;
    for (f0, q, g) in [
        (1000.0, 0.7, 9.0),
        (9000.0, 1.0, 6.0),
        (15_000.0, 1.0, 12.0),
    ] {
        let w0 = omega(f0, rate);
        let s = Biquadratic::bell(q, g);
        let c = s.design(&w0);
        for w in [1e-9, w0.w, PI] {
            let want = 10.0 * s.power((w / w0.w).powi(2)).log10();
            let got = 20.0 * c.magnitude_at(w).log10();
            assert!(
                (got - want).abs() < 1e-6,
                "{f0} {q} {g} at {w}: {got} vs {want}"
            );
        }
    }
}

#[test]
fn a_cut_undoes_the_same_boost() {
    for rate in RATES {
        for f0 in f0s(rate) {
            let w0 = omega(f0, rate);
            for q in QS {
                for g in [1.0, 6.0, 24.0] {
                    for [up, down] in [
                        [Biquadratic::bell(q, g), Biquadratic::bell(q, -g)],
                        [Biquadratic::low_shelf(q, g), Biquadratic::low_shelf(q, -g)],
                        [
                            Biquadratic::high_shelf(q, g),
                            Biquadratic::high_shelf(q, -g),
                        ],
                    ] {
                        let (u, d) = (up.design(&w0), down.design(&w0));
                        for w in [0.01, 0.3, 1.0, 2.0, 3.0] {
                            let p = u.magnitude_at(w) * d.magnitude_at(w);
                            assert!((p - 1.0).abs() < 1e-6, "{up:?} at {f0}: {p}");
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn the_response_moves_continuously_with_gain_and_frequency() {
    // The dynamic gain moves the design every 16 samples and automation glides the
    // frequency: the design must not jump where it changes regime (the blend of resonant
    // zeros, the inverse designs at 0 dB, zeros reaching Nyquist). What the response moves
    // beyond the analog prototype's own move is the design's jump; fine steps tell a jump
    // (which stays as the step shrinks) from the error's smooth variation (which shrinks with
    // it: near Nyquist the error of a resonant shelf changes by up to ~1.7 dB per dB of gain).
    let probe: Vec<f64> = (0..40)
        .map(|i| 0.002 * 1600f64.powf(i as f64 / 39.0))
        .filter(|w| *w < PI)
        .collect();
    // Largest |digital b - digital a| - |analog b - analog a| in dB over the probe.
    let jump = |(sa, wa): (&Biquadratic, Omega), (sb, wb): (&Biquadratic, Omega)| {
        let (ca, cb) = (sa.design(&wa), sb.design(&wb));
        let (wa, wb) = (wa.w, wb.w);
        probe
            .iter()
            .map(|w| {
                let d = 20.0 * (cb.magnitude_at(*w) / ca.magnitude_at(*w)).log10();
                let a = 10.0 * (sb.power((w / wb).powi(2)) / sa.power((w / wa).powi(2))).log10();
                d.abs() - a.abs()
            })
            .fold(0.0, f64::max)
    };
    let rate = 44_100.0;
    let mut worst: f64 = 0.0;
    for f0 in [100.0, 2000.0, 8000.0, 14_000.0, 19_000.0] {
        let w0 = omega(f0, rate);
        for q in [0.3, 1.0, 3.0, 10.0] {
            for k in 0..4800 {
                let (g0, g1) = (-24.0 + 0.01 * k as f64, -24.0 + 0.01 * (k + 1) as f64);
                for (a, b) in shapes(q, g0).iter().zip(&shapes(q, g1)) {
                    worst = worst.max(jump((a, w0), (b, w0)));
                }
            }
        }
    }
    assert!(
        worst < 0.02,
        "largest jump for a 0.01 dB gain step: {worst} dB"
    );
    let mut worst_f: f64 = 0.0;
    for q in [0.3, 1.0, 3.0, 10.0] {
        for g in [-12.0, 6.0, 24.0] {
            // 1 kHz to the top of the band's range, 20 kHz.
            let f = |k: usize| 1000.0 * 20f64.powf(k as f64 / 4000.0);
            for k in 0..4000 {
                let (wa, wb) = (omega(f(k), rate), omega(f(k + 1), rate));
                for s in &shapes(q, g) {
                    worst_f = worst_f.max(jump((s, wa), (s, wb)));
                }
            }
        }
    }
    assert!(
        worst_f < 0.02,
        "largest jump for a 0.075 % frequency step: {worst_f} dB"
    );
}
