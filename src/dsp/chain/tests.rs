use super::*;
use crate::dsp::convolver::{CostModel, PartitionPlan};
use crate::dsp::rng::Rng;

fn engine(settings: &Settings, ir: &[f32]) -> Engine {
    let plan = PartitionPlan::for_ir(ir.len(), 2, 2, 2, &CostModel::default());
    let k = Kernel::new(&plan, &[ir], 2, 2);
    Engine::new(48_000.0, Some(Box::new(k)), settings)
}

fn ir() -> Vec<f32> {
    let mut rng = Rng::new(3);
    (0..4000)
        .map(|i| {
            if i == 0 {
                1.0
            } else {
                (0.3 * rng.bipolar() * (-(i as f64) / 800.0).exp()) as f32
            }
        })
        .collect()
}

fn run(e: &mut Engine, x: &[f32], calls: &[usize]) -> Vec<f32> {
    crate::dsp::test_util::run_stereo(
        |ch| {
            e.process(ch);
        },
        x,
        calls,
    )
}

#[test]
fn bypass_is_a_null_after_its_crossfade_and_dry_mix_is_a_gain() {
    let mut rng = Rng::new(9);
    let x: Vec<f32> = (0..20_000).map(|_| rng.bipolar() as f32 * 0.5).collect();
    let mut e = engine(
        &Settings {
            bypass: true,
            input_gain_db: 6.0,
            ..Default::default()
        },
        &ir(),
    );
    assert_eq!(
        run(&mut e, &x, &[64]),
        x,
        "bypassed output must equal input exactly"
    );
    let mut e = engine(
        &Settings {
            mix: 0.0,
            input_gain_db: -6.0,
            output_gain_db: 3.0,
            ..Default::default()
        },
        &ir(),
    );
    let y = run(&mut e, &x, &[100]);
    let g = db_to_gain(-3.0);
    assert!(y.iter().zip(&x).all(|(a, b)| (a - b * g).abs() < 1e-6));
}

#[test]
fn delta_onset_at_sample_zero_and_block_size_independent() {
    let mut x = vec![0.0f32; 9000];
    x[0] = 1.0;
    let s = Settings {
        mix: 1.0,
        ..Default::default()
    };
    let a = run(&mut engine(&s, &ir()), &x, &[1, 7, 64, 511, 2048]);
    let b = run(&mut engine(&s, &ir()), &x, &[4096]);
    assert!((a[0] - 1.0).abs() < 1e-6, "wet onset at sample 0: {}", a[0]);
    let h = ir();
    for n in 0..4000 {
        assert!(
            (a[n] - h[n]).abs() < 1e-5 && (a[n] - b[n]).abs() < 1e-6,
            "n {n}"
        );
    }
}

/// A +12 dB bell at 1 kHz on band 2.
fn boosting(mut s: Settings) -> Settings {
    s.eq[2].enabled = true;
    s.eq[2].freq_hz = 1000.0;
    s.eq[2].gain_db = 12.0;
    s.eq[2].q = 1.0;
    s
}

#[test]
fn on_the_return_the_eq_shapes_only_the_wet_signal() {
    let mut rng = Rng::new(4);
    let x: Vec<f32> = (0..20_000).map(|_| 0.3 * rng.bipolar() as f32).collect();
    let dry = boosting(Settings {
        mix: 0.0,
        eq_placement: EqPlacement::Return,
        ..Default::default()
    });
    assert_eq!(
        run(&mut engine(&dry, &ir()), &x, &[64, 100]),
        x,
        "dry untouched"
    );
    // Fully wet, a static EQ commutes with the reverb: the same output in both places.
    let wet = Settings { mix: 1.0, ..dry };
    let a = run(&mut engine(&wet, &ir()), &x, &[64]);
    let input = Settings {
        eq_placement: EqPlacement::Input,
        ..wet
    };
    let b = run(&mut engine(&input, &ir()), &x, &[256, 7]);
    let err = a
        .iter()
        .zip(&b)
        .map(|(p, q)| (p - q).abs())
        .fold(0.0f32, f32::max);
    assert!(err < 1e-4, "{err}");
    let plain = run(
        &mut engine(
            &Settings {
                mix: 1.0,
                ..Default::default()
            },
            &ir(),
        ),
        &x,
        &[64],
    );
    assert!(
        a.iter().zip(&plain).any(|(p, q)| (p - q).abs() > 0.05),
        "the EQ acts"
    );
}

