//! The Reverb page: the main controls and the character stage (left), the impulse-response
//! panel (the IR view, loading, the factory and folder browsers, the edits) and the meters.

use std::path::{Path, PathBuf};

use nice_plug::prelude::ParamSetter;

use super::{ir_view, meter, widgets, EditorApp};
use crate::ir_file::IR_EXTENSIONS;
use crate::params::{PredelayNote, Room};

/// The page's own state.
#[derive(Debug, Default)]
pub struct ReverbPage {
    /// The path field's text.
    pub(crate) path_text: String,
    /// The IR browsers' search text.
    pub(crate) ir_filter: String,
    /// IR files in the folder of the path field, refreshed when the folder changes.
    pub(crate) folder: Option<(PathBuf, Vec<PathBuf>)>,
}

impl EditorApp {
    /// Draws the page.
    pub(super) fn reverb_page(&mut self, ui: &mut egui::Ui, setter: &ParamSetter) {
        let params = self.params.clone();
        ui.horizontal_top(|ui| {
            ui.vertical(|ui| {
                ui.set_width(250.0);
                egui::Grid::new("params")
                    .num_columns(2)
                    .spacing([10.0, 8.0])
                    .show(ui, |ui| {
                        for (label, p) in [
                            ("Input", &params.input_gain),
                            ("Mix", &params.mix),
                            ("Wet Level", &params.wet_level),
                            ("Width", &params.width),
                            ("Output", &params.output_gain),
                        ] {
                            ui.label(label);
                            widgets::slider(ui, p, setter, 150.0);
                            ui.end_row();
                        }
                        ui.label("Bypass");
                        widgets::toggle(ui, &params.bypass, setter);
                        ui.end_row();
                        ui.label(egui::RichText::new("Character").strong());
                        widgets::slider(ui, &params.character, setter, 150.0);
                        ui.end_row();
                        for (label, p) in [
                            ("Drive", &params.drive),
                            ("Drive Trim", &params.sat_trim),
                            ("Drive Mix", &params.drive_mix),
                        ] {
                            ui.label(label);
                            widgets::slider(ui, p, setter, 150.0);
                            ui.end_row();
                        }
                        ui.label("Auto Gain");
                        widgets::toggle(ui, &params.auto_gain, setter);
                        ui.end_row();
                        // Oversampling while playing (on/off and its factor) and in renders.
                        ui.label("Oversample");
                        ui.horizontal(|ui| {
                            widgets::toggle(ui, &params.oversample, setter);
                            widgets::slider(ui, &params.os_factor, setter, 40.0);
                        });
                        ui.end_row();
                        ui.label("Render OS");
                        widgets::slider(ui, &params.os_render, setter, 150.0);
                        ui.end_row();
                        ui.label(egui::RichText::new("Ducking").strong());
                        ui.horizontal(|ui| {
                            widgets::choice(ui, setter, &params.duck_mode);
                            ui.label(
                                egui::RichText::new(format!("-{:.1} dB", self.ducking_db)).small(),
                            );
                        });
                        ui.end_row();
                        for (label, p) in [
                            ("Threshold", &params.duck_threshold),
                            ("Depth", &params.duck_depth),
                            ("Release", &params.duck_release),
                        ] {
                            ui.label(label);
                            widgets::slider(ui, p, setter, 150.0);
                            ui.end_row();
                        }
                    });
            });
            ui.separator();
            ui.vertical(|ui| {
                // The IR panel takes what the meters (about 300 points) leave.
                let width = (ui.available_width() - 300.0).max(290.0);
                ui.set_width(width);
                self.ir_panel(ui, setter, width);
            });
            ui.add_space(4.0);
            let height = (ui.available_height() - 70.0).clamp(160.0, 400.0);
            meter::group(ui, "IN", &mut self.ballistics[0..2], height);
            ui.add_space(6.0);
            meter::group(ui, "OUT", &mut self.ballistics[2..4], height);
            ui.add_space(6.0);
            let eq_gr = self.band_gain_db().iter().fold(0.0f32, |m, g| m.max(-g));
            meter::reduction(ui, "GR", eq_gr, height);
            meter::reduction(ui, "DUCK", self.ducking_db, height);
        });
    }

