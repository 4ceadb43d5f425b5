//! The whole chain as a mix uses it (`cargo bench --bench chain`): music-like input (the demo
//! phrase of plucks and claps, four times at 0, -6, -12 and 0 dB, so every detector moves), the
//! engine as the plugin builds it (a 4 s stereo IR in the plugin's plan) at the defaults and
//! with everything on, in blocks of 64, best of three runs; beside it each stage alone on the
//! same input with the same settings, the chain's own work being the rest (input and output
//! gains, smoothers, mixing, meters); how far each stage's gain moved during the run; and the
//! whole chain on silence once the tails are over.

use std::time::Instant;

use fluxforge::dsp::chain::{Engine, Settings};
use fluxforge::dsp::convolver::Convolver;
use fluxforge::dsp::ducker::Ducker;
use fluxforge::dsp::dynamic_eq::{DynamicEq, DynamicMode};
use fluxforge::dsp::rng::Rng;
use fluxforge::dsp::saturator::{CharacterMode, Saturator};
use fluxforge::dsp::spectral::SpectralDynamics;

const RATE: f32 = 48_000.0;
const BLOCK: usize = 64;

/// The phrase four times, at 0, -6, -12 and 0 dB.
fn material() -> [Vec<f32>; 2] {
    let [l, r] = fluxforge::demo::phrase(RATE as u32);
    let mut out = [Vec::new(), Vec::new()];
    for g in [1.0f32, 0.5, 0.25, 1.0] {
        out[0].extend(l.iter().map(|v| v * g));
        out[1].extend(r.iter().map(|v| v * g));
    }
    out
}

fn everything_on() -> Settings {
    let mut s = Settings {
        mix: 0.5,
        ..Default::default()
    };
    for b in &mut s.eq {
        b.enabled = true;
        b.dynamic = DynamicMode::Down;
        b.threshold_db = -30.0;
    }
    s.spectral.enabled = true;
    s.spectral.threshold_db = -40.0;
    s.character.mode = CharacterMode::Warm;
    s.character.drive_db = 12.0;
    s.character.oversample = true.into();
    s.duck.depth_db = 6.0;
    s
}

/// Best of three: CPU seconds per second of audio of `f` run over `x` in blocks.
fn time<R>(x: &[Vec<f32>; 2], mut f: impl FnMut(&mut [f32], &mut [f32]) -> R) -> f64 {
    let mut best = f64::MAX;
    for _ in 0..3 {
        let (mut l, mut r) = (x[0].clone(), x[1].clone());
        let t = Instant::now();
        for (a, b) in l.chunks_mut(BLOCK).zip(r.chunks_mut(BLOCK)) {
            std::hint::black_box(f(a, b));
        }
        std::hint::black_box((&l, &r));
        best = best.min(t.elapsed().as_secs_f64() / (x[0].len() as f64 / RATE as f64));
    }
    best
}