#[test]
fn a_change_of_placement_crossfades() {
    // Dry only, a 1 kHz sine through a +12 dB bell at the input; the section moves to the
    // return: the output falls to the plain sine over the fade, without a step, and is
    // then exactly the input.
    let f = 1000.0;
    let x = crate::dsp::test_util::sine(f, 0.2, 24_000, 0, 48_000.0);
    let s = boosting(Settings {
        mix: 0.0,
        ..Default::default()
    });
    let mut e = engine(&s, &ir());
    let (mut l, mut r) = (x.clone(), x.clone());
    e.process(&mut [&mut l[..9_000], &mut r[..9_000]]);
    e.set_settings(&Settings {
        eq_placement: EqPlacement::Return,
        ..s
    });
    for (a, b) in l[9_000..].chunks_mut(37).zip(r[9_000..].chunks_mut(37)) {
        e.process(&mut [a, b]);
    }
    let peak = l.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    assert!(peak > 0.7, "boosted before the change: {peak}");
    let jump = l
        .windows(2)
        .map(|w| (w[1] - w[0]).abs())
        .fold(0.0, f32::max);
    let bound = 1.1 * std::f32::consts::TAU * f as f32 / 48_000.0 * peak;
    assert!(jump <= bound, "jump {jump} vs {bound}");
    let fade = (PLACEMENT_MS * 48.0) as usize;
    assert_eq!(
        &l[9_000 + fade..],
        &x[9_000 + fade..],
        "then the dry input exactly"
    );
}

#[test]
fn every_simd_level_gives_the_baseline_output() {
    // Every vectorised stage on: dynamic bands, spectral dynamics, the convolver.
    let mut s = Settings {
        mix: 0.5,
        ..Default::default()
    };
    for b in &mut s.eq {
        b.enabled = true;
        b.dynamic = crate::dsp::dynamic_eq::DynamicMode::Down;
    }
    s.spectral.enabled = true;
    s.character.mode = crate::dsp::saturator::CharacterMode::Warm;
    let mut rng = Rng::new(21);
    let x: Vec<f32> = (0..24_000).map(|_| 0.5 * rng.bipolar() as f32).collect();
    let outputs: Vec<(SimdLevel, Vec<f32>)> = SimdLevel::available()
        .into_iter()
        .map(|level| {
            let mut e = engine(&s, &ir());
            e.set_simd_level(level);
            (level, run(&mut e, &x, &[64, 17, 256]))
        })
        .collect();
    let (_, base) = &outputs[0];
    let peak = base.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    assert!(peak > 0.1);
    for (level, y) in &outputs[1..] {
        let err = y
            .iter()
            .zip(base)
            .fold(0.0f32, |m, (a, b)| m.max((a - b).abs()));
        assert!(
            err < 1e-4 * peak,
            "{level:?}: max difference {err} (peak {peak})"
        );
    }
}

#[test]
fn every_new_option_keeps_the_onset_at_sample_zero() {
    let mut x = vec![0.0f32; 9000];
    x[0] = 1.0;
    let mut s = Settings {
        mix: 1.0,
        eq_placement: EqPlacement::Return,
        duck: DuckSettings {
            threshold_db: -60.0,
            depth_db: 12.0,
            release_ms: 100.0,
            mode: DuckMode::Broadband,
        },
        ..Default::default()
    };
    s.eq[5].enabled = true; // a 48 dB/oct low cut at 30 Hz on the mid
    s.eq[5].slope = crate::dsp::dynamic_eq::Slope::Db48;
    s.eq[5].placement = crate::dsp::dynamic_eq::Placement::Mid;
    let a = run(&mut engine(&s, &ir()), &x, &[1, 7, 64]);
    // The cut's sections scale the first sample by the product of their b0 (0.99).
    assert!((a[0] - 1.0).abs() < 0.02, "onset at sample 0: {}", a[0]);
    assert!(a[1..].iter().all(|v| v.abs() < 0.5), "no later onset");
}

#[test]
fn ducking_turns_the_wet_signal_down_under_a_loud_dry_signal() {
    // Fully wet; a -6 dBFS burst ducks the reverb by the depth (12 dB) while it plays.
    let x = crate::dsp::test_util::sine(500.0, 0.5, 48_000, 0, 48_000.0);
    let s = Settings {
        mix: 1.0,
        ..Default::default()
    };
    let ducked = Settings {
        duck: DuckSettings {
            threshold_db: -30.0,
            depth_db: 12.0,
            release_ms: 200.0,
            mode: DuckMode::Broadband,
        },
        ..s
    };
    let plain = run(&mut engine(&s, &ir()), &x, &[64]);
    let y = run(&mut engine(&ducked, &ir()), &x, &[64, 333]);
    let rms = |v: &[f32]| (v.iter().map(|a| a * a).sum::<f32>() / v.len() as f32).sqrt();
    let db = 20.0 * (rms(&y[24_000..]) / rms(&plain[24_000..])).log10();
    assert!((db + 12.0).abs() < 1.2, "{db} dB");
}

