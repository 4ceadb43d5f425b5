use super::*;
use crate::dsp::rng::Rng;
use crate::dsp::test_util;

const RATE: f32 = 48_000.0;

fn sine(f: f64, amp: f64, len: usize, start: usize) -> Vec<f32> {
    test_util::sine(f, amp, len, start, RATE)
}

fn run(sd: &mut SpectralDynamics, x: &[f32], calls: &[usize]) -> Vec<f32> {
    test_util::run_stage(sd, x, calls)
}

fn amp(y: &[f32], f: f64) -> f64 {
    test_util::amplitude(y, f, RATE)
}

fn on(mode: SpectralMode) -> SpectralSettings {
    SpectralSettings {
        enabled: true,
        mode,
        threshold_db: -20.0,
        ratio: 4.0,
        knee_db: 0.0,
        range_db: 24.0,
        attack_ms: 20.0,
        release_ms: 100.0,
        ..Default::default()
    }
}

#[test]
fn band_maxima_equal_a_naive_search() {
    let mut sd = SpectralDynamics::new(RATE, &SpectralSettings::default());
    let mut rng = Rng::new(11);
    for w in [0.0, 0.01, 1.0 / 12.0, 1.0 / 6.0, 0.5, 1.0, 2.0] {
        sd.analysis.set_spans(w);
        for v in sd.analysis.level_db.iter_mut() {
            *v = (rng.bipolar() * 60.0 - 40.0) as f32;
        }
        sd.analysis.band_maxima(w);
        for k in 0..BINS {
            let want = if w > 0.0 {
                let (lo, hi) = (
                    sd.analysis.span_lo[k] as usize,
                    sd.analysis.span_hi[k] as usize,
                );
                assert!(
                    lo < k.max(1) && hi > k.min(BINS - 2),
                    "band of bin {k} at {w} oct"
                );
                sd.analysis.level_db[lo..=hi]
                    .iter()
                    .copied()
                    .fold(f32::MIN, f32::max)
            } else {
                sd.analysis.level_db[k]
            };
            assert_eq!(sd.analysis.spread_db[k], want, "bin {k} at {w} octaves");
        }
    }
}

#[test]
fn levels_read_a_sine_at_its_amplitude_wherever_it_falls() {
    let mut sd = SpectralDynamics::new(RATE, &on(SpectralMode::Down));
    for f in [1000.0, 1010.0, 1017.6, 5003.0] {
        sd.reset();
        run(&mut sd, &sine(f, 0.5, WINDOW + HOP, 0), &[HOP]);
        let k = (f as f32 / sd.bin_hz(1)).round() as usize;
        let l = sd.analysis().0[k];
        assert!((l + 6.02).abs() < 0.5, "{f} Hz reads {l} dB");
    }
}

#[test]
fn static_curve_and_frequency_selectivity() {
    let mut sd = SpectralDynamics::new(RATE, &on(SpectralMode::Down));
    let (a, low) = (10f64.powf(-6.0 / 20.0), 10f64.powf(-30.0 / 20.0));
    let len = 96_000;
    let x: Vec<f32> = sine(1000.0, a, len, 0)
        .iter()
        .zip(sine(100.0, low, len, 0))
        .map(|(p, q)| p + q)
        .collect();
    let y = run(&mut sd, &x, &[64, 100, 7]);
    let tail = &y[len - 48_000..];
    let g1k = 20.0 * (amp(tail, 1000.0) / a).log10();
    let g100 = 20.0 * (amp(tail, 100.0) / low).log10();
    // Static curve: -20 + 14/4 = -16.5 dBFS out, a gain of -10.5 dB.
    assert!((g1k + 10.5).abs() < 1.0, "1 kHz: {g1k} dB");
    assert!(g100.abs() < 0.5, "100 Hz: {g100} dB");
}

