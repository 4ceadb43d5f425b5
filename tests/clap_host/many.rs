//! A session with many instances, as a mix has: 32 instances opened at once from saved states
//! with different rooms and files, each playing its own IR from its first block; the time to
//! open them, the memory each adds and the cost of playing them all, printed
//! (`cargo test --test clap_host many -- --nocapture --test-threads=1` for the figures).

use std::time::{Duration, Instant};

use super::common::*;

const INSTANCES: usize = 32;
const BLOCK: u32 = 64;
const RATE: f64 = 48_000.0;

/// Resident memory of this process, bytes (Linux).
fn rss() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: usize = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4096
}

/// A saved state of a fresh instance with `room` selected.
fn state_with_room(room: Room) -> Vec<u8> {
    let mut inst = new_instance(load_entry());
    let mut state: serde_json::Value = serde_json::from_slice(&save_state(&mut inst)).unwrap();
    state["params"]["room"] = serde_json::json!({ "i32": room.to_index() });
    serde_json::to_vec(&state).unwrap()
}

struct Open {
    inst: PluginInstance<TestHost>,
    proc: StartedPluginAudioProcessor<TestHost>,
}

/// Opens an instance from `state` as a host opening a session does: create, load the state,
/// activate, start processing.
fn open(state: &[u8]) -> Open {
    let mut inst = new_instance(load_entry());
    assert!(load_state(&mut inst, state));
    let proc = inst
        .activate(|_, _| (), config(RATE, BLOCK))
        .unwrap()
        .start_processing()
        .unwrap();
    Open { inst, proc }
}

/// Plays `input` through every instance block by block, each block to all of them in turn,
/// as a host does.
fn play_in_blocks(session: &mut [Open], input: &[Vec<f32>; 2]) {
    let b = BLOCK as usize;
    for start in (0..input[0].len()).step_by(b) {
        let part = [
            input[0][start..start + b].to_vec(),
            input[1][start..start + b].to_vec(),
        ];
        for o in session.iter_mut() {
            run(&mut o.proc, &part, &mut || b, &[]);
        }
    }
}

fn close(o: Open) {
    let Open { mut inst, proc } = o;
    inst.deactivate(proc.stop_processing());
}

#[test]
fn a_session_of_32_instances_opens_at_once_and_each_plays_its_own_ir() {
    let rooms = FACTORY_ROOMS;
    let file = StoredIr::encode(&test_ir(2, 48_000, 8.0, 5), "/no/such/folder/Long IR.wav");
    // Every fourth instance plays an 8 s file embedded in its state, the rest a factory room.
    let states: Vec<(Option<Room>, Vec<u8>)> = (0..INSTANCES)
        .map(|i| {
            if i % 4 == 3 {
                (None, state_with_ir(&file, &[]))
            } else {
                let room = rooms[i % rooms.len()];
                (Some(room), state_with_room(room))
            }
        })
        .collect();

    // Memory of the default room alone (measured first and kept open: memory freed by closed
    // instances would be reused by later ones and hide their growth).
    let default_state = state_with_room(Room::MediumRoom);
    let before = rss();
    let defaults: Vec<Open> = (0..8).map(|_| open(&default_state)).collect();
    let per_default = rss().saturating_sub(before) / 8;

    let before = rss();
    let t0 = Instant::now();
    let mut session: Vec<Open> = states.iter().map(|(_, s)| open(s)).collect();
    let opened = t0.elapsed();
    let per_instance = (rss().saturating_sub(before)) / INSTANCES;

    // Each plays its own IR from its first block: its output equals the engine's with that IR.
    let input = noise(12_000, 91);
    let mut want = std::collections::HashMap::new();
    for (o, (room, _)) in session.iter_mut().zip(&states) {
        let out = run(&mut o.proc, &input, &mut || BLOCK as usize, &[]);
        let key = room.map_or(usize::MAX, |r| r.to_index());
        let w = want.entry(key).or_insert_with(|| match room {
            Some(r) => reference_in(*r, RATE as f32, &input, Settings::default(), &[]),
            None => {
                let ir = fluxforge::ir_source::render_ir(
                    &Source::File(Arc::new(file.decode().unwrap()), String::new()),
                    RATE as f32,
                    &IrEdits::default(),
                );
                reference_ir(&ir.channels, RATE as f32, &input, Settings::default(), &[])
            }
        });
        assert!(max_diff(&out, w) < 1e-5, "{room:?}: {}", max_diff(&out, w));
    }

    // Playing all of them, block by block as a host does, against one of them alone.
    let second = noise(48_000, 7);
    let t = Instant::now();
    play_in_blocks(&mut session, &second);
    let all = t.elapsed();
    let t = Instant::now();
    play_in_blocks(&mut session[..1], &second);
    let one = t.elapsed();

    for o in session.into_iter().chain(defaults) {
        close(o);
    }

    eprintln!(
        "32 instances ({} with an 8 s file): opened in {:.0} ms; {:.1} MB each on average; \
         default room {:.1} MB each; 1 s of audio at block {BLOCK}: all {:.1} ms, one {:.2} ms, \
         all / (32 x one) = {:.2}",
        INSTANCES / 4,
        opened.as_secs_f64() * 1e3,
        per_instance as f64 / 1e6,
        per_default as f64 / 1e6,
        all.as_secs_f64() * 1e3,
        one.as_secs_f64() * 1e3,
        all.as_secs_f64() / (INSTANCES as f64 * one.as_secs_f64()),
    );
    assert!(opened < Duration::from_secs(20), "opening took {opened:?}");
}
