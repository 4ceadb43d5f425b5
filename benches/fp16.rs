//! FP16 spectra for the far partitions: does storing the IR's spectra as `f16` (half the
//! memory and half the bandwidth of the multiply-accumulate) pay on this machine, and what
//! does it cost in accuracy? `cargo bench --bench fp16`.
//!
//! * Accuracy: a uniformly partitioned FFT convolution (partitions of 1024) of noise with the
//!   factory Large Hall, its spectra in `f32`, or in `f16` from 8192 samples on; both against
//!   an `f64` FFT convolution of the whole signal.
//! * Cost: the complex multiply-accumulate over the spectra of a 4 s stereo IR (the work of
//!   the far partitions), `f32` spectra against `f16` spectra widened to `f32` block by block
//!   (`half`'s slice conversion, F16C where the CPU has it) or element by element in the loop.

use std::hint::black_box;
use std::time::Instant;

use half::f16;
use half::slice::HalfFloatSliceExt;
use realfft::num_complex::Complex;
use realfft::RealFftPlanner;

use fluxforge::dsp::rng::Rng;
use fluxforge::dsp::simd::{cmac, SimdLevel};

const P: usize = 1024;
const BINS: usize = P + 1;

/// Uniformly partitioned FFT convolution of `x` with `h` (partition `P`, FFT `2P`), the
/// spectra of partitions from `f16_from` on rounded to `f16`.
fn partitioned(x: &[f32], h: &[f32], f16_from: Option<usize>) -> Vec<f32> {
    let mut planner = RealFftPlanner::<f32>::new();
    let (fwd, inv) = (
        planner.plan_fft_forward(2 * P),
        planner.plan_fft_inverse(2 * P),
    );
    let parts = h.len().div_ceil(P);
    let spectra: Vec<Vec<Complex<f32>>> = (0..parts)
        .map(|p| {
            let mut t = vec![0.0f32; 2 * P];
            let seg = &h[p * P..((p + 1) * P).min(h.len())];
            t[..seg.len()].copy_from_slice(seg);
            let mut s = fwd.make_output_vec();
            fwd.process(&mut t, &mut s).unwrap();
            if f16_from.is_some_and(|f| p * P >= f) {
                for z in &mut s {
                    z.re = f16::from_f32(z.re).to_f32();
                    z.im = f16::from_f32(z.im).to_f32();
                }
            }
            s
        })
        .collect();
    let blocks = x.len().div_ceil(P);
    let mut fdl: Vec<Vec<Complex<f32>>> = vec![vec![Complex::default(); BINS]; parts];
    let mut y = vec![0.0f32; blocks * P];
    let mut prev = vec![0.0f32; P];
    for b in 0..blocks {
        let mut frame = vec![0.0f32; 2 * P];
        frame[..P].copy_from_slice(&prev);
        let cur = &x[b * P..((b + 1) * P).min(x.len())];
        frame[P..P + cur.len()].copy_from_slice(cur);
        prev.fill(0.0);
        prev[..cur.len()].copy_from_slice(cur);
        fdl.rotate_right(1);
        fwd.process(&mut frame, &mut fdl[0]).unwrap();
        let mut acc = vec![Complex::<f32>::default(); BINS];
        for (s, xs) in spectra.iter().zip(&fdl) {
            for ((a, h), v) in acc.iter_mut().zip(s).zip(xs) {
                *a += h * v;
            }
        }
        let mut out = vec![0.0f32; 2 * P];
        inv.process(&mut acc, &mut out).unwrap();
        for (o, v) in y[b * P..(b + 1) * P].iter_mut().zip(&out[P..]) {
            *o = v / (2 * P) as f32;
        }
    }
    y.truncate(x.len());
    y
}

/// `x * h` by one `f64` FFT, the first `x.len()` samples.
fn reference(x: &[f32], h: &[f32]) -> Vec<f64> {
    let n = (x.len() + h.len()).next_power_of_two();
    let mut planner = RealFftPlanner::<f64>::new();
    let (fwd, inv) = (planner.plan_fft_forward(n), planner.plan_fft_inverse(n));
    let spec = |v: &[f32]| {
        let mut t = vec![0.0f64; n];
        for (a, b) in t.iter_mut().zip(v) {
            *a = *b as f64;
        }
        let mut s = fwd.make_output_vec();
        fwd.process(&mut t, &mut s).unwrap();
        s
    };
    let (a, b) = (spec(x), spec(h));
    let mut prod: Vec<Complex<f64>> = a.iter().zip(&b).map(|(p, q)| p * q).collect();
    let mut out = vec![0.0f64; n];
    inv.process(&mut prod, &mut out).unwrap();
    out.iter().take(x.len()).map(|v| v / n as f64).collect()
}

fn error_db(y: &[f32], r: &[f64]) -> f64 {
    let (mut e, mut s) = (0.0f64, 0.0f64);
    for (a, b) in y.iter().zip(r) {
        e += (*a as f64 - b).powi(2);
        s += b * b;
    }
    10.0 * (e / s).log10()
}

