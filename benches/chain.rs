//! The whole chain as a mix uses it (`cargo bench --bench chain`): music-like input (the demo
//! phrase of plucks and claps, four times at 0, -6, -12 and 0 dB, so every detector moves), the
//! engine as the plugin builds it (a 4 s stereo IR in the plugin's plan) at the defaults and
//! with everything on, in blocks of 64, best of three runs; beside it each stage alone on the
//! same input with the same settings, the chain's own work being the rest (input and output
//! gains, smoothers, mixing, meters); how far each stage's gain moved during the run; and the
//! whole chain on silence once the tails are over; and the ratio as the issue measured it,
//! with the factory rooms (the defaults' Medium Room, Cathedral with everything on).

use std::time::Instant;

use fluxforge::dsp::chain::{Engine, Settings};
use fluxforge::dsp::convolver::Convolver;
use fluxforge::dsp::ducker::Ducker;
use fluxforge::dsp::dynamic_eq::{DynamicEq, DynamicMode};
use fluxforge::dsp::rng::Rng;
use fluxforge::dsp::saturator::{CharacterMode, Saturator};
use fluxforge::dsp::spectral::SpectralDynamics;
use fluxforge::params::Room;

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

    // How far the gains move (everything on; sampled every call, in a run of its own so the
    // timed runs below are the engine's work only).
    let mut probe = Engine::new(RATE, Some(kernel()), &on);
    let (mut eq_range, mut sd_min, mut duck_max) = ((0.0f32, 0.0f32), 0.0f32, 0.0f32);
    let (mut l, mut r) = (x[0].clone(), x[1].clone());
    for (a, b) in l.chunks_mut(BLOCK).zip(r.chunks_mut(BLOCK)) {
        probe.process(&mut [a, b]);
        for g in probe.eq().dynamic_gain_db() {
            eq_range = (eq_range.0.min(g), eq_range.1.max(g));
        }
        let (_, gains) = probe.spectral().analysis();
        sd_min = gains.iter().fold(sd_min, |m, g| m.min(*g));
        duck_max = duck_max.max(probe.ducking_db().abs());
    }
    // The whole engine.
    let mut engine = Engine::new(RATE, Some(kernel()), &on);
    let whole_on = time(&x, |a, b| engine.process(&mut [a, b]));
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

    // As the issue measured the ratio: the plugin's defaults with its default room (Medium
    // Room, 1.6 s) against everything on with the longest factory room (Cathedral, 7.5 s).
    let room = |which: Room| {
        let [l, r] = fluxforge::ir_source::room_ir(which, RATE);
        Box::new(fluxforge::ir_source::kernel_for(&[&l, &r], BLOCK))
    };
    let mut rooms_defaults = Engine::new(RATE, Some(room(Room::MediumRoom)), &Settings::default());
    let rooms_defaults_cost = time(&x, |a, b| rooms_defaults.process(&mut [a, b]));
    let mut rooms_on = Engine::new(RATE, Some(room(Room::Cathedral)), &on);
    let rooms_on_cost = time(&x, |a, b| rooms_on.process(&mut [a, b]));
    // The same without the three stages everything on adds (EQ, spectral, character): the
    // longer room, the ducking and the mix alone.
    let mut bare = on;
    for b in &mut bare.eq {
        b.enabled = false;
    }
    bare.spectral.enabled = false;
    bare.character = Default::default();
    let mut rooms_bare = Engine::new(RATE, Some(room(Room::Cathedral)), &bare);
    let rooms_bare_cost = time(&x, |a, b| rooms_bare.process(&mut [a, b]));

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
        "With the factory rooms: defaults (Medium Room) {:.3} %, everything on (Cathedral) \
         {:.3} %: {:.2}x; everything on without the EQ, spectral and character stages {:.3} % \
         ({:.2}x).",
        pct(rooms_defaults_cost),
        pct(rooms_on_cost),
        rooms_on_cost / rooms_defaults_cost,
        pct(rooms_bare_cost),
        rooms_bare_cost / rooms_defaults_cost
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
    #[cfg(target_os = "linux")]
    renderer(&x, &ir, whole_on);
}

