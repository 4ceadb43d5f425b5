// Index loops over channels and samples read like the equations they check.
#![allow(clippy::needless_range_loop, clippy::type_complexity)]

use super::*;
use crate::dsp::rng::Rng;

/// A reverb-like test IR: seeded noise with an exponential decay over its length.
fn test_ir(len: usize, seed: u64) -> Vec<f32> {
    let mut rng = Rng::new(seed);
    (0..len)
        .map(|i| (rng.bipolar() * (-4.0 * i as f64 / len as f64).exp()) as f32)
        .collect()
}

fn noise(len: usize, seed: u64) -> Vec<f32> {
    let mut rng = Rng::new(seed);
    (0..len).map(|_| rng.bipolar() as f32).collect()
}

/// Direct convolution in f64 at output index `n`.
fn direct_at(x: &[f32], h: &[f32], n: usize) -> f64 {
    let kmax = h.len().min(n + 1);
    (0..kmax).map(|k| h[k] as f64 * x[n - k] as f64).sum()
}

/// Largest error against direct f64 convolution of `x` with `h` over the outputs `y` at
/// `indices`, relative to the largest reference sample there.
fn rel_error(x: &[f32], h: &[f32], y: &[f32], indices: impl Iterator<Item = usize>) -> f64 {
    let (mut max_ref, mut max_err) = (0.0f64, 0.0f64);
    for n in indices {
        let r = direct_at(x, h, n);
        max_ref = max_ref.max(r.abs());
        max_err = max_err.max((y[n] as f64 - r).abs());
    }
    max_err / max_ref
}

/// Plays `x` through the mono `conv` into `y` in calls of `next_call()` samples, offering
/// `incoming` at the first call at or after `offer`; returns where the hand-over completed.
fn play_handover(
    conv: &mut Convolver,
    x: &[f32],
    y: &mut [f32],
    offer: usize,
    incoming: Box<Kernel>,
    mut next_call: impl FnMut() -> usize,
) -> usize {
    let (mut pos, mut pending, mut done) = (0, Some(incoming), None);
    while pos < x.len() {
        let n = next_call().min(x.len() - pos);
        if pos >= offer {
            if let Some(k) = pending.take() {
                assert!(conv.offer_kernel(k).is_ok());
            }
        }
        conv.process(&[&x[pos..pos + n]], &mut [&mut y[pos..pos + n]]);
        pos += n;
        if conv.take_retired().is_some() {
            done = Some(pos);
        }
    }
    done.expect("the hand-over completed")
}

/// Runs `conv` over `inputs` in calls of seeded random length `1..=max_call`.
fn run(
    conv: &mut Convolver,
    inputs: &[Vec<f32>],
    n_out: usize,
    max_call: usize,
    seed: u64,
) -> Vec<Vec<f32>> {
    let len = inputs[0].len();
    let mut out = vec![vec![0.0f32; len]; n_out];
    let mut rng = Rng::new(seed);
    let mut pos = 0;
    while pos < len {
        let n = rng.range(1, max_call).min(len - pos);
        let ins: Vec<&[f32]> = inputs.iter().map(|x| &x[pos..pos + n]).collect();
        let mut outs: Vec<&mut [f32]> = out.iter_mut().map(|y| &mut y[pos..pos + n]).collect();
        conv.process(&ins, &mut outs);
        pos += n;
    }
    out
}

fn mono(ir: &[f32]) -> Convolver {
    let plan = PartitionPlan::for_ir(ir.len(), 1, 1, 1, &CostModel::default());
    let k = Kernel::new(&plan, &[ir], 1, 1);
    Convolver::new(1, 1, Some(Box::new(k)))
}