fn main() {
    let rate = 48_000.0;
    let rooms = fluxforge::dsp::ir_gen::factory_rooms();
    let hall = rooms.iter().find(|r| r.name == "Large Hall").unwrap();
    let [h, _] = fluxforge::dsp::ir_gen::render(hall, rate);
    let peak = h.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    let h: Vec<f32> = h.iter().map(|v| v / peak).collect();
    let mut rng = Rng::new(7);
    let x: Vec<f32> = (0..(3.0 * rate) as usize)
        .map(|_| 0.5 * rng.bipolar() as f32)
        .collect();
    let r = reference(&x, &h);
    let e32 = error_db(&partitioned(&x, &h, None), &r);
    let e16 = error_db(&partitioned(&x, &h, Some(8192)), &r);
    let e16_all = error_db(&partitioned(&x, &h, Some(0)), &r);
    println!("# FP16 spectra (cargo bench --bench fp16)\n");
    println!(
        "Error against an f64 convolution, Large Hall ({:.1} s), 3 s of noise:\n",
        h.len() as f64 / rate
    );
    println!("| spectra | error (dB below the signal) |");
    println!("|---|---:|");
    println!("| all f32 | {:.1} |", -e32);
    println!("| f16 from 8192 samples on | {:.1} |", -e16);
    println!("| all f16 | {:.1} |", -e16_all);

    // Cost: a 4 s stereo IR's far spectra (two kernels of 4 s: 2 x 188 partitions of 1025
    // bins), one multiply-accumulate pass over all of them per 1024-sample block.
    let parts = 2 * (4.0 * rate) as usize / P;
    let n = parts * BINS;
    let mut rng = Rng::new(3);
    let mut v = |len: usize| -> Vec<f32> { (0..len).map(|_| rng.bipolar() as f32).collect() };
    let (hr, hi, xr, xi) = (v(n), v(n), v(n), v(n));
    let (hr16, hi16): (Vec<f16>, Vec<f16>) = (
        hr.iter().map(|v| f16::from_f32(*v)).collect(),
        hi.iter().map(|v| f16::from_f32(*v)).collect(),
    );
    let level = SimdLevel::detect();
    let (mut ar, mut ai) = (vec![0.0f32; BINS], vec![0.0f32; BINS]);
    let reps = 40;
    let time = |f: &mut dyn FnMut()| {
        let mut best = f64::MAX;
        for _ in 0..5 {
            let t = Instant::now();
            for _ in 0..reps {
                f();
            }
            best = best.min(t.elapsed().as_secs_f64());
        }
        best * 1e9 / (reps * n) as f64
    };
    let t32 = time(&mut || {
        for p in 0..parts {
            let s = p * BINS..(p + 1) * BINS;
            cmac(
                level,
                &mut ar,
                &mut ai,
                &xr[s.clone()],
                &xi[s.clone()],
                &hr[s.clone()],
                &hi[s],
            );
        }
        black_box(&ar);
    });
    let (mut wr, mut wi) = (vec![0.0f32; BINS], vec![0.0f32; BINS]);
    let t16 = time(&mut || {
        for p in 0..parts {
            let s = p * BINS..(p + 1) * BINS;
            hr16[s.clone()].convert_to_f32_slice(&mut wr);
            hi16[s.clone()].convert_to_f32_slice(&mut wi);
            cmac(level, &mut ar, &mut ai, &xr[s.clone()], &xi[s], &wr, &wi);
        }
        black_box(&ar);
    });
    // The same with the widening inside the multiply-accumulate (F16C `vcvtph2ps` on the fly,
    // no second pass), where the CPU has F16C.
    let t16f = if has_f16c() {
        Some(time(&mut || {
            for p in 0..parts {
                let s = p * BINS..(p + 1) * BINS;
                // SAFETY: the three features were detected just above.
                unsafe {
                    cmac_f16(
                        &mut ar,
                        &mut ai,
                        &xr[s.clone()],
                        &xi[s.clone()],
                        &hr16[s.clone()],
                        &hi16[s],
                    )
                };
            }
            black_box(&ar);
        }))
    } else {
        None
    };
    println!(
        "\nMultiply-accumulate over a 4 s stereo IR's spectra ({:.1} MB in f32, {:.1} MB in f16; input spectra {:.1} MB), {level:?}, F16C {}:\n",
        (2 * n * 4) as f64 / 1e6,
        (2 * n * 2) as f64 / 1e6,
        (2 * n * 4) as f64 / 1e6,
        has_f16c(),
    );
    println!("| spectra | ns per bin |");
    println!("|---|---:|");
    println!("| f32 | {t32:.3} |");
    println!("| f16, widened per partition (a second pass) | {t16:.3} |");
    if let Some(t) = t16f {
        println!("| f16, widened inside the loop (`half::f16::to_f32` per element: the compiler does not vectorise it) | {t:.3} |");
    }
}

/// Whether the CPU has F16C with AVX2 and FMA (x86-64 only).
fn has_f16c() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("f16c")
            && std::arch::is_x86_feature_detected!("avx2")
            && std::arch::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    false
}

/// `acc += x * h` with `h` in `f16`, widened in the loop (the features are enabled on x86-64;
/// elsewhere this is never called).
#[cfg_attr(target_arch = "x86_64", target_feature(enable = "avx2,fma,f16c"))]
unsafe fn cmac_f16(
    acc_re: &mut [f32],
    acc_im: &mut [f32],
    x_re: &[f32],
    x_im: &[f32],
    h_re: &[f16],
    h_im: &[f16],
) {
    let n = acc_re.len();
    let (acc_im, x_re, x_im, h_re, h_im) = (
        &mut acc_im[..n],
        &x_re[..n],
        &x_im[..n],
        &h_re[..n],
        &h_im[..n],
    );
    for i in 0..n {
        let (hr, hi) = (h_re[i].to_f32(), h_im[i].to_f32());
        let (xr, xi) = (x_re[i], x_im[i]);
        acc_re[i] = xr.mul_add(hr, (-xi).mul_add(hi, acc_re[i]));
        acc_im[i] = xr.mul_add(hi, xi.mul_add(hr, acc_im[i]));
    }
}
