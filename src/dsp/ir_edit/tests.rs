use super::*;
use crate::dsp::rng::Rng;

const RATE: f32 = 48_000.0;
const CAP: usize = 20 * 48_000;

fn delta_at(k: usize, len: usize) -> Vec<Vec<f32>> {
    let mut v = vec![0.0; len];
    v[k] = 1.0;
    vec![v.clone(), v]
}

fn argmax(v: &[f32]) -> usize {
    (0..v.len())
        .max_by(|&a, &b| v[a].abs().total_cmp(&v[b].abs()))
        .unwrap()
}

fn edits() -> IrEdits {
    IrEdits::default()
}

#[test]
fn no_edits_is_the_identity() {
    let mut rng = Rng::new(1);
    let ir: Vec<Vec<f32>> = (0..2)
        .map(|_| (0..5000).map(|_| rng.bipolar() as f32).collect())
        .collect();
    let e = apply(&ir, RATE, &edits(), CAP);
    assert_eq!(e.channels, ir);
    assert_eq!((e.predelay, e.kept, e.truncated), (0, (0.0, 1.0), false));
}

#[test]
fn reverse_trim_predelay_and_stretch_put_taps_exactly_where_expected() {
    let (k, len) = (1000usize, 4800usize);
    // Reverse: k -> len - 1 - k.
    let e = apply(
        &delta_at(k, len),
        RATE,
        &IrEdits {
            reverse: true,
            ..edits()
        },
        CAP,
    );
    assert_eq!(e.channels[0].len(), len);
    assert_eq!(argmax(&e.channels[0]), len - 1 - k);
    assert_eq!(e.channels[0][len - 1 - k], 1.0);
    // Trim of 10 ms = 480 samples: k -> k - 480.
    let e = apply(
        &delta_at(k, len),
        RATE,
        &IrEdits {
            trim_ms: 10.0,
            ..edits()
        },
        CAP,
    );
    assert_eq!(e.channels[0].len(), len - 480);
    assert_eq!(e.channels[0][k - 480], 1.0);
    assert_eq!(e.channels[0].iter().filter(|v| **v != 0.0).count(), 1);
    // Pre-delay of 25 ms = 1200 samples: k -> k + 1200, zeros before.
    let e = apply(
        &delta_at(k, len),
        RATE,
        &IrEdits {
            predelay_ms: 25.0,
            ..edits()
        },
        CAP,
    );
    assert_eq!(e.predelay, 1200);
    assert_eq!(e.channels[1].len(), len + 1200);
    assert_eq!(e.channels[1][k + 1200], 1.0);
    assert!(e.channels[1][..k + 1200].iter().all(|v| *v == 0.0));
    // Stretch 150 %: k -> 1.5 k, length 1.5 len (band-limited, so the peak is the tap).
    for (pct, want) in [(150.0, 1500usize), (50.0, 500), (200.0, 2000)] {
        let e = apply(
            &delta_at(k, len),
            RATE,
            &IrEdits {
                stretch_pct: pct,
                ..edits()
            },
            CAP,
        );
        assert_eq!(argmax(&e.channels[0]), want, "stretch {pct}");
        assert_eq!(
            e.channels[0].len(),
            (len as f32 * pct / 100.0).round() as usize
        );
    }
    // All at once, in the documented order: stretch, reverse, trim, pre-delay.
    let e = apply(
        &delta_at(k, len),
        RATE,
        &IrEdits {
            stretch_pct: 200.0,
            reverse: true,
            trim_ms: 10.0,
            predelay_ms: 25.0,
            ..edits()
        },
        CAP,
    );
    assert_eq!(argmax(&e.channels[0]), (2 * len - 1 - 2 * k) - 480 + 1200);
}