/// Dry only, a dynamic bell at 1 kHz (Down, threshold -20 dB) listening to the sidechain,
/// and a 1 kHz sine at 0.5 for one second: the sidechain tests' setting and main signal.
fn keyed_bell_over_a_loud_sine() -> (Settings, Vec<f32>) {
    let mut s = Settings {
        mix: 0.0,
        ..Default::default()
    };
    s.eq[2] = crate::dsp::dynamic_eq::BandSettings {
        enabled: true,
        freq_hz: 1000.0,
        q: 2.0,
        dynamic: crate::dsp::dynamic_eq::DynamicMode::Down,
        threshold_db: -20.0,
        source: crate::dsp::DetectorSource::External,
        ..s.eq[2]
    };
    (
        s,
        crate::dsp::test_util::sine(1000.0, 0.5, 48_000, 0, 48_000.0),
    )
}

/// Plays `x` on both channels with `key` on both sidechain channels, 128 samples a call;
/// returns the left output.
fn play_keyed(e: &mut Engine, x: &[f32], key: &[f32]) -> Vec<f32> {
    let (mut l, mut r) = (x.to_vec(), x.to_vec());
    for ((a, b), k) in l
        .chunks_mut(128)
        .zip(r.chunks_mut(128))
        .zip(key.chunks(128))
    {
        e.process_keyed(&mut [a, b], Some([k, k]));
    }
    l
}

#[test]
fn external_detectors_follow_the_sidechain_once_it_carries_sound() {
    // A dynamic bell at 1 kHz listening to the sidechain; the main signal is a loud 1 kHz
    // sine. While the sidechain is silent (nothing connected), the band listens to the main
    // signal and compresses; once the sidechain has carried sound, its silence means
    // "no compression"; a reset forgets it.
    let (s, x) = keyed_bell_over_a_loud_sine();
    let mut e = engine(&s, &ir());
    let play = |e: &mut Engine, key: &[f32]| {
        play_keyed(e, &x, key);
        e.eq().dynamic_gain_db()[2]
    };
    let silence = vec![0.0f32; 48_000];
    assert!(
        play(&mut e, &silence) < -6.0,
        "falls back to the main signal"
    );
    assert!(!e.sidechain_live());
    let mut blip = silence.clone();
    blip[100] = 0.1;
    let g = play(&mut e, &blip);
    assert!(e.sidechain_live());
    assert!(
        g > -0.5,
        "a live but silent sidechain releases the band: {g} dB"
    );
    e.reset();
    assert!(!e.sidechain_live());
    assert!(play(&mut e, &silence) < -6.0);
}

#[test]
fn the_hosts_word_about_the_sidechain_overrides_the_silence_rule() {
    // As above, with the host's word: "connected" makes a silent sidechain mean "no
    // compression" from the first sample; "not connected" ignores even a loud sidechain.
    let (s, x) = keyed_bell_over_a_loud_sine();
    let play = |word: Option<bool>, key: &[f32]| {
        let mut e = engine(&s, &ir());
        e.set_key_connected(word);
        let l = play_keyed(&mut e, &x, key);
        (e.eq().dynamic_gain_db()[2], l)
    };
    let silence = vec![0.0f32; 48_000];
    let loud_key = crate::dsp::test_util::sine(1000.0, 0.9, 48_000, 0, 48_000.0);
    let quiet_main = |word| play(word, &loud_key);
    assert!(play(None, &silence).0 < -6.0, "no word: silence falls back");
    let (g, _) = play(Some(true), &silence);
    assert!(g > -0.5, "connected and silent: no reduction ({g} dB)");
    // Not connected: the loud key is ignored; the band follows the main signal exactly as
    // with no sidechain at all.
    let (g_off, y_off) = quiet_main(Some(false));
    let mut e = engine(&s, &ir());
    let (mut l, mut r) = (x.clone(), x.clone());
    for (a, b) in l.chunks_mut(128).zip(r.chunks_mut(128)) {
        e.process_keyed(&mut [a, b], None);
    }
    assert_eq!(y_off, l, "an inactive port is no sidechain");
    assert!((g_off - e.eq().dynamic_gain_db()[2]).abs() < 1e-6);
    let (g_on, _) = quiet_main(Some(true));
    assert!(
        g_on < g_off - 1.0,
        "the loud key compresses more: {g_on} vs {g_off}"
    );
}

