//! Instances destroyed while their IR renders run: the plugin's threads end with the
//! instance, nothing panics. The scenario runs in a child process (this test binary, one
//! ignored test) so that its stderr, where a panic on a plugin thread is printed, and its
//! thread list belong to it alone.

use super::*;
use std::time::Duration;

/// Threads of this process by name (Linux: `/proc/self/task/*/comm`).
fn threads_named(name: &str) -> usize {
    std::fs::read_dir("/proc/self/task")
        .map(|d| {
            d.filter_map(Result::ok)
                .filter(|t| {
                    std::fs::read_to_string(t.path().join("comm"))
                        .is_ok_and(|c| c.trim_end() == name)
                })
                .count()
        })
        .unwrap_or(0)
}

/// Waits (up to 2 s: a thread names itself when it starts, and leaves the list when it has
/// exited) until `n` threads are named `name`; returns how many there are.
fn settle(name: &str, n: usize) -> usize {
    let t0 = std::time::Instant::now();
    loop {
        let k = threads_named(name);
        if k == n || t0.elapsed() > Duration::from_secs(2) {
            return k;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// An instance that has just been asked for a render (a room change, or a state load with
/// another room, seen by its next process call), still running it.
fn busy_instance(
    k: usize,
) -> (
    PluginInstance<TestHost>,
    StartedPluginAudioProcessor<TestHost>,
) {
    let mut inst = new_instance(load_entry());
    let p = Params::get(&mut inst);
    let rooms = [
        Room::Cathedral,
        Room::LargeHall,
        Room::Plate,
        Room::SmallRoom,
    ];
    let room = rooms[k % rooms.len()];
    if k % 2 == 1 {
        let mut state: serde_json::Value = serde_json::from_slice(&save_state(&mut inst)).unwrap();
        state["params"]["room"] = serde_json::json!({ "i32": room.to_index() });
        assert!(load_state(&mut inst, &serde_json::to_vec(&state).unwrap()));
    }
    let proc = inst.activate(|_, _| (), config(48_000.0, 512)).unwrap();
    let mut proc = proc.start_processing().unwrap();
    let events = if k.is_multiple_of(2) {
        vec![(0, p.id("room"), room.to_index() as f64)]
    } else {
        vec![(0, p.id("ir_decay"), normalized("ir_decay", 1.5))]
    };
    run(&mut proc, &noise(512, k as u64), &mut || 512, &events);
    (inst, proc)
}

fn destroy(
    (mut inst, proc): (
        PluginInstance<TestHost>,
        StartedPluginAudioProcessor<TestHost>,
    ),
) {
    inst.deactivate(proc.stop_processing());
    drop(inst);
}

#[test]
#[ignore = "run by destroying_instances_during_renders_ends_their_threads_without_a_panic"]
fn child_destroy_during_renders() {
    if std::env::var_os("FLUXFORGE_LIFETIME_CHILD").is_none() {
        return;
    }
    for round in 0..3 {
        for delay_ms in [0, 1, 10, 100] {
            let busy = busy_instance(round + delay_ms);
            assert_eq!(settle(fluxforge::worker::THREAD_NAME, 1), 1);
            std::thread::sleep(Duration::from_millis(delay_ms as u64));
            destroy(busy);
            assert_eq!(
                settle(fluxforge::worker::THREAD_NAME, 0),
                0,
                "the instance's thread ended with it"
            );
        }
    }
    // Eight at once, destroyed in a shuffled order at staggered moments.
    let mut rng = Rng::new(7);
    let mut live: Vec<_> = (0..8).map(busy_instance).collect();
    assert_eq!(settle(fluxforge::worker::THREAD_NAME, 8), 8);
    while !live.is_empty() {
        let i = rng.range(0, live.len() - 1);
        std::thread::sleep(Duration::from_millis(rng.range(0, 5) as u64));
        destroy(live.swap_remove(i));
        let left = live.len();
        assert_eq!(settle(fluxforge::worker::THREAD_NAME, left), left);
    }
    // The framework's shared worker ends with the last instance too.
    assert_eq!(settle("bg-worker", 0), 0, "the framework's worker ended");
    eprintln!("lifetime child: done");
}

#[test]
fn destroying_instances_during_renders_ends_their_threads_without_a_panic() {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "lifetime::child_destroy_during_renders",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("FLUXFORGE_LIFETIME_CHILD", "1")
        .output()
        .expect("the child runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "child failed:\n{stdout}\n{stderr}");
    assert!(
        stderr.contains("lifetime child: done"),
        "{stdout}\n{stderr}"
    );
    assert!(!stderr.contains("panicked"), "a thread panicked:\n{stderr}");
}
