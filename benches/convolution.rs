//! Convolution benchmark: FluxForge's non-uniform convolver against fft-convolver 0.4
//! (`FFTConvolver`, `TwoStageFFTConvolver`) and a uniformly partitioned baseline built from
//! our own engine, in one run on the same machine.
//!
//! ```text
//! cargo bench --bench convolution              # everything (about 5 minutes on 2 cores)
//! cargo bench --bench convolution -- grid      # CPU table only
//! cargo bench --bench convolution -- spikes    # slowest/median call, block 64, 1-16 s IRs
//! cargo bench --bench convolution -- idle      # silence after the tail against noise
//! cargo bench --bench convolution -- extras    # memory, kernel build time, head sizes
//! cargo bench --bench convolution -- calibrate # cost-model constants for this CPU
//! cargo bench --bench convolution -- cell 1 1024 # one IR length and block in detail
//! ./scripts/bench_zita.sh                      # the plugin path against zita-convolver
//! ./scripts/bench_zita.sh 0.5 512              # one cell of it, seven rounds
//! ```
//!
//! All engines process stereo (left IR on the left channel, right IR on the right) at 48 kHz
//! with zero latency. Only `process` calls are timed, after construction and a warm-up.

use std::hint::black_box;
use std::time::Instant;

use fft_convolver::{FFTConvolver, TwoStageFFTConvolver};
use fluxforge::dsp::convolver::{Convolver, CostModel, Kernel, PartitionPlan};
use fluxforge::dsp::rng::Rng;
use realfft::RealFftPlanner;

const RATE: usize = 48_000;

trait Engine {
    fn process(&mut self, l: &[f32], r: &[f32], ol: &mut [f32], or: &mut [f32]);
}

struct Ours(Convolver);
impl Engine for Ours {
    fn process(&mut self, l: &[f32], r: &[f32], ol: &mut [f32], or: &mut [f32]) {
        self.0.process(&[l, r], &mut [ol, or]);
    }
}

struct Fc([FFTConvolver<f32>; 2]);
impl Engine for Fc {
    fn process(&mut self, l: &[f32], r: &[f32], ol: &mut [f32], or: &mut [f32]) {
        self.0[0].process(l, ol).unwrap();
        self.0[1].process(r, or).unwrap();
    }
}

struct Ts([TwoStageFFTConvolver<f32>; 2]);
impl Engine for Ts {
    fn process(&mut self, l: &[f32], r: &[f32], ol: &mut [f32], or: &mut [f32]) {
        self.0[0].process(l, ol).unwrap();
        self.0[1].process(r, or).unwrap();
    }
}

/// The textbook uniformly partitioned overlap-save engine: partition = host block, one FFT of
/// 2 x block per call, no direct head (zero latency only because the host hands over a whole
/// block at once). Calls must be exactly `block` long.
struct Textbook {
    block: usize,
    fwd: std::sync::Arc<dyn realfft::RealToComplex<f32>>,
    inv: std::sync::Arc<dyn realfft::ComplexToReal<f32>>,
    /// IR partition spectra per channel, `[part][bin]`, scaled by 1 / (2 block).
    parts: [Vec<Vec<realfft::num_complex::Complex<f32>>>; 2],
    /// Input spectra ring per channel, newest at `head`.
    fdl: [Vec<Vec<realfft::num_complex::Complex<f32>>>; 2],
    head: usize,
    window: [Vec<f32>; 2],
    time_buf: Vec<f32>,
    acc: Vec<realfft::num_complex::Complex<f32>>,
    scratch: Vec<realfft::num_complex::Complex<f32>>,
}

impl Textbook {
    fn new(block: usize, l: &[f32], r: &[f32]) -> Self {
        let mut planner = RealFftPlanner::<f32>::new();
        let fwd = planner.plan_fft_forward(2 * block);
        let inv = planner.plan_fft_inverse(2 * block);
        let count = l.len().div_ceil(block);
        let scale = 1.0 / (2 * block) as f32;
        let spectra = |h: &[f32]| -> Vec<Vec<_>> {
            (0..count)
                .map(|p| {
                    let mut t = vec![0.0f32; 2 * block];
                    let end = ((p + 1) * block).min(h.len());
                    t[..end - p * block].copy_from_slice(&h[p * block..end]);
                    let mut spec = fwd.make_output_vec();
                    fwd.process(&mut t, &mut spec).unwrap();
                    spec.iter().map(|z| z * scale).collect()
                })
                .collect()
        };
        let zero = vec![vec![Default::default(); block + 1]; count];
        Self {
            block,
            parts: [spectra(l), spectra(r)],
            fdl: [zero.clone(), zero],
            head: 0,
            window: [vec![0.0; 2 * block], vec![0.0; 2 * block]],
            time_buf: vec![0.0; 2 * block],
            acc: vec![Default::default(); block + 1],
            scratch: fwd.make_scratch_vec(),
            fwd,
            inv,
        }
    }
}

