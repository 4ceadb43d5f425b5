use super::*;
use crate::dsp::dynamic_eq::{BandKind, DynamicEq};
use crate::dsp::test_util;

const RATE: f32 = 48_000.0;

fn sine(f: f64, amp: f64, len: usize) -> Vec<f32> {
    test_util::sine(f, amp, len, 0, RATE)
}

fn mix(parts: &[Vec<f32>]) -> Vec<f32> {
    (0..parts[0].len())
        .map(|n| parts.iter().map(|p| p[n]).sum())
        .collect()
}

fn db(a: f64) -> f64 {
    10f64.powf(a / 20.0)
}

fn amp(y: &[f32], f: f64) -> f64 {
    test_util::amplitude(y, f, RATE)
}

/// Band 2 as a spectral bell at `freq` (Q `q`) cutting above -30 dBFS at 4:1 (range 24 dB).
fn spectral_bell(freq: f32, q: f32) -> [BandSettings; BANDS] {
    let mut b: [BandSettings; BANDS] = std::array::from_fn(BandSettings::default_for);
    b[2] = BandSettings {
        enabled: true,
        kind: BandKind::Bell,
        freq_hz: freq,
        q,
        dynamic: DynamicMode::Down,
        spectral: true,
        threshold_db: -30.0,
        ratio: 4.0,
        attack_ms: 10.0,
        release_ms: 100.0,
        range_db: 24.0,
        ..b[2]
    };
    b
}

fn run(st: &mut SpectralBands, x: &[f32], calls: &[usize]) -> Vec<f32> {
    test_util::run_stage(st, x, calls)
}

#[test]
fn the_loud_tone_in_a_band_is_cut_and_the_quiet_one_beside_it_is_not() {
    // A loud 2 kHz tone (-6 dBFS) and a quiet 1.2 kHz one (-40 dBFS), both inside one wide
    // bell. Spectral: the loud tone is cut by its own overshoot (24 dB over at 4:1: -18 dB),
    // the quiet one keeps its level within 0.1 dB. The same band with whole-band dynamics
    // (the dynamic EQ) cuts the quiet tone too: what the spectral mode is for.
    let len = 96_000;
    let (loud, quiet) = (db(-6.0), db(-40.0));
    let x = mix(&[sine(2000.0, loud, len), sine(1200.0, quiet, len)]);
    let bands = spectral_bell(2000.0, 0.7);
    let mut st = SpectralBands::new(RATE, &bands);
    let y = run(&mut st, &x, &[64, 100, 7]);
    let tail = &y[len - 48_000..];
    let g_loud = 20.0 * (amp(tail, 2000.0) / loud).log10();
    let g_quiet = 20.0 * (amp(tail, 1200.0) / quiet).log10();
    assert!((g_loud + 18.0).abs() < 1.0, "loud tone: {g_loud} dB");
    assert!(g_quiet.abs() < 0.1, "quiet tone: {g_quiet} dB");
    assert!(
        (st.band_gain_db()[2] + 18.0).abs() < 1.0,
        "meter {}",
        st.band_gain_db()[2]
    );

    let mut whole = bands;
    whole[2].spectral = false;
    let mut eq = DynamicEq::new(RATE, &whole);
    let z = test_util::run_stage(&mut eq, &x, &[64]);
    let g_whole = 20.0 * (amp(&z[len - 48_000..], 1200.0) / quiet).log10();
    eprintln!(
        "spectral: loud {g_loud:.2} dB, quiet {g_quiet:.3} dB; whole band: quiet {g_whole:.2} dB"
    );
    assert!(
        g_whole < -3.0,
        "whole-band dynamics cut the quiet tone: {g_whole} dB"
    );
}

#[test]
fn loud_material_outside_the_band_is_a_null() {
    // Loud tones an octave and more below a 4 kHz bell (Q 2): the band's weights are 0
    // there, so nothing is cut, and the output is the input (below -90 dB).
    let len = 48_000;
    let x = mix(&[
        sine(150.0, 0.4, len),
        sine(400.0, 0.3, len),
        sine(1000.0, 0.2, len),
    ]);
    let mut st = SpectralBands::new(RATE, &spectral_bell(4000.0, 2.0));
    let y = run(&mut st, &x, &[64, 333]);
    assert!(st.running(), "the stage runs while a band is spectral");
    let err = y
        .iter()
        .zip(&x)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f32::max);
    eprintln!("outside the band: {:.1} dB", 20.0 * err.max(1e-30).log10());
    assert!(err <= 10f32.powf(-90.0 / 20.0), "outside the band: {err}");
    // The weights end where the band does, and the loud tone inside a bell is cut.
    let w = |f: f32| st.weights[2 * BINS + (f / st.bin_hz(1)).round() as usize];
    assert_eq!(w(1000.0), 0.0);
    assert!(
        (w(4000.0) - 1.0).abs() < 0.02,
        "centre weight {}",
        w(4000.0)
    );
    let inside = sine(4000.0, 0.4, len);
    let y = run(&mut st, &inside, &[64]);
    assert!(amp(&y[len / 2..], 4000.0) < 0.4 * db(-6.0));
}

#[test]
fn the_onset_passes_at_sample_zero_while_compressing() {
    // An impulse added to a tone the band is cutting: the difference starts at the
    // impulse's own sample (no latency) and nothing changes before it.
    let bands = spectral_bell(1000.0, 1.0);
    let base = sine(1000.0, 0.5, 48_000);
    let mut with = base.clone();
    let t0 = 40_000;
    with[t0] += 0.5;
    let ya = run(&mut SpectralBands::new(RATE, &bands), &base, &[64]);
    let yb = run(&mut SpectralBands::new(RATE, &bands), &with, &[64]);
    crate::dsp::test_util::assert_onset_at(&ya, &yb, t0);
    assert!(
        amp(&ya[24_000..], 1000.0) < 0.5 * db(-10.0),
        "the tone is cut"
    );
}