#[test]
fn length_keeps_the_fraction_and_fades_out_at_the_cut() {
    let ir = vec![vec![1.0f32; 10_000]];
    let e = apply(
        &ir,
        RATE,
        &IrEdits {
            length_pct: 40.0,
            trim_ms: 50.0,
            ..edits()
        },
        CAP,
    );
    let c = &e.channels[0];
    assert_eq!(c.len(), ((10_000 - 2400) as f64 * 0.4).round() as usize);
    let fade = (CUT_FADE_S * RATE as f64) as usize;
    assert!(c[..c.len() - fade].iter().all(|v| *v == 1.0));
    assert_eq!(*c.last().unwrap(), 0.0);
    // Monotone fade.
    assert!(c.windows(2).all(|w| w[1] <= w[0]));
    assert!((e.kept.0 - 0.24).abs() < 1e-6 && (e.kept.1 - 0.544).abs() < 1e-6);
}

#[test]
fn capacity_limit_cuts_and_fades() {
    let ir = vec![vec![0.5f32; 50_000]];
    let e = apply(
        &ir,
        RATE,
        &IrEdits {
            predelay_ms: 100.0,
            ..edits()
        },
        30_000,
    );
    assert!(e.truncated);
    assert_eq!(e.channels[0].len(), 30_000);
    assert_eq!(e.channels[0][29_999], 0.0);
}

fn noise_decay(rt60: f64, seconds: f64, seed: u64) -> Vec<Vec<f32>> {
    let mut rng = Rng::new(seed);
    let n = (seconds * RATE as f64) as usize;
    let k = 1000f64.ln() / (rt60 * RATE as f64);
    vec![(0..n)
        .map(|i| (rng.bipolar() * (-k * i as f64).exp()) as f32)
        .collect()]
}

#[test]
fn decay_shaping_scales_the_measured_decay_time() {
    let ir = noise_decay(1.2, 3.0, 5);
    let t0 = decay_time_s(&ir, RATE as f64).unwrap();
    assert!((t0 - 1.2).abs() < 0.06, "estimate {t0}");
    for pct in [25.0f32, 50.0, 150.0] {
        let e = apply(
            &ir,
            RATE,
            &IrEdits {
                decay_pct: pct,
                ..edits()
            },
            CAP,
        );
        let t = decay_time_s(&e.channels, RATE as f64).unwrap();
        let want = t0 * pct as f64 / 100.0;
        assert!((t / want - 1.0).abs() < 0.05, "{pct} %: {t} vs {want}");
    }
}

#[test]
fn cuts_match_the_analytic_butterworth_response() {
    // Filter a delta and compare its DFT with the analytic response at a few frequencies.
    let n = 8192;
    let ir = delta_at(0, n);
    let e = apply(
        &ir,
        RATE,
        &IrEdits {
            low_cut_hz: 200.0,
            high_cut_hz: 5000.0,
            ..edits()
        },
        CAP,
    );
    let hp = Coeffs::high_pass(200.0, FRAC_1_SQRT_2, RATE as f64);
    let lp = Coeffs::low_pass(5000.0, FRAC_1_SQRT_2, RATE as f64);
    for f in [50.0, 200.0, 1000.0, 5000.0, 12_000.0] {
        let bin = (f * n as f64 / RATE as f64).round() as usize;
        let fb = bin as f64 * RATE as f64 / n as f64;
        let (mut re, mut im) = (0.0f64, 0.0f64);
        for (i, v) in e.channels[0].iter().enumerate() {
            let ph = -2.0 * std::f64::consts::PI * (bin * i) as f64 / n as f64;
            re += *v as f64 * ph.cos();
            im += *v as f64 * ph.sin();
        }
        let got = 20.0 * (re.hypot(im)).log10();
        let want = 20.0 * (hp.magnitude(fb, RATE as f64) * lp.magnitude(fb, RATE as f64)).log10();
        assert!((got - want).abs() < 0.05, "{f} Hz: {got} vs {want} dB");
    }
    // -3 dB at the corner of each (the other filter is far away there).
    assert!((20.0 * hp.magnitude(200.0, 48e3).log10() + 3.01).abs() < 0.01);
    assert!((20.0 * lp.magnitude(5000.0, 48e3).log10() + 3.01).abs() < 0.01);
}

