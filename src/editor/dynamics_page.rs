//! The "EQ & Dynamics" page: a log-frequency spectrum analyzer (smoothed over frames) with
//! the spectral threshold curve, the live per-bin gain change, the EQ's response and one
//! draggable handle per band (drag: frequency and gain; the host sees one gesture per drag),
//! above the selected band's and the spectral dynamics' controls.

use super::widgets;
use nice_plug::prelude::{Param, ParamSetter};

use super::match_panel::MatchUi;
use super::spectrum_plot::{PlotData, PlotView};
use crate::dsp::dynamic_eq::BANDS;
use crate::dsp::spectral_learn::{fit, Curve, SpectrumAverage};
use crate::params::{DetectorInput, FluxForgeParams};
use crate::shared::{display_hz, Spectrum, DISPLAY_POINTS};

/// Height the controls under the display need, points.
const CONTROLS_HEIGHT: f32 = 300.0;

/// Per-frame smoothing of the displayed spectrum (fraction of the new frame).
const SMOOTH: f32 = 0.35;

/// The sidechain as the editor describes it: from the host's word when it gave one (CLAP
/// audio-ports-activation), else from whether a signal has arrived.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sidechain {
    /// A signal has arrived (and the host has not said the port is off).
    Receiving,
    /// The host says it is connected; nothing has arrived yet.
    ConnectedSilent,
    /// The host says it is not connected.
    NotConnected,
    /// The host says nothing and no signal has arrived.
    NoSignalYet,
}

impl Sidechain {
    /// From the host's word (`None`: nothing said) and whether a signal arrived recently.
    pub fn from(word: Option<bool>, live: bool) -> Self {
        match (word, live) {
            (Some(false), _) => Self::NotConnected,
            (_, true) => Self::Receiving,
            (Some(true), false) => Self::ConnectedSilent,
            (None, false) => Self::NoSignalYet,
        }
    }
}

/// Editor-side analyzer state.
pub struct Analyzer {
    /// The analyzer frame on show, smoothed over frames.
    pub(super) shown: Spectrum,
    /// The display's interaction state (selected band, drags, listening, drawn lines).
    pub view: PlotView,
    /// The curves' dB range (one of [`EQ_RANGES_DB`]).
    pub(super) eq_range_db: f32,
    /// Which spectra are shown.
    pub(super) show_input: bool,
    pub(super) show_output: bool,
    /// Learn in progress: when it started and the spectrum heard so far.
    learning: Option<(std::time::Instant, SpectrumAverage)>,
    /// How far below the material's average spectrum Learn puts the threshold curve, dB.
    learn_distance_db: f32,
    /// A finished Learn, for the editor to apply as one undo step.
    learned: Option<Curve>,
}

/// The curve ranges the user can choose, dB (symmetric).
pub const EQ_RANGES_DB: [f32; 4] = [3.0, 6.0, 12.0, 30.0];

/// Seconds of material Learn listens to.
pub const LEARN_SECONDS: f32 = 3.0;

impl Default for Analyzer {
    fn default() -> Self {
        Self {
            shown: Spectrum::default(),
            view: PlotView::default(),
            eq_range_db: 12.0,
            show_input: true,
            show_output: true,
            learning: None,
            learn_distance_db: 6.0,
            learned: None,
        }
    }
}

impl Analyzer {
    /// Takes a new frame if one arrived and smooths it into the display.
    pub fn update(&mut self, frame: Option<Spectrum>) {
        if let (Some(f), Some((_, avg))) = (&frame, &mut self.learning) {
            avg.add(&f.level_db);
        }
        if let Some(f) = frame {
            for i in 0..DISPLAY_POINTS {
                self.shown.level_db[i] +=
                    SMOOTH * (f.level_db[i].max(-140.0) - self.shown.level_db[i]);
                self.shown.gain_db[i] += SMOOTH * (f.gain_db[i] - self.shown.gain_db[i]);
                self.shown.output_db[i] +=
                    SMOOTH * (f.output_db[i].max(-140.0) - self.shown.output_db[i]);
            }
        }
    }

