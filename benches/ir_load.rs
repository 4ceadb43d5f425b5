//! Background cost of loading an IR into a 48 kHz session: read + validate a 4 s stereo
//! 44.1 kHz 24-bit WAV, compress it for the session state, resample to 48 kHz, normalise,
//! apply edits and build the convolution kernel for the plugin's plan, exactly the plugin's
//! background path. `cargo bench --bench ir_load`.

use std::time::Instant;

use fluxforge::dsp::rng::Rng;
use std::sync::Arc;

use fluxforge::dsp::ir_edit::{self, IrEdits};
use fluxforge::ir_file;
use fluxforge::ir_source::{ir_capacity, kernel_for, prepare, Source};
use fluxforge::ir_state::StoredIr;

fn main() {
    let dir = std::env::temp_dir().join(format!("fluxforge-ir-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("ir.wav");
    let mut rng = Rng::new(1);
    let n = 4 * 44_100;
    let samples = (0..2 * n).map(|i| {
        let v = rng.bipolar() * (-6.9 * (i / 2) as f64 / n as f64).exp() * 0.5;
        v as f32
    });
    ir_file::write_wav_file(&path, 2, 44_100, ir_file::WavEncoding::Int(24), samples).unwrap();
    let edits = IrEdits {
        predelay_ms: 20.0,
        low_cut_hz: 120.0,
        decay_pct: 80.0,
        ..IrEdits::default()
    };
    // Stages of a file load on the background task, as the plugin runs them.
    let mut times = [0.0f64; 6];
    let reps = 10;
    for _ in 0..reps {
        let t = Instant::now();
        let ir = ir_file::load_ir(&path).unwrap();
        let t1 = t.elapsed().as_secs_f64();
        let stored = StoredIr::encode(&ir, "ir.wav");
        let t2 = t.elapsed().as_secs_f64();
        let prepared = prepare(&Source::File(Arc::new(ir), String::new()), 48_000.0, true);
        let t3 = t.elapsed().as_secs_f64();
        let edited = ir_edit::apply(&prepared, 48_000.0, &edits, ir_capacity(48_000.0));
        let t4 = t.elapsed().as_secs_f64();
        let refs: Vec<&[f32]> = edited.channels.iter().map(Vec::as_slice).collect();
        let k = kernel_for(&refs, 64);
        let t5 = t.elapsed().as_secs_f64();
        std::hint::black_box((k, stored));
        for (a, b) in times
            .iter_mut()
            .zip([t1, t2 - t1, t3 - t2, t4 - t3, t5 - t4, t5])
        {
            *a += b / reps as f64;
        }
    }
    println!("# IR load into a 48 kHz session: 4 s stereo 44.1 kHz 24-bit WAV (mean of {reps})\n");
    println!("| read + validate | compress for the state | resample + auto-gain | edits (pre-delay, low cut, decay) | kernel | total |");
    println!("|---:|---:|---:|---:|---:|---:|");
    println!(
        "| {:.1} ms | {:.1} ms | {:.1} ms | {:.1} ms | {:.1} ms | {:.1} ms |",
        times[0] * 1e3,
        times[1] * 1e3,
        times[2] * 1e3,
        times[3] * 1e3,
        times[4] * 1e3,
        times[5] * 1e3
    );
    println!(
        "\nAn edit re-renders from the cached resampled source: edits + kernel = {:.1} ms.",
        (times[3] + times[4]) * 1e3
    );
    let ir = ir_file::load_ir(&path).unwrap();
    let stored = StoredIr::encode(&ir, "ir.wav");
    println!(
        "State size of the embedded IR: {:.0} KB (base64) for {:.0} KB of samples as f32, {:.0} KB as the 24-bit WAV.",
        stored.data.len() as f64 / 1024.0,
        (ir.len() * 2 * 4) as f64 / 1024.0,
        std::fs::metadata(&path).unwrap().len() as f64 / 1024.0
    );
    let _ = std::fs::remove_dir_all(&dir);
}
