//! Character stage cost: nanoseconds per stereo sample for each mode, without oversampling
//! and at 2x and 4x, at 48 kHz in blocks of 64, at every SIMD level; then the aliasing of
//! antialiasing methods without oversampling, the stage's first-order ADAA beside two
//! second-order forms measured the same way (`cargo bench --bench saturation`).

use std::hint::black_box;
use std::time::Instant;

use fluxforge::dsp::rng::Rng;
use fluxforge::dsp::saturator::{CharacterMode, Oversampling, Saturator, SaturatorSettings};
use fluxforge::dsp::simd::SimdLevel;

fn main() {
    cost();
    aliasing();
}

fn cost() {
    let seconds = 2.0;
    let n = (48_000.0 * seconds) as usize;
    let mut rng = Rng::new(1);
    let x: Vec<f32> = (0..n).map(|_| 0.5 * rng.bipolar() as f32).collect();
    println!("# FluxForge character stage (cargo bench --bench saturation)\n");
    println!("| SIMD level | mode | ns per stereo sample (ADAA) | ADAA + 2x | ADAA + 4x |");
    println!("|---|---|---:|---:|---:|");
    for level in SimdLevel::available().into_iter().rev() {
        for mode in [
            CharacterMode::Clean,
            CharacterMode::Subtle,
            CharacterMode::Warm,
            CharacterMode::Tape,
        ] {
            let mut row = Vec::new();
            for oversample in [Oversampling::Off, Oversampling::X2, Oversampling::X4] {
                let settings = SaturatorSettings {
                    mode,
                    drive_db: 12.0,
                    oversample,
                    ..Default::default()
                };
                let mut s = Saturator::new(2, 48_000.0, &settings);
                s.set_simd_level(level);
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
            println!(
                "| {level:?} | {mode:?} | {:.1} | {:.1} | {:.1} |",
                row[0], row[1], row[2]
            );
        }
    }
}

/// `Li2(-w)` for `w` in [0, 1]: the Bernoulli series in `u = -ln(1 + w)` (|u| <= ln 2).
fn li2_neg(w: f64) -> f64 {
    let u = -w.ln_1p();
    let u2 = u * u;
    let b2k = [
        1.0 / 6.0,
        -1.0 / 30.0,
        1.0 / 42.0,
        -1.0 / 30.0,
        5.0 / 66.0,
        -691.0 / 2730.0,
        7.0 / 6.0,
        -3617.0 / 510.0,
    ];
    let (mut sum, mut p, mut fact) = (u - u2 / 4.0, u, 1.0);
    for (k, b) in b2k.iter().enumerate() {
        let k = k + 1;
        p *= u2;
        fact *= ((2 * k) * (2 * k + 1)) as f64;
        sum += b * p / fact;
    }
    sum
}

/// `tanh`, its antiderivative `ln cosh` and its second antiderivative (odd, zero at 0).
fn f0(x: f64) -> f64 {
    x.tanh()
}
fn f1(x: f64) -> f64 {
    let a = x.abs();
    a + (-2.0 * a).exp().ln_1p() - std::f64::consts::LN_2
}
fn f2(x: f64) -> f64 {
    let a = x.abs();
    let v = a * a / 2.0 - a * std::f64::consts::LN_2
        + std::f64::consts::PI.powi(2) / 24.0
        + li2_neg((-2.0 * a).exp()) / 2.0;
    v.copysign(x)
}

/// Power outside the fundamental (bins `k +- 2`) and DC over the fundamental's, dB.
fn alias_db(y: &[f64], k: usize) -> f64 {
    let n = y.len();
    let fft = realfft::RealFftPlanner::<f64>::new().plan_fft_forward(n);
    let mut buf = y.to_vec();
    let mut spec = fft.make_output_vec();
    fft.process(&mut buf, &mut spec).unwrap();
    let p: Vec<f64> = spec.iter().map(|z| z.norm_sqr()).collect();
    let fund: f64 = p[k - 2..=k + 2].iter().sum();
    let other: f64 = p
        .iter()
        .enumerate()
        .filter(|(i, _)| *i > 3 && (*i + 2 < k || *i > k + 2))
        .map(|(_, v)| v)
        .sum();
    10.0 * (other / fund).log10()
}

/// The unit test's signal (a 0 dBFS sine at 12 029 Hz, +18 dB of drive into `tanh`) through
/// each method, in `f64`.
fn aliasing() {
    let (rate, n) = (48_000.0, 16_384usize);
    let k = (12_030.0 * n as f64 / rate).round() as usize;
    let hz = k as f64 * rate / n as f64;
    let len = 16_000 + n;
    let g = 10f64.powf(18.0 / 20.0);
    let x: Vec<f64> = (0..len)
        .map(|i| g * (std::f64::consts::TAU * hz * i as f64 / rate).sin())
        .collect();
    let tail = |y: Vec<f64>| alias_db(&y[len - n..], k);
    let naive = tail(x.iter().map(|&u| f0(u)).collect());
    let method = |f: &dyn Fn(f64, f64, f64) -> f64| {
        tail(
            (0..len)
                .map(|i| {
                    if i < 2 {
                        0.0
                    } else {
                        f(x[i], x[i - 1], x[i - 2])
                    }
                })
                .collect(),
        )
    };
    // First order (the stage's): f averaged over the line between consecutive samples.
    let first = method(&|x0, x1, _| {
        if (x0 - x1).abs() > 1e-5 {
            (f1(x0) - f1(x1)) / (x0 - x1)
        } else {
            f0(0.5 * (x0 + x1))
        }
    });
    // Second order, Bilbao et al. 2017 (divided differences of F2; linear response
    // (1, 1, 1) / 3: one sample of delay and a null at fs / 3).
    let d1 = |a: f64, b: f64| {
        if (a - b).abs() > 1e-5 {
            (f2(a) - f2(b)) / (a - b)
        } else {
            f1(0.5 * (a + b))
        }
    };
    let bilbao = method(&|x0, x1, x2| {
        if (x0 - x2).abs() > 1e-3 {
            2.0 / (x0 - x2) * (d1(x0, x1) - d1(x1, x2))
        } else {
            f0(x1)
        }
    });
    // Second order as the linear interpolation convolved with a triangle (the B-spline
    // kernel; linear response (1, 4, 1) / 6, one sample of delay).
    let j = |a: f64, b: f64| {
        let d = b - a;
        if d.abs() > 1e-3 {
            f1(b) / d - (f2(b) - f2(a)) / (d * d)
        } else {
            0.5 * f0(a + 2.0 * d / 3.0)
        }
    };
    let spline = method(&|x0, x1, x2| j(x0, x1) + j(x2, x1));
    println!("\n## Aliasing without oversampling (0 dBFS at 12 029 Hz, +18 dB into tanh)\n");
    println!("| method | delay (samples) | alias / signal | below naive |");
    println!("|---|---:|---:|---:|");
    for (name, delay, r) in [
        ("naive tanh", "0", naive),
        ("ADAA, first order (the stage)", "0.5", first),
        ("ADAA, second order (Bilbao et al.)", "1", bilbao),
        ("ADAA, second order (triangle kernel)", "1", spline),
    ] {
        println!("| {name} | {delay} | {r:.1} dB | {:.1} dB |", naive - r);
    }
}