#[test]
fn matches_direct_f64_convolution_for_every_ir_length() {
    for (i, &len) in [1usize, 2, 63, 64, 65, 1000, 48_000, 480_000]
        .iter()
        .enumerate()
    {
        let h = test_ir(len, 100 + i as u64);
        let x = noise(len + 9000, 200 + i as u64);
        let mut conv = mono(&h);
        let y = run(&mut conv, std::slice::from_ref(&x), 1, 700, 300 + i as u64);
        // Every output index for short IRs; 4000 evenly spread ones for long IRs.
        let idx: Vec<usize> = if len * x.len() < 200_000_000 {
            (0..x.len()).collect()
        } else {
            (0..4000).map(|j| j * (x.len() - 1) / 3999).collect()
        };
        let mut max_ref = 0.0f64;
        let mut max_err = 0.0f64;
        for &n in &idx {
            let r = direct_at(&x, &h, n);
            max_ref = max_ref.max(r.abs());
            max_err = max_err.max((y[0][n] as f64 - r).abs());
        }
        let rel = max_err / max_ref;
        assert!(
            rel <= 1e-6,
            "IR {len}: relative error {rel:e} (plan {:?})",
            conv.plan()
        );
    }
}

#[test]
fn uniform_and_explicit_plans_are_exact_too() {
    let h = test_ir(20_000, 5);
    let x = noise(30_000, 6);
    for plan in [
        PartitionPlan::uniform(64, h.len()),
        PartitionPlan::with_sizes(32, &[32, 64, 128, 256, 512, 1024, 2048], h.len()),
        PartitionPlan::with_sizes(128, &[128, 1024, 8192], h.len()),
    ] {
        let k = Kernel::new(&plan, &[&h], 1, 1);
        let mut conv = Convolver::new(1, 1, Some(Box::new(k)));
        let y = run(&mut conv, std::slice::from_ref(&x), 1, 300, 7);
        let mut max_ref = 0.0f64;
        let mut max_err = 0.0f64;
        for n in (0..x.len()).step_by(7) {
            let r = direct_at(&x, &h, n);
            max_ref = max_ref.max(r.abs());
            max_err = max_err.max((y[0][n] as f64 - r).abs());
        }
        assert!(
            max_err / max_ref <= 1e-6,
            "{plan:?}: {:e}",
            max_err / max_ref
        );
    }
}

#[test]
fn delta_returns_the_ir_from_sample_zero() {
    let h = test_ir(10_000, 11);
    let mut x = vec![0.0f32; 12_000];
    x[0] = 1.0;
    let mut conv = mono(&h);
    let y = run(&mut conv, &[x], 1, 1, 1);
    assert!(
        (y[0][0] - h[0]).abs() < 1e-6,
        "onset at sample 0: {} vs {}",
        y[0][0],
        h[0]
    );
    for n in 0..12_000 {
        let want = h.get(n).copied().unwrap_or(0.0);
        assert!(
            (y[0][n] - want).abs() < 2e-6,
            "sample {n}: {} vs {want}",
            y[0][n]
        );
    }
}

#[test]
fn reset_mid_stream_equals_a_fresh_convolver_bit_for_bit() {
    // The plugin's kind of plan (20 s capacity): a reset leaves the FDLs dirty and marks
    // them empty; the output must be what a new convolver gives, to the bit, whether the
    // reset came early, after every stage had run, or during a kernel hand-over.
    let plan = PartitionPlan::for_ir(960_000, 4, 2, 2, &CostModel::default());
    let h = test_ir(150_000, 31);
    let h2 = test_ir(90_000, 33);
    let kernel = |ir: &[f32]| Box::new(Kernel::new(&plan, &[ir], 1, 1));
    let x = noise(60_000, 32);
    let fresh = |ir: &[f32]| {
        let mut c = Convolver::new(1, 1, Some(kernel(ir)));
        run(&mut c, std::slice::from_ref(&x), 1, 512, 5)
    };
    let (want, want2) = (fresh(&h), fresh(&h2));
    for dirty in [3_000, 33_333, 200_000] {
        let mut conv = Convolver::new(1, 1, Some(kernel(&h)));
        run(&mut conv, &[noise(dirty, dirty as u64)], 1, 700, 6);
        conv.reset();
        let got = run(&mut conv, std::slice::from_ref(&x), 1, 512, 5);
        assert!(got == want, "{dirty}: not what a new convolver gives");
        // A hand-over in progress completes at once.
        run(&mut conv, &[noise(dirty, 7)], 1, 700, 6);
        assert!(conv.offer_kernel(kernel(&h2)).is_ok());
        run(&mut conv, &[noise(100, 8)], 1, 64, 6);
        conv.reset();
        drop(conv.take_retired());
        // The new kernel now plays from the second slot, whose inverse steps run after the
        // first slot's in the schedule: the same sums in another order, so to rounding.
        let got = run(&mut conv, std::slice::from_ref(&x), 1, 512, 5);
        let peak = want2[0].iter().fold(0.0f32, |m, v| m.max(v.abs()));
        let diff = got[0]
            .iter()
            .zip(&want2[0])
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(
            diff <= 1e-6 * peak,
            "{dirty}, after a hand-over: {diff} of {peak}"
        );
        let _ = std::mem::replace(&mut conv, Convolver::new(1, 1, None));
    }
}