#[test]
fn a_band_solo_plays_what_the_band_acts_on_and_fades_in_and_out() {
    use crate::dsp::dynamic_eq::Placement;
    // 200 Hz, 1 kHz and 5 kHz at equal level through a 1 kHz band (Q 2), dry only.
    let len = 48_000;
    let sine = |f: f64| crate::dsp::test_util::sine(f, 0.2, len, 0, 48_000.0);
    let (a, b, c) = (sine(200.0), sine(1000.0), sine(5000.0));
    let x: Vec<f32> = (0..len).map(|i| a[i] + b[i] + c[i]).collect();
    let mut s = boosting(Settings {
        mix: 0.0,
        ..Default::default()
    });
    s.eq[2].q = 2.0;
    let bp = Coeffs::band_pass(1000.0, 2.0, 48_000.0);
    for placement in [Placement::Stereo, Placement::Left, Placement::Mid] {
        s.eq[2].placement = placement;
        let mut e = engine(&s, &ir());
        e.set_solo(Some(2));
        let (mut l, mut r) = (x.clone(), x.clone());
        for (p, q) in l.chunks_mut(100).zip(r.chunks_mut(100)) {
            e.process(&mut [p, q]);
        }
        let db = |y: &[f32], f: f64| {
            20.0 * (crate::dsp::test_util::amplitude(&y[24_000..], f, 48_000.0) / 0.2).log10()
        };
        for f in [200.0, 1000.0, 5000.0] {
            let want = 20.0 * bp.magnitude(f, 48_000.0).log10();
            assert!(
                (db(&l, f) - want).abs() < 0.1,
                "{placement:?}: {f} Hz at {} dB, the band-pass says {want}",
                db(&l, f)
            );
        }
        match placement {
            Placement::Left => assert!(r[2000..].iter().all(|&v| v == 0.0), "right silent"),
            _ => assert_eq!(l, r, "{placement:?}: the same on both sides"),
        }
        // Released: back to the band's normal output after the fade, without a step.
        e.set_solo(None);
        let (mut l2, mut r2) = (x.clone(), x.clone());
        e.process(&mut [&mut l2, &mut r2]);
        assert_eq!(e.solo(), None);
        let mut f = engine(&s, &ir());
        let (mut l3, mut r3) = (x.clone(), x.clone());
        f.process(&mut [&mut l3, &mut r3]);
        let fade = (SOLO_MS * 48.0) as usize;
        let err = l2[fade + 2000..]
            .iter()
            .zip(&l3[fade + 2000..])
            .map(|(p, q)| (p - q).abs())
            .fold(0.0, f32::max);
        assert!(err < 1e-4, "{placement:?}: {err}");
        let jump = l2[..fade + 10]
            .windows(2)
            .map(|w| (w[1] - w[0]).abs())
            .fold(0.0, f32::max);
        // Three sines of 0.2 (one boosted 12 dB): at most 2 pi 5 kHz / 48 kHz per unit.
        assert!(jump < 0.75, "{placement:?}: jump {jump}");
    }
}

#[test]
fn automation_ramps_without_steps() {
    let x = vec![0.5f32; 4800];
    let mut e = engine(
        &Settings {
            mix: 0.0,
            ..Default::default()
        },
        &ir(),
    );
    let mut l = x.clone();
    let mut r = x.clone();
    e.process(&mut [&mut l[..100], &mut r[..100]]);
    e.set_settings(&Settings {
        mix: 0.0,
        output_gain_db: -24.0,
        ..Default::default()
    });
    e.process(&mut [&mut l[100..], &mut r[100..]]);
    let max_step = l
        .windows(2)
        .map(|w| (w[1] - w[0]).abs())
        .fold(0.0f32, f32::max);
    // A 20 ms linear ramp from 0.5 to 0.5*0.063 moves at most 0.47/960 per sample.
    assert!(max_step < 0.47 / 960.0 * 1.01, "step {max_step}");
    assert!((l[4799] - 0.5 * db_to_gain(-24.0)).abs() < 1e-6);
}