#[test]
fn an_external_key_drives_the_gains_of_the_main_signal() {
    // A quiet 1 kHz main signal (below the threshold) and a loud 1 kHz key: External
    // compresses the main signal as the key's level asks (-10.5 dB); Internal, or External
    // without a key, leaves it alone.
    let len = 96_000;
    let (quiet, loud) = (10f64.powf(-40.0 / 20.0), 10f64.powf(-6.0 / 20.0));
    let x = sine(1000.0, quiet, len, 0);
    let key = sine(1000.0, loud, len, 0);
    let gain = |source: DetectorSource, keyed: bool| {
        let mut sd = SpectralDynamics::new(
            RATE,
            &SpectralSettings {
                source,
                ..on(SpectralMode::Down)
            },
        );
        let (mut l, mut r) = (x.clone(), x.clone());
        for (k, (a, b)) in l.chunks_mut(100).zip(r.chunks_mut(100)).enumerate() {
            let ks = &key[k * 100..k * 100 + a.len()];
            sd.process_keyed(&mut [a, b], keyed.then_some([ks, ks]));
        }
        20.0 * (amp(&l[len - 48_000..], 1000.0) / quiet).log10()
    };
    let external = gain(DetectorSource::External, true);
    assert!((external + 10.5).abs() < 1.0, "external key: {external} dB");
    for (source, keyed) in [
        (DetectorSource::Internal, true),
        (DetectorSource::External, false),
    ] {
        let g = gain(source, keyed);
        assert!(g.abs() < 0.1, "{source:?}, key {keyed}: {g} dB");
    }
}

#[test]
fn channels_are_measured_and_filtered_separately_and_linked() {
    // The two channels share FFTs (packed as one complex signal); nothing of one may leak
    // into the other. A loud 1 kHz tone on one side and a quiet 3 kHz probe on the other:
    // the loud side reads its level and is compressed as in mono; the quiet side gets the
    // same (linked) 1 kHz gain and no trace of the tone.
    let (a, probe) = (10f64.powf(-6.0 / 20.0), 10f64.powf(-50.0 / 20.0));
    let len = 96_000;
    for loud in 0..2 {
        let mut sd = SpectralDynamics::new(RATE, &on(SpectralMode::Down));
        let mut x = [sine(3000.0, probe, len, 0), sine(3000.0, probe, len, 0)];
        x[loud] = sine(1000.0, a, len, 0);
        let [x0, x1] = &mut x;
        for (l, r) in x0.chunks_mut(100).zip(x1.chunks_mut(100)) {
            sd.process(&mut [l, r]);
        }
        let k = (1000.0 / sd.bin_hz(1)).round() as usize;
        assert!(
            (sd.analysis.level_db[k] + 6.0).abs() < 0.5,
            "level {}",
            sd.analysis.level_db[k]
        );
        let quiet = 1 - loud;
        let (tl, tq) = (&x[loud][len - 48_000..], &x[quiet][len - 48_000..]);
        let g = 20.0 * (amp(tl, 1000.0) / a).log10();
        assert!((g + 10.5).abs() < 1.0, "loud side {loud}: {g} dB");
        let leak = 20.0 * amp(tq, 1000.0).log10();
        assert!(
            leak < -120.0,
            "tone leaks into the other side at {leak} dBFS"
        );
        let p = 20.0 * (amp(tq, 3000.0) / probe).log10();
        assert!(p.abs() < 0.5, "probe changed by {p} dB");
    }
}

#[test]
fn upward_mode_raises_a_quiet_band() {
    let s = SpectralSettings {
        ratio: 2.0,
        range_db: 12.0,
        ..on(SpectralMode::Up)
    };
    let mut sd = SpectralDynamics::new(RATE, &s);
    let a = 10f64.powf(-40.0 / 20.0);
    let y = run(&mut sd, &sine(2000.0, a, 96_000, 0), &[128]);
    // 20 dB below the threshold, ratio 2: raised by 10 dB (within the 12 dB range).
    let g = 20.0 * (amp(&y[48_000..], 2000.0) / a).log10();
    assert!((g - 10.0).abs() < 1.0, "raised by {g} dB");
}