#[test]
fn output_does_not_depend_on_call_sizes_and_reset_repeats_exactly() {
    let h = test_ir(30_000, 21);
    let x = noise(40_000, 22);
    let mut conv = mono(&h);
    let a = run(&mut conv, std::slice::from_ref(&x), 1, 1, 1);
    conv.reset();
    let b = run(&mut conv, std::slice::from_ref(&x), 1, 4096, 2);
    conv.reset();
    let c = run(&mut conv, std::slice::from_ref(&x), 1, 37, 3);
    conv.reset();
    let d = run(&mut conv, std::slice::from_ref(&x), 1, 37, 3);
    // Stage contributions are summed in an order that depends on when each step ran, so
    // the match is to rounding, not to the bit.
    let peak = a[0].iter().fold(0.0f32, |m, v| m.max(v.abs()));
    let diff = |p: &[f32], q: &[f32]| {
        p.iter()
            .zip(q)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0f32, f32::max)
    };
    assert!(
        diff(&a[0], &b[0]) <= 1e-6 * peak,
        "call size 1 vs up to 4096: {}",
        diff(&a[0], &b[0])
    );
    assert!(
        diff(&a[0], &c[0]) <= 1e-6 * peak,
        "call size 1 vs up to 37: {}",
        diff(&a[0], &c[0])
    );
    assert!(
        c == d,
        "reset must make a run repeat exactly: {}",
        diff(&c[0], &d[0])
    );
}

#[test]
fn stereo_and_true_stereo_routing_match_per_path_direct_convolution() {
    let irs: Vec<Vec<f32>> = (0..4).map(|c| test_ir(5000, 40 + c)).collect();
    let x = [noise(8000, 50), noise(8000, 51)];
    let cases: [(&[usize], [&[(usize, usize)]; 2]); 3] = [
        (&[0], [&[(0, 0)], &[(1, 0)]]),
        (&[0, 1], [&[(0, 0)], &[(1, 1)]]),
        // out L = in L * LL + in R * RL; out R = in L * LR + in R * RR
        (&[0, 1, 2, 3], [&[(0, 0), (1, 2)], &[(0, 1), (1, 3)]]),
    ];
    for (chans, want) in cases {
        let ir: Vec<&[f32]> = chans.iter().map(|&c| irs[c].as_slice()).collect();
        let plan = PartitionPlan::for_ir(5000, ir.len().max(2), 2, 2, &CostModel::default());
        let k = Kernel::new(&plan, &ir, 2, 2);
        let mut conv = Convolver::new(2, 2, Some(Box::new(k)));
        let y = run(&mut conv, &x, 2, 200, 9);
        for o in 0..2 {
            for n in (0..8000).step_by(13) {
                let r: f64 = want[o]
                    .iter()
                    .map(|&(i, c)| direct_at(&x[i], ir[c], n))
                    .sum();
                assert!((y[o][n] as f64 - r).abs() < 2e-5, "{chans:?} out {o} n {n}");
            }
        }
    }
}

fn sine(len: usize, freq: f64, rate: f64) -> Vec<f32> {
    (0..len)
        .map(|n| (0.5 * (std::f64::consts::TAU * freq * n as f64 / rate).sin()) as f32)
        .collect()
}

