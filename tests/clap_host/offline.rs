//! Offline bounces do not depend on how fast they run: with the host in offline render mode,
//! an automated room change plays the new room from a fixed point (the sample of the change,
//! then the 50 ms crossfade) whether the background render is quick or slow, so two bounces
//! of one session are identical. In real-time mode nothing waits. The scenarios run in child
//! processes of this test binary, one with every render slowed down by 150 ms
//! (`FLUXFORGE_TEST_RENDER_DELAY_MS`, read by the plugin's worker when it starts).

use super::*;
use clack_extensions::render::{PluginRender, RenderMode};
use std::time::{Duration, Instant};

const RATE: usize = 48_000;
/// Where the room changes (inside a call of every size pattern used).
const CHANGE: usize = RATE + 123;

/// A new instance and its parameters, in offline render mode if `offline`.
fn instance(offline: bool) -> (PluginInstance<TestHost>, Params) {
    let mut inst = new_instance(load_entry());
    let p = Params::get(&mut inst);
    if offline {
        let render = inst
            .plugin_handle()
            .get_extension::<PluginRender>()
            .expect("render extension");
        render
            .set(&inst.plugin_handle(), RenderMode::Offline)
            .expect("offline mode");
    }
    (inst, p)
}

/// 3 s of noise bursts; the room changes to the Cathedral at 1.0 s (an event inside a call).
fn bounce(
    offline: bool,
    change_room: bool,
    sizes: &mut dyn FnMut() -> usize,
) -> ([Vec<f32>; 2], Duration) {
    let (mut inst, p) = instance(offline);
    let proc = inst.activate(|_, _| (), config(RATE as f64, 512)).unwrap();
    let mut proc = proc.start_processing().unwrap();
    let mut input = noise(3 * RATE, 17);
    for ch in &mut input {
        for (i, x) in ch.iter_mut().enumerate() {
            *x *= if (i / 6000) % 3 == 0 { 1.0 } else { 0.05 };
        }
    }
    let change = (CHANGE, p.id("room"), Room::Cathedral.to_index() as f64);
    let events = if change_room { vec![change] } else { vec![] };
    let t0 = Instant::now();
    let out = run(&mut proc, &input, sizes, &events);
    let took = t0.elapsed();
    inst.deactivate(proc.stop_processing());
    (out, took)
}

/// Where a state with an EQ match curve is loaded into the offline bounce.
const MATCH_AT: usize = RATE;

/// 2 s of noise bounced offline; after the first second the host loads a state with an EQ
/// match curve (as a host recalling a session mid-bounce would), if `load`.
fn match_bounce(load: bool, sizes: &mut dyn FnMut() -> usize) -> [Vec<f32>; 2] {
    use fluxforge::dsp::long_term_spectrum::{point_hz, POINTS};
    let (mut inst, _) = instance(true);
    let mut state: serde_json::Value = serde_json::from_slice(&save_state(&mut inst)).unwrap();
    let proc = inst.activate(|_, _| (), config(RATE as f64, 512)).unwrap();
    let mut proc = proc.start_processing().unwrap();
    let input = noise(2 * RATE, 29);
    let part = |r: std::ops::Range<usize>| [input[0][r.clone()].to_vec(), input[1][r].to_vec()];
    let mut out = run(&mut proc, &part(0..MATCH_AT), sizes, &[]);
    let curve: Vec<f32> = (0..POINTS)
        .map(|i| if point_hz(i) < 800.0 { -9.0 } else { 6.0 })
        .collect();
    state["fields"]["eq-match"] = serde_json::Value::String(serde_json::json!(curve).to_string());
    if load {
        assert!(load_state(&mut inst, &serde_json::to_vec(&state).unwrap()));
    }
    let rest = run(&mut proc, &part(MATCH_AT..2 * RATE), sizes, &[]);
    for (o, r) in out.iter_mut().zip(rest) {
        o.extend(r);
    }
    inst.deactivate(proc.stop_processing());
    out
}