impl Engine for Textbook {
    fn process(&mut self, l: &[f32], r: &[f32], ol: &mut [f32], or: &mut [f32]) {
        let b = self.block;
        let count = self.parts[0].len();
        self.head = (self.head + 1) % count;
        for (c, (x, y)) in [(l, &mut *ol), (r, &mut *or)].into_iter().enumerate() {
            let w = &mut self.window[c];
            w.copy_within(b.., 0);
            w[b..].copy_from_slice(x);
            self.time_buf.copy_from_slice(w);
            let slot = &mut self.fdl[c][self.head];
            self.fwd
                .process_with_scratch(&mut self.time_buf, slot, &mut self.scratch)
                .unwrap();
            self.acc.fill(Default::default());
            for (p, h) in self.parts[c].iter().enumerate() {
                let xs = &self.fdl[c][(self.head + count - p) % count];
                for ((a, u), v) in self.acc.iter_mut().zip(xs).zip(h) {
                    *a += u * v;
                }
            }
            self.acc[0].im = 0.0;
            self.acc[b].im = 0.0;
            self.inv
                .process_with_scratch(&mut self.acc, &mut self.time_buf, &mut self.scratch)
                .unwrap();
            y.copy_from_slice(&self.time_buf[b..]);
        }
    }
}

fn capacity_plan() -> PartitionPlan {
    let cap = fluxforge::ir_source::ir_capacity(RATE as f32);
    PartitionPlan::for_ir(cap, 4, 2, 2, &CostModel::default())
}

fn ir(seconds: f64, seed: u64) -> Vec<f32> {
    let n = (seconds * RATE as f64) as usize;
    Rng::new(seed).decaying_noise(n)
}

fn ours(plan: PartitionPlan, l: &[f32], r: &[f32]) -> Box<dyn Engine> {
    let k = Kernel::new(&plan, &[l, r], 2, 2);
    Box::new(Ours(Convolver::new(2, 2, Some(Box::new(k)))))
}

fn make(name: &str, block: usize, l: &[f32], r: &[f32]) -> Box<dyn Engine> {
    match name {
        "fluxforge" => ours(
            PartitionPlan::for_ir(l.len(), 2, 2, 2, &CostModel::default()),
            l,
            r,
        ),
        "uniform" => ours(PartitionPlan::uniform(block, l.len()), l, r),
        // The kernel the plugin builds for this IR (its own plan, its own state).
        "plugin" => Box::new(Ours(Convolver::new(
            2,
            2,
            Some(Box::new(fluxforge::ir_source::kernel_for(&[l, r], block))),
        ))),
        // What the plugin ran before plans followed the IR: one plan for its 20 s capacity
        // (true-stereo layout), whatever the IR.
        "capacity" => ours(capacity_plan(), l, r),
        "textbook" => Box::new(Textbook::new(block, l, r)),
        "FFTConvolver" => {
            let mut c: [FFTConvolver<f32>; 2] = Default::default();
            c[0].init(block, l).unwrap();
            c[1].init(block, r).unwrap();
            Box::new(Fc(c))
        }
        "TwoStage" => {
            let mut c: [TwoStageFFTConvolver<f32>; 2] = Default::default();
            c[0].init_default(block, l).unwrap();
            c[1].init_default(block, r).unwrap();
            Box::new(Ts(c))
        }
        _ => unreachable!(),
    }
}