fn max_jump(y: &[f32]) -> f32 {
    y.windows(2)
        .map(|w| (w[1] - w[0]).abs())
        .fold(0.0, f32::max)
}

#[test]
fn kernel_swap_crossfades_continuously_and_ends_exact() {
    let rate = 48_000.0;
    let a = test_ir(24_000, 61);
    let b: Vec<f32> = test_ir(24_000, 62).iter().map(|v| -0.7 * v).collect();
    let plan = PartitionPlan::for_ir(24_000, 1, 1, 1, &CostModel::default());
    let x = sine(96_000, 997.0, rate);
    let alone = |h: &[f32]| {
        let mut c = Convolver::new(1, 1, Some(Box::new(Kernel::new(&plan, &[h], 1, 1))));
        run(&mut c, std::slice::from_ref(&x), 1, 64, 1).remove(0)
    };
    let (ya, yb) = (alone(&a), alone(&b));
    let steady = max_jump(&ya[30_000..]).max(max_jump(&yb[30_000..]));

    for shape in [CrossfadeShape::EqualPower, CrossfadeShape::Linear] {
        let mut conv = Convolver::new(1, 1, Some(Box::new(Kernel::new(&plan, &[&a], 1, 1))));
        conv.set_crossfade(2400, shape);
        let mut y = vec![0.0f32; x.len()];
        let mut pending = Some(Box::new(Kernel::new(&plan, &[&b], 1, 1)));
        for (i, chunk) in x.chunks(64).enumerate() {
            if i * 64 >= 40_000 {
                if let Some(k) = pending.take() {
                    pending = conv.offer_kernel(k).err();
                    assert!(pending.is_none(), "kernel accepted");
                }
            }
            conv.process(&[chunk], &mut [&mut y[i * 64..i * 64 + chunk.len()]]);
            drop(conv.take_retired());
        }
        let jump = max_jump(&y[39_000..]);
        assert!(
            jump <= 1.5 * steady,
            "{shape:?}: jump {jump} vs steady {steady}"
        );
        // Well after the hand-over the output is the new kernel's, tail included: it replayed
        // the history, so only the rounding of its own block alignment differs (each is
        // within 1e-6 of the peak from the exact convolution).
        let end = 40_000 + Convolver::handover_delay(24_000) + 2400 + 64;
        let peak = yb.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        for n in end..x.len() {
            assert!(
                (y[n] - yb[n]).abs() < 2e-6 * peak,
                "{shape:?} n {n}: {} vs {}",
                y[n],
                yb[n]
            );
        }
        // Before the offer it was the old kernel's.
        let before = y[..40_000]
            .iter()
            .zip(&ya)
            .map(|(p, q)| (p - q).abs())
            .fold(0.0f32, f32::max);
        assert!(
            before < 1e-5,
            "{shape:?}: output changed before the offer ({before})"
        );
    }
    // A hard switch would jump far beyond the bound: the test can fail.
    let hard = (50_000..50_200)
        .map(|n| (yb[n] - ya[n - 1]).abs())
        .fold(0.0f32, f32::max);
    assert!(
        hard > 1.5 * steady,
        "hard switch {hard} vs bound {}",
        1.5 * steady
    );
}

