//! Character stage cost: nanoseconds per stereo sample for each mode, with and without 2x
//! oversampling, at 48 kHz in blocks of 64. `cargo bench --bench saturation`.

use std::hint::black_box;
use std::time::Instant;

use fluxforge::dsp::rng::Rng;
use fluxforge::dsp::saturator::{CharacterMode, Saturator, SaturatorSettings};

fn main() {
    let seconds = 2.0;
    let n = (48_000.0 * seconds) as usize;
    let mut rng = Rng::new(1);
    let x: Vec<f32> = (0..n).map(|_| 0.5 * rng.bipolar() as f32).collect();
    println!("# FluxForge character stage (cargo bench --bench saturation)\n");
    println!("| mode | ns per stereo sample (ADAA) | ns per stereo sample (ADAA + 2x) |");
    println!("|---|---:|---:|");
    for mode in [
        CharacterMode::Clean,
        CharacterMode::Subtle,
        CharacterMode::Warm,
        CharacterMode::Tape,
    ] {
        let mut row = Vec::new();
        for oversample in [false, true] {
            let settings = SaturatorSettings {
                mode,
                drive_db: 12.0,
                oversample,
                ..Default::default()
            };
            let mut s = Saturator::new(2, 48_000.0, &settings);
            let (mut l, mut r) = (x.clone(), x.clone());
            let mut best = f64::MAX;
            for _ in 0..5 {
                l.copy_from_slice(&x);
                r.copy_from_slice(&x);
                let t = Instant::now();
                for (a, b) in l.chunks_mut(64).zip(r.chunks_mut(64)) {
                    s.process(&mut [a, b]);
                }
                black_box(&l);
                best = best.min(t.elapsed().as_secs_f64());
            }
            row.push(best * 1e9 / n as f64);
        }
        println!("| {mode:?} | {:.1} | {:.1} |", row[0], row[1]);
    }
}