#[test]
fn attack_fades_in_and_hold_delays_the_decay_shaping() {
    let ones = vec![vec![1.0f32; 48_000]];
    let e = apply(
        &ones,
        RATE,
        &IrEdits {
            attack_ms: 100.0,
            ..edits()
        },
        CAP,
    );
    let c = &e.channels[0];
    assert_eq!(c[0], 0.0);
    assert!((c[2400] - 0.5).abs() < 1e-3, "half way: {}", c[2400]);
    assert!(c[..4800].windows(2).all(|w| w[1] >= w[0]), "rises");
    assert!(c[4800..].iter().all(|&v| v == 1.0), "then untouched");
    // Hold: the decay shaping starts 200 ms in; before it the IR is untouched.
    let ir = noise_decay(1.0, 2.0, 9);
    let shaped = |hold_ms: f32| {
        apply(
            &ir,
            RATE,
            &IrEdits {
                decay_pct: 50.0,
                hold_ms,
                ..edits()
            },
            CAP,
        )
        .channels
    };
    let (held, plain) = (shaped(200.0), shaped(0.0));
    assert_eq!(held[0][..9600], ir[0][..9600]);
    assert_ne!(plain[0][..9600], ir[0][..9600]);
    // After the hold, the same envelope as without it, shifted by the hold.
    let g = |v: &[Vec<f32>], i: usize| v[0][i] as f64 / ir[0][i] as f64;
    for i in [20_000, 40_000, 60_000] {
        if ir[0][i].abs() > 1e-3 && ir[0][i - 9600].abs() > 1e-3 {
            assert!((g(&held, i) - g(&plain, i - 9600)).abs() < 1e-4, "{i}");
        }
    }
}

#[test]
fn early_and_late_levels_meet_at_the_split_without_a_step() {
    let ones = vec![vec![1.0f32; 48_000]; 2];
    let at = |early_db: f32, late_db: f32, split_ms: f32| {
        apply(
            &ones,
            RATE,
            &IrEdits {
                early_db,
                late_db,
                split_ms,
                ..edits()
            },
            CAP,
        )
    };
    let e = at(LEVEL_OFF_DB, 0.0, 50.0);
    assert_eq!(e.split, 2400);
    let c = &e.channels[0];
    let half = (SPLIT_FADE_S * 48_000.0 / 2.0) as usize;
    assert!(c[..2400 - half].iter().all(|&v| v == 0.0), "early silent");
    assert!(c[2400 + half..].iter().all(|&v| v == 1.0), "tail untouched");
    assert!((c[2400] - 0.5).abs() < 0.01);
    let step = c
        .windows(2)
        .map(|w| (w[1] - w[0]).abs())
        .fold(0.0, f32::max);
    assert!(
        step < std::f32::consts::PI / (2.0 * half as f32) * 0.51,
        "step {step}"
    );
    // +6 dB early, -12 dB late.
    let e = at(6.0, -12.0, 30.0);
    let c = &e.channels[1];
    assert!((c[100] - 10f32.powf(0.3)).abs() < 1e-5);
    assert!((c[40_000] - 10f32.powf(-0.6)).abs() < 1e-5);
}

#[test]
fn the_split_defaults_to_the_measured_mixing_time() {
    // Sparse early reflections for 60 ms, then a dense decaying tail.
    let mut rng = Rng::new(4);
    let len = 48_000;
    let mut ir = vec![0.0f32; len];
    for k in 0..12 {
        ir[k * 240 + (rng.next_u64() % 100) as usize] = 0.8 - 0.05 * k as f32;
    }
    for (i, v) in ir.iter_mut().enumerate().skip(2880) {
        *v = (0.3 * rng.bipolar() * (-(i as f64) / 8000.0).exp()) as f32;
    }
    let t = mixing_time_s(&[ir.clone()], 48_000.0).expect("becomes diffuse");
    assert!((t - 0.06).abs() < 0.015, "mixing time {t} s");
    let e = apply(
        &[ir],
        RATE,
        &IrEdits {
            late_db: -6.0,
            ..edits()
        },
        CAP,
    );
    assert_eq!(e.split, (t * 48_000.0).round() as usize);
    // An IR that never becomes diffuse (one spike): the default split.
    let e = apply(
        &delta_at(0, 48_000),
        RATE,
        &IrEdits {
            late_db: -6.0,
            ..edits()
        },
        CAP,
    );
    assert_eq!(e.split, ms_to_samples(DEFAULT_SPLIT_MS, RATE));
}