/// CPU seconds per second of audio: median over `reps` runs of `seconds` of audio each.
fn cpu_per_second(e: &mut dyn Engine, block: usize, seconds: f64, reps: usize) -> f64 {
    let n = (seconds * RATE as f64) as usize / block * block;
    let mut rng = Rng::new(1);
    let x: Vec<f32> = (0..n + block).map(|_| rng.bipolar() as f32).collect();
    let mut ol = vec![0.0f32; block];
    let mut or = vec![0.0f32; block];
    // Warm-up: a few periods of the largest partitions.
    for c in x.chunks_exact(block).take((16_384 / block).max(4)) {
        e.process(c, c, &mut ol, &mut or);
    }
    let mut times: Vec<f64> = (0..reps)
        .map(|_| {
            let t = Instant::now();
            for c in x[..n].chunks_exact(block) {
                e.process(c, c, &mut ol, &mut or);
                black_box(&ol);
            }
            t.elapsed().as_secs_f64() / (n as f64 / RATE as f64)
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[reps / 2]
}

fn grid(quick: bool) {
    let irs = [0.5, 1.0, 2.0, 4.0, 8.0];
    let blocks = [32usize, 64, 128, 256, 512, 1024];
    let engines = ["plugin", "capacity", "TwoStage", "textbook", "FFTConvolver"];
    println!("\n## CPU seconds per second of stereo audio at 48 kHz (median of repetitions)\n");
    println!("`plugin`: the kernel the plugin builds (a plan chosen for this IR); `capacity`: the");
    println!(
        "plan sized for 20 s the plugin ran before; `textbook`: uniform partitions of the host"
    );
    println!("block, no direct head.\n");
    println!("| IR s | block | plugin | capacity | TwoStage | textbook | FFTConvolver | plugin / cheaper of TwoStage, textbook | plugin / capacity |");
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for &secs in &irs {
        let (l, r) = (ir(secs, 1), ir(secs, 2));
        for &block in &blocks {
            let mut row = Vec::new();
            for name in engines {
                let mut e = make(name, block, &l, &r);
                // The uniform engines are slow for long IRs and small blocks: fewer seconds.
                let heavy = matches!(name, "FFTConvolver" | "textbook")
                    && secs * 64.0 / block as f64 >= 4.0;
                let (dur, reps) = if quick || heavy { (0.5, 3) } else { (2.0, 5) };
                row.push(cpu_per_second(e.as_mut(), block, dur, reps));
            }
            println!(
                "| {secs} | {block} | {:.5} | {:.5} | {:.5} | {:.5} | {:.5} | {:.2}x | {:.2}x |",
                row[0],
                row[1],
                row[2],
                row[3],
                row[4],
                row[0] / row[2].min(row[3]),
                row[0] / row[1]
            );
        }
    }
}

/// Idle: the plugin's plan on silence once the IR has rung out, against the same engine on
/// noise (blocks of 64, 4 s stereo IR).
fn idle() {
    let (l, r) = (ir(4.0, 1), ir(4.0, 2));
    let block = 64;
    println!("\n## Idle: silence after the tail, against noise (plugin plan, 4 s stereo IR, block {block})\n");
    println!("| input | CPU s per s | share of active |");
    println!("|---|---:|---:|");
    let mut e = make("plugin", block, &l, &r);
    let active = cpu_per_second(e.as_mut(), block, 2.0, 5);
    // Ring out: the IR's length and a second of silence.
    let z = vec![0.0f32; block];
    let (mut ol, mut or) = (vec![0.0f32; block], vec![0.0f32; block]);
    for _ in 0..5 * RATE / block {
        e.process(&z, &z, &mut ol, &mut or);
    }
    let mut times: Vec<f64> = (0..5)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..2 * RATE / block {
                e.process(&z, &z, &mut ol, &mut or);
                black_box(&ol);
            }
            t.elapsed().as_secs_f64() / 2.0
        })
        .collect();
    times.sort_by(f64::total_cmp);
    let silent = times[2];
    println!("| noise | {active:.5} | 100 % |");
    println!(
        "| silence | {silent:.6} | {:.1} % |",
        100.0 * silent / active
    );
}

/// Per-call times for `calls` calls of `block` samples, after `warm` samples of warm-up (the
/// IR's length: until then the delay lines are filling and calls are cheaper than in steady
/// state).
fn call_times(e: &mut dyn Engine, block: usize, calls: usize, warm: usize) -> Vec<f64> {
    let mut rng = Rng::new(7);
    let x: Vec<f32> = (0..block * calls).map(|_| rng.bipolar() as f32).collect();
    let mut ol = vec![0.0f32; block];
    let mut or = vec![0.0f32; block];
    for c in x.chunks_exact(block).cycle().take((warm / block).max(512)) {
        e.process(c, c, &mut ol, &mut or);
    }
    x.chunks_exact(block)
        .map(|c| {
            let t = Instant::now();
            e.process(c, c, &mut ol, &mut or);
            black_box(&ol);
            t.elapsed().as_secs_f64()
        })
        .collect()
}

