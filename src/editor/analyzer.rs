//! The "EQ & Dynamics" page: a log-frequency spectrum analyzer (smoothed over frames) with
//! the spectral threshold curve, the live per-bin gain change, the EQ's response and one
//! draggable handle per band (drag: frequency and gain; the host sees one gesture per drag),
//! above the selected band's and the spectral dynamics' controls.

use nice_plug::prelude::{Param, ParamSetter};
use nice_plug_egui::widgets::ParamSlider;

use crate::dsp::dynamic_eq::BANDS;
use crate::dsp::spectral_dynamics::SpectralDynamics;
use crate::dsp::spectral_learn::{fit, Curve, SpectrumAverage};
use crate::params::{DetectorInput, FluxForgeParams};
use crate::shared::{display_hz, Spectrum, DISPLAY_HIGH_HZ, DISPLAY_LOW_HZ, DISPLAY_POINTS};

/// Analyzer level range, dBFS (bottom, top).
const LEVEL_RANGE: (f32, f32) = (-100.0, 0.0);
/// EQ / gain-change range, dB (symmetric).
const EQ_RANGE_DB: f32 = 24.0;
/// Per-frame smoothing of the displayed spectrum (fraction of the new frame).
const SMOOTH: f32 = 0.35;

/// Editor-side analyzer state.
pub struct Analyzer {
    shown: Spectrum,
    selected: usize,
    dragging: Option<usize>,
    /// The band the user holds to listen to (Listen button, or Alt + press on its handle).
    pub listening: Option<usize>,
    /// Learn in progress: when it started and the spectrum heard so far.
    learning: Option<(std::time::Instant, SpectrumAverage)>,
    /// How far below the material's average spectrum Learn puts the threshold curve, dB.
    learn_distance_db: f32,
    /// A finished Learn, for the editor to apply as one undo step.
    learned: Option<Curve>,
}

/// Seconds of material Learn listens to.
pub const LEARN_SECONDS: f32 = 3.0;

impl Default for Analyzer {
    fn default() -> Self {
        Self {
            shown: Spectrum::default(),
            selected: 2,
            dragging: None,
            listening: None,
            learning: None,
            learn_distance_db: 6.0,
            learned: None,
        }
    }
}

fn x_of(rect: egui::Rect, f: f32) -> f32 {
    let t = (f / DISPLAY_LOW_HZ).ln() / (DISPLAY_HIGH_HZ / DISPLAY_LOW_HZ).ln();
    rect.left() + rect.width() * t.clamp(0.0, 1.0)
}

fn f_of(rect: egui::Rect, x: f32) -> f32 {
    let t = ((x - rect.left()) / rect.width()).clamp(0.0, 1.0);
    DISPLAY_LOW_HZ * (DISPLAY_HIGH_HZ / DISPLAY_LOW_HZ).powf(t)
}

fn y_level(rect: egui::Rect, db: f32) -> f32 {
    let t = (db - LEVEL_RANGE.0) / (LEVEL_RANGE.1 - LEVEL_RANGE.0);
    rect.bottom() - rect.height() * t.clamp(0.0, 1.0)
}

fn y_eq(rect: egui::Rect, db: f32) -> f32 {
    rect.center().y - rect.height() * 0.5 * (db / EQ_RANGE_DB).clamp(-1.0, 1.0)
}