fn write(path: &Path, out: &[Vec<f32>; 2]) {
    let bytes: Vec<u8> = out
        .iter()
        .flat_map(|c| c.iter().flat_map(|x| x.to_le_bytes()))
        .collect();
    std::fs::write(path, bytes).unwrap();
}

fn read(path: &Path) -> Vec<f32> {
    std::fs::read(path)
        .unwrap()
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
        .collect()
}

use std::path::Path;

#[test]
#[ignore = "run by offline_bounces_are_identical_whatever_the_render_speed"]
fn child_bounce() {
    let Some(dir) = std::env::var_os("FLUXFORGE_OFFLINE_CHILD") else {
        return;
    };
    let dir = Path::new(&dir);
    let (fixed, _) = bounce(true, true, &mut || 512);
    write(&dir.join("fixed.f32"), &fixed);
    let (unchanged, _) = bounce(true, false, &mut || 512);
    write(&dir.join("unchanged.f32"), &unchanged);
    let mut rng = Rng::new(5);
    let (varied, _) = bounce(true, true, &mut || rng.range(1, 512));
    write(&dir.join("varied.f32"), &varied);
    write(&dir.join("match.f32"), &match_bounce(true, &mut || 512));
    write(&dir.join("no-match.f32"), &match_bounce(false, &mut || 512));
    let mut rng = Rng::new(6);
    write(
        &dir.join("match-varied.f32"),
        &match_bounce(true, &mut || rng.range(1, 512)),
    );
    // Real time: the process calls never wait for the render.
    let (_, took) = bounce(false, true, &mut || 512);
    std::fs::write(dir.join("realtime-ms"), took.as_millis().to_string()).unwrap();
}