fn spikes() {
    let (block, calls) = (64usize, 12_000);
    println!("\n## Call-time spikes: 48 kHz, block {block}, stereo IR, {calls} calls\n");
    println!(
        "Per-call minimum over 5 runs of the same input (an algorithmic spike recurs at the same"
    );
    println!("call every run; a preemption by the OS does not), then slowest / median.\n");
    println!("| engine | IR s | median µs | p99.9 µs | slowest µs | slowest/median | raw slowest/median (1 run) |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    let runs = [
        ("plugin", 1.0),
        ("plugin", 4.0),
        ("plugin", 16.0),
        ("TwoStage", 4.0),
        ("FFTConvolver", 4.0),
        ("textbook", 4.0),
    ];
    for (name, secs) in runs {
        let (l, r) = (ir(secs, 1), ir(secs, 2));
        let mut best: Option<Vec<f64>> = None;
        let mut raw_ratio = 0.0;
        for run in 0..5 {
            let mut e = make(name, block, &l, &r);
            let t = call_times(e.as_mut(), block, calls, l.len());
            if run == 0 {
                let mut s = t.clone();
                s.sort_by(f64::total_cmp);
                raw_ratio = s[s.len() - 1] / s[s.len() / 2];
            }
            best = Some(match best {
                None => t,
                Some(b) => b.iter().zip(&t).map(|(a, c)| a.min(*c)).collect(),
            });
        }
        let mut s = best.unwrap();
        s.sort_by(f64::total_cmp);
        let med = s[s.len() / 2];
        let p999 = s[s.len() * 999 / 1000];
        let max = s[s.len() - 1];
        println!(
            "| {name} | {secs} | {:.2} | {:.2} | {:.2} | {:.2}x | {:.2}x |",
            med * 1e6,
            p999 * 1e6,
            max * 1e6,
            max / med,
            raw_ratio
        );
    }
}

fn extras() {
    println!("\n## Memory: IR spectra and signal state, stereo IR at 48 kHz\n");
    println!("| IR s | plugin spectra MB | plugin state MB | plugin total MB | capacity plan total MB | kernel build ms |");
    println!("|---:|---:|---:|---:|---:|---:|");
    for secs in [1.0, 4.0, 8.0] {
        let (l, r) = (ir(secs, 1), ir(secs, 2));
        let reps = 5;
        let t = Instant::now();
        let mut k = None;
        for _ in 0..reps {
            k = Some(black_box(fluxforge::ir_source::kernel_for(&[&l, &r], 64)));
        }
        let build = t.elapsed().as_secs_f64() / reps as f64;
        let k = k.unwrap();
        let cap = Kernel::new(&capacity_plan(), &[&l, &r], 2, 2);
        println!(
            "| {secs} | {:.2} | {:.2} | {:.2} | {:.2} | {:.1} |",
            k.spectra_bytes() as f64 / 1e6,
            k.state_bytes() as f64 / 1e6,
            k.memory_bytes() as f64 / 1e6,
            cap.memory_bytes() as f64 / 1e6,
            build * 1e3
        );
    }
    let (l, r) = (ir(4.0, 1), ir(4.0, 2));
    let plan = fluxforge::ir_source::plan_for_ir(l.len(), 2, 64);
    println!(
        "\n- plan for a 4 s stereo IR: head {} + stages {:?}",
        plan.head_len,
        plan.stages
            .iter()
            .map(|s| (s.block, s.count))
            .collect::<Vec<_>>()
    );

    println!("\n## Head length (direct-form taps = first partition) for a 4 s stereo IR\n");
    println!("| host block | head 32 | head 64 | head 128 | head 256 | cost model picks |");
    println!("|---:|---:|---:|---:|---:|---:|");
    for block in [32usize, 64, 256, 1024] {
        let mut row = Vec::new();
        for head in [32usize, 64, 128, 256] {
            let sizes: Vec<usize> = (0..)
                .map(|i| head << i)
                .take_while(|&n| n <= 8192)
                .collect();
            let plan = PartitionPlan::with_sizes(head, &sizes, l.len());
            let mut e = ours(plan, &l, &r);
            row.push(cpu_per_second(e.as_mut(), block, 1.0, 3));
        }
        println!(
            "| {block} | {:.5} | {:.5} | {:.5} | {:.5} | {} |",
            row[0],
            row[1],
            row[2],
            row[3],
            PartitionPlan::for_ir(l.len(), 2, 2, 2, &CostModel::default()).head_len
        );
    }
}