#[test]
fn below_threshold_or_zero_range_is_a_null() {
    let mut rng = Rng::new(4);
    let x: Vec<f32> = (0..48_000).map(|_| 0.01 * rng.bipolar() as f32).collect();
    let mut sd = SpectralDynamics::new(RATE, &on(SpectralMode::Down));
    let y = run(&mut sd, &x, &[33, 64, 500]);
    let err = x
        .iter()
        .zip(&y)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f32::max);
    assert!(
        err <= 10f32.powf(-90.0 / 20.0) * 0.01,
        "below threshold: {err}"
    );
    let loud: Vec<f32> = x.iter().map(|v| v * 80.0).collect();
    let mut sd = SpectralDynamics::new(
        RATE,
        &SpectralSettings {
            range_db: 0.0,
            ..on(SpectralMode::Down)
        },
    );
    let y = run(&mut sd, &loud, &[64]);
    let err = loud
        .iter()
        .zip(&y)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f32::max);
    assert!(err <= 10f32.powf(-90.0 / 20.0), "range 0: {err}");
}

#[test]
fn synthesised_fir_is_minimum_phase_and_follows_the_gain_curve() {
    let mut sd = SpectralDynamics::new(RATE, &on(SpectralMode::Down));
    // A smooth -12 dB dip around 2 kHz and +4 dB above 10 kHz.
    for k in 0..BINS {
        let f = sd.bin_hz(k);
        let oct = (f.max(1.0) / 2000.0).log2();
        sd.analysis.gain_db[k] =
            -12.0 * (-oct * oct / 0.18).exp() + if f > 10_000.0 { 4.0 } else { 0.0 };
    }
    // The taps the designer hands to the partitioned FIR (whose loading its own test checks).
    let mut designer = MinPhase::new();
    let h: Vec<f32> = designer
        .design(SimdLevel::detect(), &sd.analysis.gain_db)
        .expect("a new design")
        .to_vec();
    assert_eq!(h.len(), FIR_LEN);
    assert!(
        designer
            .design(SimdLevel::detect(), &sd.analysis.gain_db)
            .is_none(),
        "unchanged: no work"
    );
    let resp = |fr: f64| {
        let (mut re, mut im) = (0.0f64, 0.0f64);
        for (n, v) in h.iter().enumerate() {
            let ph = -std::f64::consts::TAU * fr * n as f64 / RATE as f64;
            re += *v as f64 * ph.cos();
            im += *v as f64 * ph.sin();
        }
        20.0 * re.hypot(im).log10()
    };
    for (fr, want) in [
        (200.0, 0.0),
        (2000.0, -12.0),
        (1400.0, -12.0 * (-(0.515f64.powi(2)) / 0.18).exp()),
        (15_000.0, 4.0),
    ] {
        let got = resp(fr);
        assert!((got - want).abs() < 0.5, "{fr} Hz: {got} vs {want}");
    }
    // Minimum phase: the energy arrives first (more in the first 32 taps than a
    // linear-phase filter of this length could have there).
    let e: f32 = h.iter().map(|v| v * v).sum();
    let e32: f32 = h[..32].iter().map(|v| v * v).sum();
    assert!(e32 > 0.95 * e, "early energy {}", e32 / e);
}

