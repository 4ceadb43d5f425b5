//! Background cost of loading an IR into a 48 kHz session: read + validate a 4 s stereo
//! 44.1 kHz 24-bit WAV, resample to 48 kHz, normalise, and build the convolution kernel for
//! the plugin's plan. `cargo bench --bench ir_load`.

use std::time::Instant;

use fluxforge::dsp::convolver::Kernel;
use fluxforge::dsp::rng::Rng;
use fluxforge::ir_file;

fn main() {
    let dir = std::env::temp_dir().join(format!("fluxforge-ir-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("ir.wav");
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: 44_100,
        bits_per_sample: 24,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(&path, spec).unwrap();
    let mut rng = Rng::new(1);
    let n = 4 * 44_100;
    for i in 0..n {
        for _ in 0..2 {
            let v = rng.bipolar() * (-6.9 * i as f64 / n as f64).exp() * 0.5;
            w.write_sample((v * 8_388_607.0) as i32).unwrap();
        }
    }
    w.finalize().unwrap();
    let plan = fluxforge::plan_for_rate(48_000.0);
    let mut times = [0.0f64; 4];
    let reps = 10;
    for _ in 0..reps {
        let t = Instant::now();
        let ir = ir_file::load_wav(&path).unwrap();
        let t1 = t.elapsed().as_secs_f64();
        let mut ir = ir_file::resample(&ir, 48_000);
        let t2 = t.elapsed().as_secs_f64();
        ir_file::normalize_energy(&mut ir);
        let refs: Vec<&[f32]> = ir.channels.iter().map(Vec::as_slice).collect();
        let k = Kernel::new(&plan, &refs, 2, 2);
        let t3 = t.elapsed().as_secs_f64();
        std::hint::black_box(k);
        for (a, b) in times.iter_mut().zip([t1, t2 - t1, t3 - t2, t3]) {
            *a += b / reps as f64;
        }
    }
    println!("# IR load into a 48 kHz session: 4 s stereo 44.1 kHz 24-bit WAV (mean of {reps})\n");
    println!("| read + validate | resample | normalise + kernel | total |");
    println!("|---:|---:|---:|---:|");
    println!(
        "| {:.1} ms | {:.1} ms | {:.1} ms | {:.1} ms |",
        times[0] * 1e3,
        times[1] * 1e3,
        times[2] * 1e3,
        times[3] * 1e3
    );
    let _ = std::fs::remove_dir_all(&dir);
}