fn calibrate() {
    println!("\n## Cost-model calibration (this CPU)\n");
    let mut planner = RealFftPlanner::<f32>::new();
    let mut per = Vec::new();
    for n in [128usize, 512, 2048, 8192, 16384] {
        let f = planner.plan_fft_forward(n);
        let mut a = f.make_input_vec();
        let mut b = f.make_output_vec();
        let mut s = f.make_scratch_vec();
        let reps = 2_000_000 / n;
        let t = Instant::now();
        for _ in 0..reps {
            f.process_with_scratch(&mut a, &mut b, &mut s).unwrap();
            black_box(&b);
        }
        let ns = t.elapsed().as_secs_f64() * 1e9 / reps as f64;
        per.push(ns / (n as f64 * (n as f64).log2()));
        println!(
            "- real FFT {n}: {ns:.0} ns ({:.3} ns per n log2 n)",
            per.last().unwrap()
        );
    }
    for level in fluxforge::dsp::simd::SimdLevel::available() {
        let bins = 4097;
        let v = vec![0.5f32; bins];
        let (mut ar, mut ai) = (vec![0.0f32; bins], vec![0.0f32; bins]);
        let reps = 20_000;
        let mut cmac = f64::MAX;
        for _ in 0..3 {
            let t = Instant::now();
            for _ in 0..reps {
                fluxforge::dsp::simd::cmac(level, &mut ar, &mut ai, &v, &v, &v, &v);
                black_box(&ar);
            }
            cmac = cmac.min(t.elapsed().as_secs_f64() * 1e9 / (reps * bins) as f64);
        }
        let taps = vec![0.25f32; 64];
        let hist = vec![0.5f32; 127];
        let mut out = vec![0.0f32; 64];
        let reps = 200_000;
        let mut fir = f64::MAX;
        for _ in 0..3 {
            let t = Instant::now();
            for _ in 0..reps {
                fluxforge::dsp::simd::fir(level, &taps, black_box(&hist), &mut out);
                black_box(&out);
            }
            fir = fir.min(t.elapsed().as_secs_f64() * 1e9 / (reps as f64 * 64.0 * 64.0));
        }
        println!("- {level:?}: complex MAC {cmac:.3} ns per bin; direct FIR {fir:.4} ns per tap and output sample");
    }
    println!("- model in use: {:?}", CostModel::default());
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let quick = std::env::args().any(|a| a == "--quick");
    let all = args.is_empty();
    // `zita` runs only when asked for: it needs the harness `scripts/bench_zita.sh` builds.
    let all = all && !args.iter().any(|a| a == "zita");
    let want = |s: &str| all || args.iter().any(|a| a == s);
    println!("# FluxForge convolution benchmark (cargo bench --bench convolution)");
    if want("calibrate") {
        calibrate();
    }
    if want("extras") {
        extras();
    }
    if want("spikes") {
        spikes();
    }
    if want("idle") {
        idle();
    }
    if want("grid") {
        grid(quick);
    }
    if let Some(i) = args.iter().position(|a| a == "zita") {
        // `zita SECONDS BLOCK`: one cell, seven rounds.
        let secs = args.get(i + 1).and_then(|v| v.parse().ok());
        let block = args.get(i + 2).and_then(|v| v.parse().ok());
        zita(quick, secs.zip(block));
    }
    if let Some(i) = args.iter().position(|a| a == "cell") {
        let secs = args.get(i + 1).and_then(|v| v.parse().ok()).unwrap_or(1.0);
        let block = args.get(i + 2).and_then(|v| v.parse().ok()).unwrap_or(1024);
        cell(secs, block);
    }
}

