//! Renders made on another platform against the build machine's renders of the same input
//! and settings (`scripts/cross.sh renders TARGET` makes both sets and runs this with
//! `FLUXFORGE_CROSS_RENDERS` pointing at them; without it there is nothing to compare).
//!
//! Every file must have the same length and channels, and differ by at most 1e-5 in any
//! sample. The largest difference per file is printed: the platforms round differently where
//! their FFTs and multiply-adds differ (fused on aarch64 NEON and x86 AVX2/AVX-512, separate
//! on x86 SSE2), never more than that.

use std::path::Path;

/// Largest allowed sample difference.
const TOLERANCE: f32 = 1e-5;

fn read(path: &Path) -> (hound::WavSpec, Vec<f32>) {
    let mut r = hound::WavReader::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let spec = r.spec();
    let samples = match spec.sample_format {
        hound::SampleFormat::Float => r.samples::<f32>().map(Result::unwrap).collect(),
        hound::SampleFormat::Int => {
            let scale = 1.0 / (1u64 << (spec.bits_per_sample - 1)) as f32;
            r.samples::<i32>()
                .map(|s| s.unwrap() as f32 * scale)
                .collect()
        }
    };
    (spec, samples)
}

#[test]
fn renders_on_the_other_platform_match_the_build_machines() {
    let Some(dir) = std::env::var_os("FLUXFORGE_CROSS_RENDERS") else {
        eprintln!("FLUXFORGE_CROSS_RENDERS not set: nothing to compare");
        return;
    };
    let dir = Path::new(&dir);
    let mut names: Vec<_> = std::fs::read_dir(dir.join("native"))
        .expect("native renders")
        .map(|e| e.unwrap().file_name())
        .collect();
    names.sort();
    assert!(!names.is_empty(), "no renders in {}", dir.display());
    let mut worst = 0.0f32;
    println!("| render | samples | largest difference |");
    println!("|---|---:|---:|");
    for name in &names {
        let (sa, a) = read(&dir.join("native").join(name));
        let (sb, b) = read(&dir.join("target").join(name));
        assert_eq!(sa, sb, "{name:?}: format differs");
        assert_eq!(a.len(), b.len(), "{name:?}: length differs");
        assert!(b.iter().all(|x| x.is_finite()), "{name:?}: non-finite");
        let d = a
            .iter()
            .zip(&b)
            .fold(0.0f32, |m, (x, y)| m.max((x - y).abs()));
        let exact = a.iter().zip(&b).all(|(x, y)| x.to_bits() == y.to_bits());
        println!(
            "| {} | {} | {} |",
            name.to_string_lossy(),
            a.len(),
            if exact {
                "bit-exact".to_string()
            } else {
                format!("{d:.2e}")
            }
        );
        assert!(d <= TOLERANCE, "{name:?}: differs by {d}");
        worst = worst.max(d);
    }
    println!(
        "{} renders compared, largest difference {worst:.2e}",
        names.len()
    );
}
