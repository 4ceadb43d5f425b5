//! Session recall through the CLAP host: a state loaded while an IR render is pending, in
//! flight or crossfading must leave exactly the loaded state's IR playing, and every later
//! change must play what was selected, whatever order the host calls `set_state`, `process`,
//! activation and parameter changes in.
//!
//! The plugin is played in blocks of 512 paced faster than real time (the background loader
//! works as it would in a host). Beside it, one reference engine per IR the test can expect
//! is fed the same input from the first sample, so "settled on the loaded IR" is a sample
//! comparison against the engine run directly (a kernel hand-over is exact once its
//! crossfade ends: the new kernel sees the whole input history).
mod common;
use common::*;

use std::time::{Duration, Instant};

const RATE: f32 = 48_000.0;
const BLOCK: usize = 512;
/// Output matching the target for this long (samples) counts as settled.
const SETTLED: usize = 48_000;
/// Wall-clock limit for settling (the allocation-checked debug bundle renders slowly).
const PATIENCE: Duration = Duration::from_secs(20);

/// What the plugin should be playing (all other settings at their defaults).
#[derive(Clone, Debug)]
enum Target {
    Room(Room),
    /// The default room with a pre-delay, ms.
    Predelay(f32),
    /// A file IR as stored in the session.
    File(Arc<IrData>),
}

impl Target {
    fn key(&self) -> String {
        match self {
            Target::Room(r) => format!("room {}", r.name()),
            Target::Predelay(ms) => format!("pre-delay {ms} ms"),
            Target::File(ir) => format!("file {}", ir.name),
        }
    }

    fn ir(&self) -> Vec<Vec<f32>> {
        let (source, edits) = match self {
            Target::Room(r) => (Source::Factory(*r), IrEdits::default()),
            Target::Predelay(ms) => (
                Source::Factory(Room::MediumRoom),
                IrEdits {
                    predelay_ms: *ms,
                    ..Default::default()
                },
            ),
            Target::File(ir) => (Source::File(ir.clone(), String::new()), IrEdits::default()),
        };
        fluxforge::ir_source::render_ir(&source, RATE, &edits).channels
    }
}

/// A playing instance, its input so far, and the reference engines.
struct Session {
    inst: PluginInstance<TestHost>,
    proc: Option<StartedPluginAudioProcessor<TestHost>>,
    params: Params,
    rng: Rng,
    /// Every input sample played so far, per channel (to bring a new reference up to date).
    history: [Vec<f32>; 2],
    refs: Vec<(String, Engine)>,
}

impl Session {
    fn start() -> Self {
        let mut inst = new_instance(load_entry());
        let params = Params::get(&mut inst);
        let proc = inst
            .activate(|_, _| (), config(RATE as f64, BLOCK as u32))
            .unwrap()
            .start_processing()
            .unwrap();
        Self {
            inst,
            proc: Some(proc),
            params,
            rng: Rng::new(99),
            history: [Vec::new(), Vec::new()],
            refs: Vec::new(),
        }
    }

    /// The reference engine for `target`, created on first use and fed the input so far.
    fn reference(&mut self, target: &Target) -> usize {
        let key = target.key();
        if let Some(i) = self.refs.iter().position(|(k, _)| *k == key) {
            return i;
        }
        let ir = target.ir();
        let slices: Vec<&[f32]> = ir.iter().map(Vec::as_slice).collect();
        let kernel = fluxforge::ir_source::kernel_for(&slices, BLOCK);
        let mut e = Engine::new(RATE, Some(Box::new(kernel)), &Settings::default());
        let mut past = self.history.clone();
        let (a, b) = past.split_at_mut(1);
        for start in (0..a[0].len()).step_by(BLOCK) {
            let end = (start + BLOCK).min(a[0].len());
            e.process(&mut [&mut a[0][start..end], &mut b[0][start..end]]);
        }
        self.refs.push((key, e));
        self.refs.len() - 1
    }

