//! A/B compare and undo/redo: the editor's model of parameter changes, framework-free.
//!
//! Values are normalized parameter values by ID ([`Values`]). The editor feeds [`History`]
//! what the parameters are every frame and whether the user is touching the editor; a change
//! made while the user interacts becomes one step when the interaction ends (a whole drag is
//! one step), a change made while the user does nothing (host automation, a state load) moves
//! the baseline without a step. Preset loads and A/B switches are recorded as one step each.
//! Undo and redo return the values to send back through the host's parameter gestures, so
//! automation and the host's own undo see ordinary parameter changes. None of this touches
//! the audio thread.

use std::collections::{BTreeMap, VecDeque};

/// Normalized parameter values by parameter ID.
pub type Values = BTreeMap<String, f32>;

/// At least this many steps are kept.
pub const UNDO_STEPS: usize = 200;

/// One step: the values it changed, before and after.
#[derive(Clone, Debug, PartialEq)]
struct Step {
    before: Values,
    after: Values,
}

/// The parameters in `b` whose values differ from `a`'s, with `a`'s and `b`'s values.
fn diff(a: &Values, b: &Values) -> (Values, Values) {
    let mut before = Values::new();
    let mut after = Values::new();
    for (id, v) in b {
        let old = a.get(id).copied().unwrap_or(f32::NAN);
        if old != *v {
            before.insert(id.clone(), old);
            after.insert(id.clone(), *v);
        }
    }
    (before, after)
}

/// The undo/redo history.
#[derive(Clone, Debug, Default)]
pub struct History {
    undo: VecDeque<Step>,
    redo: Vec<Step>,
    /// What the parameters were after the last step (or the last outside change).
    baseline: Values,
    /// The user changed something that is not a step yet.
    pending: bool,
}

impl History {
    /// A history whose baseline is `current`.
    pub fn new(current: Values) -> Self {
        Self {
            baseline: current,
            ..Self::default()
        }
    }

    /// The editor's view of this frame: the parameters' values, whether the user is
    /// interacting with the editor (a pointer button or key down), and whether an interaction
    /// just ended. Returns whether a step was recorded.
    pub fn observe(&mut self, current: &Values, interacting: bool, released: bool) -> bool {
        let changed = *current != self.baseline;
        if changed && (interacting || released) {
            self.pending = true;
        } else if changed && !self.pending {
            self.baseline = current.clone();
        }
        if self.pending && !interacting {
            self.pending = false;
            let base = std::mem::replace(&mut self.baseline, current.clone());
            return self.push(&base, current);
        }
        false
    }

    /// Records a change made in one go (a preset load, an A/B switch). Returns whether it
    /// changed anything.
    pub fn record(&mut self, before: &Values, after: &Values) -> bool {
        self.pending = false;
        self.baseline = after.clone();
        self.push(before, after)
    }

    fn push(&mut self, before: &Values, after: &Values) -> bool {
        let (b, a) = diff(before, after);
        if a.is_empty() {
            return false;
        }
        self.undo.push_back(Step {
            before: b,
            after: a,
        });
        if self.undo.len() > UNDO_STEPS {
            self.undo.pop_front();
        }
        self.redo.clear();
        true
    }

    /// Takes back the last step: the values to set, or `None` with nothing to undo.
    pub fn undo(&mut self) -> Option<Values> {
        let step = self.undo.pop_back()?;
        for (id, v) in &step.before {
            self.baseline.insert(id.clone(), *v);
        }
        let values = step.before.clone();
        self.redo.push(step);
        self.pending = false;
        Some(values)
    }

    /// Does the last undone step again: the values to set.
    pub fn redo(&mut self) -> Option<Values> {
        let step = self.redo.pop()?;
        for (id, v) in &step.after {
            self.baseline.insert(id.clone(), *v);
        }
        let values = step.after.clone();
        self.undo.push_back(step);
        self.pending = false;
        Some(values)
    }

    /// Steps that can be undone.
    pub fn undo_len(&self) -> usize {
        self.undo.len()
    }

