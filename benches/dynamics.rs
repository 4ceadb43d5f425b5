//! Cost of the dynamic EQ and the spectral dynamics against the reverb's own: CPU seconds per
//! second of stereo audio at 48 kHz in host blocks of 64 (best of 5 interleaved rounds of 4 s). The input
//! is noise whose level swings by 30 dB four times a second, so the detectors, the per-bin
//! gains and the minimum-phase filter change all the time (the worst case: a new filter every
//! hop). Stages are timed in turn, five rounds, best round each. `cargo bench --bench dynamics`.

use std::time::Instant;

use fluxforge::dsp::convolver::Convolver;
use fluxforge::dsp::dynamic_eq::BandKind;
use fluxforge::dsp::dynamic_eq::{BandSettings, Design, DynamicEq, DynamicMode, Placement, BANDS};
use fluxforge::dsp::eq_match::{MatchDesign, MatchEq};
use fluxforge::dsp::long_term_spectrum::{point_hz, POINTS};
use fluxforge::dsp::rng::Rng;
use fluxforge::dsp::spectral::{SpectralDynamics, SpectralSettings};
use fluxforge::dsp::spectral_bands::SpectralBands;

const RATE: f32 = 48_000.0;
const SECONDS: f64 = 4.0;

fn main() {
    let n = (RATE as f64 * SECONDS) as usize;
    let mut rng = Rng::new(7);
    let mut lp = 0.0f64;
    let x: Vec<f32> = (0..n)
        .map(|i| {
            lp = 0.9 * lp + 0.1 * rng.bipolar();
            let swing = if (i / 6000) % 2 == 0 { 1.0 } else { 0.03 };
            ((0.5 * rng.bipolar() + 2.0 * lp) * 0.3 * swing) as f32
        })
        .collect();
    let mut bands: [BandSettings; BANDS] = std::array::from_fn(BandSettings::default_for);
    for b in &mut bands {
        b.enabled = true;
        b.gain_db = 2.0;
        b.dynamic = DynamicMode::Down;
        b.threshold_db = -30.0;
    }
    // The same bands, each on its own part of the stereo signal (Stereo, Left, Right, Mid,
    // Side in turn), so the mid/side conversions happen between bands.
    let mut placed = bands;
    let places = [
        Placement::Stereo,
        Placement::Mid,
        Placement::Left,
        Placement::Side,
        Placement::Right,
    ];
    for (i, b) in placed.iter_mut().enumerate() {
        b.placement = places[i % places.len()];
    }
    let idle: [BandSettings; BANDS] = std::array::from_fn(BandSettings::default_for);
    // Spectral bands: every band a dynamic bell at its default frequency, spectral; one of
    // them, then all eight (the stage's own cost and each band's).
    let mut all_spectral = bands;
    for b in &mut all_spectral {
        b.kind = BandKind::Bell;
        b.spectral = true;
    }
    let mut one_spectral = all_spectral;
    for b in &mut one_spectral[..2] {
        b.spectral = false;
    }
    for b in &mut one_spectral[3..] {
        b.spectral = false;
    }
    let spectral = SpectralSettings {
        enabled: true,
        threshold_db: -40.0,
        attack_ms: 5.0,
        release_ms: 50.0,
        ..Default::default()
    };
    // The reverb: a 4 s stereo IR, as the plugin builds it (a plan for 4 s).
    let len = 4 * RATE as usize;
    let ir: Vec<Vec<f32>> = (0..2).map(|_| rng.decaying_noise(len)).collect();
    let k = fluxforge::ir_source::kernel_for(&[&ir[0], &ir[1]], 64);
    let mut conv = Convolver::new(2, 2, Some(Box::new(k)));
    let mut eq = DynamicEq::new(RATE, &bands);
    let mut eq_placed = DynamicEq::new(RATE, &placed);
    let mut eq_idle = DynamicEq::new(RATE, &idle);
    // The same bands with the bilinear designs of 0.1.0: the reference of the matched ones.
    let mut eq_bilinear = DynamicEq::new(RATE, &bands);
    eq_bilinear.set_design(Design::Bilinear);
    let mut sd = SpectralDynamics::new(RATE, &spectral);
    let mut eq2 = DynamicEq::new(RATE, &bands);
    let mut sd2 = SpectralDynamics::new(RATE, &spectral);
    let mut sb_one = SpectralBands::new(RATE, &one_spectral);
    let mut sb_all = SpectralBands::new(RATE, &all_spectral);
    // EQ match: a learned-looking curve (a tilt with a bump, 32 resonators), its amount
    // moving between 50 % and 150 % twice a second (so the numerators ramp all the time).
    let curve: [f32; POINTS] = std::array::from_fn(|i| {
        let f = point_hz(i);
        -2.5 * (f / 1000.0).log2() + 5.0 * (-((f / 2500.0).log2() / 0.6).powi(2)).exp()
    });
    let design = MatchDesign::new(&curve, RATE);
    let mut matcher = MatchEq::new(RATE, 1.0);
    matcher.load(&design);
    matcher.reset();
    let mut out = [vec![0.0f32; 64], vec![0.0f32; 64]];
    // Stages are timed in turn within each round (the machine's load drifts; interleaving
    // keeps the ratios fair), and each keeps its best round.
    let mut best = [f64::MAX; 10];
    for _round in 0..5 {
        for (stage, b) in best.iter_mut().enumerate() {
            let (mut l, mut r) = (x.clone(), x.clone());
            let t = Instant::now();
            for (k, (a, c)) in l.chunks_mut(64).zip(r.chunks_mut(64)).enumerate() {
                let m = a.len();
                let [o0, o1] = &mut out;
                match stage {
                    9 => {
                        matcher.set_amount(if (k / 375) % 2 == 0 { 0.5 } else { 1.5 });
                        matcher.process_keyed(&mut [a, c], None)
                    }
                    0 => eq.process(&mut [a, c]),
                    3 => eq_placed.process(&mut [a, c]),
                    4 => eq_idle.process(&mut [a, c]),
                    6 => eq_bilinear.process(&mut [a, c]),
                    7 => sb_one.process_keyed(&mut [a, c], None),
                    8 => sb_all.process_keyed(&mut [a, c], None),
                    1 => sd.process(&mut [a, c]),
                    2 => {
                        eq2.process(&mut [&mut *a, &mut *c]);
                        sd2.process(&mut [a, c]);
                    }
                    _ => conv.process(&[a, c], &mut [&mut o0[..m], &mut o1[..m]]),
                }
            }
            std::hint::black_box((&l, &r, &out));
            *b = b.min(t.elapsed().as_secs_f64() / SECONDS);
        }
    }
    // Per-call times of both stages (host blocks of 64): the spectral stage does its
    // analysis and synthesis in the block that starts each 256-sample hop. Minimum over five
    // runs per call, so that the OS's interruptions drop out and the algorithm's own peaks
    // (which recur at the same call every run) stay.
    let calls = n / 64;
    let mut per_call = vec![f64::MAX; calls];
    for _ in 0..5 {
        let (mut l, mut r) = (x.clone(), x.clone());
        let mut eq3 = DynamicEq::new(RATE, &bands);
        let mut sd3 = SpectralDynamics::new(RATE, &spectral);
        for (k, (a, c)) in l.chunks_mut(64).zip(r.chunks_mut(64)).enumerate() {
            let t = Instant::now();
            eq3.process(&mut [&mut *a, &mut *c]);
            sd3.process(&mut [a, c]);
            per_call[k] = per_call[k].min(t.elapsed().as_secs_f64());
        }
        std::hint::black_box((&l, &r));
    }
    let mut sorted = per_call.clone();
    sorted.sort_by(f64::total_cmp);
    let (median, slowest) = (sorted[calls / 2], sorted[calls - 1]);
    let [eq_cost, sd_cost, both, placed_cost, idle_cost, rev, bilinear_cost, sb_one_cost, sb_all_cost, match_cost] =
        best;
    println!("# Dynamic EQ and spectral dynamics vs the reverb (cargo bench --bench dynamics)\n");
    println!("CPU seconds per second of stereo audio, 48 kHz, blocks of 64, best of 5:\n");
    println!("| stage | CPU s / s | % of a core | vs the 4 s reverb |");
    println!("|---|---:|---:|---:|");
    let all_dynamic = format!("dynamic EQ, {BANDS} dynamic bands (Stereo)");
    let all_placed = format!("dynamic EQ, {BANDS} dynamic bands on Stereo/Mid/Left/Side/Right");
    let all_idle = format!("dynamic EQ, {BANDS} bands off");
    let all_bilinear =
        format!("dynamic EQ, {BANDS} dynamic bands (Stereo), bilinear designs of 0.1.0");
    for (name, c) in [
        (all_dynamic.as_str(), eq_cost),
        (all_placed.as_str(), placed_cost),
        (all_idle.as_str(), idle_cost),
        (all_bilinear.as_str(), bilinear_cost),
        ("spectral dynamics (new filter every hop)", sd_cost),
        ("spectral bands: 1 band spectral", sb_one_cost),
        ("spectral bands: 8 bands spectral", sb_all_cost),
        ("EQ match (32 resonators, amount moving)", match_cost),
        ("both", both),
        ("convolution reverb, 4 s stereo IR", rev),
    ] {
        println!(
            "| {name} | {:.5} | {:.3} % | {:.2}x |",
            c,
            c * 100.0,
            c / rev
        );
    }
    println!(
        "\nMatched designs against the bilinear ones (8 dynamic bands, same run): {:.2}x",
        eq_cost / bilinear_cost
    );
    let per_band = (sb_all_cost - sb_one_cost) / (BANDS - 1) as f64;
    println!(
        "\nSpectral bands: {:.3} % of a core for the first band, {:.3} % for each further one",
        sb_one_cost * 100.0,
        per_band * 100.0
    );
    println!(
        "\nPer call of 64 samples (both stages): median {:.1} us, slowest {:.1} us ({:.1} % of \
         the call's 1333 us)",
        median * 1e6,
        slowest * 1e6,
        slowest * 1e6 / 1333.3 * 100.0
    );
}