#[test]
fn attack_and_release_times_match_the_settings() {
    let s = SpectralSettings {
        attack_ms: 100.0,
        release_ms: 300.0,
        range_db: 12.0,
        threshold_db: -30.0,
        ratio: 10.0,
        ..on(SpectralMode::Down)
    };
    let mut sd = SpectralDynamics::new(RATE, &s);
    let k = (1000.0 / sd.bin_hz(1)).round() as usize;
    let mut trace = Vec::new();
    let mut n0 = 0;
    for (a, secs) in [(0.001, 1.0), (0.5, 1.5), (0.001, 2.0)] {
        let len = (secs * RATE as f64) as usize;
        let x = sine(1000.0, a, len, n0);
        n0 += len;
        for chunk in x.chunks(HOP) {
            run(&mut sd, chunk, &[HOP]);
            trace.push(sd.analysis().1[k]);
        }
    }
    let per = HOP as f32 / RATE * 1e3;
    let on = (1.0 * RATE / HOP as f32) as usize;
    let off = (2.5 * RATE / HOP as f32) as usize;
    let full = trace[off - 1];
    assert!((full + 12.0).abs() < 0.3, "settles at the range: {full}");
    let t63 = |from: usize, start: f32, target: f32| {
        let lim = (0.632 * (target - start)).abs();
        (from..trace.len())
            .find(|&i| (trace[i] - start).abs() >= lim)
            .unwrap()
            - from
    };
    let attack = t63(on, 0.0, full) as f32 * per;
    let release = t63(off, full, 0.0) as f32 * per;
    assert!((attack / 100.0 - 1.0).abs() < 0.2, "attack {attack} ms");
    assert!((release / 300.0 - 1.0).abs() < 0.2, "release {release} ms");
}

#[test]
fn no_clicks_while_the_filter_updates_and_block_size_independence() {
    // A sine whose level sweeps through the threshold: the filter changes every hop.
    let len = 96_000;
    let x: Vec<f32> = sine(700.0, 1.0, len, 0)
        .iter()
        .enumerate()
        .map(|(n, v)| v * (0.02 + 0.9 * (n as f32 / len as f32)))
        .collect();
    let s = SpectralSettings {
        attack_ms: 5.0,
        release_ms: 20.0,
        ..on(SpectralMode::Down)
    };
    let mut sd = SpectralDynamics::new(RATE, &s);
    let y = run(&mut sd, &x, &[64]);
    let jump = |v: &[f32]| {
        v.windows(2)
            .map(|w| (w[1] - w[0]).abs())
            .fold(0.0, f32::max)
    };
    // A 700 Hz sine of amplitude A moves at most 2 pi 700 / 48000 A per sample; the
    // output's amplitude is at most the input's (downward), so its steps stay below the
    // input's largest step (plus 10 % for the filter's phase wobble).
    assert!(jump(&y) <= 1.1 * jump(&x), "{} vs {}", jump(&y), jump(&x));
    let mut sd = SpectralDynamics::new(RATE, &s);
    let z = run(&mut sd, &x, &[1, 7, 300, 64, 2048]);
    assert_eq!(y, z, "output independent of the call sizes");
}

#[test]
fn delta_onset_at_sample_zero_while_compressing() {
    let s = on(SpectralMode::Down);
    let base = sine(1000.0, 0.5, 48_000, 0);
    let mut with = base.clone();
    let t0 = 40_000;
    with[t0] += 0.5;
    let mut a = SpectralDynamics::new(RATE, &s);
    let mut b = SpectralDynamics::new(RATE, &s);
    let ya = run(&mut a, &base, &[64]);
    let yb = run(&mut b, &with, &[64]);
    crate::dsp::test_util::assert_onset_at(&ya, &yb, t0);
}

#[test]
fn nan_and_subnormal_input_do_not_poison_the_state() {
    let mut sd = SpectralDynamics::new(RATE, &on(SpectralMode::Down));
    let mut x = sine(1000.0, 0.5, 4096, 0);
    x[100] = f32::NAN;
    run(&mut sd, &x, &[64]);
    // The engine sanitises input before this stage; here the NaN went straight in, and
    // after a reset everything is clean again.
    sd.reset();
    let y = run(&mut sd, &sine(1000.0, 0.5, 8192, 0), &[64]);
    assert!(y.iter().all(|v| v.is_finite()));
    let sub = vec![1e-40f32; 8192];
    let y = run(&mut sd, &sub, &[64]);
    assert!(y.iter().all(|v| v.is_finite()));
}
