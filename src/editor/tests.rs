//! GUI tests: the editor driven through egui_kittest (AccessKit: widgets found by label,
//! clicked, dragged, scrolled) with a host double that records every parameter gesture and
//! applies the values, as a host does.

use std::sync::{Arc, Mutex};

use egui_kittest::kittest::{NodeT, Queryable};
use egui_kittest::Harness;
use nice_plug::context::gui::{GuiContext, GuiContextInner};
use nice_plug::context::PluginApi;
use nice_plug::params::internals::ParamPtr;
use nice_plug::plugin::PluginState;
use nice_plug::prelude::Params;

use super::history::Values;
use super::preset_bar::{preset_values, values};
use super::spectrum_plot::{db_of_y, f_of, plot_area, x_of, y_level};
use super::{EditorApp, EDITOR_SIZE, MIN_SIZE};
use crate::dsp::spectral::BINS;
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
        // SAFETY: the editor passes pointers from `param_map()` of the parameter object it
        // edits, which outlives the test's host double.
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
    editor_with(Arc::default())
}

/// [`editor`] with this loader.
pub fn editor_with(
    loader: Arc<crate::loader::Loader>,
) -> (EditorApp, Arc<FluxForgeParams>, Arc<TestHost>) {
    let params = Arc::new(FluxForgeParams::default());
    let host = Arc::new(TestHost {
        params: params.clone(),
        log: Mutex::new(Vec::new()),
    });
    let mut app = EditorApp::new(
        params.clone(),
        Arc::default(),
        loader,
        crate::shared::spectrum_feed().1,
        Arc::default(),
        None,
    );
    app.attach(GuiContext::new(host.clone()));
    (app, params, host)
}

/// An editor on fresh parameters and `meters`, whose background tasks are recorded.
pub fn editor_recording(
    meters: Arc<crate::shared::Meters>,
) -> (
    EditorApp,
    Arc<FluxForgeParams>,
    Arc<Mutex<Vec<crate::loader::Task>>>,
) {
    let params = Arc::new(FluxForgeParams::default());
    let host = Arc::new(TestHost {
        params: params.clone(),
        log: Mutex::new(Vec::new()),
    });
    let tasks = Arc::new(Mutex::new(Vec::new()));
    let seen = tasks.clone();
    let mut app = EditorApp::new(
        params.clone(),
        meters,
        Arc::default(),
        crate::shared::spectrum_feed().1,
        Arc::default(),
        Some(Box::new(move |t| seen.lock().unwrap().push(t))),
    );
    app.attach(GuiContext::new(host));
    (app, params, tasks)
}

/// A harness of the editor's default size at `scale` (pixels per point).
pub fn harness(app: EditorApp, scale: f32) -> Harness<'static, EditorApp> {
    harness_sized(
        app,
        scale,
        egui::vec2(EDITOR_SIZE.0 as f32, EDITOR_SIZE.1 as f32),
    )
}

/// A harness of `size` points at `scale` (pixels per point).
pub fn harness_sized(app: EditorApp, scale: f32, size: egui::Vec2) -> Harness<'static, EditorApp> {
    Harness::builder()
        .with_size(size)
        .with_pixels_per_point(scale)
        .with_step_dt(1.0 / 60.0)
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
    // Not modified until a parameter moves; then the bar marks it.
    assert!(!h.state().presets.modified(&params));
    let gui = GuiContext::new(host.clone());
    let setter = gui.param_setter();
    setter.begin_set_parameter(&params.mix);
    setter.set_parameter(&params.mix, 0.77);
    setter.end_set_parameter(&params.mix);
    h.run_steps(2);
    assert!(h.state().presets.modified(&params));
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

/// The harness on the EQ & Dynamics page, and the display's plot area.
fn dynamics_page(app: EditorApp) -> (Harness<'static, EditorApp>, egui::Rect) {
    let mut h = harness(app, 1.0);
    h.run_steps(2);
    h.get_by_label("EQ & Dynamics").click();
    h.run_steps(4);
    let area = plot_area(h.get_by_label("Spectrum and EQ display").rect());
    (h, area)
}