#[test]
fn t30_t60_and_the_decay_curve_of_an_exponential_decay() {
    for rt in [0.6, 1.5] {
        let ir = noise_decay(rt, 3.0 * rt, 5);
        let m = decay_measures(&ir, 48_000.0, 300);
        let t30 = m.t30_s.expect("reaches -35 dB") as f64;
        assert!((t30 / rt - 1.0).abs() < 0.05, "T30 {t30} for RT {rt}");
        let t60 = m.t60_s.expect("reaches -60 dB") as f64;
        assert!((t60 / rt - 1.0).abs() < 0.1, "T60 {t60} for RT {rt}");
        assert_eq!(m.edc_db.len(), 300);
        assert_eq!(m.edc_db[0], 0.0);
        assert!(m.edc_db.windows(2).all(|w| w[1] <= w[0]), "decays");
        // -60 dB per RT: at one third of the IR (one RT) about -60 dB.
        assert!((m.edc_db[100] + 60.0).abs() < 6.0, "{}", m.edc_db[100]);
    }
    // A short IR that never reaches -35 dB has no T30.
    let short = noise_decay(2.0, 0.3, 6);
    assert_eq!(decay_measures(&short, 48_000.0, 10).t30_s, None);
}

#[test]
fn trim_beyond_the_end_keeps_one_sample() {
    let e = apply(
        &delta_at(0, 100),
        RATE,
        &IrEdits {
            trim_ms: 400.0,
            ..edits()
        },
        CAP,
    );
    assert_eq!(e.channels[0].len(), 1);
}

#[test]
fn band_decay_follows_each_multiplier_after_the_split_of_a_factory_hall() {
    // The plugin's own render of the Large Hall, decay bands Low 150 %, Mid 100 %, High 50 %
    // (crossovers 300 Hz and 4 kHz), split at 50 ms: the T30 (from 50 ms) of an octave inside
    // each band (75-150 Hz, 1.1-2.1 kHz, 8-16 kHz; cut by zero-phase 48 dB/octave filters)
    // follows its multiplier within 5 %, and the first 50 ms are the unedited render's, bit
    // for bit.
    use crate::dsp::decay_bands::split;
    use crate::dsp::test_util::t30;
    use crate::ir_source::{render_ir, Source};
    use crate::params::Room;
    let rate = 48_000.0;
    let plain = IrEdits {
        split_ms: 50.0,
        ..IrEdits::default()
    };
    let banded = IrEdits {
        decay_low_pct: 150.0,
        decay_high_pct: 50.0,
        ..plain
    };
    let a = render_ir(&Source::Factory(Room::LargeHall), rate, &plain).channels;
    let b = render_ir(&Source::Factory(Room::LargeHall), rate, &banded).channels;
    let split_at = 2400;
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x[..split_at], y[..split_at], "the first 50 ms");
        for (octave, m) in [
            ([75.0, 150.0], 1.5),
            ([1100.0, 2100.0], 1.0),
            ([8e3, 16e3], 0.5),
        ] {
            let (bx, by) = (
                split(x, &octave, rate as f64),
                split(y, &octave, rate as f64),
            );
            let (ta, tb) = (
                t30(&[&bx[1]], split_at, rate as f64),
                t30(&[&by[1]], split_at, rate as f64),
            );
            assert!(
                (tb / ta / m - 1.0).abs() < 0.05,
                "{octave:?} Hz: T30 {ta:.3} s -> {tb:.3} s, want x{m}"
            );
        }
    }
}