#[test]
fn repeated_swaps_end_exactly_on_the_last_kernel() {
    // A -> B -> C: the second hand-over reuses the slot A retired from, whose ring still
    // holds A's last contributions. After a long gap they must have been drained
    // segment-wise (this case fails without the drain); right after the first hand-over
    // they are consumed during the new kernel's warm-up (with a long and a short C).
    let (a, b, short) = (test_ir(24_000, 71), test_ir(24_000, 72), test_ir(500, 74));
    let plan = PartitionPlan::for_ir(24_000, 1, 1, 1, &CostModel::default());
    let x = noise(200_000, 73);
    let alone = |h: &[f32]| {
        let mut c = Convolver::new(1, 1, Some(Box::new(Kernel::new(&plan, &[h], 1, 1))));
        run(&mut c, std::slice::from_ref(&x), 1, 64, 1).remove(0)
    };
    for (gap, last) in [(100_000usize, &a), (0, &a), (0, &short)] {
        let alone = alone(last);
        let peak = alone.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        let mut conv = Convolver::new(1, 1, Some(Box::new(Kernel::new(&plan, &[&a], 1, 1))));
        conv.set_crossfade(480, CrossfadeShape::Linear);
        let mut queue = vec![
            Kernel::new(&plan, &[last], 1, 1),
            Kernel::new(&plan, &[&b], 1, 1),
        ];
        let mut y = vec![0.0f32; x.len()];
        let mut last_done = 0;
        let mut done = Vec::new();
        for (i, chunk) in x.chunks(64).enumerate() {
            let t = i * 64;
            if t >= 10_000 && conv.ready_for_kernel() && (queue.len() == 2 || t >= last_done + gap)
            {
                if let Some(k) = queue.pop() {
                    assert!(conv.offer_kernel(Box::new(k)).is_ok());
                }
            }
            conv.process(&[chunk], &mut [&mut y[t..t + chunk.len()]]);
            if conv.take_retired().is_some() {
                last_done = t + chunk.len();
                done.push(last_done);
            }
        }
        assert!(
            queue.is_empty() && done.len() == 2,
            "both hand-overs happened (gap {gap})"
        );
        // From the end of the second crossfade on, the output is the last kernel's alone.
        let err = (done[1]..x.len())
            .map(|n| (y[n] - alone[n]).abs())
            .fold(0.0f32, f32::max);
        assert!(
            err <= 1e-5 * peak,
            "gap {gap}: on the last kernel exactly, error {err}"
        );
    }
}

#[test]
fn plans_are_contiguous_and_respect_slack() {
    for len in [1usize, 100, 4096, 48_000, 192_000, 480_000] {
        for paths in [1usize, 2, 4] {
            let p = PartitionPlan::for_ir(len, paths, 2, 2, &CostModel::default());
            let mut off = p.head_len;
            for (i, s) in p.stages.iter().enumerate() {
                assert_eq!(s.offset, off);
                assert!(s.count >= 1);
                if i == 0 {
                    assert_eq!(s.block, p.head_len);
                } else {
                    assert!(s.offset >= 2 * s.block, "spread stage needs slack: {p:?}");
                }
                off += s.count * s.block;
            }
            assert!(off >= len, "plan covers the IR: {p:?}");
        }
    }
}

/// Silence costs nothing and changes nothing: over bursts separated by silences longer and
/// shorter than the IR, a kernel hand-over offered during a silence and calls of random
/// length, the convolver that skips silent work gives bit for bit the output of the full
/// computation, runs no step at all once the IR has rung out, and resumes on the first
/// non-zero sample.
#[test]
fn silent_input_skips_all_work_and_changes_no_sample() {
    let len = 20_000;
    let (a, b) = (test_ir(len, 81), test_ir(len, 82));
    let plan = PartitionPlan::for_ir(len, 2, 2, 2, &CostModel::default());
    let kernel = |h: &[f32]| Box::new(Kernel::new(&plan, &[h, h], 2, 2));
    let total = 200_000;
    let mut x = vec![vec![0.0f32; total]; 2];
    let bursts = [
        (0, 3000),
        (9_000, 9_400),
        (70_000, 70_001),
        (150_000, 151_000),
    ];
    for (c, ch) in x.iter_mut().enumerate() {
        let n = noise(total, 90 + c as u64);
        for &(s, e) in &bursts {
            ch[s..e].copy_from_slice(&n[s..e]);
        }
    }
    let mut outs = Vec::new();
    let mut idle_work = Vec::new();
    for skip in [false, true] {
        let mut conv = Convolver::new(2, 2, Some(kernel(&a)));
        conv.set_skip_silence(skip);
        let mut y = vec![vec![0.0f32; total]; 2];
        let mut rng = Rng::new(5);
        let (mut pos, mut pending) = (0, Some(kernel(&b)));
        let mut work_at = Vec::new();
        while pos < total {
            let n = rng.range(1, 300).min(total - pos);
            // Offered in the silence after the second burst, while its tail still rings.
            if pos >= 12_000 {
                if let Some(k) = pending.take() {
                    assert!(conv.offer_kernel(k).is_ok());
                }
            }
            let [x0, x1] = [&x[0][pos..pos + n], &x[1][pos..pos + n]];
            let (y0, y1) = y.split_at_mut(1);
            conv.process(
                &[x0, x1],
                &mut [&mut y0[0][pos..pos + n], &mut y1[0][pos..pos + n]],
            );
            if let Some(old) = conv.take_retired() {
                drop(old);
            }
            pos += n;
            work_at.push((pos, conv.work_done()));
        }
        // Work done between 100 000 and 140 000: the last input before is at 70 000 and
        // the plan reaches less than 30 000 samples.
        let at = |t: usize| work_at.iter().find(|(p, _)| *p >= t).unwrap().1;
        idle_work.push(at(140_000) - at(100_000));
        outs.push(y);
    }
    assert!(idle_work[0] > 1000, "the full computation works in silence");
    assert_eq!(idle_work[1], 0, "nothing runs once the tail has rung out");
    for c in 0..2 {
        let diff = outs[0][c]
            .iter()
            .zip(&outs[1][c])
            .position(|(p, q)| p.to_bits() != q.to_bits());
        assert_eq!(diff, None, "channel {c}: first differing sample");
    }
    // The output is not trivially silent: every burst rings.
    for &(s, _) in &bursts {
        assert!(outs[1][0][s..s + 2000].iter().any(|v| v.abs() > 1e-3));
    }
}

