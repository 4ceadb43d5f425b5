//! A/B compare and undo/redo, driven as the editor drives them, with every change delivered
//! to the built CLAP plugin as parameter events: switching slots and undoing/redoing land on
//! exactly the values each step had.

mod common;
use common::*;

use fluxforge::editor::history::{Compare, History, Values};

/// Every parameter's value as the host sees it, by name.
fn snapshot(inst: &mut PluginInstance<TestHost>, p: &Params) -> Values {
    p.ids
        .iter()
        .map(|(name, _)| (name.clone(), p.value(inst, name) as f32))
        .collect()
}

/// Sends the values of `values` that differ from the plugin's as parameter events in one
/// block (as the editor does: one gesture per changed parameter).
fn send(
    inst: &mut PluginInstance<TestHost>,
    proc: &mut StartedPluginAudioProcessor<TestHost>,
    p: &Params,
    values: &Values,
) {
    let now = snapshot(inst, p);
    let events: Vec<(usize, ClapId, f64)> = values
        .iter()
        .filter(|(name, v)| now.get(*name) != Some(*v))
        .map(|(name, v)| (0, p.id(name), *v as f64))
        .collect();
    let silence = [vec![0.0f32; 64], vec![0.0f32; 64]];
    run(proc, &silence, &mut || 64, &events);
}

/// One user edit per `(name, value)`, each seen by `history` as part of an ongoing
/// interaction (pointer down).
fn edits(
    inst: &mut PluginInstance<TestHost>,
    proc: &mut StartedPluginAudioProcessor<TestHost>,
    p: &Params,
    history: &mut History,
    changes: &[(&str, f32)],
) {
    for (name, v) in changes {
        send(inst, proc, p, &[(name.to_string(), *v)].into());
        history.observe(&snapshot(inst, p), true, false);
    }
}

#[test]
fn a_b_and_undo_redo_restore_exact_values_through_parameter_events() {
    let mut inst = new_instance(load_entry());
    let p = Params::get(&mut inst);
    let proc = inst.activate(|_, _| (), config(48_000.0, 64)).unwrap();
    let mut proc = proc.start_processing().unwrap();
    let a0 = snapshot(&mut inst, &p);
    let mut history = History::new(a0.clone());
    let mut compare = Compare::default();

    // The user drags Mix (many values, one step) and sets a band's frequency and drive.
    let drag: Vec<(&str, f32)> = (0..10).map(|k| ("mix", 0.3 + 0.02 * k as f32)).collect();
    edits(&mut inst, &mut proc, &p, &mut history, &drag);
    let more = [("eq_freq_2", 0.61), ("sat_drive", 0.43), ("mix", 0.52)];
    edits(&mut inst, &mut proc, &p, &mut history, &more);
    let a1 = snapshot(&mut inst, &p);
    assert!(history.observe(&a1, false, true));
    assert_eq!(history.undo_len(), 1, "the whole interaction is one step");

    // To B (a copy of A), edit B as a second step.
    let load = compare.switch(&a1);
    send(&mut inst, &mut proc, &p, &load);
    history.record(&a1, &snapshot(&mut inst, &p));
    let in_b = [
        ("mix", 0.9),
        ("sat_mode", 2.0),
        ("eq_gain_4", 0.8),
        ("ir_predelay", 0.25),
    ];
    edits(&mut inst, &mut proc, &p, &mut history, &in_b);
    let b = snapshot(&mut inst, &p);
    assert!(history.observe(&b, false, true));
    assert_ne!(a1, b);

    // A and B switch back and forth exactly.
    for (want, what) in [(&a1, "A"), (&b, "B"), (&a1, "A again")] {
        let before = snapshot(&mut inst, &p);
        let load = compare.switch(&before);
        send(&mut inst, &mut proc, &p, &load);
        let got = snapshot(&mut inst, &p);
        assert_eq!(&got, want, "switch to {what}");
        history.record(&before, &got);
    }

    // Undo everything: the session's first values exactly; redo everything: the last ones.
    let last = snapshot(&mut inst, &p);
    let steps = history.undo_len();
    assert!(steps >= 4, "{steps} steps");
    while let Some(v) = history.undo() {
        send(&mut inst, &mut proc, &p, &v);
    }
    assert_eq!(snapshot(&mut inst, &p), a0, "undo to the start");
    while let Some(v) = history.redo() {
        send(&mut inst, &mut proc, &p, &v);
    }
    assert_eq!(snapshot(&mut inst, &p), last, "redo to the end");
    inst.deactivate(proc.stop_processing());
}