fn run_child(dir: &Path, delay_ms: u64) {
    std::fs::create_dir_all(dir).unwrap();
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "offline::child_bounce",
            "--exact",
            "--ignored",
            "--test-threads=1",
        ])
        .env("FLUXFORGE_OFFLINE_CHILD", dir)
        .env("FLUXFORGE_TEST_RENDER_DELAY_MS", delay_ms.to_string())
        .output()
        .expect("the child runs");
    assert!(
        out.status.success(),
        "child failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn offline_bounces_are_identical_whatever_the_render_speed() {
    let base = std::env::temp_dir().join(format!("fluxforge-offline-{}", std::process::id()));
    let (quick, slow) = (base.join("quick"), base.join("slow"));
    run_child(&quick, 0);
    run_child(&slow, 150);
    let a = read(&quick.join("fixed.f32"));
    let b = read(&slow.join("fixed.f32"));
    assert!(
        a.iter().zip(&b).all(|(x, y)| x.to_bits() == y.to_bits()),
        "a slow render changed the bounce"
    );
    for dir in [&quick, &slow] {
        let c = read(&dir.join("varied.f32"));
        let d = a
            .iter()
            .zip(&c)
            .fold(0.0f32, |m, (x, y)| m.max((x - y).abs()));
        assert!(d < 1e-6, "other call sizes changed the bounce by {d}");
    }
    // The new room is heard from a fixed point on: its crossfade starts
    // OFFLINE_HANDOVER_DELAY samples after the change. Up to there the bounce is the one
    // without the change; within 5 ms after, it differs.
    let at = CHANGE + fluxforge::dsp::convolver::OFFLINE_HANDOVER_DELAY;
    let same = read(&quick.join("unchanged.f32"));
    let len = 3 * RATE;
    for c in 0..2 {
        let (x, y) = (&a[c * len..(c + 1) * len], &same[c * len..(c + 1) * len]);
        // (Before it, only the rounding of the call that the event splits differs.)
        let before = x[..at]
            .iter()
            .zip(&y[..at])
            .fold(0.0f32, |m, (p, q)| m.max((p - q).abs()));
        assert!(before < 1e-6, "changed before the event ({before})");
        let d = x[at..at + RATE / 200]
            .iter()
            .zip(&y[at..at + RATE / 200])
            .fold(0.0f32, |m, (p, q)| m.max((p - q).abs()));
        assert!(
            d > 1e-4,
            "the new room is not heard within 5 ms of its fixed point ({d})"
        );
    }
    // An EQ match curve loaded mid-bounce: its design (slowed by 150 ms in the slow child)
    // is waited for, so the bounce is bit-identical; it is heard from the load on (the first
    // call after it crossfades in) and not before.
    let (m, m_slow) = (
        read(&quick.join("match.f32")),
        read(&slow.join("match.f32")),
    );
    assert!(
        m.iter()
            .zip(&m_slow)
            .all(|(x, y)| x.to_bits() == y.to_bits()),
        "a slow EQ match design changed the bounce"
    );
    let m_varied = read(&slow.join("match-varied.f32"));
    let before = m[..MATCH_AT]
        .iter()
        .zip(&m_varied[..MATCH_AT])
        .fold(0.0f32, |d, (x, y)| d.max((x - y).abs()));
    assert!(
        before < 1e-6,
        "other call sizes changed the bounce before the load: {before}"
    );
    let after = (MATCH_AT..2 * RATE)
        .map(|i| (m[i] - m_varied[i]).abs())
        .fold(0.0f32, f32::max);
    assert!(
        after < 1e-5,
        "other call sizes changed the bounce after the load: {after}"
    );
    let none = read(&quick.join("no-match.f32"));
    let diff = |r: std::ops::Range<usize>| r.map(|i| (m[i] - none[i]).abs()).fold(0.0f32, f32::max);
    assert!(diff(0..MATCH_AT) < 1e-6, "nothing changes before the load");
    assert!(
        diff(MATCH_AT..MATCH_AT + RATE / 100) > 1e-3,
        "the match is heard within 10 ms"
    );
    // Real time did not wait for the 150 ms render.
    let ms: u64 = std::fs::read_to_string(slow.join("realtime-ms"))
        .unwrap()
        .parse()
        .unwrap();
    assert!(ms < 150, "real-time processing waited {ms} ms");
    let _ = std::fs::remove_dir_all(&base);
}

/// 0.5 s of loud noise through the character stage (Warm, +18 dB, oversampled) with the
/// oversampling parameters `os` (factor index, render index), in offline render mode or not.
fn saturated(offline: bool, (factor, render): (f64, f64)) -> [Vec<f32>; 2] {
    let (mut inst, p) = instance(offline);
    let mut proc = inst
        .activate(|_, _| (), config(RATE as f64, 512))
        .unwrap()
        .start_processing()
        .unwrap();
    let events = [
        (0, p.id("sat_mode"), 2.0), // Warm, by index
        (0, p.id("sat_drive"), normalized("sat_drive", 18.0)),
        (0, p.id("sat_os"), 1.0),
        (0, p.id("sat_os_factor"), factor),
        (0, p.id("sat_os_render"), render),
    ];
    let out = run(&mut proc, &noise(RATE / 2, 3), &mut || 512, &events);
    inst.deactivate(proc.stop_processing());
    out
}

#[test]
fn an_offline_host_gets_the_render_oversampling() {
    // Playing at 2x with 4x for renders: offline it is exactly 4x; in real time, 2x.
    let (x2, x4, as_playback, render_4x) = (0.0, 1.0, 0.0, 3.0);
    let offline = saturated(true, (x2, render_4x));
    let four = saturated(false, (x4, as_playback));
    let realtime = saturated(false, (x2, render_4x));
    let two = saturated(false, (x2, as_playback));
    assert_eq!(offline, four, "offline: the render choice, bit for bit");
    assert_eq!(realtime, two, "real time: the playback choice");
    assert_ne!(offline, realtime);
}
