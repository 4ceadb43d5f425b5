//! `fluxforge-irgen DIR`: writes the factory impulse responses (see `dsp::ir_gen`) as 48 kHz
//! 24-bit stereo WAV files into DIR. `scripts/make-impulses.sh` runs it into `impulses/`.

use std::path::PathBuf;
use std::process::ExitCode;

use fluxforge::ir_file::{write_wav_file, WavEncoding};

fn main() -> ExitCode {
    let Some(dir) = std::env::args().nth(1).map(PathBuf::from) else {
        eprintln!("usage: fluxforge-irgen <DIR>");
        return ExitCode::FAILURE;
    };
    if let Err(e) = std::fs::create_dir_all(&dir) {
        eprintln!(
            "fluxforge-irgen: error: cannot create {}: {e}",
            dir.display()
        );
        return ExitCode::FAILURE;
    }
    let rate = 48_000u32;
    for room in fluxforge::dsp::ir_gen::factory_rooms() {
        let [l, r] = fluxforge::dsp::ir_gen::render(&room, rate as f64);
        // Peak-normalise to -1 dBFS for the file; the plugin re-normalises by energy on load.
        let peak = l.iter().chain(&r).fold(0.0f32, |m, v| m.max(v.abs()));
        let g = 10f32.powf(-1.0 / 20.0) / peak;
        let path = dir.join(format!("{}.wav", room.name));
        let samples = l.iter().zip(&r).flat_map(|(a, b)| [a * g, b * g]);
        if let Err(e) = write_wav_file(&path, 2, rate, WavEncoding::Int(24), samples) {
            eprintln!("fluxforge-irgen: error: {e}");
            return ExitCode::FAILURE;
        }
        println!("{} ({:.1} s)", path.display(), l.len() as f64 / rate as f64);
    }
    ExitCode::SUCCESS
}