#[test]
fn an_absurd_burst_is_silence_and_hot_signals_pass_bit_exactly() {
    // One corrupt buffer of 1e30 samples inside a signal: the output stays at the level
    // of the real signal, with the reverb fully wet.
    let mut rng = crate::dsp::rng::Rng::new(5);
    let mut x: Vec<f32> = (0..48_000).map(|_| 0.5 * rng.bipolar() as f32).collect();
    for v in &mut x[10_000..10_512] {
        *v = 1e30;
    }
    x[20_000] = -3e5;
    let wet = Settings {
        mix: 1.0,
        ..Default::default()
    };
    let y = run(&mut engine(&wet, &ir()), &x, &[64, 333]);
    let mut clean = x.clone();
    clean[10_000..10_512].fill(0.0);
    clean[20_000] = 0.0;
    let want = run(&mut engine(&wet, &ir()), &clean, &[512]);
    assert!(y.iter().zip(&want).all(|(a, b)| (a - b).abs() < 1e-5));
    assert!(y.iter().all(|v| v.abs() < 100.0));

    // +24 dBFS noise and the bound itself pass the dry path bit-exactly.
    let mut hot: Vec<f32> = (0..20_000).map(|_| 15.85 * rng.bipolar() as f32).collect();
    hot[100] = MAX_INPUT_LEVEL;
    hot[200] = -MAX_INPUT_LEVEL;
    let dry = Settings {
        mix: 0.0,
        ..Default::default()
    };
    let y = run(&mut engine(&dry, &ir()), &hot, &[64, 1000]);
    assert_eq!(y, hot, "hot input is untouched");
    let bypassed = Settings {
        bypass: true,
        ..Default::default()
    };
    let y = run(&mut engine(&bypassed, &ir()), &hot, &[64]);
    assert_eq!(y, hot, "bypass passes hot input");
}

#[test]
fn nan_and_inf_do_not_poison_the_reverb() {
    let mut x = vec![0.0f32; 20_000];
    x[10] = f32::NAN;
    x[20] = f32::INFINITY;
    x[30] = 1.0;
    let mut e = engine(
        &Settings {
            mix: 1.0,
            ..Default::default()
        },
        &ir(),
    );
    let y = run(&mut e, &x, &[64]);
    assert!(y.iter().all(|v| v.is_finite()));
    assert!((y[30] - 1.0).abs() < 1e-6, "later input still processed");
}

/// A section that acts, at `placement`: a 12 dB bell at 1 kHz, a dynamic bell cutting 3 kHz
/// by up to 6 dB over -30 dBFS, and the spectral compressor.
fn working_section(placement: EqPlacement) -> Settings {
    let mut s = boosting(Settings {
        eq_placement: placement,
        input_gain_db: -3.0,
        output_gain_db: 2.0,
        ..Default::default()
    });
    s.eq[4].enabled = true;
    s.eq[4].freq_hz = 3000.0;
    s.eq[4].gain_db = -6.0;
    s.eq[4].kind = crate::dsp::dynamic_eq::BandKind::Bell;
    s.eq[4].dynamic = crate::dsp::dynamic_eq::DynamicMode::Down;
    s.eq[4].threshold_db = -30.0;
    s.spectral.enabled = true;
    s.spectral.threshold_db = -40.0;
    s
}

fn level_db(x: &[f32]) -> f64 {
    10.0 * (x.iter().map(|v| (*v as f64).powi(2)).sum::<f64>() / x.len() as f64).log10()
}

#[test]
fn delta_plus_the_sections_output_is_its_input_at_either_place() {
    // At the input (mix 0, Clean: the output is the section's output times the output gain)
    // and on the return (mix 1, a delta IR: the wet path is the section's output), the delta
    // listening plus the normal output gives the section's input, below -120 dB; onset at
    // sample 0; any block size.
    let mut rng = Rng::new(31);
    let x: Vec<f32> = (0..24_000)
        .map(|i| (rng.bipolar() * if i % 9000 < 4000 { 0.6 } else { 0.02 }) as f32)
        .collect();
    let mut delta_ir = vec![0.0f32; 64];
    delta_ir[0] = 1.0;
    for (placement, mix) in [(EqPlacement::Input, 0.0), (EqPlacement::Return, 1.0)] {
        let normal = Settings {
            mix,
            ..working_section(placement)
        };
        let listening = Settings {
            listening: Listening::Delta,
            ..normal
        };
        let out = run(&mut engine(&normal, &delta_ir), &x, &[512]);
        let delta = run(&mut engine(&listening, &delta_ir), &x, &[1, 64, 333]);
        let g = db_to_gain(-3.0) * db_to_gain(2.0);
        let sum: Vec<f32> = out.iter().zip(&delta).map(|(a, b)| a + b).collect();
        let err: Vec<f32> = sum.iter().zip(&x).map(|(s, x)| s - x * g).collect();
        let e = level_db(&err) - level_db(&x);
        assert!(
            e < -120.0,
            "{placement:?}: delta + output - input at {e:.1} dB"
        );
        // The section does something here: the delta is not silence.
        assert!(level_db(&delta) - level_db(&x) > -40.0, "{placement:?}");
    }
}