#[test]
fn dragging_a_band_handle_sets_its_frequency_and_gain_in_one_gesture_each() {
    let (app, params, host) = editor();
    let (mut h, area) = dynamics_page(app);
    host.take();
    let start = h.get_by_label("Band 3").rect().center();
    let end = start + egui::vec2(80.0, -50.0);
    h.hover_at(start);
    h.run_steps(1);
    h.drag_at(start);
    h.run_steps(1);
    for k in 1..=5 {
        h.hover_at(start + (end - start) * (k as f32 / 5.0));
        h.run_steps(1);
    }
    h.drop_at(end);
    h.run_steps(3);
    let b = &params.bands[2];
    let want_f = f_of(area, end.x);
    let want_g = db_of_y(area, end.y, 12.0);
    assert!(
        (b.freq.value() / want_f - 1.0).abs() < 0.01,
        "{} Hz vs {want_f}",
        b.freq.value()
    );
    assert!(
        (b.gain.value() - want_g).abs() < 0.15,
        "{} dB vs {want_g}",
        b.gain.value()
    );
    assert!(
        b.freq.value() > 1600.0 && b.gain.value() > 1.0,
        "moved right and up"
    );
    let log = host.take();
    assert_gestures_well_formed(&log);
    let begins: Vec<&Gesture> = log
        .iter()
        .filter(|g| matches!(g, Gesture::Begin(_)))
        .collect();
    assert_eq!(
        begins,
        [
            &Gesture::Begin("eq_freq_3".into()),
            &Gesture::Begin("eq_gain_3".into())
        ],
        "one gesture per parameter for the whole drag"
    );
    assert!(log.iter().all(|g| match g {
        Gesture::Begin(id) | Gesture::End(id) | Gesture::Set(id, _) =>
            id == "eq_freq_3" || id == "eq_gain_3",
    }));
}

#[test]
fn the_wheel_over_a_handle_changes_its_q_and_double_click_resets_it() {
    let (app, params, host) = editor();
    let (mut h, _) = dynamics_page(app);
    host.take();
    let c = h.get_by_label("Band 2").rect().center();
    h.hover_at(c);
    h.run_steps(1);
    h.event(egui::Event::MouseWheel {
        unit: egui::MouseWheelUnit::Point,
        delta: egui::vec2(0.0, 100.0),
        phase: egui::TouchPhase::Move,
        source: egui::MouseWheelSource::Wheel,
        modifiers: egui::Modifiers::NONE,
    });
    h.run_steps(2);
    let q = params.bands[1].q.value();
    assert!(
        (q / (0.707 * 2f32.sqrt()) - 1.0).abs() < 0.01,
        "Q {q} after half an octave of wheel"
    );
    let log = host.take();
    assert_gestures_well_formed(&log);
    assert_eq!(log.first(), Some(&Gesture::Begin("eq_q_2".into())));
    // Double-click (half a second after the last click, so it is not a triple-click): back
    // to the band's defaults.
    h.run_steps(30);
    for _ in 0..2 {
        h.get_by_label("Band 2").click();
        h.step();
    }
    h.run_steps(2);
    let q = params.bands[1].q.value();
    assert!(
        (q - 0.707).abs() < 1e-4,
        "reset: Q {q}, gestures {:?}",
        host.take()
    );
}

#[test]
fn the_spectrum_of_a_sine_peaks_at_its_frequency_on_the_axis() {
    use crate::dsp::spectral::{SpectralDynamics, SpectralSettings};
    let (mut writer, feed) = crate::shared::spectrum_feed();
    let (mut app, _params, _host) = editor();
    app.spectrum = feed.clone();
    let (mut h, area) = dynamics_page(app);
    // (The analysis has 47 Hz bins, and a bin's level includes its neighbours': a sine's
    // peak is a plateau of three bins, whose middle is the sine. Below 1 kHz three bins
    // span more than a few pixels.)
    for f in [1000.0, 3000.0, 7000.0] {
        // The audio thread's analyses of a -12 dBFS sine at the input and a -24 dBFS sine an
        // octave up at the output, published as the plugin does.
        let analysed = |f: f64, amp: f64| {
            let mut sd = SpectralDynamics::new(48_000.0, &SpectralSettings::default());
            sd.set_analyzer(true);
            let x = crate::dsp::test_util::sine(f, amp, 8192, 0, 48_000.0);
            let (mut l, mut r) = (x.clone(), x);
            sd.process(&mut [&mut l, &mut r]);
            sd
        };
        let (input, output) = (analysed(f as f64, 0.25), analysed(2.0 * f as f64, 0.063));
        for _ in 0..30 {
            writer.publish_analysis(&input, &[0.0; BINS], Some(&output), 48_000.0);
            h.run_steps(1);
        }
        for (line, f, db) in [
            (&h.state().analyzer.view.spectrum_line, f, -12.0),
            (&h.state().analyzer.view.output_line, 2.0 * f, -24.0),
        ] {
            let top = line
                .iter()
                .map(|p| p.y)
                .min_by(f32::total_cmp)
                .expect("a spectrum was drawn");
            let plateau: Vec<&egui::Pos2> = line.iter().filter(|p| p.y <= top + 0.5).collect();
            let peak = egui::pos2(
                plateau.iter().map(|p| p.x).sum::<f32>() / plateau.len() as f32,
                top,
            );
            let want = x_of(area, f);
            assert!(
                (peak.x - want).abs() <= 4.0,
                "{f} Hz: peak at x {} vs the axis at {want}",
                peak.x
            );
            // At its level on the dBFS scale (within 3 dB: a sine reads its amplitude).
            let want_y = y_level(area, db);
            let per_db = area.height() / 100.0;
            assert!(
                (peak.y - want_y).abs() <= 3.0 * per_db,
                "{f} Hz: level y {} vs {want_y}",
                peak.y
            );
        }
    }
}