/// The release renderer on the same material, IR and settings: its marginal CPU, `(CPU of a
/// 240 s file - CPU of a 120 s file) / 120 s` (user + system, best of five each, from the
/// children's times in `/proc/self/stat`), against the engine's figure above.
#[cfg(target_os = "linux")]
fn renderer(x: &[Vec<f32>; 2], ir: &[Vec<f32>], engine: f64) {
    use fluxforge::ir_file::{write_wav_file, WavEncoding};
    let dir = std::env::temp_dir().join(format!("fluxforge-chain-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ir_path = dir.join("ir.wav");
    let inter = |a: &[f32], b: &[f32]| -> Vec<f32> {
        a.iter()
            .zip(b)
            .flat_map(|(l, r)| [*l, *r])
            .collect::<Vec<f32>>()
    };
    write_wav_file(
        &ir_path,
        2,
        RATE as u32,
        WavEncoding::Float,
        inter(&ir[0], &ir[1]),
    )
    .unwrap();
    // Children's user + system time so far, seconds.
    let children = || -> f64 {
        let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
        let after = &stat[stat.rfind(')').unwrap() + 2..];
        let f: Vec<&str> = after.split_whitespace().collect();
        // Fields 16 and 17 of stat (cutime, cstime), counted from the state (field 3).
        let ticks = f[13].parse::<f64>().unwrap() + f[14].parse::<f64>().unwrap();
        ticks / 100.0
    };
    let mut flags: Vec<String> = [
        "--mix",
        "0.5",
        "--mode",
        "warm",
        "--drive",
        "12",
        "--oversample",
        "--no-ir-auto-gain",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for kv in ["spec_on=on", "spec_thresh=-40", "duck_depth=6"] {
        flags.extend(["--set".to_string(), kv.to_string()]);
    }
    for b in 1..=8 {
        for kv in [
            format!("eq_on_{b}=on"),
            format!("eq_dyn_{b}=Down"),
            format!("eq_thresh_{b}=-30"),
        ] {
            flags.extend(["--set".to_string(), kv]);
        }
    }
    let mut cpu = [f64::MAX; 2];
    let inputs: Vec<std::path::PathBuf> = [120usize, 240]
        .into_iter()
        .map(|secs| {
            let n = secs * RATE as usize;
            let input = dir.join(format!("in{secs}.wav"));
            let cycle = |c: usize| x[c].iter().cycle().take(n).copied().collect::<Vec<f32>>();
            write_wav_file(
                &input,
                2,
                RATE as u32,
                WavEncoding::Int(24),
                inter(&cycle(0), &cycle(1)),
            )
            .unwrap();
            input
        })
        .collect();
    // The two lengths alternate, so a change in the machine's speed during the runs moves
    // both alike.
    for _ in 0..5 {
        for (k, input) in inputs.iter().enumerate() {
            // A new file each run (the previous run's output is not freed inside the timing).
            let _ = std::fs::remove_file(dir.join("out.wav"));
            let t0 = children();
            let status = std::process::Command::new(env!("CARGO_BIN_EXE_fluxforge-render"))
                .arg(input)
                .arg(dir.join("out.wav"))
                .args([
                    "--ir",
                    ir_path.to_str().unwrap(),
                    "--block",
                    "64",
                    "--tail",
                    "0",
                ])
                .arg("--quiet")
                .args(&flags)
                .status()
                .unwrap();
            assert!(status.success());
            cpu[k] = cpu[k].min(children() - t0);
        }
    }
    let marginal = (cpu[1] - cpu[0]) / 120.0;
    println!(
        "The release renderer, same material, IR and settings (marginal CPU of 240 s over 120 s, \
         best of 5): {:.3} % of a core, {:.2}x the engine's {:.3} % above.",
        marginal * 100.0,
        marginal / engine,
        engine * 100.0
    );
    let _ = std::fs::remove_dir_all(&dir);
}