/// Kernels cut by different plans hand over exactly: the incoming one replays the history the
/// current one kept, so after the crossfade the output is the direct convolution with the new
/// IR (tail of the input before the offer included), whether the IR grows within that history
/// or shrinks; and memory follows the IR.
#[test]
fn kernels_with_their_own_plans_hand_over_exactly() {
    for (len_a, len_b) in [(60_000usize, 5_000usize), (20_000, 30_000), (3_000, 3_500)] {
        let (a, b) = (test_ir(len_a, 91), test_ir(len_b, 92));
        let kernel = |h: &[f32]| {
            let plan = PartitionPlan::for_ir(h.len(), 1, 1, 1, &CostModel::default());
            Box::new(Kernel::new(&plan, &[h], 1, 1))
        };
        let (ka, kb) = (kernel(&a), kernel(&b));
        assert_ne!(ka.plan(), kb.plan(), "each IR has its own plan");
        let ratio = ka.memory_bytes() as f64 / kb.memory_bytes() as f64;
        let lens = len_a as f64 / len_b as f64;
        assert!(
            ratio > 0.4 * lens && ratio < 2.5 * lens,
            "memory follows the IR: {ratio:.2} for lengths {lens:.2}"
        );
        let mut conv = Convolver::new(1, 1, Some(ka));
        conv.set_crossfade(1000, CrossfadeShape::EqualPower);
        let total = 140_000;
        let x = noise(total, 93);
        let offer = 70_000;
        let mut y = vec![0.0f32; total];
        let mut rng = Rng::new(94);
        let done = play_handover(&mut conv, &x, &mut y, offer, kb, || rng.range(1, 700));
        assert!(done <= offer + 1400 + Convolver::handover_delay(len_b) + 1000);
        let (mut max_ref, mut max_err) = (0.0f64, 0.0f64);
        for n in (done..total).step_by(5) {
            let r = direct_at(&x, &b, n);
            max_ref = max_ref.max(r.abs());
            max_err = max_err.max((y[n] as f64 - r).abs());
        }
        let rel = max_err / max_ref;
        assert!(rel <= 1e-6, "{len_a} -> {len_b}: relative error {rel:e}");
        // Before the offer it was the first IR's.
        let before = (0..offer)
            .step_by(11)
            .map(|n| (y[n] as f64 - direct_at(&x, &a, n)).abs())
            .fold(0.0, f64::max);
        assert!(before <= 1e-6 * max_ref.max(1.0) * 4.0, "{before}");
        // No click across the hand-over.
        let steady = max_jump(&y[offer - 20_000..offer]);
        let jump = max_jump(&y[offer..done + 1000]);
        assert!(
            jump <= 1.5 * steady,
            "{len_a} -> {len_b}: jump {jump} vs {steady}"
        );
    }
}