#[test]
fn the_window_lays_out_without_overlaps_at_75_100_and_200_percent() {
    let sizes = [
        egui::vec2(EDITOR_SIZE.0 as f32, EDITOR_SIZE.1 as f32),
        egui::vec2(MIN_SIZE.0, MIN_SIZE.1),
        egui::vec2(1600.0, 1000.0),
    ];
    for (scale, size) in [0.75, 1.0, 2.0]
        .into_iter()
        .flat_map(|s| sizes.map(|z| (s, z)))
    {
        for page in ["Reverb", "EQ & Dynamics"] {
            let (app, _, _) = editor();
            let mut h = harness_sized(app, scale, size);
            h.run_steps(2);
            h.get_by_label(page).click();
            h.run_steps(4);
            let window = egui::Rect::from_min_size(egui::Pos2::ZERO, size);
            // Every control: inside the window, and no two overlap.
            let controls: Vec<(String, egui::Rect)> = h
                .root()
                .children_recursive()
                .filter(|n| {
                    use egui::accesskit::Role;
                    matches!(
                        n.accesskit_node().role(),
                        Role::Button
                            | Role::CheckBox
                            | Role::Slider
                            | Role::ComboBox
                            | Role::TextInput
                            | Role::SpinButton
                            | Role::Tab
                    )
                })
                .map(|n| (n.accesskit_node().label().unwrap_or_default(), n.rect()))
                .collect();
            assert!(controls.len() > 15, "{page}: {} controls", controls.len());
            for (name, r) in &controls {
                assert!(
                    window.expand(0.5).contains_rect(*r),
                    "{page} at {scale}: {name:?} {r:?} outside the window"
                );
            }
            // And every other element (texts, values): inside the window too.
            for n in h.root().children_recursive() {
                let node = n.accesskit_node();
                if let Some(b) = node.bounding_box() {
                    // AccessKit bounds are in pixels.
                    let r = egui::Rect::from_min_max(
                        egui::pos2(b.x0 as f32, b.y0 as f32) / scale,
                        egui::pos2(b.x1 as f32, b.y1 as f32) / scale,
                    );
                    assert!(
                        window.expand(0.5).contains_rect(r),
                        "{page} at {scale} in {size:?}: {:?} {:?} {:?} {r:?} outside the window",
                        node.role(),
                        node.label(),
                        node.value()
                    );
                }
            }
            for (i, (a, ra)) in controls.iter().enumerate() {
                for (b, rb) in &controls[i + 1..] {
                    let overlap = ra.intersect(*rb);
                    assert!(
                        !overlap.is_positive() || overlap.area() < 1.0,
                        "{page} at {scale}: {a:?} {ra:?} overlaps {b:?} {rb:?}"
                    );
                }
            }
        }
    }
}

#[test]
fn the_window_size_and_scale_are_recalled_with_the_session() {
    // A session saved with the editor at 1200 x 700 and 150 %.
    let (app, params, _host) = editor();
    *params.editor_size.write().unwrap() = Some([1200.0, 700.0, 1.5]);
    let mut h = harness(app, 1.0);
    h.step();
    assert_eq!(h.ctx.zoom_factor(), 1.5, "the scale comes back");
    // The window asked for its saved size (the harness, like a host, resizes to it).
    h.step();
    assert_eq!(h.ctx.content_rect().size(), egui::vec2(1200.0, 700.0));
    // The user picks 200 % in the scale menu: the session's copy follows, and it is part
    // of the saved state.
    h.run_steps(2);
    h.get_by_label("Scale").click();
    h.run_steps(2);
    h.get_by_label("200 %").click();
    h.run_steps(3);
    let saved = params.editor_size.read().unwrap().expect("saved");
    assert_eq!(saved[2], 2.0);
    let state = params.serialize_fields();
    assert!(state.contains_key("editor-size"), "{:?}", state.keys());
}

#[test]
fn the_reverb_page_shows_the_rendered_ir_with_its_measured_decay() {
    use crate::dsp::ir_edit::{decay_measures, IrEdits};
    use crate::ir_source::Source;
    use crate::loader::{Loader, Task};
    use crate::params::Room;
    let loader = Arc::new(Loader::default());
    let (app, params, _host) = editor_with(loader.clone());
    loader.set_target(48_000.0, 512);
    loader.run(Task::Render, &params);
    let mut h = harness(app, 1.0);
    h.run_steps(4);
    h.get_by_label("Impulse response view");
    let ir = crate::ir_source::render_ir(
        &Source::Factory(Room::MediumRoom),
        48_000.0,
        &IrEdits::default(),
    );
    let m = decay_measures(&ir.channels, 48_000.0, 10);
    let t30 = m.t30_s.expect("the medium room has a T30");
    // Between the room's high-band and low-band decay times.
    let spec = Room::MediumRoom.factory_spec().unwrap();
    assert!(
        (spec.rt60_high_s as f32..spec.rt60_low_s as f32).contains(&t30),
        "Medium Room T30 {t30}"
    );
    h.get_by_label_contains(&format!("T30 {t30:.2} s"));
}

