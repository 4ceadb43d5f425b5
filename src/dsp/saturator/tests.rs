use super::*;
use realfft::RealFftPlanner;

const RATE: f32 = 48_000.0;

fn settings(mode: CharacterMode, drive_db: f32, oversample: bool) -> SaturatorSettings {
    SaturatorSettings {
        mode,
        drive_db,
        oversample: oversample.into(),
        ..Default::default()
    }
}

/// A sine at the FFT bin nearest `hz` (integer cycles in `n`), amplitude `amp`.
fn sine(hz: f64, amp: f64, len: usize, n: usize) -> (Vec<f32>, usize) {
    let k = (hz * n as f64 / RATE as f64).round() as usize;
    let f = k as f64 * RATE as f64 / n as f64;
    (
        (0..len)
            .map(|i| (amp * (std::f64::consts::TAU * f * i as f64 / RATE as f64).sin()) as f32)
            .collect(),
        k,
    )
}

fn run(s: &mut Saturator, x: &[f32]) -> Vec<f32> {
    crate::dsp::test_util::run_stage(s, x, &[128])
}

/// Power spectrum of the last `n` samples.
fn spectrum(y: &[f32], n: usize) -> Vec<f64> {
    let mut buf = y[y.len() - n..].to_vec();
    let fft = RealFftPlanner::<f32>::new().plan_fft_forward(n);
    let mut spec = fft.make_output_vec();
    fft.process(&mut buf, &mut spec).unwrap();
    spec.iter()
        .map(|z| (z.norm_sqr() as f64) / (n as f64 * n as f64))
        .collect()
}

fn db(p: f64) -> f64 {
    10.0 * p.max(1e-30).log10()
}

#[test]
fn clean_is_an_exact_null() {
    let (x, _) = sine(997.0, 0.9, 20_000, 16384);
    let mut s = Saturator::new(2, RATE, &settings(CharacterMode::Clean, 24.0, true));
    assert!(run(&mut s, &x) == x);
}

#[test]
fn harmonics_per_mode_and_warm_dc() {
    let n = 32768;
    for oversample in [false, true] {
        let (x, k) = sine(1000.0, 0.5, 48_000 + n, n);
        let h = |mode| {
            let mut s = Saturator::new(2, RATE, &settings(mode, 12.0, oversample));
            let y = run(&mut s, &x);
            let p = spectrum(&y, n);
            let dc = y[y.len() - n..].iter().map(|v| *v as f64).sum::<f64>() / n as f64;
            ((1..=5).map(|m| db(p[m * k])).collect::<Vec<_>>(), dc)
        };
        let (subtle, _) = h(CharacterMode::Subtle);
        assert!(
            subtle[2] > subtle[1] + 40.0 && subtle[4] > subtle[3] + 40.0,
            "Subtle odd dominate: {subtle:?}"
        );
        let (warm, dc) = h(CharacterMode::Warm);
        assert!(
            warm[1] > warm[2] - 20.0,
            "Warm H2 within 20 dB of H3: {warm:?}"
        );
        assert!(20.0 * dc.abs().max(1e-30).log10() < -80.0, "Warm DC {dc}");
        let (tape, _) = h(CharacterMode::Tape);
        assert!(tape[2] > tape[1] + 40.0, "Tape is symmetric: {tape:?}");
    }
}

/// Alias-to-signal ratio in dB: power outside the fundamental (and DC) over the
/// fundamental's, for a 0 dBFS sine near 12 kHz at 48 kHz.
fn alias_ratio(y: &[f32], n: usize, k: usize) -> f64 {
    let p = spectrum(y, n);
    let fund: f64 = p[k - 2..=k + 2].iter().sum();
    let other: f64 = p
        .iter()
        .enumerate()
        .filter(|(i, _)| *i > 3 && (*i + 2 < k || *i > k + 2))
        .map(|(_, v)| v)
        .sum();
    db(other / fund)
}

#[test]
fn aliasing_is_at_least_20_db_below_a_naive_waveshaper() {
    // 12 kHz exactly is fs/4, where every alias lands on the fundamental or DC and cannot be
    // seen; the nearest bin-centred frequency off it (12 029 Hz) shows them.
    let n = 16384;
    let (x, k) = sine(12_030.0, 1.0, 16_000 + n, n);
    assert_ne!(k * 4, n);
    let g = db_to_gain(18.0) as f64;
    let naive: Vec<f32> = x.iter().map(|v| (g * *v as f64).tanh() as f32).collect();
    let naive_r = alias_ratio(&naive, n, k);
    for oversample in [false, true] {
        let mut s = Saturator::new(2, RATE, &settings(CharacterMode::Subtle, 18.0, oversample));
        let ours = alias_ratio(&run(&mut s, &x), n, k);
        println!("oversample {oversample}: alias/signal {ours:.1} dB, naive {naive_r:.1} dB, improvement {:.1} dB", naive_r - ours);
        if oversample {
            assert!(
                ours <= naive_r - 20.0,
                "ADAA + 2x: {ours:.1} dB vs naive {naive_r:.1} dB"
            );
        } else {
            assert!(
                ours <= naive_r - 6.0,
                "ADAA alone: {ours:.1} dB vs naive {naive_r:.1} dB"
            );
        }
    }
}