    /// The IR files in the folder named by the path field (or the folder of the named file).
    fn refresh_folder(&mut self) {
        let p = Path::new(self.reverb.path_text.trim());
        let dir = if p.is_dir() {
            p.to_path_buf()
        } else {
            match p.parent() {
                Some(d) if d.is_dir() => d.to_path_buf(),
                _ => {
                    self.reverb.folder = None;
                    return;
                }
            }
        };
        if self.reverb.folder.as_ref().is_some_and(|(d, _)| *d == dir) {
            return;
        }
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .map(|rd| {
                rd.filter_map(Result::ok)
                    .map(|e| e.path())
                    .filter(|p| {
                        p.extension().and_then(|e| e.to_str()).is_some_and(|e| {
                            IR_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str())
                        })
                    })
                    .take(500)
                    .collect()
            })
            .unwrap_or_default();
        files.sort();
        self.reverb.folder = Some((dir, files));
    }

    /// Impulse response: info, waveform, loading (path, folder, factory list), edits, errors.
    fn ir_panel(&mut self, ui: &mut egui::Ui, setter: &ParamSetter, width: f32) {
        let params = self.params.clone();
        let st = &self.status;
        ui.label(egui::RichText::new(format!("Impulse response: {}", st.name)).strong());
        let layout = match st.channels {
            1 => "mono",
            2 => "stereo",
            4 => "true stereo",
            _ => "-",
        };
        ui.label(
            egui::RichText::new(format!(
                "{layout}, {} Hz, {:.2} s source -> {:.2} s at {} Hz{}; rendered in {:.1} ms",
                st.source_rate,
                st.source_seconds,
                st.seconds,
                st.rate as u32,
                if st.truncated {
                    " (cut at the 20 s limit)"
                } else {
                    ""
                },
                st.render_ms
            ))
            .small(),
        );
        if !st.origin.is_empty() {
            ui.label(egui::RichText::new(&st.origin).small().weak());
        }
        // The view takes what the controls below leave, up to 150 points: the file and find
        // rows, then the edit grid's ten rows (six points apart), the sync row, then a status line.
        let row = ui.spacing().interact_size.y;
        let below = 2.0 * (row + ui.spacing().item_spacing.y) + 11.0 * (row + 6.0) + 28.0;
        ir_view::show(
            ui,
            st,
            width,
            (ui.available_height() - below).clamp(64.0, 150.0),
        );
        ui.horizontal(|ui| {
            ui.label("File");
            if ui
                .button("Browse…")
                .on_hover_text(if self.dialog_backend.is_some() {
                    "Choose an impulse response file"
                } else {
                    "Choose an impulse response file (built-in browser: no system dialog here)"
                })
                .clicked()
            {
                self.browse();
            }
            if ui
                .button("Files")
                .on_hover_text("Browse folders of impulse responses inside the plugin, with favourites and recent files")
                .clicked()
            {
                let near = PathBuf::from(self.reverb.path_text.trim());
                self.browser.show_near(Some(&near));
            }
            let edit = ui.add(
                egui::TextEdit::singleline(&mut self.reverb.path_text)
                    .hint_text("or paste a path to a WAV, AIFF or FLAC file or folder")
                    .desired_width((ui.available_width() - 50.0).max(120.0)),
            );
            let enter = edit.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            if (ui.button("Load").clicked() || enter) && !self.reverb.path_text.trim().is_empty() {
                let p = PathBuf::from(self.reverb.path_text.trim());
                if !p.is_dir() {
                    self.load(p);
                }
            }
        });
        self.refresh_folder();
        let filter = self.reverb.ir_filter.trim().to_lowercase();
        let shown = |name: &str| filter.is_empty() || name.to_lowercase().contains(&filter);
        ui.horizontal(|ui| {
            let find = ui.label("Find");
            ui.add(
                egui::TextEdit::singleline(&mut self.reverb.ir_filter)
                    .hint_text("room or file")
                    .desired_width(80.0),
            )
            .labelled_by(find.id)
            .on_hover_text(
                "Shows only the factory rooms and folder files whose names contain this",
            );
            egui::ComboBox::from_id_salt("factory")
                .selected_text("Factory impulses")
                .show_ui(ui, |ui| {
                    for room in Room::all() {
                        if room == Room::File || !shown(room.name()) {
                            continue;
                        }
                        if ui
                            .selectable_label(params.room.value() == room, room.name())
                            .clicked()
                        {
                            widgets::set(setter, &params.room, room);
                        }
                    }
                    if params.ir.get().is_some()
                        && ui
                            .selectable_label(params.room.value() == Room::File, "Loaded file")
                            .clicked()
                    {
                        widgets::set(setter, &params.room, Room::File);
                    }
                });
            let mut chosen = None;
            if let Some((dir, files)) = &self.reverb.folder {
                let matching: Vec<&PathBuf> = files
                    .iter()
                    .filter(|f| shown(&f.strip_prefix(dir).unwrap_or(f).to_string_lossy()))
                    .collect();
                egui::ComboBox::from_id_salt("folder")
                    .selected_text(format!(
                        "{} of {} IR files here",
                        matching.len(),
                        files.len()
                    ))
                    .width(160.0)
                    .show_ui(ui, |ui| {
                        for f in matching {
                            let name = f.strip_prefix(dir).unwrap_or(f).to_string_lossy();
                            if ui.selectable_label(false, name).clicked() {
                                chosen = Some(f.clone());
                            }
                        }
                    });
            }
            if let Some(f) = chosen {
                self.reverb.path_text = f.to_string_lossy().into_owned();
                self.load(f);
            }
        });
        // Two label + slider + value groups per row in the panel width.
        let slider_w = ((width - 250.0) / 2.0).clamp(50.0, 160.0);
        egui::Grid::new("edits")
            .num_columns(4)
            .spacing([8.0, 6.0])
            .show(ui, |ui| {
                let pairs: [(&str, &dyn SliderParam, &str, &dyn SliderParam); 9] = [
                    ("Pre-delay", &params.predelay, "Start", &params.trim),
                    ("Length", &params.length, "Stretch", &params.stretch),
                    ("Attack", &params.ir_attack, "Hold", &params.ir_hold),
                    ("Decay", &params.decay, "Split", &params.ir_split),
                    (
                        "Low Decay",
                        &params.decay_low,
                        "Lows below",
                        &params.decay_low_hz,
                    ),
                    ("Mid Decay", &params.decay_mid, "", &()),
                    (
                        "High Decay",
                        &params.decay_high,
                        "Highs above",
                        &params.decay_high_hz,
                    ),
                    ("Early", &params.ir_early, "Late", &params.ir_late),
                    ("Low Cut", &params.low_cut, "High Cut", &params.high_cut),
                ];
                for (a, pa, b, pb) in pairs {
                    ui.label(a);
                    pa.slider(ui, setter, slider_w);
                    ui.label(b);
                    pb.slider(ui, setter, slider_w);
                    ui.end_row();
                }
                ui.label("Reverse");
                widgets::toggle(ui, &params.reverse, setter);
                ui.label("IR Auto Gain");
                widgets::toggle(ui, &params.ir_auto_gain, setter);
                ui.end_row();
            });
        ui.horizontal(|ui| {
            ui.label("Pre-delay Sync");
            widgets::choice(ui, setter, &params.predelay_sync);
            let tempo = params.host_tempo.load(std::sync::atomic::Ordering::Relaxed);
            ui.label(
                egui::RichText::new(match params.predelay_sync.value().ms(tempo as f64) {
                    Some(_) => format!("{:.1} ms at {tempo:.1} BPM", params.predelay_ms()),
                    None if params.predelay_sync.value() != PredelayNote::Off => {
                        "no tempo from the host: the ms value plays".to_string()
                    }
                    None => String::new(),
                })
                .small(),
            );
        });
        if let Some(e) = &self.status.error {
            ui.colored_label(egui::Color32::from_rgb(240, 90, 80), e);
        }
    }
}

/// A parameter that can be drawn as a slider in the edit grid (`()` draws nothing).
trait SliderParam {
    fn slider(&self, ui: &mut egui::Ui, setter: &ParamSetter, width: f32);
}

impl SliderParam for nice_plug::prelude::FloatParam {
    fn slider(&self, ui: &mut egui::Ui, setter: &ParamSetter, width: f32) {
        widgets::slider(ui, self, setter, width);
    }
}

impl SliderParam for () {
    fn slider(&self, _ui: &mut egui::Ui, _setter: &ParamSetter, _width: f32) {}
}
