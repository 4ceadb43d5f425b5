//! Real-time safety of the DSP: no heap allocation or deallocation on the audio path. Two
//! detectors, one per build:
//! - a plain `cargo test`: a counting global allocator (allocations are counted only on the
//!   thread and inside the region under test);
//! - the suite's build (`--features assert_process_allocs`, scripts/test.sh): nice-plug then
//!   installs its own global allocator, which aborts the process on any allocator call inside
//!   `assert_no_alloc`; the region under test runs inside it (a violation aborts this test
//!   binary, and `the_detector_detects` shows that it does).
//!
//! The plugin-level check (the same allocator around the real `process()`) runs in
//! `scripts/test.sh` against the test build's plugin.

use std::time::Instant;

use fluxforge::dsp::chain::{Engine, Settings};
use fluxforge::dsp::convolver::{CostModel, Kernel, PartitionPlan};
use fluxforge::dsp::rng::Rng;
use fluxforge::dsp::saturator::CharacterMode;
use fluxforge::dsp::spectral::BINS;

#[cfg(not(feature = "assert_process_allocs"))]
mod detector {
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::cell::Cell;

    struct Counting;

    thread_local! {
        static ARMED: Cell<bool> = const { Cell::new(false) };
        static COUNT: Cell<usize> = const { Cell::new(0) };
    }

    // SAFETY: forwards to the system allocator; the bookkeeping uses const thread-locals, which
    // never allocate.
    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, l: Layout) -> *mut u8 {
            note();
            // SAFETY: forwarded unchanged: the caller's contract is `System`'s.
            unsafe { System.alloc(l) }
        }
        unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
            note();
            // SAFETY: forwarded unchanged: the caller's contract is `System`'s.
            unsafe { System.dealloc(p, l) }
        }
        unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
            note();
            // SAFETY: forwarded unchanged: the caller's contract is `System`'s.
            unsafe { System.realloc(p, l, n) }
        }
    }

    fn note() {
        let _ = ARMED.try_with(|a| {
            if a.get() {
                COUNT.with(|c| c.set(c.get() + 1));
            }
        });
    }

    #[global_allocator]
    static A: Counting = Counting;

    /// Runs `f` and returns how many allocator calls it made on this thread.
    pub fn allocations<T>(f: impl FnOnce() -> T) -> (T, usize) {
        COUNT.with(|c| c.set(0));
        ARMED.with(|a| a.set(true));
        let r = f();
        ARMED.with(|a| a.set(false));
        (r, COUNT.with(|c| c.get()))
    }
}

#[cfg(feature = "assert_process_allocs")]
mod detector {
    /// Runs `f` where any allocator call aborts the process: returning at all means none.
    pub fn allocations<T>(f: impl FnOnce() -> T) -> (T, usize) {
        (nice_assert_no_alloc::assert_no_alloc(f), 0)
    }
}

use detector::allocations;

fn room(len: usize, seed: u64) -> [Vec<f32>; 2] {
    let mut rng = Rng::new(seed);
    let mut f = || {
        (0..len)
            .map(|i| (rng.bipolar() * (-3.0 * i as f64 / len as f64).exp()) as f32)
            .collect()
    };
    [f(), f()]
}

/// Set in the child process of `the_detector_detects` (the aborting detector).
const CHILD: &str = "FLUXFORGE_REALTIME_DETECTOR_CHILD";

#[test]
fn the_detector_detects() {
    if cfg!(not(feature = "assert_process_allocs")) {
        let (_, n) = allocations(|| vec![1u8; 10]);
        assert!(n >= 1, "a Vec allocation must be counted");
    } else if std::env::var_os(CHILD).is_some() {
        let (v, _) = allocations(|| vec![1u8; 10]);
        println!("not aborted: {}", v.len());
    } else {
        // The aborting detector must abort: run this test alone in a child process.
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "the_detector_detects",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD, "1")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            !out.status.success() && !stdout.contains("not aborted"),
            "an allocation inside the checked region must abort: {:?}\n{stdout}",
            out.status
        );
    }
}

#[test]
fn engine_process_kernel_handover_and_reset_do_not_allocate() {
    let rate = 48_000.0;
    let plan = PartitionPlan::for_ir(96_000, 4, 2, 2, &CostModel::default());
    let [a0, a1] = room(96_000, 1);
    let [b0, b1] = room(96_000, 2);
    let k = Kernel::new(&plan, &[&a0, &a1], 2, 2);
    let mut e = Engine::new(rate, Some(Box::new(k)), &Settings::default());
    let true_stereo = Kernel::new(&plan, &[&b0, &b1, &a1, &a0], 2, 2);
    let mut pending = Some(Box::new(true_stereo));

    let mut rng = Rng::new(3);
    let mut l = vec![0.0f32; 8192];
    let mut r = vec![0.0f32; 8192];
    let mut total = 0;
    let mut retired = Vec::new();
    for call in 0..3000 {
        let n = rng.range(1, 8192);
        for (x, y) in l[..n].iter_mut().zip(r[..n].iter_mut()) {
            *x = rng.bipolar() as f32;
            *y = if call % 7 == 0 {
                f32::NAN
            } else {
                rng.bipolar() as f32
            };
        }
        let settings = Settings {
            mix: (call % 10) as f32 / 10.0,
            bypass: call % 50 == 0,
            ..Default::default()
        };
        let (old, count) = allocations(|| {
            if call == 40 {
                if let Some(k) = pending.take() {
                    pending = e.convolver_mut().offer_kernel(k).err();
                }
            }
            e.set_settings(&settings);
            e.process(&mut [&mut l[..n], &mut r[..n]]);
            if call == 1500 {
                e.reset();
            }
            e.convolver_mut().take_retired()
        });
        total += count;
        retired.extend(old); // dropped here, outside the checked region
    }
    assert_eq!(total, 0, "allocator calls on the audio path");
    assert_eq!(
        retired.len(),
        1,
        "the old kernel came back to be dropped off the audio thread"
    );
    assert!(l.iter().chain(&r).all(|v| v.is_finite()));
}