/// A head computed by FFT for whole aligned segments is exact, alone (host blocks of the
/// head's size) and mixed with the direct FIR (calls of any size); and the cost model picks
/// longer heads for longer host blocks.
#[test]
fn fft_head_is_exact_for_aligned_and_odd_calls() {
    let h = test_ir(30_000, 101);
    let x = noise(50_000, 102);
    let model = CostModel::default();
    let mut heads = Vec::new();
    for block in [64usize, 256, 1024] {
        let plan = PartitionPlan::for_ir_and_call(h.len(), 1, 1, 1, &model, block);
        heads.push(plan.head_len);
        assert!(plan.fft_head, "{plan:?}");
        for (calls, max_call) in [("aligned", block), ("random", 2 * block + 37)] {
            let k = Kernel::new(&plan, &[&h], 1, 1);
            let mut conv = Convolver::new(1, 1, Some(Box::new(k)));
            let y = if calls == "aligned" {
                let mut y = vec![0.0f32; x.len()];
                for (xi, yi) in x.chunks(block).zip(y.chunks_mut(block)) {
                    conv.process(&[xi], &mut [yi]);
                }
                y
            } else {
                run(&mut conv, std::slice::from_ref(&x), 1, max_call, 103).remove(0)
            };
            let (mut max_ref, mut max_err) = (0.0f64, 0.0f64);
            for n in (0..x.len()).step_by(3) {
                let r = direct_at(&x, &h, n);
                max_ref = max_ref.max(r.abs());
                max_err = max_err.max((y[n] as f64 - r).abs());
            }
            let rel = max_err / max_ref;
            // Odd calls run the direct FIR of the whole head; its f32 sums over 1024 taps
            // round a little more than the transforms (measured 1.2e-6).
            let bound = if block > 256 && calls == "random" {
                2e-6
            } else {
                1e-6
            };
            assert!(rel <= bound, "block {block}, {calls} calls: error {rel:e}");
        }
    }
    assert!(heads.windows(2).all(|w| w[0] < w[1]), "heads {heads:?}");
}

#[test]
fn stereo_in_place_equals_separate_buffers_at_any_call_size() {
    let irs: Vec<Vec<f32>> = (0..2).map(|c| test_ir(3000, 60 + c)).collect();
    let x = noise(9000, 61);
    let make = || {
        let refs: Vec<&[f32]> = irs.iter().map(|v| v.as_slice()).collect();
        let plan = PartitionPlan::for_ir(3000, 2, 2, 2, &CostModel::default());
        Convolver::new(2, 2, Some(Box::new(Kernel::new(&plan, &refs, 2, 2))))
    };
    let mut a = make();
    let want = run(&mut a, &[x.clone(), x.clone()], 2, 64, 0);
    for calls in [&[1usize, 5, 64][..], &[700, 3]] {
        let mut b = make();
        let got = crate::dsp::test_util::run_stage(&mut b, &x, calls);
        assert!(got == want[0], "calls {calls:?}");
    }
}