    /// The threshold curve a finished Learn asks for (once).
    pub fn take_learned(&mut self) -> Option<Curve> {
        self.learned.take()
    }

    /// Ends a Learn that has listened long enough: the curve the distance below the average
    /// spectrum heard (nothing if it heard silence).
    fn finish_learning(&mut self) {
        let done = self
            .learning
            .as_ref()
            .is_some_and(|(t, _)| t.elapsed().as_secs_f32() >= LEARN_SECONDS);
        if done {
            if let Some((_, avg)) = self.learning.take() {
                let freqs: Vec<f32> = (0..DISPLAY_POINTS).map(display_hz).collect();
                self.learned = fit(&freqs, &avg.mean_db(), self.learn_distance_db);
            }
        }
    }

    /// Draws the page.
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        params: &FluxForgeParams,
        setter: &ParamSetter,
        sidechain: Sidechain,
        band_gain_db: &[f32],
        m: MatchUi,
    ) {
        self.finish_learning();
        self.view.listening = None;
        // The session's rate (the match row's too).
        let rate = if m.rate > 0.0 {
            m.rate as f64
        } else {
            48_000.0
        };
        ui.horizontal(|ui| {
            ui.label("Curves");
            egui::ComboBox::from_id_salt("eq_range")
                .width(70.0)
                .selected_text(format!("±{} dB", self.eq_range_db))
                .show_ui(ui, |ui| {
                    for r in EQ_RANGES_DB {
                        ui.selectable_value(&mut self.eq_range_db, r, format!("±{r} dB"));
                    }
                });
            ui.checkbox(&mut self.show_input, "Input spectrum");
            ui.checkbox(&mut self.show_output, "Output spectrum");
            ui.label(
                egui::RichText::new(
                    "drag a handle for frequency and gain, wheel for Q, double-click resets, \
                     right-click for shape, slope, placement, detector; Alt + press listens",
                )
                .small()
                .weak(),
            );
        });
        // The display takes what the controls below leave.
        let height = (ui.available_height() - CONTROLS_HEIGHT).max(200.0);
        self.view.plot(
            ui,
            params,
            setter,
            &PlotData {
                shown: &self.shown,
                range_db: self.eq_range_db,
                show_input: self.show_input,
                show_output: self.show_output,
                rate,
                band_gain_db,
                height,
            },
        );
        ui.horizontal(|ui| {
            ui.label("Band");
            for i in 0..BANDS {
                ui.selectable_value(&mut self.view.selected, i, format!("{}", i + 1));
            }
            ui.add_space(16.0);
            m.panel.controls(ui, params, setter, m.feed, m.rate);
            ui.add_space(16.0);
            let wants_key = params.spec_source.value() == DetectorInput::External
                || params
                    .bands
                    .iter()
                    .any(|b| b.enabled.value() && b.source.value() == DetectorInput::External);
            let warn = |ui: &mut egui::Ui, text: &str| {
                ui.label(
                    egui::RichText::new(text)
                        .small()
                        .color(egui::Color32::from_rgb(240, 180, 80)),
                );
            };
            match sidechain {
                Sidechain::Receiving => {
                    ui.label(egui::RichText::new("Sidechain: receiving").small());
                }
                Sidechain::ConnectedSilent if wants_key => {
                    ui.label(egui::RichText::new("Sidechain: connected, silent").small());
                }
                Sidechain::NotConnected if wants_key => warn(
                    ui,
                    "Sidechain: not connected in the host - detectors set to Sidechain listen \
                     to the main input",
                ),
                Sidechain::NoSignalYet if wants_key => warn(
                    ui,
                    "Sidechain: no signal yet - detectors set to Sidechain listen to the main \
                     input",
                ),
                _ => {}
            }
        });
        // Two grids of two label + slider + value groups side by side in the window's width.
        let sw = ((ui.available_width() - 700.0) / 4.0).clamp(50.0, 110.0);
        ui.horizontal_top(|ui| {
            let b = &params.bands[self.view.selected];
            egui::Grid::new("band")
                .num_columns(4)
                .spacing([8.0, 6.0])
                .show(ui, |ui| {
                    ui.label("On");
                    widgets::toggle(ui, &b.enabled, setter);
                    ui.label("Type");
                    widgets::slider(ui, &b.kind, setter, sw);
                    ui.end_row();
                    for pair in [
                        [&b.freq, &b.gain],
                        [&b.q, &b.threshold],
                        [&b.ratio, &b.range],
                        [&b.attack, &b.release],
                    ] {
                        for q in pair {
                            ui.label(short(q.name()));
                            widgets::slider(ui, q, setter, sw);
                        }
                        ui.end_row();
                    }
                    ui.label("Dynamics");
                    widgets::slider(ui, &b.dynamics, setter, sw);
                    ui.label("Slope");
                    widgets::slider(ui, &b.slope, setter, sw);
                    ui.end_row();
                    ui.label("Placement");
                    widgets::slider(ui, &b.placement, setter, sw);
                    ui.label("Detector");
                    widgets::slider(ui, &b.source, setter, sw);
                    ui.end_row();
                    let listen = ui
                        .add(egui::Button::new("Listen").sense(egui::Sense::click_and_drag()))
                        .on_hover_text(
                            "Hold to hear what this band acts on: the band-pass at its \
                             frequency and Q (Alt + press on a handle does the same)",
                        );
                    if listen.is_pointer_button_down_on() {
                        self.view.listening = Some(self.view.selected);
                    }
                    ui.label("");
                    ui.label("Spectral");
                    widgets::toggle(ui, &b.spectral, setter);
                    ui.end_row();
                });
            ui.separator();
            egui::Grid::new("spectral")
                .num_columns(4)
                .spacing([8.0, 6.0])
                .show(ui, |ui| {
                    ui.label(egui::RichText::new("Spectral").strong());
                    widgets::toggle(ui, &params.spec_on, setter);
                    ui.label("Mode");
                    widgets::slider(ui, &params.spec_mode, setter, sw);
                    ui.end_row();
                    let label = match &self.learning {
                        Some((t, _)) => format!(
                            "Learning {:.0} s",
                            (LEARN_SECONDS - t.elapsed().as_secs_f32()).max(0.0).ceil()
                        ),
                        None => "Learn".to_string(),
                    };
                    if ui
                        .button(label)
                        .on_hover_text(
                            "Listen to the playing material for a few seconds and set the \
                             threshold and tilt so the curve sits the distance below its \
                             average spectrum (one undo step)",
                        )
                        .clicked()
                    {
                        self.learning = match self.learning {
                            Some(_) => None,
                            None => Some((
                                std::time::Instant::now(),
                                SpectrumAverage::new(DISPLAY_POINTS),
                            )),
                        };
                    }
                    ui.add(
                        egui::DragValue::new(&mut self.learn_distance_db)
                            .range(0.0..=24.0)
                            .speed(0.1)
                            .suffix(" dB below"),
                    );
                    ui.end_row();
                    ui.label("Section on");
                    widgets::slider(ui, &params.eq_placement, setter, sw);
                    ui.label("Detector");
                    widgets::slider(ui, &params.spec_source, setter, sw);
                    ui.end_row();
                    for pair in [
                        [&params.spec_threshold, &params.spec_tilt],
                        [&params.spec_ratio, &params.spec_knee],
                        [&params.spec_range, &params.spec_resolution],
                        [&params.spec_attack, &params.spec_release],
                    ] {
                        for q in pair {
                            ui.label(short(q.name()));
                            widgets::slider(ui, q, setter, sw);
                        }
                        ui.end_row();
                    }
                    // EQ match: the reference file and what the last action said.
                    m.panel.file_row(ui, m.dialog_backend);
                    ui.end_row();
                });
            // The deepest band's live gain reduction.
            let gr = band_gain_db.iter().fold(0.0f32, |m, g| m.max(-g));
            super::meter::reduction(ui, "GR", gr, 150.0);
        });
    }
}

/// "Band 3 Freq" -> "Freq", "Spectral Ratio" -> "Ratio".
fn short(name: &str) -> &str {
    name.rsplit(' ').next().unwrap_or(name)
}
