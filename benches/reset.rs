//! Cost of the whole chain with everything on, and of `reset()` on the audio thread (a CLAP host calls it from `start_processing`): the
//! whole engine as the plugin builds it (its partition plan, a 4 s stereo IR at 48 kHz, every
//! stage on), after playing noise so every buffer holds signal. Prints the median and the
//! slowest of 200 resets, each after 1 s of audio (longer than any stage writes ahead). `cargo bench --bench reset`.

use std::time::Instant;

use fluxforge::dsp::chain::{Engine, Settings};
use fluxforge::dsp::dynamic_eq::DynamicMode;
use fluxforge::dsp::rng::Rng;

const RATE: f32 = 48_000.0;

fn main() {
    let mut rng = Rng::new(3);
    let len = 4 * RATE as usize;
    let ir: Vec<Vec<f32>> = (0..2).map(|_| rng.decaying_noise(len)).collect();
    let kernel = fluxforge::ir_source::kernel_for(&[&ir[0], &ir[1]], 64);
    let mut settings = Settings {
        mix: 0.5,
        ..Default::default()
    };
    for b in &mut settings.eq {
        b.enabled = true;
        b.dynamic = DynamicMode::Down;
    }
    settings.spectral.enabled = true;
    settings.character.mode = fluxforge::dsp::saturator::CharacterMode::Warm;
    settings.character.drive_db = 12.0;
    settings.character.oversample = true.into();
    let mut engine = Engine::new(RATE, Some(Box::new(kernel)), &settings);
    let block = 64;
    let mut l = vec![0.0f32; block];
    let mut r = vec![0.0f32; block];
    // Fill every delay line once (the IR's length), then time resets between short plays.
    let mut play = |engine: &mut Engine, samples: usize| {
        for _ in 0..samples / block {
            for (a, b) in l.iter_mut().zip(r.iter_mut()) {
                *a = 0.3 * rng.bipolar() as f32;
                *b = 0.3 * rng.bipolar() as f32;
            }
            engine.process(&mut [&mut l[..], &mut r[..]]);
        }
    };
    play(&mut engine, len + 48_000);
    // The whole chain, everything on (every band dynamic, spectral dynamics, Warm with 2x
    // oversampling, the 4 s reverb), blocks of 64: best of 5 runs of 4 s.
    let (mut a, mut b) = (vec![0.0f32; len], vec![0.0f32; len]);
    let mut rng2 = Rng::new(4);
    for (x, y) in a.iter_mut().zip(b.iter_mut()) {
        *x = 0.3 * rng2.bipolar() as f32;
        *y = 0.3 * rng2.bipolar() as f32;
    }
    let mut best = f64::MAX;
    for _ in 0..5 {
        let (mut l, mut r) = (a.clone(), b.clone());
        let t0 = Instant::now();
        for (x, y) in l.chunks_mut(block).zip(r.chunks_mut(block)) {
            engine.process(&mut [x, y]);
        }
        std::hint::black_box((&l, &r));
        best = best.min(t0.elapsed().as_secs_f64() / 4.0);
    }
    println!(
        "whole chain, everything on ({} dynamic bands, spectral, Warm + 2x, 4 s stereo IR), blocks of 64: {:.2} % of a core",
        fluxforge::dsp::dynamic_eq::BANDS,
        best * 100.0
    );
    // The same chain with what 0.3.0 and 0.4.0 added on the audio path: spectral ducking
    // keyed by the dry noise (threshold -60 dBFS, so every band is over it and its filter
    // moves), the Delta listening (the section's input kept and subtracted) and one band's
    // dynamics spectral (band 3, its threshold under the noise). Same material, same run.
    let mut added = settings;
    added.duck = fluxforge::dsp::ducker::DuckSettings {
        threshold_db: -60.0,
        depth_db: 12.0,
        release_ms: 150.0,
        mode: fluxforge::dsp::ducker::DuckMode::Spectral,
    };
    added.listening = fluxforge::dsp::chain::Listening::Delta;
    added.eq[2].spectral = true;
    added.eq[2].threshold_db = -50.0;
    let mut rng3 = Rng::new(5);
    let ir3: Vec<Vec<f32>> = (0..2).map(|_| rng3.decaying_noise(len)).collect();
    let kernel3 = fluxforge::ir_source::kernel_for(&[&ir3[0], &ir3[1]], 64);
    let mut engine3 = Engine::new(RATE, Some(Box::new(kernel3)), &added);
    let mut best_added = f64::MAX;
    let mut best_again = f64::MAX;
    for _ in 0..5 {
        for (e, best) in [
            (&mut engine, &mut best_again),
            (&mut engine3, &mut best_added),
        ] {
            let (mut l, mut r) = (a.clone(), b.clone());
            let t0 = Instant::now();
            for (x, y) in l.chunks_mut(block).zip(r.chunks_mut(block)) {
                e.process(&mut [x, y]);
            }
            std::hint::black_box((&l, &r));
            *best = best.min(t0.elapsed().as_secs_f64() / 4.0);
        }
    }
    println!(
        "the same with spectral ducking, Delta listening and a spectral band on: {:.2} % of a core, {:.2}x the \
         chain without them ({:.2} %, measured alternately in this run)",
        best_added * 100.0,
        best_added / best_again,
        best_again * 100.0
    );
    let mut times = Vec::new();
    for _ in 0..200 {
        play(&mut engine, 48_000);
        let t0 = Instant::now();
        engine.reset();
        times.push(t0.elapsed().as_secs_f64() * 1e6);
    }
    times.sort_by(f64::total_cmp);
    println!(
        "reset(), 4 s stereo IR at 48 kHz in the plugin's plan, every stage on: median {:.1} µs, slowest {:.1} µs (200 resets)",
        times[times.len() / 2],
        times[times.len() - 1]
    );
}
