//! GUI tests: the editor driven through egui_kittest (AccessKit: widgets found by label,
//! clicked, dragged, scrolled) with a host double that records every parameter gesture and
//! applies the values, as a host does.

use std::sync::{Arc, Mutex};

use egui_kittest::kittest::Queryable;
use egui_kittest::Harness;
use nice_plug::context::gui::{GuiContext, GuiContextInner};
use nice_plug::context::PluginApi;
use nice_plug::params::internals::ParamPtr;
use nice_plug::params::InternalParamMut;
use nice_plug::plugin::PluginState;
use nice_plug::prelude::Params;

use super::history::Values;
use super::preset_bar::{preset_values, values};
use super::{EditorApp, EDITOR_SIZE};
use crate::params::FluxForgeParams;

/// A parameter gesture as the host saw it.
#[derive(Clone, Debug, PartialEq)]
pub enum Gesture {
    Begin(String),
    Set(String, f32),
    End(String),
}

/// The host: applies values and records gestures by parameter ID.
pub struct TestHost {
    params: Arc<FluxForgeParams>,
    pub log: Mutex<Vec<Gesture>>,
}

impl TestHost {
    fn id(&self, p: ParamPtr) -> String {
        self.params
            .param_map()
            .into_iter()
            .find(|(_, q, _)| *q == p)
            .map(|(id, _, _)| id)
            .expect("a parameter of this plugin")
    }

    /// The gestures so far, and forget them.
    pub fn take(&self) -> Vec<Gesture> {
        std::mem::take(&mut *self.log.lock().unwrap())
    }
}

impl GuiContextInner for TestHost {
    fn plugin_api(&self) -> PluginApi {
        PluginApi::Clap
    }

    unsafe fn raw_begin_set_parameter(&self, param: ParamPtr) {
        let id = self.id(param);
        self.log.lock().unwrap().push(Gesture::Begin(id));
    }

    unsafe fn raw_set_parameter_normalized(&self, param: ParamPtr, normalized: f32) {
        let id = self.id(param);
        unsafe { param._internal_set_normalized_value(normalized) };
        self.log.lock().unwrap().push(Gesture::Set(id, normalized));
    }

    unsafe fn raw_end_set_parameter(&self, param: ParamPtr) {
        let id = self.id(param);
        self.log.lock().unwrap().push(Gesture::End(id));
    }

    fn get_state(&self) -> PluginState {
        panic!("the editor does not read the whole state")
    }

    fn set_state(&self, _state: PluginState) {
        panic!("the editor does not load whole states")
    }

    fn request_restart(&self) {}
}

/// An editor on fresh parameters, attached to a [`TestHost`].
pub fn editor() -> (EditorApp, Arc<FluxForgeParams>, Arc<TestHost>) {
    let params = Arc::new(FluxForgeParams::default());
    let host = Arc::new(TestHost {
        params: params.clone(),
        log: Mutex::new(Vec::new()),
    });
    let mut app = EditorApp::new(
        params.clone(),
        Arc::default(),
        Arc::default(),
        Arc::default(),
        None,
    );
    app.attach(GuiContext::new(host.clone()));
    (app, params, host)
}

/// A harness of the editor's default size at `scale` (pixels per point).
pub fn harness(app: EditorApp, scale: f32) -> Harness<'static, EditorApp> {
    Harness::builder()
        .with_size(egui::vec2(EDITOR_SIZE.0 as f32, EDITOR_SIZE.1 as f32))
        .with_pixels_per_point(scale)
        .build_ui_state(|ui, app: &mut EditorApp| app.draw(ui), app)
}

/// The same values within float round-off of a host's normalized round trip.
fn assert_same(a: &Values, b: &Values, what: &str) {
    assert_eq!(a.len(), b.len());
    for (id, v) in a {
        assert!((b[id] - v).abs() < 1e-6, "{what}: {id} {v} vs {}", b[id]);
    }
}

/// Every parameter gesture in `log` is begin, one or more sets, end, for one parameter at a
/// time per ID.
fn assert_gestures_well_formed(log: &[Gesture]) {
    let mut open: Vec<String> = Vec::new();
    for g in log {
        match g {
            Gesture::Begin(id) => {
                assert!(!open.contains(id), "{id} begun twice");
                open.push(id.clone());
            }
            Gesture::Set(id, _) => assert!(open.contains(id), "{id} set outside a gesture"),
            Gesture::End(id) => {
                let i = open.iter().position(|o| o == id).expect("end after begin");
                open.remove(i);
            }
        }
    }
    assert!(open.is_empty(), "gestures left open: {open:?}");
}

#[test]
fn the_next_preset_button_loads_a_factory_preset_through_gestures() {
    let (app, params, host) = editor();
    let before = values(&params);
    let mut h = harness(app, 1.0);
    h.run_steps(4);
    h.get_by_label(">").click();
    h.run_steps(4);
    let bank = crate::factory_presets::bank();
    let (want, _) = preset_values(&bank[0], &[]);
    let now = values(&params);
    for (id, v) in &want {
        assert!((now[id] - v).abs() < 1e-6, "{id}: {} vs {v}", now[id]);
    }
    assert_ne!(now, before, "the preset changed something");
    let log = host.take();
    assert!(!log.is_empty());
    assert_gestures_well_formed(&log);
}

#[test]
fn undo_redo_and_a_b_restore_values() {
    let (app, params, _host) = editor();
    let defaults = values(&params);
    let mut h = harness(app, 1.0);
    h.run_steps(4);
    h.get_by_label("Copy to B").click();
    h.run_steps(4);
    h.get_by_label(">").click();
    h.run_steps(4);
    let first = values(&params);
    assert_ne!(first, defaults);
    h.get_by_label("Undo").click();
    h.run_steps(4);
    assert_same(&values(&params), &defaults, "undo returns to the defaults");
    h.get_by_label("Redo").click();
    h.run_steps(4);
    assert_same(&values(&params), &first, "redo brings the preset back");
    // A holds the preset, B the defaults copied before it.
    h.get_by_label("A/B: A").click();
    h.run_steps(4);
    assert_same(&values(&params), &defaults, "B");
    h.get_by_label("A/B: B").click();
    h.run_steps(4);
    assert_same(&values(&params), &first, "A again");
}