#[test]
fn a_file_dropped_on_the_window_loads_as_the_ir() {
    use crate::loader::Task;
    let (app, _params, tasks) = editor_recording(Arc::default());
    let mut h = harness(app, 1.0);
    h.run_steps(2);
    let path = std::path::PathBuf::from("/some/where/Hall.wav");
    // The file as the window adapter hands it over.
    h.input_mut()
        .dropped_files
        .push(Arc::new(super::window::DroppedPath(path.clone())));
    h.run_steps(2);
    let tasks = tasks.lock().unwrap();
    assert!(
        matches!(tasks.as_slice(), [Task::Load { path: p, .. }] if *p == path),
        "one load of the dropped file: {tasks:?}"
    );
}

#[test]
fn tab_moves_keyboard_focus_and_tooltips_describe_the_parameter() {
    let (app, _params, _host) = editor();
    let mut h = harness(app, 1.0);
    h.run_steps(2);
    // Tab walks the controls: each press focuses a different one.
    let mut seen = Vec::new();
    for _ in 0..6 {
        h.key_press(egui::Key::Tab);
        h.run_steps(2);
        let focused: Vec<String> = h
            .root()
            .children_recursive()
            .filter(|n| n.is_focused())
            .map(|n| format!("{:?}", n.rect()))
            .collect();
        assert_eq!(focused.len(), 1, "one control has the focus");
        assert!(!seen.contains(&focused[0]), "focus moved on");
        seen.push(focused[0].clone());
    }
    // The Bypass switch's tooltip is its description from the parameter table.
    h.get_by(|n| {
        n.role() == egui::accesskit::Role::CheckBox && n.label().as_deref() == Some("Bypass")
    })
    .hover();
    h.run_steps(60);
    h.get_by_label_contains(crate::params::description("bypass"));
}

#[test]
fn learn_sets_the_spectral_curve_below_the_material_as_one_undo_step() {
    use crate::dsp::spectral::{SpectralDynamics, SpectralSettings};
    let (mut writer, feed) = crate::shared::spectrum_feed();
    let (mut app, params, host) = editor();
    app.spectrum = feed.clone();
    let (mut h, _) = dynamics_page(app);
    // Pink-ish noise (-3 dB/oct) analysed by the audio thread's analysis.
    let mut rng = crate::dsp::rng::Rng::new(8);
    let mut b = [0.0f64; 3];
    let x: Vec<f32> = (0..48_000)
        .map(|_| {
            let w = rng.bipolar();
            b[0] = 0.997 * b[0] + 0.029 * w;
            b[1] = 0.985 * b[1] + 0.032 * w;
            b[2] = 0.950 * b[2] + 0.048 * w;
            (0.5 * (b[0] + b[1] + b[2] + 0.02 * w)) as f32
        })
        .collect();
    let mut sd = SpectralDynamics::new(48_000.0, &SpectralSettings::default());
    sd.set_analyzer(true);
    h.get_by_label("Learn").click();
    h.run_steps(2);
    host.take();
    let start = std::time::Instant::now();
    let mut pos = 0;
    while start.elapsed().as_secs_f32() < super::dynamics_page::LEARN_SECONDS + 0.3 {
        let (mut l, mut r) = (x[pos..pos + 1024].to_vec(), x[pos..pos + 1024].to_vec());
        sd.process(&mut [&mut l, &mut r]);
        pos = (pos + 1024) % (x.len() - 1024);
        writer.publish_analysis(&sd, &[0.0; BINS], None, 48_000.0);
        h.run_steps(1);
    }
    h.run_steps(3);
    // The curve now slopes down like the material and sits below it.
    let (thr, tilt) = (params.spec_threshold.value(), params.spec_tilt.value());
    assert!(tilt < -1.0 && tilt > -6.0, "tilt {tilt} dB/oct");
    assert!(
        (thr + 30.0).abs() > 1.0 && (-80.0..0.0).contains(&thr),
        "threshold {thr} dBFS"
    );
    let log = host.take();
    assert_gestures_well_formed(&log);
    // One undo step takes both back.
    h.get_by_label("Undo").click();
    h.run_steps(3);
    assert_eq!(params.spec_tilt.value(), 0.0);
    assert!((params.spec_threshold.value() + 30.0).abs() < 1e-4);
}

#[test]
fn the_ir_search_narrows_the_factory_list() {
    let (app, _params, _host) = editor();
    let mut h = harness(app, 1.0);
    h.run_steps(2);
    let find = h.get_by_label("Find");
    find.focus();
    find.type_text("hall");
    h.run_steps(2);
    h.get_by_value("Factory impulses").click();
    h.run_steps(3);
    h.get_by_label("Large Hall");
    assert!(h.query_by_label("Plate").is_none(), "Plate is filtered out");
    assert!(h.query_by_label("Small Room").is_none());
}

