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
fn three_point_matches_dc_the_band_frequency_and_the_third_point_exactly() {
    for (rate, f0, q, g) in [
        (48_000.0, 1000.0, 0.7, 9.0),
        (48_000.0, 9000.0, 1.0, 6.0),
        (44_100.0, 15_000.0, 1.0, 12.0),
        (96_000.0, 3000.0, 0.3, -12.0),
    ] {
        let w0 = omega(f0, rate);
        let wt = w0.w_t;
        let s = Biquadratic::bell(q, g);
        let c = s.design(&w0);
        for w in [1e-9, w0.w, wt] {
            let want = 10.0 * s.power((w / w0.w).powi(2)).log10();
            let got = 20.0 * c.magnitude_at(w).log10();
            assert!(
                (got - want).abs() < 1e-6,
                "{f0} {q} {g} at {w}: {got} vs {want}"
            );
        }
    }
    // A low band is matched at 18 kHz at 44.1 and 48 kHz, at Nyquist below 36 kHz, and 60 %
    // of the way to Nyquist at 96 kHz.
    let hz = |w: f64, rate: f64| w * rate / (2.0 * PI);
    for (rate, want) in [
        (44_100.0, 18_000.0),
        (48_000.0, 18_000.0),
        (32_000.0, 16_000.0),
    ] {
        let got = hz(third_point(1e-6, rate), rate);
        assert!((got - want).abs() < 1.0, "{rate}: {got}");
    }
    assert!((hz(third_point(1e-6, 96_000.0), 96_000.0) - 28_800.0).abs() < 1.0);
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

#[test]
fn notches_and_high_passes_move_continuously_with_frequency_and_q() {
    // Their poles are fitted to the analog magnitude (the high-pass's up to Q 0.5, then
    // blended into impulse-invariant poles by Q 0.707): a glide of frequency or Q must not
    // jump where the fit or the blend changes. Same measure as above: the digital response's
    // move beyond the analog one's, over a probe up to 0.95 pi, for 0.075 % frequency steps
    // from 20 Hz to 0.45 of the rate and 0.25 % Q steps from 0.1 to 40.
    let probe: Vec<f64> = (0..40)
        .map(|i| 0.002 * 1500f64.powf(i as f64 / 39.0))
        .filter(|w| *w < 0.95 * PI)
        .collect();
    type Design = fn(&Omega, f64) -> Coeffs;
    type Power = fn(f64, f64) -> f64;
    // (The high-pass above Q 0.707 is the impulse-invariant design, unchanged; near Nyquist
    // at Q 18 its peak moves by a few hundredths of a dB more than the analog one per step.)
    let kinds: [(&str, Design, Power, &[f64]); 2] = [
        (
            "notch",
            notch,
            notch_power,
            &[0.1, 0.3, 0.5, 0.707, 2.0, 18.0],
        ),
        (
            "high-pass",
            high_pass,
            high_pass_power,
            &[0.1, 0.3, 0.5, 0.6, 0.707, 2.0],
        ),
    ];
    let jump = |design: Design, power: Power, (wa, qa): (Omega, f64), (wb, qb): (Omega, f64)| {
        let (ca, cb) = (design(&wa, qa), design(&wb, qb));
        probe
            .iter()
            .map(|w| {
                let d = 20.0 * (cb.magnitude_at(*w) / ca.magnitude_at(*w)).log10();
                let a =
                    10.0 * (power(qb, (w / wb.w).powi(2)) / power(qa, (w / wa.w).powi(2))).log10();
                // Near a notch's null both sides are huge and meaningless.
                if d.is_finite() && a.is_finite() && ca.magnitude_at(*w) > 1e-3 {
                    d.abs() - a.abs()
                } else {
                    0.0
                }
            })
            .fold(0.0, f64::max)
    };
    for rate in [44_100.0, 96_000.0] {
        for (name, design, power, qs) in kinds {
            let mut worst: (f64, String) = (0.0, String::new());
            let steps = (0.45 * rate / 20.0f64).ln() / 0.00075f64.ln_1p();
            for &q in qs {
                for k in 0..steps as usize {
                    let f = |k: usize| 20.0 * 1.00075f64.powi(k as i32);
                    let j = jump(
                        design,
                        power,
                        (omega(f(k), rate), q),
                        (omega(f(k + 1), rate), q),
                    );
                    if j > worst.0 {
                        worst = (j, format!("{:.0} Hz Q {q}", f(k)));
                    }
                }
            }
            for f0 in [50.0, 1000.0, 8000.0, 18_000.0] {
                let w0 = omega(f0, rate);
                for k in 0..2400 {
                    let q = |k: usize| 0.1 * 1.0025f64.powi(k as i32);
                    let j = jump(design, power, (w0, q(k)), (w0, q(k + 1)));
                    if j > worst.0 {
                        worst = (j, format!("{f0} Hz Q {:.3} step", q(k)));
                    }
                }
            }
            assert!(
                worst.0 < 0.02,
                "{name} at {rate}: jump {:.4} dB at {}",
                worst.0,
                worst.1
            );
        }
    }
}