#[test]
fn output_is_independent_of_the_call_sizes() {
    let len = 60_000;
    let x: Vec<f32> = mix(&[sine(900.0, 1.0, len), sine(3100.0, 0.3, len)])
        .iter()
        .enumerate()
        .map(|(n, v)| v * (0.02 + 0.9 * (n as f32 / len as f32)))
        .collect();
    let bands = spectral_bell(1000.0, 0.7);
    let y = run(&mut SpectralBands::new(RATE, &bands), &x, &[64]);
    let z = run(
        &mut SpectralBands::new(RATE, &bands),
        &x,
        &[1, 7, 300, 64, 2048],
    );
    assert_eq!(y, z);
}

#[test]
fn upward_mode_boosts_the_loud_bin_only() {
    let len = 96_000;
    let (loud, quiet) = (db(-18.0), db(-50.0));
    let x = mix(&[sine(2000.0, loud, len), sine(1300.0, quiet, len)]);
    let mut bands = spectral_bell(2000.0, 0.7);
    bands[2].dynamic = DynamicMode::Up;
    bands[2].range_db = 6.0;
    let y = run(&mut SpectralBands::new(RATE, &bands), &x, &[64]);
    let tail = &y[len - 48_000..];
    // 12 dB over at 4:1 asks +9 dB; the range stops it at +6.
    let g_loud = 20.0 * (amp(tail, 2000.0) / loud).log10();
    let g_quiet = 20.0 * (amp(tail, 1300.0) / quiet).log10();
    assert!((g_loud - 6.0).abs() < 0.5, "loud: {g_loud} dB");
    assert!(g_quiet.abs() < 0.1, "quiet: {g_quiet} dB");
}

#[test]
fn an_external_band_hears_the_key() {
    // A quiet main tone and a loud key tone at the band's centre: External cuts the main
    // signal as the key's level asks, Internal leaves it alone.
    let len = 96_000;
    let quiet = db(-40.0);
    let x = sine(2000.0, quiet, len);
    let key = sine(2000.0, db(-6.0), len);
    let gain = |source: DetectorSource| {
        let mut bands = spectral_bell(2000.0, 1.0);
        bands[2].source = source;
        let mut st = SpectralBands::new(RATE, &bands);
        let (mut l, mut r) = (x.clone(), x.clone());
        for (k, (a, b)) in l.chunks_mut(100).zip(r.chunks_mut(100)).enumerate() {
            let ks = &key[k * 100..k * 100 + a.len()];
            st.process_keyed(&mut [a, b], Some([ks, ks]));
        }
        20.0 * (amp(&l[len - 48_000..], 2000.0) / quiet).log10()
    };
    let external = gain(DetectorSource::External);
    assert!((external + 18.0).abs() < 1.0, "external: {external} dB");
    let internal = gain(DetectorSource::Internal);
    assert!(internal.abs() < 0.1, "internal: {internal} dB");
}

#[test]
fn turning_spectral_off_lets_go_and_ends_on_the_exact_input() {
    let len = 48_000;
    let x = sine(2000.0, 0.5, len);
    let mut bands = spectral_bell(2000.0, 1.0);
    let mut st = SpectralBands::new(RATE, &bands);
    let y = run(&mut st, &x, &[64]);
    assert!(amp(&y[len / 2..], 2000.0) < 0.5 * db(-10.0));
    bands[2].spectral = false;
    st.set_settings(&bands);
    // Released in the band's release time (100 ms a step of 1/e: below 0.01 dB within
    // a second), then the identity, then stopped.
    let x = sine(2000.0, 0.5, 2 * len);
    let y = run(&mut st, &x, &[64]);
    assert!(!st.running(), "the stage stopped");
    assert_eq!(st.band_gain_db()[2], 0.0);
    assert!(y[len..] == x[len..], "the input, exactly, after a second");
    // Not spectral from the start: the stage never runs.
    let mut idle = SpectralBands::new(RATE, &bands);
    let y = run(&mut idle, &x, &[64]);
    assert!(!idle.running());
    assert_eq!(y, x);
}

#[test]
fn a_band_moved_away_lets_go_of_what_it_cut_in_its_release_time() {
    // A loud 2 kHz tone cut by a band there; the band moves to 8 kHz (Q 3): the old cut is not
    // dropped at once (a jump) but released (100 ms per 1/e), then gone.
    let len = 48_000;
    let x = sine(2000.0, 0.5, len);
    let mut bands = spectral_bell(2000.0, 1.0);
    let mut st = SpectralBands::new(RATE, &bands);
    run(&mut st, &x, &[64]);
    let cut = st.gain_curve()[(2000.0 / st.bin_hz(1)).round() as usize];
    assert!((cut + 18.0).abs() < 1.0, "cut {cut}");
    bands[2].freq_hz = 8000.0;
    bands[2].q = 3.0;
    st.set_settings(&bands);
    let k = (2000.0 / st.bin_hz(1)).round() as usize;
    run(&mut st, &x[..4800], &[64]);
    let after_100ms = st.gain_curve()[k];
    assert!(
        (after_100ms / cut - (-1.0f32).exp()).abs() < 0.1,
        "after 100 ms: {after_100ms} dB of {cut}"
    );
    run(&mut st, &x, &[64]);
    run(&mut st, &x, &[64]);
    assert_eq!(st.gain_curve()[k], 0.0, "released, then exactly 0");
    assert!(st.running(), "the band still works at 8 kHz");
}