#[test]
fn wet_only_is_the_wet_path_and_listening_crossfades() {
    let mut rng = Rng::new(32);
    let x: Vec<f32> = (0..30_000).map(|_| rng.bipolar() as f32 * 0.3).collect();
    let base = Settings {
        mix: 0.25,
        width: 1.5,
        wet_level_db: -4.0,
        output_gain_db: 1.5,
        ..Default::default()
    };
    let wet_only = run(
        &mut engine(
            &Settings {
                listening: Listening::WetOnly,
                ..base
            },
            &ir(),
        ),
        &x,
        &[128],
    );
    let full_mix = run(
        &mut engine(&Settings { mix: 1.0, ..base }, &ir()),
        &x,
        &[77],
    );
    let worst = wet_only
        .iter()
        .zip(&full_mix)
        .fold(0.0f32, |m, (a, b)| m.max((a - b).abs()));
    assert!(worst < 1e-6, "wet only = the mix at 100 %: {worst}");
    // Switching to wet only and back while playing: ramps of SOLO_MS, no step.
    let mut e = engine(&base, &ir());
    let tone: Vec<f32> = (0..48_000).map(|i| 0.5 * (i as f32 * 0.03).sin()).collect();
    let mut y = Vec::new();
    for (k, chunk) in tone.chunks(4800).enumerate() {
        let listening = if (3..6).contains(&k) {
            Listening::WetOnly
        } else {
            Listening::Normal
        };
        e.set_settings(&Settings { listening, ..base });
        let mut l = chunk.to_vec();
        let mut r = chunk.to_vec();
        e.process(&mut [&mut l, &mut r]);
        y.extend(l);
    }
    let step = y
        .windows(2)
        .map(|w| (w[1] - w[0]).abs())
        .fold(0.0f32, f32::max);
    assert!(step < 0.1, "largest sample step {step}");
}

/// Level of `y[from..from + 8192]` (Hann window) within a sixth of an octave of `hz`, dB.
fn band_db(y: &[f32], from: usize, hz: f64) -> f64 {
    let n = 8192;
    let w: Vec<f64> = (0..n)
        .map(|i| 0.5 - 0.5 * (std::f64::consts::TAU * i as f64 / n as f64).cos())
        .collect();
    let (lo, hi) = (hz * 2f64.powf(-1.0 / 12.0), hz * 2f64.powf(1.0 / 12.0));
    let k0 = (lo * n as f64 / 48_000.0).floor() as usize;
    let k1 = (hi * n as f64 / 48_000.0).ceil() as usize;
    let mut e = 0.0;
    for k in k0..=k1 {
        let (mut re, mut im) = (0.0, 0.0);
        for i in 0..n {
            let ph = std::f64::consts::TAU * (k * i) as f64 / n as f64;
            let v = y[from + i] as f64 * w[i];
            re += v * ph.cos();
            im -= v * ph.sin();
        }
        e += re * re + im * im;
    }
    10.0 * e.log10()
}