/// One grid cell in detail: the plugin's plan and the plugin path against the textbook
/// engine, interleaved, seven repetitions of two seconds each.
fn cell(secs: f64, block: usize) {
    let (l, r) = (ir(secs, 1), ir(secs, 2));
    let plan = fluxforge::ir_source::plan_for_ir(l.len(), 2, block);
    println!("\n## One cell: {secs} s stereo IR, block {block}\n");
    println!("plan: {plan:?}");
    let mut best = [f64::MAX; 2];
    for _ in 0..7 {
        for (j, name) in ["plugin", "textbook"].into_iter().enumerate() {
            let mut e = make(name, block, &l, &r);
            best[j] = best[j].min(cpu_per_second(e.as_mut(), block, 2.0, 1));
        }
    }
    println!(
        "fastest of 7: plugin {:.5}, textbook {:.5} CPU s/s: {:.2}x",
        best[0],
        best[1],
        best[0] / best[1]
    );
}

/// The plugin path against zita-convolver 4 (the Debian package, run by the C++ harness in
/// `benches/zita/`, whose path `scripts/bench_zita.sh` passes in `FLUXFORGE_ZITA_CELLS`), cell
/// by cell, interleaved: the same stereo IR (written to a file for the harness), zita
/// configured as a JACK client at the host's period runs it with zero added latency (quantum
/// = smallest partition = block; its worker threads run the longer partitions and
/// `process(sync)` waits for them, so its output is exact). The script pins the whole run to
/// one core, so zita's threads share the caller's core: both figures are wall time on that
/// core per second of audio, the fastest of the rounds.
fn zita(quick: bool, one: Option<(f64, usize)>) {
    let Some(harness) = std::env::var_os("FLUXFORGE_ZITA_CELLS") else {
        println!(
            "\n`zita`: set FLUXFORGE_ZITA_CELLS to the harness (./scripts/bench_zita.sh does)"
        );
        return;
    };
    let rounds = match (one, quick) {
        (Some(_), _) => 7,
        (None, true) => 2,
        (None, false) => 3,
    };
    let (dur, reps) = if quick { (0.5, 3) } else { (1.0, 3) };
    println!("\n## The plugin path against zita-convolver, pinned to one core (48 kHz stereo)\n");
    println!("CPU seconds per second of audio (wall time on the one core), fastest of {rounds} interleaved rounds, each the median of {reps} runs of {dur} s.\n");
    println!("| IR s | block | plugin | zita-convolver | zita CPU (all threads) | plugin / zita |");
    println!("|---:|---:|---:|---:|---:|---:|");
    let file = std::env::temp_dir().join(format!("fluxforge-zita-ir-{}.f32", std::process::id()));
    let mut worst: f64 = 0.0;
    let (irs, blocks) = match one {
        Some((secs, block)) => (vec![secs], vec![block]),
        None => (
            vec![0.5, 1.0, 2.0, 4.0, 8.0],
            vec![64usize, 128, 256, 512, 1024],
        ),
    };
    for &secs in &irs {
        let (l, r) = (ir(secs, 1), ir(secs, 2));
        let bytes: Vec<u8> = l.iter().chain(&r).flat_map(|v| v.to_le_bytes()).collect();
        std::fs::write(&file, bytes).expect("write the IR for the harness");
        for &block in &blocks {
            let mut best = [f64::MAX; 3];
            for _ in 0..rounds {
                let mut e = make("plugin", block, &l, &r);
                best[0] = best[0].min(cpu_per_second(e.as_mut(), block, dur, reps));
                drop(e);
                let out = std::process::Command::new(&harness)
                    .arg(&file)
                    .arg(block.to_string())
                    .arg(dur.to_string())
                    .arg(reps.to_string())
                    .output()
                    .expect("run the zita harness");
                assert!(
                    out.status.success(),
                    "zita harness failed: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
                let text = String::from_utf8_lossy(&out.stdout);
                let v: Vec<f64> = text
                    .split_whitespace()
                    .filter_map(|x| x.parse().ok())
                    .collect();
                best[1] = best[1].min(v[0]);
                best[2] = best[2].min(v[1]);
            }
            worst = worst.max(best[0] / best[1]);
            println!(
                "| {secs} | {block} | {:.5} | {:.5} | {:.5} | {:.2}x |",
                best[0],
                best[1],
                best[2],
                best[0] / best[1]
            );
        }
    }
    let _ = std::fs::remove_file(&file);
    println!("\nplugin / zita-convolver, highest cell: {worst:.2}x");
}
