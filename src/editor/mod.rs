//! The egui editor: parameters and peak meters. It reads only atomics and parameter values
//! (never DSP structs) and takes no lock that the audio thread takes.

pub mod meter;

use std::sync::Arc;
use std::time::Instant;

use nice_plug::context::gui::GuiContext;
use nice_plug::prelude::{BoolParam, ParamSetter};
use nice_plug_egui::widgets::ParamSlider;
use nice_plug_egui::{EguiEditorState, Frame, NiceEguiApp};

use crate::params::FluxForgeParams;
use crate::shared::Meters;
use meter::{MeterBallistics, FLOOR_DB};

/// Default editor size, logical pixels.
pub const EDITOR_SIZE: (u32, u32) = (600, 430);

/// Editor state handle (size and zoom), owned by the plugin.
pub fn default_state() -> Arc<EguiEditorState> {
    EguiEditorState::from_size(
        nice_plug::editor::dpi::LogicalSize::new(EDITOR_SIZE.0 as f64, EDITOR_SIZE.1 as f64),
        1.0,
    )
}

/// The editor application.
pub struct EditorApp {
    params: Arc<FluxForgeParams>,
    meters: Arc<Meters>,
    gui: Option<GuiContext>,
    /// Ballistics for `[in L, in R, out L, out R]`.
    ballistics: [MeterBallistics; 4],
    last_frame: Instant,
}

impl EditorApp {
    /// An editor for these parameters and meters.
    pub fn new(params: Arc<FluxForgeParams>, meters: Arc<Meters>) -> Self {
        Self {
            params,
            meters,
            gui: None,
            ballistics: Default::default(),
            last_frame: Instant::now(),
        }
    }
}

impl NiceEguiApp for EditorApp {
    fn build(
        &mut self,
        egui_ctx: egui::Context,
        gui: GuiContext,
        _frame: &mut Frame,
    ) -> Result<(), nice_plug_egui::baseview::HandlerError> {
        egui_ctx.set_visuals(egui::Visuals::dark());
        self.gui = Some(gui);
        Ok(())
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut Frame) {
        let now = Instant::now();
        let dt = now.duration_since(self.last_frame).as_secs_f32().min(0.25);
        self.last_frame = now;
        let peaks = [
            self.meters.input[0].take(),
            self.meters.input[1].take(),
            self.meters.output[0].take(),
            self.meters.output[1].take(),
        ];
        for (b, p) in self.ballistics.iter_mut().zip(peaks) {
            b.update(p, dt);
        }
        let Some(gui) = self.gui.as_ref() else { return };
        let setter = gui.param_setter();
        let params = &self.params;
        ui.horizontal(|ui| {
            ui.heading("FluxForge");
            ui.label(egui::RichText::new("zero-latency convolution reverb").weak());
        });
        ui.separator();
        ui.horizontal(|ui| {
            ui.vertical(|ui| {
                egui::Grid::new("params")
                    .num_columns(2)
                    .spacing([12.0, 10.0])
                    .show(ui, |ui| {
                        ui.label("Input");
                        ui.add(
                            ParamSlider::for_param(&params.input_gain, &setter).with_width(220.0),
                        );
                        ui.end_row();
                        ui.label("Mix");
                        ui.add(ParamSlider::for_param(&params.mix, &setter).with_width(220.0));
                        ui.end_row();
                        ui.label("Output");
                        ui.add(
                            ParamSlider::for_param(&params.output_gain, &setter).with_width(220.0),
                        );
                        ui.end_row();
                        ui.label("Room");
                        ui.add(ParamSlider::for_param(&params.room, &setter).with_width(220.0));
                        ui.end_row();
                        ui.label("Bypass");
                        toggle(ui, &params.bypass, &setter);
                        ui.end_row();
                        ui.label(egui::RichText::new("Character").strong());
                        ui.add(
                            ParamSlider::for_param(&params.character, &setter).with_width(220.0),
                        );
                        ui.end_row();
                        for (label, p) in [
                            ("Drive", &params.drive),
                            ("Drive Trim", &params.sat_trim),
                            ("Drive Mix", &params.drive_mix),
                        ] {
                            ui.label(label);
                            ui.add(ParamSlider::for_param(p, &setter).with_width(220.0));
                            ui.end_row();
                        }
                        for (label, p) in [
                            ("Auto Gain", &params.auto_gain),
                            ("Oversample", &params.oversample),
                        ] {
                            ui.label(label);
                            toggle(ui, p, &setter);
                            ui.end_row();
                        }
                    });
            });
            ui.add_space(24.0);
            meter_group(ui, "IN", &self.ballistics[0..2]);
            ui.add_space(8.0);
            meter_group(ui, "OUT", &self.ballistics[2..4]);
        });
        ui.ctx().request_repaint();
    }
}

/// A checkbox bound to a boolean parameter, with the host's begin/end gesture.
fn toggle(ui: &mut egui::Ui, param: &BoolParam, setter: &ParamSetter) {
    let mut v = param.value();
    if ui.checkbox(&mut v, "").changed() {
        setter.begin_set_parameter(param);
        setter.set_parameter(param, v);
        setter.end_set_parameter(param);
    }
}

/// Draws a pair of vertical meters with held-peak markers and a label.
fn meter_group(ui: &mut egui::Ui, label: &str, m: &[MeterBallistics]) {
    ui.vertical(|ui| {
        ui.horizontal(|ui| {
            for b in m {
                let (rect, _) =
                    ui.allocate_exact_size(egui::vec2(14.0, 220.0), egui::Sense::hover());
                let p = ui.painter();
                p.rect_filled(rect, 2.0, egui::Color32::from_gray(30));
                let frac = |db: f32| ((db - FLOOR_DB) / -FLOOR_DB).clamp(0.0, 1.0);
                let top = rect.bottom() - rect.height() * frac(b.level_db);
                let color = if b.level_db > -0.1 {
                    egui::Color32::from_rgb(230, 70, 60)
                } else if b.level_db > -12.0 {
                    egui::Color32::from_rgb(230, 200, 70)
                } else {
                    egui::Color32::from_rgb(90, 200, 120)
                };
                p.rect_filled(
                    egui::Rect::from_min_max(egui::pos2(rect.left(), top), rect.right_bottom()),
                    2.0,
                    color,
                );
                let hold_y = rect.bottom() - rect.height() * frac(b.hold_db);
                p.line_segment(
                    [
                        egui::pos2(rect.left(), hold_y),
                        egui::pos2(rect.right(), hold_y),
                    ],
                    egui::Stroke::new(2.0, egui::Color32::WHITE),
                );
            }
        });
        ui.label(label);
        let hold = m.iter().map(|b| b.hold_db).fold(FLOOR_DB, f32::max);
        ui.label(if hold <= FLOOR_DB {
            "-inf".to_string()
        } else {
            format!("{hold:.1}")
        });
    });
}