#[test]
fn subnormal_input_does_not_slow_processing() {
    let plan = PartitionPlan::for_ir(48_000, 4, 2, 2, &CostModel::default());
    let [a0, a1] = room(48_000, 4);
    // The whole chain, saturator included (Warm, oversampled: filters and DC blocker decay
    // into subnormals if nothing flushes them).
    let mut settings = Settings {
        mix: 1.0,
        ..Default::default()
    };
    settings.character.mode = CharacterMode::Warm;
    settings.character.oversample = fluxforge::dsp::saturator::Oversampling::X4;
    let mut e = Engine::new(
        48_000.0,
        Some(Box::new(Kernel::new(&plan, &[&a0, &a1], 2, 2))),
        &settings,
    );
    let mut time = |value: f32| {
        e.reset();
        let mut l = vec![value; 512];
        let mut r = vec![value; 512];
        let t = Instant::now();
        for _ in 0..400 {
            l.fill(value);
            r.fill(value);
            e.process(&mut [&mut l, &mut r]);
        }
        t.elapsed().as_secs_f64()
    };
    let normal = (0..3).map(|_| time(0.25)).fold(f64::MAX, f64::min);
    let subnormal = (0..3).map(|_| time(1e-39)).fold(f64::MAX, f64::min);
    println!("normal {normal:.4} s, subnormal {subnormal:.4} s");
    assert!(
        subnormal < 1.5 * normal,
        "subnormal input costs {:.2}x",
        subnormal / normal
    );
}

