//! The soak's events with per-call timing: room switches, IR edits and state loads at random
//! moments while the plugin plays in 10 ms calls, paced at four times real time (so the
//! background renders run beside it as they would in a host), with the time of every
//! `process()` call. Prints the distribution and the slowest calls with the event before each
//! (`cargo test --test clap_host soak -- --ignored --nocapture --test-threads=1`, on the
//! release bundle, on a quiet machine: the figures are timings).

use std::time::{Duration, Instant};

use super::common::*;

/// `struct timespec` of 64-bit Linux.
#[repr(C)]
struct Timespec {
    sec: i64,
    nsec: i64,
}

extern "C" {
    fn clock_gettime(clock: i32, tp: *mut Timespec) -> i32;
}

/// This thread's CPU time so far (`CLOCK_THREAD_CPUTIME_ID`), so that time the machine gave
/// to other threads is not counted as the plugin's.
fn thread_cpu() -> Duration {
    const CLOCK_THREAD_CPUTIME_ID: i32 = 3;
    let mut t = Timespec { sec: 0, nsec: 0 };
    // SAFETY: `clock_gettime` writes one `struct timespec` (two 64-bit fields on 64-bit Linux,
    // which this module is compiled for) through a pointer to a live, writable value.
    let r = unsafe { clock_gettime(CLOCK_THREAD_CPUTIME_ID, &mut t) };
    assert_eq!(r, 0);
    Duration::new(t.sec as u64, t.nsec as u32)
}

const RATE: f64 = 48_000.0;
/// 10 ms calls, as in the soak that showed the spikes.
const BLOCK: usize = 480;
/// Seconds of audio played.
const SECONDS: usize = 120;
/// Audio time per wall time.
const SPEED: f64 = 4.0;

#[derive(Clone, Copy, Debug)]
enum Event {
    Room(Room),
    Decay(f32),
    Predelay(f32),
    StateLoad(Room),
}

#[test]
#[ignore = "timing figures: run alone on a quiet machine (see the module's documentation)"]
fn soak_events_with_per_call_timing() {
    let entry = load_entry();
    let mut inst = new_instance(entry);
    let p = Params::get(&mut inst);
    // States to load: the current one with each room.
    let base: serde_json::Value = serde_json::from_slice(&save_state(&mut inst)).unwrap();
    let rooms = FACTORY_ROOMS;
    let states: Vec<Vec<u8>> = rooms
        .iter()
        .map(|r| {
            let mut s = base.clone();
            s["params"]["room"] = serde_json::json!({ "i32": r.to_index() });
            s["params"]["mix"] = serde_json::json!({ "f32": 0.4 });
            serde_json::to_vec(&s).unwrap()
        })
        .collect();
    let mut proc = inst
        .activate(|_, _| (), config(RATE, BLOCK as u32))
        .unwrap()
        .start_processing()
        .unwrap();
    let mut rng = Rng::new(2024);
    let calls = SECONDS * RATE as usize / BLOCK;
    let input = noise(BLOCK * 50, 17);
    let mut times = Vec::with_capacity(calls);
    let mut walls = Vec::with_capacity(calls);
    let mut events: Vec<(usize, Event)> = Vec::new();
    let mut next_event = 100;
    let start = Instant::now();
    for k in 0..calls {
        let mut param_events = Vec::new();
        if k == next_event {
            let e = match rng.range(0, 3) {
                0 => Event::Room(rooms[rng.range(0, rooms.len() - 1)]),
                1 => Event::Decay(20.0 + 80.0 * rng.uniform() as f32),
                2 => Event::Predelay(200.0 * rng.uniform() as f32),
                _ => Event::StateLoad(rooms[rng.range(0, rooms.len() - 1)]),
            };
            let at = rng.range(0, BLOCK - 1);
            match e {
                Event::Room(r) => param_events.push((at, p.id("room"), r.to_index() as f64)),
                Event::Decay(v) => {
                    param_events.push((at, p.id("ir_decay"), normalized("ir_decay", v)))
                }
                Event::Predelay(v) => {
                    param_events.push((at, p.id("ir_predelay"), normalized("ir_predelay", v)))
                }
                Event::StateLoad(r) => {
                    // A host loads a state on its main thread between audio callbacks.
                    assert!(load_state(&mut inst, &states[r.to_index()]));
                }
            }
            events.push((k, e));
            // 0.3 to 2 s apart.
            next_event = k + 30 + rng.range(0, 169);
        }
        let part = {
            let o = (k % 50) * BLOCK;
            [
                input[0][o..o + BLOCK].to_vec(),
                input[1][o..o + BLOCK].to_vec(),
            ]
        };
        let (c, t) = (thread_cpu(), Instant::now());
        run(&mut proc, &part, &mut || BLOCK, &param_events);
        walls.push(t.elapsed());
        times.push(thread_cpu() - c);
        // Paced: the call's audio time at SPEED times real time.
        let due = Duration::from_secs_f64((k + 1) as f64 * BLOCK as f64 / RATE / SPEED);
        if let Some(wait) = due.checked_sub(start.elapsed()) {
            std::thread::sleep(wait);
        }
    }
    inst.deactivate(proc.stop_processing());

    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let mut sorted = times.clone();
    sorted.sort();
    let pct = |q: f64| ms(sorted[((calls as f64 * q) as usize).min(calls - 1)]);
    eprintln!(
        "{calls} calls of {BLOCK} samples ({:.0} ms of audio each), {} events; thread CPU time \
         per call: median {:.3} ms, p99 {:.3} ms, p99.9 {:.3} ms, slowest {:.3} ms",
        BLOCK as f64 / RATE * 1e3,
        events.len(),
        pct(0.5),
        pct(0.99),
        pct(0.999),
        ms(sorted[calls - 1])
    );
    let mut order: Vec<usize> = (0..calls).collect();
    order.sort_by(|a, b| times[*b].cmp(&times[*a]));
    for &k in order.iter().take(8) {
        let before = events.iter().rev().find(|(at, _)| *at <= k);
        eprintln!(
            "  call {k}: {:.3} ms CPU ({:.3} ms wall); last event {}",
            ms(times[k]),
            ms(walls[k]),
            before.map_or("none".to_string(), |(at, e)| format!(
                "{e:?} {} calls before",
                k - at
            ))
        );
    }
    // A 10 ms call must never come near its own duration.
    let slowest = ms(sorted[calls - 1]);
    assert!(
        slowest < 5.0,
        "slowest call {slowest:.3} ms of a 10 ms call"
    );
}