#[test]
fn spectral_ducking_turns_the_tail_down_only_where_the_dry_signal_is_loud() {
    // A long noise-like tail (a 0.3 s noise burst into a 3 s decaying-noise IR), then a
    // 1 kHz tone in the dry signal from 0.3 s to 0.8 s. Mix 100 %: the output is the wet
    // signal. Ducked against not ducked, during the tone: -12 dB (the depth) at 1 kHz, within
    // 0.5 dB an octave away (500 Hz, 2 kHz), where broadband ducking takes the whole 12 dB;
    // three release times after the tone the reduction is gone.
    let rate = 48_000usize;
    let mut rng = Rng::new(41);
    let ir: Vec<f32> = (0..rate * 3 / 2)
        .map(|i| (0.05 * rng.bipolar() * (-(i as f64) / (0.43 * rate as f64)).exp()) as f32)
        .collect();
    let x: Vec<f32> = (0..rate * 3 / 2)
        .map(|i| {
            let t = i as f64 / rate as f64;
            if t < 0.3 {
                (0.25 * rng.bipolar()) as f32
            } else if t < 0.8 {
                (0.5 * (std::f64::consts::TAU * 1000.0 * t).sin()) as f32
            } else {
                0.0
            }
        })
        .collect();
    let base = Settings {
        mix: 1.0,
        ..Default::default()
    };
    let ducking = |mode: DuckMode| -> Settings {
        let mut s = base;
        s.duck = DuckSettings {
            threshold_db: -30.0,
            depth_db: 12.0,
            release_ms: 100.0,
            mode,
        };
        s
    };
    let plain = run(&mut engine(&base, &ir), &x, &[256]);
    let spectral = run(
        &mut engine(&ducking(DuckMode::Spectral), &ir),
        &x,
        &[1, 64, 300],
    );
    let broadband = run(&mut engine(&ducking(DuckMode::Broadband), &ir), &x, &[256]);
    let during = (0.55 * rate as f64) as usize;
    let after = (1.1 * rate as f64) as usize;
    let drop = |y: &[f32], from: usize, hz: f64| band_db(y, from, hz) - band_db(&plain, from, hz);
    let at_tone = drop(&spectral, during, 1000.0);
    assert!(
        (at_tone + 12.0).abs() < 1.0,
        "1 kHz ducked by {at_tone:.2} dB"
    );
    for hz in [500.0, 2000.0] {
        let d = drop(&spectral, during, hz);
        assert!(d.abs() < 0.5, "{hz} Hz moved by {d:.2} dB");
        let b = drop(&broadband, during, hz);
        assert!((b + 12.0).abs() < 1.0, "broadband at {hz} Hz: {b:.2} dB");
    }
    let recovered = drop(&spectral, after, 1000.0);
    eprintln!(
        "spectral ducking: 1 kHz {at_tone:.2} dB, 500 Hz {:.2} dB, 2 kHz {:.2} dB (broadband \
         {:.2} / {:.2} dB); after 3 release times {recovered:.2} dB",
        drop(&spectral, during, 500.0),
        drop(&spectral, during, 2000.0),
        drop(&broadband, during, 500.0),
        drop(&broadband, during, 2000.0)
    );
    assert!(
        recovered.abs() < 1.0,
        "after the release: {recovered:.2} dB"
    );
    // Onset at sample 0 and no added latency: before the key is loud, the spectral ducker's
    // output is the plain wet signal.
    assert_eq!(spectral[..256], plain[..256]);
}

/// Every stage on: eight dynamic bands (two of them spectral), the spectral stage, Warm with
/// 2x oversampling, spectral ducking, half wet.
fn everything_on() -> Settings {
    let mut s = Settings {
        mix: 0.5,
        ..Default::default()
    };
    for (i, b) in s.eq.iter_mut().enumerate() {
        b.enabled = true;
        b.gain_db = 3.0;
        b.dynamic = crate::dsp::dynamic_eq::DynamicMode::Down;
        b.threshold_db = -40.0;
        b.spectral = i % 4 == 2;
    }
    s.spectral.enabled = true;
    s.spectral.threshold_db = -40.0;
    s.character.mode = crate::dsp::saturator::CharacterMode::Warm;
    s.character.drive_db = 12.0;
    s.character.oversample = true.into();
    s.duck.depth_db = 12.0;
    s.duck.threshold_db = -40.0;
    s.duck.mode = crate::dsp::ducker::DuckMode::Spectral;
    s
}

/// A noise burst of `sound` samples, then `silence` samples of silence, then another burst.
fn burst_silence_burst(sound: usize, silence: usize) -> Vec<f32> {
    let mut rng = Rng::new(17);
    (0..2 * sound + silence)
        .map(|i| {
            if (sound..sound + silence).contains(&i) {
                0.0
            } else {
                0.4 * rng.bipolar() as f32
            }
        })
        .collect()
}