    /// Steps that can be redone.
    pub fn redo_len(&self) -> usize {
        self.redo.len()
    }
}

/// Which A/B slot is active.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Slot {
    /// Slot A.
    #[default]
    A,
    /// Slot B.
    B,
}

/// Two complete settings to compare. The active slot is the live parameters; the other one is
/// stored here.
#[derive(Clone, Debug, Default)]
pub struct Compare {
    active: Slot,
    other: Option<Values>,
}

impl Compare {
    /// The active slot.
    pub fn active(&self) -> Slot {
        self.active
    }

    /// Switches to the other slot: stores `current` as the active slot's and returns the
    /// values to load (the other slot's; a slot never set starts as a copy of the current).
    pub fn switch(&mut self, current: &Values) -> Values {
        let load = self
            .other
            .replace(current.clone())
            .unwrap_or_else(|| current.clone());
        self.active = match self.active {
            Slot::A => Slot::B,
            Slot::B => Slot::A,
        };
        load
    }

    /// Copies the active slot over the other one (A→B when A is active).
    pub fn copy_to_other(&mut self, current: &Values) {
        self.other = Some(current.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(pairs: &[(&str, f32)]) -> Values {
        pairs.iter().map(|(k, x)| (k.to_string(), *x)).collect()
    }

    #[test]
    fn a_drag_is_one_step_and_undo_redo_restore_exact_values() {
        let start = v(&[("mix", 0.3), ("drive", 0.2)]);
        let mut h = History::new(start.clone());
        // A drag: many frames with the pointer down, then release.
        for k in 1..=20 {
            let cur = v(&[("mix", 0.3 + k as f32 * 0.01), ("drive", 0.2)]);
            assert!(!h.observe(&cur, true, false));
        }
        let end = v(&[("mix", 0.5), ("drive", 0.2)]);
        assert!(h.observe(&end, false, true));
        assert_eq!(h.undo_len(), 1);
        // Automation while the user does nothing: no step, new baseline.
        let automated = v(&[("mix", 0.5), ("drive", 0.7)]);
        assert!(!h.observe(&automated, false, false));
        assert_eq!(h.undo_len(), 1);
        // Undo restores exactly the drag's start for the parameter it changed.
        assert_eq!(h.undo(), Some(v(&[("mix", 0.3)])));
        assert_eq!(h.redo(), Some(v(&[("mix", 0.5)])));
        assert_eq!(h.redo(), None);
    }

    #[test]
    fn keeps_at_least_a_hundred_steps_and_a_new_step_clears_redo() {
        let mut h = History::new(v(&[("mix", 0.0)]));
        let mut last = v(&[("mix", 0.0)]);
        for k in 1..=150 {
            let next = v(&[("mix", k as f32 / 1000.0)]);
            assert!(h.record(&last, &next));
            last = next;
        }
        assert_eq!(h.undo_len(), 150);
        for k in (0..150).rev() {
            assert_eq!(h.undo().unwrap()["mix"], k as f32 / 1000.0);
        }
        assert_eq!(h.undo(), None);
        assert!(h.redo().is_some());
        assert!(h.record(&v(&[("mix", 0.001)]), &v(&[("mix", 0.9)])));
        assert_eq!(h.redo_len(), 0);
        // Recording a non-change records nothing.
        assert!(!h.record(&v(&[("mix", 0.9)]), &v(&[("mix", 0.9)])));
    }

    #[test]
    fn a_b_switches_restore_complete_settings_exactly() {
        let a = v(&[("mix", 0.3), ("drive", 0.2), ("room", 1.0 / 6.0)]);
        let mut c = Compare::default();
        // B starts as a copy of A.
        assert_eq!(c.switch(&a), a);
        assert_eq!(c.active(), Slot::B);
        let b = v(&[("mix", 0.8), ("drive", 0.25), ("room", 0.5)]);
        assert_eq!(c.switch(&b), a, "back to A exactly");
        assert_eq!(c.switch(&a), b, "and to B exactly");
        // Copy A to B.
        let mut c = Compare::default();
        c.copy_to_other(&a);
        assert_eq!(c.switch(&b), a);
    }
}