    /// Plays one block (with `events` at its start, by parameter name and value) and returns
    /// the plugin's output and every reference's output for it.
    fn block(&mut self, events: &[(&str, f64)]) -> ([Vec<f32>; 2], Vec<[Vec<f32>; 2]>) {
        let input: [Vec<f32>; 2] = std::array::from_fn(|_| {
            (0..BLOCK)
                .map(|_| 0.25 * self.rng.bipolar() as f32)
                .collect()
        });
        let ev: Vec<(usize, ClapId, f64)> = events
            .iter()
            .map(|&(name, v)| (0, self.params.id(name), v))
            .collect();
        let proc = self.proc.as_mut().expect("processing");
        let out = run(proc, &input, &mut || BLOCK, &ev);
        let refs = self
            .refs
            .iter_mut()
            .map(|(_, e)| {
                let mut y = input.clone();
                let (a, b) = y.split_at_mut(1);
                e.process(&mut [&mut a[0][..], &mut b[0][..]]);
                y
            })
            .collect();
        for (h, x) in self.history.iter_mut().zip(&input) {
            h.extend_from_slice(x);
        }
        (out, refs)
    }

    /// Plays `n` paced blocks, the first with `events`.
    fn play(&mut self, n: usize, events: &[(&str, f64)]) {
        for i in 0..n {
            self.block(if i == 0 { events } else { &[] });
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    /// Plays paced blocks (the first with `events`) until the output has matched `target`'s
    /// reference for [`SETTLED`] samples in a row; panics if it does not within
    /// [`PATIENCE`], naming the reference it plays instead, if any.
    fn settle(&mut self, target: &Target, events: &[(&str, f64)], what: &str) {
        let want = self.reference(target);
        let t0 = Instant::now();
        let mut good = 0;
        let mut first = true;
        loop {
            let (out, refs) = self.block(if first { events } else { &[] });
            first = false;
            let err = max_diff(&out, &refs[want]);
            good = if err < 1e-4 { good + BLOCK } else { 0 };
            if good >= SETTLED {
                return;
            }
            if t0.elapsed() > PATIENCE {
                let playing: Vec<&str> = self
                    .refs
                    .iter()
                    .zip(&refs)
                    .filter(|(_, y)| max_diff(&out, y) < 1e-4)
                    .map(|((k, _), _)| k.as_str())
                    .collect();
                panic!(
                    "{what}: never settled on {} (diff {err}); plays {playing:?}",
                    target.key()
                );
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    fn load(&mut self, state: &[u8]) {
        assert!(load_state(&mut self.inst, state), "state loads");
    }

    fn stop(mut self) {
        let proc = self.proc.take().unwrap();
        self.inst.deactivate(proc.stop_processing());
    }
}

/// The state of a fresh instance (the default room, no file).
fn default_state() -> Vec<u8> {
    save_state(&mut new_instance(load_entry()))
}

fn room_value(room: Room) -> f64 {
    room.to_index() as f64
}

fn predelay_value(ms: f32) -> f64 {
    normalized("ir_predelay", ms)
}

/// After the state load: three room changes, each of which must play the room selected.
fn three_room_changes(s: &mut Session, what: &str) {
    for room in [Room::Plate, Room::SmallRoom, Room::LargeHall] {
        s.settle(
            &Target::Room(room),
            &[("room", room_value(room))],
            &format!("{what}, then {}", room.name()),
        );
    }
}

const DELAYS: [usize; 5] = [1, 2, 10, 50, 200];

#[test]
fn a_state_loaded_after_a_room_change_plays_its_own_room() {
    let default = default_state();
    for d in DELAYS {
        let mut s = Session::start();
        s.play(20, &[]);
        s.play(d, &[("room", room_value(Room::Cathedral))]);
        s.load(&default);
        let what = format!("Cathedral, {d} blocks, default state");
        s.settle(&Target::Room(Room::MediumRoom), &[], &what);
        three_room_changes(&mut s, &what);
        s.stop();
    }
}

#[test]
fn a_state_loaded_after_an_edit_plays_its_own_edits() {
    let default = default_state();
    for d in DELAYS {
        let mut s = Session::start();
        s.play(20, &[]);
        s.play(d, &[("ir_predelay", predelay_value(120.0))]);
        s.load(&default);
        let what = format!("pre-delay 120 ms, {d} blocks, default state");
        s.settle(&Target::Room(Room::MediumRoom), &[], &what);
        // Later edits each land (they were one step late).
        for ms in [40.0, 200.0, 10.0] {
            s.settle(
                &Target::Predelay(ms),
                &[("ir_predelay", predelay_value(ms))],
                &format!("{what}, then {ms} ms"),
            );
        }
        s.stop();
    }
}

#[test]
fn a_state_loaded_after_a_file_state_plays_its_own_ir() {
    let ir = test_ir(2, 44_100, 1.2, 5);
    let stored = StoredIr::encode(&ir, "hall.wav");
    let file_state = state_with_ir(&stored, &[]);
    let default = default_state();
    for d in DELAYS {
        let mut s = Session::start();
        s.play(20, &[]);
        s.load(&file_state);
        s.play(d, &[]);
        s.load(&default);
        let what = format!("file state, {d} blocks, default state");
        s.settle(&Target::Room(Room::MediumRoom), &[], &what);
        three_room_changes(&mut s, &what);
        s.stop();
    }
    // And the file state itself lands after a room change in flight.
    let mut s = Session::start();
    s.play(20, &[]);
    s.play(10, &[("room", room_value(Room::Cathedral))]);
    s.load(&file_state);
    s.settle(
        &Target::File(Arc::new(ir)),
        &[],
        "Cathedral, 10 blocks, file state",
    );
    s.stop();
}

#[test]
fn a_state_loaded_twice_or_beside_automation_or_while_inactive_lands() {
    let default = default_state();
    let plate = {
        let mut inst = new_instance(load_entry());
        let mut state: serde_json::Value = serde_json::from_slice(&save_state(&mut inst)).unwrap();
        state["params"]["room"] = serde_json::json!({ "i32": Room::Plate.to_index() });
        serde_json::to_vec(&state).unwrap()
    };

    // Twice in a row, while a render is in flight: the second wins.
    let mut s = Session::start();
    s.play(20, &[]);
    s.play(10, &[("room", room_value(Room::Cathedral))]);
    s.load(&plate);
    s.load(&default);
    s.settle(&Target::Room(Room::MediumRoom), &[], "loaded twice");
    three_room_changes(&mut s, "loaded twice");
    s.stop();

    // Loaded right after the block that carried an automation event: the state wins.
    let mut s = Session::start();
    s.play(20, &[]);
    s.play(1, &[("room", room_value(Room::Chamber))]);
    s.load(&plate);
    s.settle(&Target::Room(Room::Plate), &[], "state after automation");
    s.stop();

    // Loaded before the block that carries an automation event: the event wins.
    let mut s = Session::start();
    s.play(20, &[]);
    s.play(10, &[("room", room_value(Room::Cathedral))]);
    s.load(&plate);
    s.settle(
        &Target::Room(Room::Chamber),
        &[("room", room_value(Room::Chamber))],
        "automation after state",
    );
    three_room_changes(&mut s, "automation after state");
    s.stop();

    // Loaded while deactivated, with a render still in flight from before.
    let mut s = Session::start();
    s.play(20, &[]);
    s.play(3, &[("room", room_value(Room::Cathedral))]);
    let proc = s.proc.take().unwrap();
    let stopped = proc.stop_processing();
    s.inst.deactivate(stopped);
    s.load(&plate);
    let proc = s
        .inst
        .activate(|_, _| (), config(RATE as f64, BLOCK as u32))
        .unwrap()
        .start_processing()
        .unwrap();
    s.proc = Some(proc);
    // A re-activation starts the signal afresh: so do the references.
    s.history = [Vec::new(), Vec::new()];
    s.refs.clear();
    s.settle(&Target::Room(Room::Plate), &[], "loaded while inactive");
    three_room_changes(&mut s, "loaded while inactive");
    s.stop();
}

#[test]
fn rapid_room_automation_ends_on_the_last_room() {
    // A change every 5 blocks (53 ms): renders finish while earlier crossfades still run.
    let mut s = Session::start();
    s.play(20, &[]);
    let rooms = [
        Room::Cathedral,
        Room::Plate,
        Room::LargeHall,
        Room::SmallRoom,
        Room::Chamber,
        Room::Cathedral,
        Room::Plate,
    ];
    for _ in 0..3 {
        for room in rooms {
            s.play(5, &[("room", room_value(room))]);
        }
    }
    s.settle(&Target::Room(Room::Plate), &[], "rapid automation");
    s.stop();
}