#[test]
fn on_silence_the_engine_goes_idle_exactly_and_wakes_at_the_first_sound() {
    let s = everything_on();
    let (sound, silence) = (24_000, 120_000);
    let x = burst_silence_burst(sound, silence);
    let mut idling = engine(&s, &ir());
    let mut full = engine(&s, &ir());
    full.set_idle_enabled(false);
    // Up to the second burst: the full processing's output until the idle point (a second
    // after the IR's length), exact zeros from there where the full processing leaves the
    // filters' last decay below -400 dBFS; the engine is idle by then.
    let wake = sound + silence;
    let a = run(&mut idling, &x[..wake], &[64]);
    let b = run(&mut full, &x[..wake], &[64]);
    assert!(
        idling.is_idle(),
        "idle after {} s of silence",
        silence / 48_000
    );
    assert!(!full.is_idle());
    let zeros_from = a.iter().rposition(|v| *v != 0.0).map_or(0, |i| i + 1);
    assert!(zeros_from < wake);
    assert_eq!(
        a[..zeros_from],
        b[..zeros_from],
        "the full processing's output until then"
    );
    let left = b[zeros_from..].iter().fold(0.0f32, |m, v| m.max(v.abs()));
    assert!(
        left < IDLE_FLOOR,
        "what full processing still plays after: {left:e}"
    );
    eprintln!(
        "silent from {:.3} s after the burst (idle point {:.3} s), full processing below {left:e}",
        (zeros_from - sound) as f32 / 48_000.0,
        idling.idle_after() as f32 / 48_000.0
    );
    // From the first sound on, the idle engine plays as an engine at rest would: a fresh one
    // fed the same input from that sample.
    let rest = run(&mut idling, &x[wake..], &[64]);
    assert!(!idling.is_idle());
    let fresh = run(&mut engine(&s, &ir()), &x[wake..], &[64]);
    assert_eq!(rest, fresh, "wakes at rest, at its first sample");
    // The full processing of the same sound differs from it by where the stages that work
    // in frames (the spectral stages' 256-sample hops, the EQ's 16-sample gain updates) are
    // in their frames when the sound starts: a fresh start's timing. Without the hop-framed
    // stages, what is left is the EQ's update phase: below -70 dB.
    let cont = run(&mut full, &x[wake..], &[64]);
    let framed = max_diff(&rest, &cont);
    let mut unframed = s;
    unframed.spectral.enabled = false;
    unframed.eq.iter_mut().for_each(|b| b.spectral = false);
    unframed.duck.mode = crate::dsp::ducker::DuckMode::Broadband;
    let mut idling = engine(&unframed, &ir());
    let mut full = engine(&unframed, &ir());
    full.set_idle_enabled(false);
    let a = run(&mut idling, &x, &[64]);
    let b = run(&mut full, &x, &[64]);
    let err = max_diff(&a[wake..], &b[wake..]);
    eprintln!("after the silence, idle vs full processing: {framed} (framed stages on), {err}");
    assert!(err < 10f32.powf(-70.0 / 20.0), "{err}");
}

fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    a.iter()
        .zip(b)
        .map(|(p, q)| (p - q).abs())
        .fold(0.0f32, f32::max)
}

#[test]
fn idling_is_independent_of_the_hosts_block_sizes() {
    let s = everything_on();
    let x = burst_silence_burst(12_000, 100_000);
    let y = run(&mut engine(&s, &ir()), &x, &[64]);
    let z = run(&mut engine(&s, &ir()), &x, &[1, 7, 300, 64, 2048, 33]);
    assert_eq!(y, z);
}

#[test]
fn an_idle_engine_skips_the_work_and_takes_a_new_ir_at_once() {
    let s = everything_on();
    let mut e = engine(&s, &ir());
    run(&mut e, &burst_silence_burst(4_800, 0), &[64]);
    run(&mut e, &vec![0.0; 100_000], &[64]);
    assert!(e.is_idle());
    let work = e.convolver().work_done();
    let analyses = e.spectral().analyses();
    run(&mut e, &vec![0.0; 48_000], &[64]);
    assert_eq!(
        e.convolver().work_done(),
        work,
        "the convolver does nothing"
    );
    assert_eq!(
        e.spectral().analyses(),
        analyses,
        "nor does the spectral stage"
    );
    // A new kernel arriving while idle is in place when the sound returns.
    let other: Vec<f32> = ir().iter().map(|v| -0.5 * v).collect();
    let plan = PartitionPlan::for_ir(other.len(), 2, 2, 2, &CostModel::default());
    assert!(e
        .convolver_mut()
        .offer_kernel(Box::new(Kernel::new(&plan, &[&other], 2, 2)))
        .is_ok());
    run(&mut e, &vec![0.0; 640], &[64]);
    assert!(!e.convolver().handing_over());
    let mut fresh = engine(&s, &other);
    let x = burst_silence_burst(4_800, 0);
    assert_eq!(run(&mut e, &x, &[64]), run(&mut fresh, &x, &[64]));
}