/// The figures of each oversampling choice (`cargo test --lib oversampling_choices --
/// --nocapture` prints them; the cost is `cargo bench --bench saturation`): the aliasing of
/// the test above and where a small impulse's response peaks. 4x must alias less than 2x.
#[test]
fn oversampling_choices_alias_less_in_turn_and_start_at_sample_zero() {
    let n = 16384;
    let (x, k) = sine(12_030.0, 1.0, 16_000 + n, n);
    let mut impulse = vec![0.0f32; 256];
    impulse[0] = 0.01;
    println!("| oversampling | alias/signal, 12 kHz at 0 dBFS, drive 18 dB | peak of a small impulse, samples |");
    println!("|---|---:|---:|");
    let mut ratios = Vec::new();
    for os in [Oversampling::Off, Oversampling::X2, Oversampling::X4] {
        let set = SaturatorSettings {
            oversample: os,
            ..settings(CharacterMode::Subtle, 18.0, false)
        };
        let mut s = Saturator::new(2, RATE, &set);
        assert_eq!(s.oversampling(), os);
        let r = alias_ratio(&run(&mut s, &x), n, k);
        let mut s = Saturator::new(
            2,
            RATE,
            &SaturatorSettings {
                drive_db: 0.0,
                ..set
            },
        );
        let y = run(&mut s, &impulse);
        assert!(y[0] != 0.0, "{os:?} starts at sample 0");
        let peak = (0..y.len())
            .max_by(|a, b| y[*a].abs().total_cmp(&y[*b].abs()))
            .unwrap();
        println!("| {os:?} | {r:.1} dB | {peak} |");
        ratios.push(r);
    }
    assert!(
        ratios[2] <= ratios[1] - 15.0,
        "4x {} dB vs 2x {} dB",
        ratios[2],
        ratios[1]
    );
}

#[test]
fn offline_renders_use_the_render_oversampling() {
    let (x, _) = sine(9000.0, 0.8, 4096, 4096);
    let render = |set: &SaturatorSettings, offline: bool| {
        let mut s = Saturator::new(2, RATE, set);
        s.set_offline(offline);
        (s.oversampling(), run(&mut s, &x))
    };
    let play = SaturatorSettings {
        oversample: Oversampling::X2,
        render_oversample: Some(Oversampling::X4),
        ..settings(CharacterMode::Warm, 12.0, false)
    };
    let x4 = SaturatorSettings {
        oversample: Oversampling::X4,
        render_oversample: None,
        ..play
    };
    let x2 = SaturatorSettings {
        oversample: Oversampling::X2,
        render_oversample: None,
        ..play
    };
    // Offline the render choice applies, bit for bit; in real time the playback one.
    assert_eq!(render(&play, true), render(&x4, false));
    assert_eq!(render(&play, false), render(&x2, false));
    // "As playback" follows the playback choice offline too.
    assert_eq!(render(&x2, true), render(&x2, false));
    assert_ne!(render(&x2, false).1, render(&x4, false).1);
}

#[test]
fn delta_energy_starts_at_sample_zero() {
    let mut x = vec![0.0f32; 256];
    x[0] = 0.1;
    for mode in [
        CharacterMode::Subtle,
        CharacterMode::Warm,
        CharacterMode::Tape,
    ] {
        let mut s = Saturator::new(2, RATE, &settings(mode, 6.0, false));
        let y = run(&mut s, &x);
        let peak = y.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        assert!(
            y[0].abs() >= 0.45 * peak,
            "{mode:?}: y[0] {} vs peak {peak}",
            y[0]
        );
        let mut s = Saturator::new(2, RATE, &settings(mode, 6.0, true));
        assert!(
            run(&mut s, &x)[0] != 0.0,
            "{mode:?} oversampled starts at sample 0"
        );
    }
}

fn max_jump(y: &[f32]) -> f32 {
    y.windows(2)
        .map(|w| (w[1] - w[0]).abs())
        .fold(0.0, f32::max)
}

#[test]
fn mode_switches_and_drive_automation_do_not_click() {
    let (x, _) = sine(1000.0, 0.5, 48_000, 32768);
    let modes = [
        CharacterMode::Subtle,
        CharacterMode::Warm,
        CharacterMode::Tape,
        CharacterMode::Clean,
        CharacterMode::Warm,
    ];
    for oversample in [false, true] {
        // The steepest steady-state output of any mode and drive used below.
        let mut steady = 0.0f32;
        for m in modes {
            for d in [0.0, 24.0] {
                let mut s = Saturator::new(2, RATE, &settings(m, d, oversample));
                steady = steady.max(max_jump(&run(&mut s, &x)[4800..]));
            }
        }
        let mut s = Saturator::new(2, RATE, &settings(CharacterMode::Clean, 0.0, oversample));
        let mut y = x.clone();
        let mut r = x.clone();
        for (i, (a, b)) in y.chunks_mut(64).zip(r.chunks_mut(64)).enumerate() {
            let m = modes[(i / 120) % modes.len()];
            let drive = if (i / 60) % 2 == 0 { 0.0 } else { 24.0 };
            s.set_settings(&settings(m, drive, oversample));
            s.process(&mut [a, b]);
        }
        let jump = max_jump(&y);
        assert!(
            jump <= 1.1 * steady,
            "oversample {oversample}: jump {jump} vs steady {steady}"
        );
    }
    // A hard switch between two modes' outputs would jump far more.
    let outs: Vec<Vec<f32>> = [CharacterMode::Clean, CharacterMode::Subtle]
        .iter()
        .map(|&m| run(&mut Saturator::new(2, RATE, &settings(m, 24.0, false)), &x))
        .collect();
    let hard = (1000..1100)
        .map(|i| (outs[1][i] - outs[0][i - 1]).abs())
        .fold(0.0f32, f32::max);
    assert!(hard > 0.2, "hard switch jump {hard}");
}