#[test]
fn the_preset_browser_searches_keeps_favourites_and_describes_the_preset() {
    let root = std::env::temp_dir().join(format!("fluxforge-browser-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let (app, params, _host) = editor();
    let mut h = harness(app, 1.0);
    h.state_mut().presets.set_root(root.clone());
    h.run_steps(2);
    h.get_by_value("Presets").click();
    h.run_steps(3);
    let search = h.get_by_label("Search");
    search.focus();
    search.type_text("vocal plate");
    h.run_steps(3);
    // Every word must match: the one plate for vocals is left, the other plates are not.
    h.get_by_label("Vocal Plate");
    assert!(h.query_by_label("Snare Plate").is_none());
    assert!(h.query_by_label("Drum Room").is_none());
    let star = h.get_by_label("Favourite Vocal Plate");
    assert_eq!(
        star.accesskit_node().toggled(),
        Some(egui::accesskit::Toggled::False)
    );
    star.click();
    h.run_steps(3);
    let star = h.get_by_label("Favourite Vocal Plate");
    assert_eq!(
        star.accesskit_node().toggled(),
        Some(egui::accesskit::Toggled::True),
        "starred"
    );
    assert_eq!(
        crate::user_presets::favourites(&root),
        ["factory:Vocal Plate".to_string()].into(),
        "the star is saved at once"
    );
    // The favourites filter with an empty search shows the favourite only.
    let search = h.get_by_label("Search");
    search.focus();
    for _ in 0.."vocal plate".len() {
        h.key_press(egui::Key::Backspace);
        h.run_steps(1);
    }
    h.run_steps(2);
    assert!(
        h.query_by_label("Drum Room").is_some(),
        "cleared search shows all"
    );
    h.get_by_label("Favourites only").click();
    h.run_steps(3);
    h.get_by_label("Vocal Plate");
    assert!(h.query_by_label("Drum Room").is_none());
    h.get_by_label("Vocal Plate").click();
    h.run_steps(4);
    let want = crate::factory_presets::find("Vocal Plate").unwrap();
    assert_eq!(
        params.preset.read().unwrap().clone(),
        Some(crate::params::PresetRef {
            name: want.name.clone(),
            file: None
        }),
        "the session records the loaded preset"
    );
    h.get_by_value("Vocal Plate");
    // A fresh bar over the same folder knows the favourite.
    let mut bar = super::preset_bar::PresetBar::default();
    bar.set_root(root.clone());
    let i = crate::factory_presets::bank()
        .iter()
        .position(|p| p.name == "Vocal Plate")
        .unwrap();
    assert!(bar.is_favourite(i));
    assert!(!bar.is_favourite(i + 1));
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn a_preset_the_host_loaded_is_named_in_the_bar() {
    let (app, params, _host) = editor();
    let mut h = harness(app, 1.0);
    h.run_steps(2);
    h.get_by_value("Presets");
    // What the host's preset load does: the state arrives with the values and the name.
    let preset = crate::factory_presets::find("Drum Room").unwrap();
    preset.apply(&params);
    *params.preset.write().unwrap() = Some(crate::params::PresetRef {
        name: preset.name.clone(),
        file: None,
    });
    h.run_steps(3);
    h.get_by_value("Drum Room");
    assert!(!h.state().presets.modified(&params));
    // Next steps from the host's preset.
    h.get_by_label(">").click();
    h.run_steps(4);
    let bank = crate::factory_presets::bank();
    let at = bank.iter().position(|p| p.name == "Drum Room").unwrap();
    h.get_by_value(bank[(at + 1) % bank.len()].name.as_str());
}

#[test]
fn the_sidechain_line_follows_the_hosts_word() {
    use crate::params::DetectorInput;
    let meters = Arc::new(crate::shared::Meters::default());
    let (app, params, _tasks) = editor_recording(meters.clone());
    let host = Arc::new(TestHost {
        params: params.clone(),
        log: Mutex::new(Vec::new()),
    });
    let gui = GuiContext::new(host);
    let setter = gui.param_setter();
    setter.begin_set_parameter(&params.bands[0].enabled);
    setter.set_parameter(&params.bands[0].enabled, true);
    setter.end_set_parameter(&params.bands[0].enabled);
    setter.begin_set_parameter(&params.bands[0].source);
    setter.set_parameter(&params.bands[0].source, DetectorInput::External);
    setter.end_set_parameter(&params.bands[0].source);
    let (mut h, _) = dynamics_page(app);
    let shows =
        |h: &Harness<'static, EditorApp>, text: &str| h.query_by_label_contains(text).is_some();
    assert!(shows(&h, "no signal yet"), "the host said nothing");
    meters.sidechain_port.set(false);
    h.run_steps(2);
    assert!(shows(&h, "not connected in the host"));
    assert!(!shows(&h, "no signal yet"));
    meters.sidechain_port.set(true);
    h.run_steps(2);
    assert!(shows(&h, "connected, silent"));
    assert!(!shows(&h, "not connected"));
}

#[test]
fn the_built_in_browser_lists_folders_and_irs_with_their_layout_and_loads_a_click() {
    use crate::loader::Task;
    let root = std::env::temp_dir().join(format!("fluxforge-browse-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let halls = root.join("Halls é");
    std::fs::create_dir_all(&halls).unwrap();
    let wav = halls.join("Big Hall.wav");
    crate::ir_file::write_wav_file(
        &wav,
        2,
        48_000,
        crate::ir_file::WavEncoding::Int(24),
        vec![0.1f32; 48_000],
    )
    .unwrap();
    std::fs::write(halls.join("notes.txt"), "not an IR").unwrap();
    let store = root.join("store");

    let (mut app, _params, tasks) = editor_recording(Arc::default());
    app.dialog_backend = None;
    app.browser = super::file_browser::FileBrowser::with_store(Some(store.clone()));
    app.reverb.path_text = root.to_string_lossy().into_owned();
    let mut h = harness(app, 1.0);
    h.run_steps(2);
    // No system dialog: Browse opens the built-in browser where the path field points.
    h.get_by_label("Browse…").click();
    h.run_steps(3);
    h.get_by_label("Halls é/").click();
    h.run_steps(3);
    assert!(
        h.query_by_label("notes.txt").is_none(),
        "only IR files are listed"
    );
    h.get_by_label("stereo, 48000 Hz, 0.50 s");
    h.get_by_label("Favourite Big Hall.wav").click();
    h.run_steps(2);
    // Listed twice now: under Favourites and in the folder.
    assert_eq!(h.get_all_by_label("Big Hall.wav").count(), 2);
    h.get_all_by_label("Big Hall.wav").last().unwrap().click();
    h.run_steps(3);
    {
        let tasks = tasks.lock().unwrap();
        assert!(
            matches!(tasks.as_slice(), [Task::Load { path: p, .. }] if *p == wav),
            "one load of the clicked file: {tasks:?}"
        );
    }
    let listed = |name: &str| std::fs::read_to_string(store.join(name)).unwrap_or_default();
    assert_eq!(
        listed("ir-favourites.txt").trim(),
        wav.display().to_string()
    );
    assert_eq!(listed("ir-recent.txt").trim(), wav.display().to_string());
    // A new browser over the same store knows both lists.
    let again = super::file_browser::FileBrowser::with_store(Some(store.clone()));
    assert!(again.is_favourite(&wav));
    assert_eq!(again.recent(), std::slice::from_ref(&wav));
    // Up goes back to the parent folder.
    h.get_by_label("Up").click();
    h.run_steps(3);
    h.get_by_label("Halls é/");
    std::fs::remove_dir_all(&root).unwrap();
}

#[cfg(unix)]
#[test]
fn browse_opens_the_system_dialog_and_loads_what_it_returns_without_blocking_frames() {
    use crate::loader::Task;
    use std::os::unix::fs::PermissionsExt;
    let root = std::env::temp_dir().join(format!("fluxforge-dialog-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).unwrap();
    // A stand-in for zenity: answers after 300 ms with a path holding spaces and accents.
    let stub = root.join("zenity");
    let chosen = root.join("My IRs/Plate é.wav");
    std::fs::write(
        &stub,
        format!("#!/bin/sh\nsleep 0.3\necho '{}'\n", chosen.display()),
    )
    .unwrap();
    std::fs::set_permissions(&stub, std::fs::Permissions::from_mode(0o755)).unwrap();

    let (mut app, _params, tasks) = editor_recording(Arc::default());
    app.dialog_backend = Some(crate::file_dialog::Backend::Zenity(stub));
    app.browser = super::file_browser::FileBrowser::with_store(None);
    let mut h = harness(app, 1.0);
    h.run_steps(2);
    h.get_by_label("Browse…").click();
    let t = std::time::Instant::now();
    h.run_steps(2);
    assert!(
        t.elapsed() < std::time::Duration::from_millis(250),
        "frames go on while the dialog is open"
    );
    assert!(tasks.lock().unwrap().is_empty());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while tasks.lock().unwrap().is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(30));
        h.run_steps(1);
    }
    let tasks = tasks.lock().unwrap();
    assert!(
        matches!(tasks.as_slice(), [Task::Load { path: p, .. }] if *p == chosen),
        "the chosen file loads: {tasks:?}"
    );
    assert!(
        !h.state().browser.open,
        "the built-in browser stayed closed"
    );
    drop(tasks);
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn the_decay_band_sliders_set_their_parameters_in_one_gesture() {
    // The Reverb page's grid: each decay band's slider sits right of its label; dragging it
    // left shortens that band's decay in one gesture, and the crossovers have their own.
    let (app, params, host) = editor();
    let mut h = harness(app, 1.0);
    h.run_steps(2);
    for label in [
        "Low Decay",
        "Mid Decay",
        "High Decay",
        "Lows below",
        "Highs above",
    ] {
        h.get_by_label(label);
    }
    host.take();
    let label = h.get_by_label("High Decay").rect();
    // The slider starts 8 points right of the label's column; its default (100 %) lies at
    // 43 % of 25..200 %.
    let start = egui::pos2(label.right() + 40.0, label.center().y);
    h.hover_at(start);
    h.run_steps(1);
    h.drag_at(start);
    h.run_steps(1);
    for k in 1..=4 {
        h.hover_at(start - egui::vec2(10.0 * k as f32, 0.0));
        h.run_steps(1);
    }
    h.drop_at(start - egui::vec2(40.0, 0.0));
    h.run_steps(2);
    assert!(
        params.decay_high.value() < 100.0,
        "{}",
        params.decay_high.value()
    );
    assert_eq!(params.decay_low.value(), 100.0);
    let log = host.take();
    assert_gestures_well_formed(&log);
    assert!(log.contains(&Gesture::Begin("ir_dhigh".into())), "{log:?}");
    assert!(log.iter().all(|g| match g {
        Gesture::Begin(id) | Gesture::End(id) | Gesture::Set(id, _) => id == "ir_dhigh",
    }));
    // The edits the IR renders with carry it.
    assert_eq!(params.ir_edits().decay_high_pct, params.decay_high.value());
}

#[test]
fn a_listen_mode_is_picked_in_the_header_and_never_stays_on_unnoticed() {
    use crate::params::ListenMode;
    let (app, params, host) = editor();
    let mut h = harness(app, 1.0);
    h.run_steps(2);
    assert!(h.query_by_label_contains("Listening to").is_none());
    host.take();
    h.get_by_label("Listen: Normal").click();
    h.run_steps(2);
    h.get_by_label("Delta").click();
    h.run_steps(3);
    assert_eq!(params.listen.value(), ListenMode::Delta);
    let log = host.take();
    assert_gestures_well_formed(&log);
    assert!(log.contains(&Gesture::Begin("listen".into())), "{log:?}");
    // The banner says what is heard, on either page, and takes the user back.
    h.get_by_label_contains("Listening to the Delta");
    h.get_by_label("EQ & Dynamics").click();
    h.run_steps(3);
    h.get_by_label_contains("Listening to the Delta");
    h.get_by_label("Back to the mix").click();
    h.run_steps(3);
    assert_eq!(params.listen.value(), ListenMode::Normal);
    assert!(h.query_by_label_contains("Listening to").is_none());
}

#[test]
fn the_ducking_mode_is_chosen_on_the_reverb_page() {
    use crate::params::DuckKind;
    let (app, params, host) = editor();
    let mut h = harness(app, 1.0);
    h.run_steps(2);
    host.take();
    h.get_by_label("Mode: Broadband").click();
    h.run_steps(2);
    h.get_by_label("Spectral").click();
    h.run_steps(3);
    assert_eq!(params.duck_mode.value(), DuckKind::Spectral);
    let log = host.take();
    assert_gestures_well_formed(&log);
    assert!(log.contains(&Gesture::Begin("duck_mode".into())), "{log:?}");
    h.get_by_label("Mode: Spectral");
}

#[test]
fn the_pre_delay_syncs_to_a_note_and_shows_what_it_plays() {
    use crate::params::PredelayNote;
    let (app, params, host) = editor();
    let mut h = harness(app, 1.0);
    h.run_steps(2);
    host.take();
    h.get_by_label("Sync: Off (ms)").click();
    h.run_steps(2);
    h.get_by_label("1/8").click();
    h.run_steps(3);
    assert_eq!(params.predelay_sync.value(), PredelayNote::N8);
    let log = host.take();
    assert_gestures_well_formed(&log);
    assert!(
        log.contains(&Gesture::Begin("ir_predelay_sync".into())),
        "{log:?}"
    );
    // Without a tempo from the host the milliseconds play, and the page says so; with one,
    // the note's length shows.
    h.get_by_label_contains("no tempo from the host");
    params.set_host_tempo(Some(120.0));
    h.run_steps(2);
    h.get_by_label_contains("250.0 ms at 120.0 BPM");
    assert_eq!(params.ir_edits().predelay_ms, 250.0);
}

#[test]
fn a_bands_dynamics_are_made_spectral_on_the_dynamics_page() {
    let (app, params, host) = editor();
    let mut h = harness(app, 1.0);
    h.run_steps(2);
    h.get_by_label("EQ & Dynamics").click();
    h.run_steps(3);
    // Its tooltip says what it does.
    h.get_by_label("Band 3 Spectral").hover();
    h.run_steps(60);
    h.get_by_label_contains(crate::params::description("eq_spec"));
    host.take();
    h.get_by_label("Band 3 Spectral").click();
    h.run_steps(3);
    assert!(params.bands[2].spectral.value());
    assert!(params.settings().eq[2].spectral);
    let log = host.take();
    assert_gestures_well_formed(&log);
    assert!(log.contains(&Gesture::Begin("eq_spec_3".into())), "{log:?}");
}

#[test]
fn eq_match_learns_the_input_and_a_reference_and_sets_the_curve() {
    use crate::dsp::eq_match::curve_db_at;
    let (app, params, _host) = editor();
    let mut learner = crate::match_state::learner(48_000.0, app.learn.clone());
    let (mut h, _) = dynamics_page(app);
    // White noise in, the sidechain the same noise through a one-pole low-pass (about
    // -6 dB per octave above 500 Hz): the curve must fall towards the top.
    let mut rng = crate::dsp::rng::Rng::new(21);
    let white: Vec<f32> = (0..4 * 48_000)
        .map(|_| 0.3 * rng.bipolar() as f32)
        .collect();
    let mut y = 0.0f32;
    let a = (-std::f32::consts::TAU * 500.0 / 48_000.0).exp();
    let dark: Vec<f32> = white
        .iter()
        .map(|x| {
            y = a * y + (1.0 - a) * x;
            y
        })
        .collect();
    assert!(
        h.query_by_label("Match").is_some(),
        "the Match button is on the page"
    );
    h.get_by_label("Learn Match").click();
    h.run_steps(2);
    // The audio thread's part: what the plugin's process() pushes while a learn is on.
    for (x, k) in white.chunks(512).zip(dark.chunks(512)) {
        learner.push([x, x], Some([k, k]));
    }
    h.run_steps(3);
    assert!(
        h.query_by_label_contains("Stop (").is_some(),
        "learning shows its time"
    );
    h.get_by_label("Match").click();
    h.run_steps(2);
    let curve = params.match_curve.get().expect("a curve was set");
    let (low, high) = (curve_db_at(&curve, 100.0), curve_db_at(&curve, 8000.0));
    assert!(low - high > 18.0, "falls towards the top: {low} vs {high}");
    // The match is one undo step (and redo brings it back).
    h.run_steps(3);
    h.get_by_label("Undo").click();
    h.run_steps(3);
    assert!(params.match_curve.get().is_none(), "undone");
    h.get_by_label("Redo").click();
    h.run_steps(3);
    assert_eq!(params.match_curve.get(), Some(curve), "redone");
    // A reference file instead: the white noise itself, so the curve comes out flat.
    let dir = std::env::temp_dir().join(format!("ff-match-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("reference.wav");
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 44_100,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut w = hound::WavWriter::create(&file, spec).unwrap();
    for v in &white {
        w.write_sample(*v).unwrap();
    }
    w.finalize().unwrap();
    h.get_by_value("Sidechain").click();
    h.run_steps(2);
    h.get_by_label("File").click();
    h.run_steps(2);
    let field = h.get_by_role(egui::accesskit::Role::TextInput);
    field.focus();
    field.type_text(&file.to_string_lossy());
    h.run_steps(2);
    h.get_by_label("Analyse").click();
    h.run_steps(2);
    wait_for_text(&mut h, "Reference: reference.wav");
    // A file dropped on the page while File is the reference is analysed as the reference
    // (not loaded as an IR).
    let dropped = dir.join("dropped.wav");
    std::fs::copy(&file, &dropped).unwrap();
    h.input_mut()
        .dropped_files
        .push(Arc::new(super::window::DroppedPath(dropped.clone())));
    h.run_steps(2);
    wait_for_text(&mut h, "Reference: dropped.wav");
    assert!(
        h.query_by_label("Clear").is_some(),
        "the page stays (the match row is on it)"
    );
    h.get_by_label("Match").click();
    h.run_steps(2);
    let flat = params.match_curve.get().expect("a curve from the file");
    for hz in [100.0, 1000.0, 8000.0] {
        assert!(
            curve_db_at(&flat, hz).abs() < 1.0,
            "{hz}: {}",
            curve_db_at(&flat, hz)
        );
    }
    // Clear removes it.
    h.get_by_label("Clear").click();
    h.run_steps(2);
    assert!(params.match_curve.get().is_none());
    let _ = std::fs::remove_dir_all(&dir);
}

/// Runs frames until a label containing `text` shows (at most 20 s: background work the page
/// waits for, such as a file analysis).
fn wait_for_text(h: &mut Harness<'static, EditorApp>, text: &str) {
    let t0 = std::time::Instant::now();
    while h.query_by_label_contains(text).is_none() {
        assert!(t0.elapsed().as_secs() < 20, "{text:?} never showed");
        std::thread::sleep(std::time::Duration::from_millis(20));
        h.run_steps(1);
    }
}