/// Every band dynamic (four of them spectral, turned whole-band late on), spectral dynamics
/// on (downward, then upward), the analyzer on, and
/// every mixing option: bands on every stereo placement with 48 dB cuts, half of them and the
/// spectral stage listening to a sidechain (which gets the same bad samples), ducking, the
/// section moving to the reverb return and back, a band solo in and out: random call sizes
/// with NaN, infinite and subnormal input allocate nothing and leave the output finite.
#[test]
fn dynamic_eq_and_spectral_dynamics_do_not_allocate_or_get_poisoned() {
    use fluxforge::dsp::dynamic_eq::DynamicMode;
    use fluxforge::dsp::spectral::SpectralMode;
    let plan = PartitionPlan::for_ir(24_000, 2, 2, 2, &CostModel::default());
    let [a0, a1] = room(24_000, 3);
    use fluxforge::dsp::chain::EqPlacement;
    use fluxforge::dsp::dynamic_eq::{BandKind, Placement, Slope};
    use fluxforge::dsp::DetectorSource;
    let mut s = Settings::default();
    let places = [
        Placement::Stereo,
        Placement::Left,
        Placement::Right,
        Placement::Mid,
        Placement::Side,
    ];
    for (i, b) in s.eq.iter_mut().enumerate() {
        b.enabled = true;
        b.gain_db = 3.0;
        b.dynamic = DynamicMode::Down;
        b.threshold_db = -40.0;
        b.placement = places[i % places.len()];
        if i % 2 == 1 {
            b.source = DetectorSource::External;
        }
        b.spectral = i < 4;
    }
    s.eq[5].kind = BandKind::LowCut;
    s.eq[5].slope = Slope::Db48;
    s.eq[7].kind = BandKind::TiltShelf;
    s.spectral.enabled = true;
    s.spectral.threshold_db = -40.0;
    s.spectral.source = DetectorSource::External;
    s.duck.depth_db = 12.0;
    s.duck.threshold_db = -40.0;
    let mut e = Engine::new(
        48_000.0,
        Some(Box::new(Kernel::new(&plan, &[&a0, &a1], 2, 2))),
        &s,
    );
    e.set_analyzer(true);
    let (mut writer, feed) = fluxforge::shared::spectrum_feed();
    // EQ match: a design handed over while playing (as the plugin does from its worker), and
    // the learner fed while a learn is on.
    let curve: [f32; fluxforge::dsp::long_term_spectrum::POINTS] =
        std::array::from_fn(|i| if i % 20 < 10 { 6.0 } else { -4.0 });
    let design = Box::new(fluxforge::dsp::eq_match::MatchDesign::new(&curve, 48_000.0));
    let flat = Box::new(fluxforge::dsp::eq_match::MatchDesign::flat(48_000.0));
    let learn = std::sync::Arc::new(fluxforge::match_state::LearnFeed::default());
    let mut learner = fluxforge::match_state::learner(48_000.0, learn.clone());
    learn.start();
    let mut rng = Rng::new(11);
    let mut l = vec![0.0f32; 4096];
    let mut r = vec![0.0f32; 4096];
    let mut key = [vec![0.0f32; 4096], vec![0.0f32; 4096]];
    let ((), total) = allocations(|| {
        for call in 0..2000 {
            if call == 1000 {
                s.spectral.mode = SpectralMode::Up;
                s.eq[2].dynamic = DynamicMode::Up;
                e.set_settings(&s);
            }
            if call == 1700 {
                s.eq.iter_mut().for_each(|b| b.spectral = false);
                e.set_settings(&s);
            }
            match call {
                100 | 1100 => e.set_match(&design),
                800 => {
                    s.match_amount = 1.7;
                    e.set_settings(&s);
                }
                1600 => e.set_match(&flat),
                _ => {}
            }
            match call {
                300 | 1200 => e.set_solo(Some(call % 8)),
                400 | 1300 => e.set_solo(None),
                _ => {}
            }
            if call == 600 || call == 1500 {
                s.eq_placement = if call == 600 {
                    EqPlacement::Return
                } else {
                    EqPlacement::Input
                };
                e.set_settings(&s);
            }
            let n = rng.range(1, 1024);
            for i in 0..n {
                let v = match rng.range(0, 400) {
                    0 => f32::NAN,
                    1 => f32::INFINITY,
                    2 => 1e-40,
                    _ => 0.5 * rng.bipolar() as f32,
                };
                l[i] = v;
                r[i] = v;
                key[0][i] = if i % 7 == 0 {
                    v
                } else {
                    0.3 * rng.bipolar() as f32
                };
                key[1][i] = -key[0][i];
            }
            let [k0, k1] = &key;
            learner.push([&l[..n], &r[..n]], Some([&k0[..n], &k1[..n]]));
            e.process_keyed(&mut [&mut l[..n], &mut r[..n]], Some([&k0[..n], &k1[..n]]));
            // What the plugin does for an open editor after each block.
            writer.publish_analysis(
                e.spectral(),
                e.spectral_bands().gain_curve(),
                None,
                48_000.0,
            );
            assert!(l[..n].iter().chain(&r[..n]).all(|v| v.is_finite()));
        }
        // Silence until the engine goes idle, then sound again: neither allocates.
        for call in 0..200 {
            l.fill(0.0);
            r.fill(0.0);
            if call == 199 {
                l[100] = 0.5;
            }
            e.process(&mut [&mut l[..1024], &mut r[..1024]]);
            if call == 198 {
                assert!(e.is_idle(), "idle after 4 s of silence");
            }
        }
        assert!(!e.is_idle());
        e.set_analyzer(false);
        e.reset();
    });
    assert_eq!(total, 0, "allocator calls on the audio path");
    let learned = learn.latest().expect("the learn published spectra");
    assert!(learned.input_frames > 100 && learned.key_frames > 100);
    let frame = feed.latest().expect("analyzer frames were published");
    assert!(frame
        .level_db
        .iter()
        .chain(&frame.gain_db)
        .all(|v| v.is_finite()));
}

/// What the plugin adds to `process()` while its editor is open or in demo mode: the output
/// spectrum (an analysis-only spectral instance, published with the input analysis) and the
/// demo player; random call sizes, no allocation, the output untouched by the analysis.
#[test]
fn output_analysis_and_demo_player_do_not_allocate() {
    use fluxforge::dsp::spectral::{SpectralDynamics, SpectralSettings};
    let mut out = SpectralDynamics::new(48_000.0, &SpectralSettings::default());
    out.set_analyzer(true);
    let input = SpectralDynamics::new(48_000.0, &SpectralSettings::default());
    let mut demo = fluxforge::demo::Player::new(48_000);
    let (mut writer, feed) = fluxforge::shared::spectrum_feed();
    let mut rng = Rng::new(4);
    let mut l = vec![0.0f32; 2048];
    let mut r = vec![0.0f32; 2048];
    let ((), total) = allocations(|| {
        for _ in 0..500 {
            let n = rng.range(1, 2048);
            demo.fill(&mut [&mut l[..n], &mut r[..n]]);
            let (first, last) = (l[0], r[n - 1]);
            out.process(&mut [&mut l[..n], &mut r[..n]]);
            assert!(
                l[0] == first && r[n - 1] == last,
                "analysis leaves the signal alone"
            );
            writer.publish_analysis(&input, &[0.0; BINS], Some(&out), 48_000.0);
        }
    });
    assert_eq!(total, 0, "allocator calls on the audio path");
    let frame = feed.latest().expect("frames");
    assert!(
        frame.output_db.iter().any(|v| *v > -60.0),
        "the phrase was analysed"
    );
}