fn main() {
    // The stages alone run as they do in the chain: with subnormals flushed (the engine sets
    // this for each call; without it the character stage's filters crawl through the
    // plucks' decaying tails).
    let _ftz = fluxforge::dsp::denormal::DenormalGuard::new();
    let x = material();
    let mut rng = Rng::new(3);
    let ir: Vec<Vec<f32>> = (0..2)
        .map(|_| rng.decaying_noise(4 * RATE as usize))
        .collect();
    let kernel = || Box::new(fluxforge::ir_source::kernel_for(&[&ir[0], &ir[1]], BLOCK));
    let on = everything_on();

    // The whole engine, and how far the gains moved (everything on; sampled every call).
    let mut engine = Engine::new(RATE, Some(kernel()), &on);
    let (mut eq_range, mut sd_min, mut duck_max) = ((0.0f32, 0.0f32), 0.0f32, 0.0f32);
    let whole_on = time(&x, |a, b| {
        engine.process(&mut [a, b]);
        for g in engine.eq().dynamic_gain_db() {
            eq_range = (eq_range.0.min(g), eq_range.1.max(g));
        }
        let (_, gains) = engine.spectral().analysis();
        sd_min = gains.iter().fold(sd_min, |m, g| m.min(*g));
        duck_max = duck_max.max(engine.ducking_db().abs());
    });
    let mut defaults = Engine::new(RATE, Some(kernel()), &Settings::default());
    let whole_defaults = time(&x, |a, b| {
        defaults.process(&mut [a, b]);
    });

    // Each stage alone, same input and settings.
    let mut eq = DynamicEq::new(RATE, &on.eq);
    let eq_cost = time(&x, |a, b| eq.process(&mut [a, b]));
    let mut sd = SpectralDynamics::new(RATE, &on.spectral);
    let sd_cost = time(&x, |a, b| sd.process(&mut [a, b]));
    let mut sat = Saturator::new(2, RATE, &on.character);
    let sat_cost = time(&x, |a, b| sat.process(&mut [a, b]));
    let mut conv = Convolver::new(2, 2, Some(kernel()));
    let mut wet = [vec![0.0f32; BLOCK], vec![0.0f32; BLOCK]];
    let conv_cost = time(&x, |a, b| {
        let n = a.len();
        let [w0, w1] = &mut wet;
        conv.process(&[a, b], &mut [&mut w0[..n], &mut w1[..n]]);
    });
    let mut duck = Ducker::new(RATE, &on.duck);
    let duck_cost = time(&x, |a, b| {
        let n = a.len();
        let [w0, w1] = &mut wet;
        w0[..n].copy_from_slice(a);
        w1[..n].copy_from_slice(b);
        duck.process_keyed(&mut [&mut w0[..n], &mut w1[..n]], Some([a, b]));
    });
    let stages = eq_cost + sd_cost + sat_cost + conv_cost + duck_cost;

    // Silence after the tails (everything on): 10 s of zeros first, then timed.
    let silence = [
        vec![0.0f32; 10 * RATE as usize],
        vec![0.0f32; 10 * RATE as usize],
    ];
    time(&silence, |a, b| engine.process(&mut [a, b]));
    let whole_silent = time(&silence, |a, b| engine.process(&mut [a, b]));
    let mut defaults_silent_engine = Engine::new(RATE, Some(kernel()), &Settings::default());
    time(&silence, |a, b| defaults_silent_engine.process(&mut [a, b]));
    let defaults_silent = time(&silence, |a, b| defaults_silent_engine.process(&mut [a, b]));
    assert!(engine.is_idle() && defaults_silent_engine.is_idle());
    // The same without going idle (before 0.4.0): every stage running on zeros.
    let mut busy = Engine::new(RATE, Some(kernel()), &on);
    busy.set_idle_enabled(false);
    time(&x, |a, b| busy.process(&mut [a, b]));
    time(&silence, |a, b| busy.process(&mut [a, b]));
    let busy_silent = time(&silence, |a, b| busy.process(&mut [a, b]));
    let mut busy_defaults = Engine::new(RATE, Some(kernel()), &Settings::default());
    busy_defaults.set_idle_enabled(false);
    time(&silence, |a, b| busy_defaults.process(&mut [a, b]));
    let busy_defaults_silent = time(&silence, |a, b| busy_defaults.process(&mut [a, b]));

    let pct = |c: f64| c * 100.0;
    println!("# The whole chain on music-like input (cargo bench --bench chain)\n");
    println!(
        "The demo phrase at 0/-6/-12/0 dB ({:.0} s), 48 kHz stereo, blocks of {BLOCK}, best of 3, % of a core:\n",
        x[0].len() as f64 / RATE as f64
    );
    println!("| what | % of a core | share of everything on |");
    println!("|---|---:|---:|");
    for (name, c) in [
        ("whole chain, everything on", whole_on),
        ("  dynamic EQ, 8 dynamic bands", eq_cost),
        ("  spectral dynamics", sd_cost),
        ("  character, Warm + 2x", sat_cost),
        ("  convolver, 4 s stereo IR", conv_cost),
        ("  ducking", duck_cost),
        ("  the chain's own work (the rest)", whole_on - stages),
        ("whole chain, defaults", whole_defaults),
    ] {
        println!("| {name} | {:.3} % | {:.2} |", pct(c), c / whole_on);
    }
    println!(
        "\nEverything on / defaults: {:.2}x. On silence after the tails: everything on {:.3} %, \
         defaults {:.3} % of a core ({:.2} and {:.2} of their cost on the phrase).",
        whole_on / whole_defaults,
        pct(whole_silent),
        pct(defaults_silent),
        whole_silent / whole_on,
        defaults_silent / whole_defaults
    );
    println!(
        "On silence without going idle (same run): everything on {:.3} %, defaults {:.3} %.",
        pct(busy_silent),
        pct(busy_defaults_silent)
    );
    println!(
        "Gains moved during the run: EQ dynamic gains {:.1} to {:.1} dB, the spectral stage's \
         deepest per-bin gain {:.1} dB, ducking up to {:.1} dB.",
        eq_range.0, eq_range.1, sd_min, duck_max
    );
}