/// The first stage fused with an FFT head: whole aligned segments take one product with the
/// head and the stage's partitions at the segment's end; other segments complete the stage's
/// deferred job at their start and run the FIR head. Mixed calls, a silence longer than the IR
/// (the fused product's own silence test), a reset and skipping on or off must all agree with
/// direct convolution and with each other.
#[test]
fn fused_first_stage_is_exact_for_mixed_calls_silence_and_reset() {
    let irs: Vec<Vec<f32>> = (0..2).map(|c| test_ir(20_000, 120 + c)).collect();
    let refs: Vec<&[f32]> = irs.iter().map(|v| v.as_slice()).collect();
    let block = 512;
    let plan = PartitionPlan::for_ir_and_call(20_000, 2, 2, 2, &CostModel::default(), block);
    assert!(plan.fft_head && plan.head_len == block, "{plan:?}");
    let len = 90_000;
    let x: Vec<Vec<f32>> = (0..2)
        .map(|c| {
            let mut v = noise(len, 130 + c);
            v[25_000..60_000].fill(0.0);
            v
        })
        .collect();
    // Whole blocks, several blocks in one call, and pieces that break the alignment.
    let pattern = [
        512usize, 512, 100, 412, 1024, 1, 511, 512, 2048, 300, 724, 512,
    ];
    let play = |conv: &mut Convolver, x: &[Vec<f32>], y: &mut [Vec<f32>]| {
        let mut pos = 0;
        for &n in pattern.iter().cycle() {
            if pos >= x[0].len() {
                break;
            }
            let n = n.min(x[0].len() - pos);
            let (l, r) = y.split_at_mut(1);
            conv.process(
                &[&x[0][pos..pos + n], &x[1][pos..pos + n]],
                &mut [&mut l[0][pos..pos + n], &mut r[0][pos..pos + n]],
            );
            pos += n;
        }
    };
    let make = |skip: bool| {
        let mut c = Convolver::new(2, 2, Some(Box::new(Kernel::new(&plan, &refs, 2, 2))));
        c.set_skip_silence(skip);
        c
    };
    let mut y = vec![vec![0.0f32; len]; 2];
    let mut conv = make(true);
    play(&mut conv, &x, &mut y);
    for c in 0..2 {
        let rel = rel_error(&x[c], &irs[c], &y[c], (0..len).step_by(7));
        assert!(rel <= 2e-6, "channel {c}: error {rel:e}");
    }
    // Once every window has passed the input's end, the output is exactly silent; skipping
    // changes no sample.
    let quiet = 25_000 + 20_000 + 4 * plan.max_block();
    assert!(quiet < 60_000, "{plan:?}");
    assert!(y.iter().all(|v| v[quiet..60_000].iter().all(|&s| s == 0.0)));
    let mut full = vec![vec![0.0f32; len]; 2];
    let mut no_skip = make(false);
    play(&mut no_skip, &x, &mut full);
    assert!(full == y, "skipping silent work changed the output");
    assert!(conv.work_done() < no_skip.work_done());
    // After a reset the convolver plays like a fresh one, bit for bit.
    conv.reset();
    let mut again = vec![vec![0.0f32; len]; 2];
    play(&mut conv, &x, &mut again);
    assert!(again == y, "reset did not restore a fresh state");
}

/// A hand-over between two kernels with fused first stages: the incoming one replays the
/// history in pieces the outgoing one's call sizes do not align with, then both run the mixed
/// calls; after the crossfade the output is the new IR's, exactly.
#[test]
fn fused_kernels_hand_over_exactly() {
    let (a, b) = (test_ir(15_000, 141), test_ir(9_000, 142));
    let block = 512;
    let kernel = |h: &[f32]| {
        let plan = PartitionPlan::for_ir_and_call(h.len(), 1, 1, 1, &CostModel::default(), block);
        assert!(plan.fft_head, "{plan:?}");
        Box::new(Kernel::new(&plan, &[h], 1, 1))
    };
    let mut conv = Convolver::new(1, 1, Some(kernel(&a)));
    conv.set_crossfade(700, CrossfadeShape::EqualPower);
    let total = 80_000;
    let x = noise(total, 143);
    let mut y = vec![0.0f32; total];
    let pattern = [512usize, 512, 1024, 37, 475, 512, 300];
    let offer = 20_000;
    let mut calls = pattern.iter().cycle();
    let done = play_handover(&mut conv, &x, &mut y, offer, kernel(&b), || {
        *calls.next().expect("endless")
    });
    let err = |h: &[f32], range: std::ops::Range<usize>| rel_error(&x, h, &y, range.step_by(3));
    assert!(err(&a, 0..offer) <= 2e-6, "before: {:e}", err(&a, 0..offer));
    assert!(
        err(&b, done..total) <= 2e-6,
        "after: {:e}",
        err(&b, done..total)
    );
}
