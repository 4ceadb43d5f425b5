use fluxforge::dsp::convolver::{Convolver, CostModel, Kernel, PartitionPlan};
use fluxforge::dsp::rng::Rng;
use std::time::Instant;
fn main() {
    let n = 192_000;
    let mut rng = Rng::new(1);
    let l: Vec<f32> = (0..n).map(|_| rng.bipolar() as f32).collect();
    let cap: usize = std::env::args().nth(1).unwrap().parse().unwrap();
    let plan = PartitionPlan::for_ir_capped(n, 2, 2, 2, &CostModel::default(), cap);
    println!(
        "{:?}",
        plan.stages
            .iter()
            .map(|s| (s.block, s.count))
            .collect::<Vec<_>>()
    );
    let k = Kernel::new(&plan, &[&l, &l], 2, 2);
    let mut c = Convolver::new(plan, 2, 2, Some(Box::new(k)));
    let x: Vec<f32> = (0..64).map(|_| rng.bipolar() as f32).collect();
    let (mut a, mut b) = (vec![0.0; 64], vec![0.0; 64]);
    let mut best = vec![f64::MAX; 1024];
    for _ in 0..20 {
        for i in 0..1024 {
            let t = Instant::now();
            c.process(&[&x, &x], &mut [&mut a, &mut b]);
            best[i] = best[i].min(t.elapsed().as_secs_f64() * 1e6);
        }
    }
    let mut idx: Vec<usize> = (0..1024).collect();
    idx.sort_by(|p, q| best[*q].total_cmp(&best[*p]));
    for &i in idx.iter().take(12) {
        println!(
            "call {i} (mod 128 = {}, mod 16 = {}): {:.1} us",
            i % 128,
            i % 16,
            best[i]
        );
    }
    let mut s = best.clone();
    s.sort_by(f64::total_cmp);
    println!(
        "median {:.1} mean {:.2}",
        s[512],
        best.iter().sum::<f64>() / 1024.0
    );
}