fn db_of_y(rect: egui::Rect, y: f32) -> f32 {
    ((rect.center().y - y) / (rect.height() * 0.5) * EQ_RANGE_DB).clamp(-EQ_RANGE_DB, EQ_RANGE_DB)
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
        rate: f32,
        sidechain_live: bool,
    ) {
        self.finish_learning();
        let mut listening = None;
        let rate = if rate > 0.0 { rate as f64 } else { 48_000.0 };
        let (rect, _) = ui.allocate_exact_size(egui::vec2(1010.0, 250.0), egui::Sense::hover());
        let p = ui.painter_at(rect);
        p.rect_filled(rect, 3.0, egui::Color32::from_gray(20));
        // Grid: decades and the 0 dB line of the EQ scale.
        for f in [50.0, 100.0, 200.0, 500.0, 1000.0, 2000.0, 5000.0, 10_000.0] {
            let x = x_of(rect, f);
            p.line_segment(
                [egui::pos2(x, rect.top()), egui::pos2(x, rect.bottom())],
                egui::Stroke::new(1.0, egui::Color32::from_gray(38)),
            );
            p.text(
                egui::pos2(x + 2.0, rect.bottom() - 12.0),
                egui::Align2::LEFT_TOP,
                if f >= 1000.0 {
                    format!("{}k", f / 1000.0)
                } else {
                    format!("{f}")
                },
                egui::FontId::proportional(9.0),
                egui::Color32::from_gray(110),
            );
        }
        p.line_segment(
            [
                egui::pos2(rect.left(), rect.center().y),
                egui::pos2(rect.right(), rect.center().y),
            ],
            egui::Stroke::new(1.0, egui::Color32::from_gray(50)),
        );
        // Spectrum.
        let pts: Vec<egui::Pos2> = (0..DISPLAY_POINTS)
            .map(|i| {
                egui::pos2(
                    x_of(rect, display_hz(i)),
                    y_level(rect, self.shown.level_db[i]),
                )
            })
            .collect();
        p.add(egui::Shape::line(
            pts,
            egui::Stroke::new(1.2, egui::Color32::from_rgb(90, 150, 210)),
        ));
        // Spectral threshold curve and the live gain change.
        let sd = params.settings().spectral;
        if sd.enabled {
            let thr: Vec<egui::Pos2> = (0..DISPLAY_POINTS)
                .map(|i| {
                    let f = display_hz(i);
                    egui::pos2(
                        x_of(rect, f),
                        y_level(rect, SpectralDynamics::threshold_at(&sd, f)),
                    )
                })
                .collect();
            p.add(egui::Shape::dashed_line(
                &thr,
                egui::Stroke::new(1.0, egui::Color32::from_rgb(220, 220, 120)),
                6.0,
                4.0,
            ));
            let gr: Vec<egui::Pos2> = (0..DISPLAY_POINTS)
                .map(|i| egui::pos2(x_of(rect, display_hz(i)), y_eq(rect, self.shown.gain_db[i])))
                .collect();
            p.add(egui::Shape::line(
                gr,
                egui::Stroke::new(1.5, egui::Color32::from_rgb(240, 140, 60)),
            ));
        }
        // EQ response (static gains) and band handles.
        let shown: Vec<_> = params
            .bands
            .iter()
            .filter(|b| b.enabled.value())
            .map(|b| b.settings())
            .collect();
        let resp: Vec<egui::Pos2> = (0..DISPLAY_POINTS)
            .map(|i| {
                let f = display_hz(i) as f64;
                let db: f64 = shown.iter().map(|s| s.response_db(f, rate)).sum();
                egui::pos2(x_of(rect, f as f32), y_eq(rect, db as f32))
            })
            .collect();
        p.add(egui::Shape::line(
            resp,
            egui::Stroke::new(2.0, egui::Color32::from_rgb(120, 220, 140)),
        ));
        for (i, b) in params.bands.iter().enumerate() {
            let s = b.settings();
            let gain = if s.kind.has_gain() { s.gain_db } else { 0.0 };
            let c = egui::pos2(x_of(rect, s.freq_hz), y_eq(rect, gain));
            let id = ui.make_persistent_id(("band", i));
            let resp = ui.interact(
                egui::Rect::from_center_size(c, egui::vec2(18.0, 18.0)),
                id,
                egui::Sense::click_and_drag(),
            );
            let alt = ui.input(|i| i.modifiers.alt);
            if alt && resp.is_pointer_button_down_on() {
                listening = Some(i);
            }
            if resp.drag_started() && !alt {
                self.dragging = Some(i);
                self.selected = i;
                setter.begin_set_parameter(&b.freq);
                setter.begin_set_parameter(&b.gain);
            }
            if resp.clicked() {
                self.selected = i;
            }
            if self.dragging == Some(i) {
                if let Some(pos) = resp.interact_pointer_pos() {
                    setter.set_parameter(&b.freq, f_of(rect, pos.x));
                    if s.kind.has_gain() {
                        setter.set_parameter(&b.gain, db_of_y(rect, pos.y));
                    }
                }
                if resp.drag_stopped() {
                    setter.end_set_parameter(&b.gain);
                    setter.end_set_parameter(&b.freq);
                    self.dragging = None;
                }
            }
            let on = b.enabled.value();
            let color = if on {
                egui::Color32::from_rgb(120, 220, 140)
            } else {
                egui::Color32::from_gray(90)
            };
            p.circle(
                c,
                if self.selected == i { 8.0 } else { 6.0 },
                color.gamma_multiply(0.35),
                egui::Stroke::new(1.5, color),
            );
            p.text(
                c,
                egui::Align2::CENTER_CENTER,
                format!("{}", i + 1),
                egui::FontId::proportional(10.0),
                egui::Color32::WHITE,
            );
        }
        ui.horizontal(|ui| {
            ui.label("Band");
            for i in 0..BANDS {
                ui.selectable_value(&mut self.selected, i, format!("{}", i + 1));
            }
            ui.add_space(16.0);
            let wants_key = params.spec_source.value() == DetectorInput::External
                || params
                    .bands
                    .iter()
                    .any(|b| b.enabled.value() && b.source.value() == DetectorInput::External);
            if sidechain_live {
                ui.label(egui::RichText::new("Sidechain: receiving").small());
            } else if wants_key {
                ui.label(
                    egui::RichText::new(
                        "Sidechain: no signal yet - detectors set to Sidechain listen to the \
                         main input",
                    )
                    .small()
                    .color(egui::Color32::from_rgb(240, 180, 80)),
                );
            }
        });
        ui.horizontal_top(|ui| {
            let b = &params.bands[self.selected];
            egui::Grid::new("band")
                .num_columns(4)
                .spacing([8.0, 6.0])
                .show(ui, |ui| {
                    ui.label("On");
                    let mut on = b.enabled.value();
                    if ui.checkbox(&mut on, "").changed() {
                        set(setter, &b.enabled, on);
                    }
                    ui.label("Type");
                    ui.add(ParamSlider::for_param(&b.kind, setter).with_width(110.0));
                    ui.end_row();
                    for pair in [
                        [&b.freq, &b.gain],
                        [&b.q, &b.threshold],
                        [&b.ratio, &b.range],
                        [&b.attack, &b.release],
                    ] {
                        for q in pair {
                            ui.label(short(q.name()));
                            ui.add(ParamSlider::for_param(q, setter).with_width(110.0));
                        }
                        ui.end_row();
                    }
                    ui.label("Dynamics");
                    ui.add(ParamSlider::for_param(&b.dynamics, setter).with_width(110.0));
                    ui.label("Slope");
                    ui.add(ParamSlider::for_param(&b.slope, setter).with_width(110.0));
                    ui.end_row();
                    ui.label("Placement");
                    ui.add(ParamSlider::for_param(&b.placement, setter).with_width(110.0));
                    ui.label("Detector");
                    ui.add(ParamSlider::for_param(&b.source, setter).with_width(110.0));
                    ui.end_row();
                    let listen = ui
                        .add(egui::Button::new("Listen").sense(egui::Sense::click_and_drag()))
                        .on_hover_text(
                            "Hold to hear what this band acts on: the band-pass at its \
                             frequency and Q (Alt + press on a handle does the same)",
                        );
                    if listen.is_pointer_button_down_on() {
                        listening = Some(self.selected);
                    }
                    ui.end_row();
                });
            ui.separator();
            egui::Grid::new("spectral")
                .num_columns(4)
                .spacing([8.0, 6.0])
                .show(ui, |ui| {
                    ui.label(egui::RichText::new("Spectral").strong());
                    let mut on = params.spec_on.value();
                    if ui.checkbox(&mut on, "on").changed() {
                        set(setter, &params.spec_on, on);
                    }
                    ui.label("Mode");
                    ui.add(ParamSlider::for_param(&params.spec_mode, setter).with_width(110.0));
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
                    ui.add(ParamSlider::for_param(&params.eq_placement, setter).with_width(110.0));
                    ui.label("Detector");
                    ui.add(ParamSlider::for_param(&params.spec_source, setter).with_width(110.0));
                    ui.end_row();
                    for pair in [
                        [&params.spec_threshold, &params.spec_tilt],
                        [&params.spec_ratio, &params.spec_knee],
                        [&params.spec_range, &params.spec_resolution],
                        [&params.spec_attack, &params.spec_release],
                    ] {
                        for q in pair {
                            ui.label(short(q.name()));
                            ui.add(ParamSlider::for_param(q, setter).with_width(110.0));
                        }
                        ui.end_row();
                    }
                });
        });
        self.listening = listening;
    }
}

/// "Band 3 Freq" -> "Freq", "Spectral Ratio" -> "Ratio".
fn short(name: &str) -> &str {
    name.rsplit(' ').next().unwrap_or(name)
}

fn set<P: Param>(setter: &ParamSetter, p: &P, v: P::Plain) {
    setter.begin_set_parameter(p);
    setter.set_parameter(p, v);
    setter.end_set_parameter(p);
}
