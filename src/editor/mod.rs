//! The egui editor: parameters, the impulse-response panel (info, waveform, loading, edits)
//! and peak meters. It reads atomics, parameter values and the loader's status (a lock the
//! audio thread never takes); loading and rendering run on the background executor.

pub mod dynamics_page;
pub mod file_browser;
pub mod history;
pub mod ir_view;
pub mod match_panel;
pub mod meter;
pub mod preset_bar;
pub mod reverb_page;
pub mod spectrum_plot;
#[cfg(test)]
mod tests;
pub mod widgets;
pub mod window;

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use nice_plug::context::gui::GuiContext;
use nice_plug::prelude::Param;

use crate::loader::{IrStatus, Loader, Task};
use crate::params::{FluxForgeParams, ListenMode, Room};
use crate::shared::{Meters, SpectrumFeed};
use dynamics_page::Analyzer;
use meter::MeterBallistics;

/// Default editor size, logical pixels.
pub const EDITOR_SIZE: (u32, u32) = (1040, 600);
/// Smallest editor size, logical pixels.
pub const MIN_SIZE: (f32, f32) = (960.0, 560.0);
/// The scales the scale menu offers.
pub const SCALES: [f32; 6] = [0.75, 1.0, 1.25, 1.5, 1.75, 2.0];

/// How hosts may resize the editor: freely, down to [`MIN_SIZE`].
pub fn resize_hint() -> nice_plug::editor::ResizeHint {
    nice_plug::editor::ResizeHint {
        size_constraints: nice_plug::editor::SizeConstraints::min_logical_size(
            nice_plug::editor::dpi::LogicalSize::new(MIN_SIZE.0, MIN_SIZE.1),
        ),
        ..nice_plug::editor::ResizeHint::RESIZABLE
    }
}

/// The editor's pages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Page {
    /// The reverb, the character stage and the IR.
    Reverb,
    /// The EQ bands, their dynamics and the spectral stage.
    Dynamics,
}

impl Page {
    /// Every page, in the order of the tabs.
    pub const ALL: [Page; 2] = [Page::Reverb, Page::Dynamics];

    /// The tab's title.
    pub fn title(self) -> &'static str {
        match self {
            Page::Reverb => "Reverb",
            Page::Dynamics => "EQ & Dynamics",
        }
    }

    /// `FLUXFORGE_EDITOR_PAGE=dynamics` opens on the EQ & dynamics page (scripts/screenshot.sh).
    fn from_env() -> Self {
        match std::env::var("FLUXFORGE_EDITOR_PAGE").as_deref() {
            Ok("dynamics") => Page::Dynamics,
            _ => Page::Reverb,
        }
    }
}

/// Sends a task to the plugin's background executor.
pub type Spawn = Box<dyn Fn(Task) + Send>;

/// The editor application.
pub struct EditorApp {
    params: Arc<FluxForgeParams>,
    meters: Arc<Meters>,
    loader: Arc<Loader>,
    pub(crate) spectrum: Arc<SpectrumFeed>,
    pub(crate) analyzer: Analyzer,
    /// EQ match: the learn's feed from the audio thread, and the row's state.
    pub(crate) learn: Arc<crate::match_state::LearnFeed>,
    pub(crate) matching: match_panel::MatchPanel,
    /// The page on show.
    page: Page,
    spawn: Option<Spawn>,
    gui: Option<GuiContext>,
    /// Ballistics for `[in L, in R, out L, out R]`.
    ballistics: [MeterBallistics; 4],
    /// The ducker's reduction as last shown, dB.
    ducking_db: f32,
    /// When the audio thread last reported a live sidechain.
    sidechain_seen: Option<Instant>,
    last_frame: Instant,
    /// The Reverb page's own state (the EQ & Dynamics page's is `analyzer` and `matching`).
    pub(crate) reverb: reverb_page::ReverbPage,
    /// Last status copy (kept while the background holds the lock).
    status: IrStatus,
    /// Presets, A/B and undo.
    pub(crate) presets: preset_bar::PresetBar,
    /// The built-in IR browser.
    pub(crate) browser: file_browser::FileBrowser,
    /// The platform's open dialog (`None`: the built-in browser stands in), and the one open.
    pub(crate) dialog_backend: Option<crate::file_dialog::Backend>,
    dialog: Option<crate::file_dialog::Pending>,
    /// The session's editor size and scale were applied to this window.
    geometry_restored: bool,
}

impl EditorApp {
    /// An editor for these parameters, meters and loader; `spawn` runs background tasks.
    pub fn new(
        params: Arc<FluxForgeParams>,
        meters: Arc<Meters>,
        loader: Arc<Loader>,
        spectrum: Arc<SpectrumFeed>,
        learn: Arc<crate::match_state::LearnFeed>,
        spawn: Option<Spawn>,
    ) -> Self {
        let path_text = params.ir.get().map(|s| s.path).unwrap_or_default();
        Self {
            params,
            meters,
            loader,
            spectrum,
            analyzer: Analyzer::default(),
            learn,
            matching: match_panel::MatchPanel::default(),
            // `FLUXFORGE_EDITOR_PAGE=dynamics` opens on the EQ & Dynamics page (used by
            // scripts/screenshot.sh).
            page: Page::from_env(),
            spawn,
            gui: None,
            ballistics: Default::default(),
            ducking_db: 0.0,
            sidechain_seen: None,
            last_frame: Instant::now(),
            reverb: reverb_page::ReverbPage {
                path_text,
                ir_filter: String::new(),
                folder: None,
            },
            status: IrStatus::default(),
            presets: preset_bar::PresetBar::default(),
            browser: file_browser::FileBrowser::default(),
            dialog_backend: crate::file_dialog::detect(),
            dialog: None,
            geometry_restored: false,
        }
    }

    fn load(&mut self, path: PathBuf) {
        self.browser.remember(&path);
        if let Some(spawn) = &self.spawn {
            spawn(Task::load(path, &self.params));
        }
    }

    /// "Browse…": the platform's dialog where there is one, else the built-in browser.
    fn browse(&mut self) {
        let near = PathBuf::from(self.reverb.path_text.trim());
        let start = if near.is_dir() {
            Some(near)
        } else {
            near.parent().filter(|d| d.is_dir()).map(PathBuf::from)
        };
        if self.dialog.is_some() {
            return;
        }
        match &self.dialog_backend {
            Some(b) => match crate::file_dialog::Pending::open(b, start.as_deref()) {
                Ok(p) => self.dialog = Some(p),
                Err(e) => {
                    nice_plug::nice_warn!("{e}; using the built-in browser");
                    self.dialog_backend = None;
                    self.browser.show_near(start.as_deref());
                }
            },
            None => self.browser.show_near(start.as_deref()),
        }
    }

    /// The open dialog's answer and the built-in browser's click, once per frame.
    fn file_choices(&mut self, ctx: &egui::Context) {
        if let Some(d) = self.dialog.as_mut() {
            match d.poll() {
                crate::file_dialog::Poll::Open => {
                    ctx.request_repaint_after(std::time::Duration::from_millis(100))
                }
                crate::file_dialog::Poll::Chosen(path) => {
                    self.dialog = None;
                    self.reverb.path_text = path.to_string_lossy().into_owned();
                    self.load(path);
                }
                crate::file_dialog::Poll::Cancelled => self.dialog = None,
            }
        }
        if let Some(path) = self.browser.ui(ctx) {
            self.reverb.path_text = path.to_string_lossy().into_owned();
            self.load(path);
        }
    }
}

impl EditorApp {
    /// Connects the editor to the host's parameter gestures (the window does when it opens).
    pub fn attach(&mut self, gui: GuiContext) {
        self.gui = Some(gui);
    }

    /// Draws one frame inside a window the user can resize by its corner (what the window
    /// calls; the GUI tests call it too).
    pub fn draw(&mut self, ui: &mut egui::Ui) {
        self.geometry(ui.ctx());
        nice_plug_egui::resizable_window::ResizableWindow::new("fluxforge")
            .min_size(egui::vec2(MIN_SIZE.0, MIN_SIZE.1))
            .show(ui, |ui| self.draw_pages(ui));
    }

    /// Applies the session's editor size and scale when the window opens, and keeps the
    /// session's copy up to date as the user resizes or rescales.
    fn geometry(&mut self, ctx: &egui::Context) {
        let saved = self.params.editor_size.read().ok().and_then(|g| *g);
        if !self.geometry_restored {
            self.geometry_restored = true;
            // `FLUXFORGE_EDITOR_SCALE=2` opens at that scale (used by scripts/screenshot.sh).
            let forced = std::env::var("FLUXFORGE_EDITOR_SCALE")
                .ok()
                .and_then(|v| v.parse::<f32>().ok())
                .filter(|z| SCALES.contains(z));
            if let Some(z) = forced {
                ctx.set_zoom_factor(z);
                return;
            }
            if let Some([w, h, z]) = saved {
                if SCALES.contains(&z) && ctx.zoom_factor() != z {
                    ctx.set_zoom_factor(z);
                }
                let size = egui::vec2(w.max(MIN_SIZE.0), h.max(MIN_SIZE.1));
                ctx.send_viewport_cmd(egui::ViewportCommand::InnerSize(size));
                return;
            }
        }
        let size = ctx.content_rect().size();
        let now = [size.x.round(), size.y.round(), ctx.zoom_factor()];
        if saved != Some(now) {
            if let Ok(mut g) = self.params.editor_size.write() {
                *g = Some(now);
            }
        }
    }

    /// Files dropped on the window: the first one loads as the IR (the loader reads it by
    /// content and reports what it cannot read), or is the EQ match reference on the EQ &
    /// Dynamics page while File is the reference. While files hover, the window says which.
    /// (The editor's window adapter, `window.rs`, delivers them; see docs/MANUAL.md, "File drops".)
    fn file_drops(&mut self, ui: &mut egui::Ui) {
        let (hovering, dropped) = ui.input(|i| {
            (
                !i.raw.hovered_files.is_empty(),
                i.raw.dropped_files.first().map(|f| f.path().to_path_buf()),
            )
        });
        // On the EQ & Dynamics page with a file chosen as the EQ match reference, a dropped
        // file is the reference; anywhere else it is the IR.
        let reference =
            self.page == Page::Dynamics && self.matching.reference == match_panel::Reference::File;
        if hovering {
            ui.painter().text(
                ui.max_rect().center(),
                egui::Align2::CENTER_CENTER,
                if reference {
                    "Drop a reference (WAV, AIFF, FLAC) for EQ match"
                } else {
                    "Drop an impulse response (WAV, AIFF, FLAC) to load it"
                },
                egui::FontId::proportional(22.0),
                egui::Color32::from_rgb(240, 200, 90),
            );
        }
        if let Some(path) = dropped {
            if reference {
                self.matching.path_text = path.to_string_lossy().into_owned();
                self.matching.analyse_file(path);
            } else {
                self.reverb.path_text = path.to_string_lossy().into_owned();
                self.load(path);
                self.page = Page::Reverb;
            }
        }
    }

    /// The page content.
    fn draw_pages(&mut self, ui: &mut egui::Ui) {
        self.file_drops(ui);
        let ctx = ui.ctx().clone();
        self.file_choices(&ctx);
        let now = Instant::now();
        let dt = now.duration_since(self.last_frame).as_secs_f32().min(0.25);
        self.last_frame = now;
        let peaks = [
            self.meters.input[0].take(),
            self.meters.input[1].take(),
            self.meters.output[0].take(),
            self.meters.output[1].take(),
        ];
        let frames = self.meters.frames.swap(0, Ordering::Relaxed);
        for (k, (b, p)) in self.ballistics.iter_mut().zip(peaks).enumerate() {
            let sq = self.meters.squares[k].swap(0.0, Ordering::Relaxed);
            b.update_with_rms(p, (frames > 0).then(|| sq / frames as f32), dt);
        }
        self.ducking_db = self.meters.ducking.take();
        if self.meters.sidechain.take() > 0.5 {
            self.sidechain_seen = Some(now);
        }
        if let Some(s) = self.loader.status() {
            self.status = s;
        }
        let Some(gui) = self.gui.clone() else { return };
        let setter = gui.param_setter();
        if self.status.select_file {
            // A file finished loading: select it (a host-visible parameter change).
            widgets::set(&setter, &self.params.room, Room::File);
            self.loader.clear_select_file();
            self.status.select_file = false;
        }
        let params = self.params.clone();
        ui.horizontal(|ui| {
            ui.heading("FluxForge");
            ui.label(egui::RichText::new("zero-latency convolution reverb").weak());
            ui.add_space(24.0);
            for page in Page::ALL {
                ui.selectable_value(&mut self.page, page, page.title());
            }
            ui.add_space(24.0);
            widgets::choice(ui, &setter, &params.listen);
            ui.add_space(12.0);
            {
                let zoom = ui.ctx().zoom_factor();
                egui::ComboBox::from_label("Scale")
                    .width(64.0)
                    .selected_text(format!("{:.0} %", zoom * 100.0))
                    .show_ui(ui, |ui| {
                        for z in SCALES {
                            if ui
                                .selectable_label(zoom == z, format!("{:.0} %", z * 100.0))
                                .clicked()
                            {
                                ui.ctx().set_zoom_factor(z);
                            }
                        }
                    })
                    .response
                    .on_hover_text("Editor scale (the window grows with it)");
            }
        });
        self.presets.ui(ui, &params, &gui);
        let listening = params.listen.value();
        if listening != ListenMode::Normal {
            // A listen mode never stays on unnoticed.
            ui.horizontal(|ui| {
                let what = match listening {
                    ListenMode::Delta => {
                        "Listening to the Delta: what EQ & Dynamics removes or adds"
                    }
                    _ => "Listening to the reverb alone (Wet Only), whatever the Mix",
                };
                ui.colored_label(egui::Color32::from_rgb(240, 200, 90), what);
                if ui.small_button("Back to the mix").clicked() {
                    widgets::set(&setter, &params.listen, ListenMode::Normal);
                }
            });
        }
        if let Some(report) = params.state_report.get() {
            // What the last session load could not read (see `state_repair`).
            ui.horizontal(|ui| {
                ui.colored_label(egui::Color32::from_rgb(240, 90, 80), report);
                if ui.small_button("Dismiss").clicked() {
                    params.state_report.dismiss();
                }
            });
        }
        ui.separator();
        if self.page == Page::Dynamics {
            // The audio thread analyses only while this beats.
            self.spectrum.beat();
            self.analyzer.update(self.spectrum.latest());
            self.analyzer.ui(
                ui,
                &params,
                &setter,
                dynamics_page::Sidechain::from(
                    self.meters.sidechain_port.get(),
                    self.sidechain_live(),
                ),
                &self.band_gain_db(),
                match_panel::MatchUi {
                    panel: &mut self.matching,
                    feed: &self.learn,
                    dialog_backend: self.dialog_backend.as_ref(),
                    rate: self.status.rate,
                },
            );
            if let Some(curve) = self.matching.take_wanted() {
                // A Match or a Clear: one undo step.
                let target = preset_bar::match_values(curve.as_ref());
                self.presets.apply_as_step(&params, &gui, &target);
            }
            if let Some(c) = self.analyzer.take_learned() {
                let target = history::Values::from([
                    (
                        "spec_thresh".to_string(),
                        params.spec_threshold.preview_normalized(c.threshold_db),
                    ),
                    (
                        "spec_tilt".to_string(),
                        params.spec_tilt.preview_normalized(c.tilt_db),
                    ),
                ]);
                self.presets.apply_as_step(&params, &gui, &target);
            }
            let solo = self.analyzer.view.listening.map_or(0, |k| k as u32 + 1);
            self.meters
                .solo
                .store(solo, std::sync::atomic::Ordering::Relaxed);
            ui.ctx().request_repaint();
            return;
        }
        self.meters
            .solo
            .store(0, std::sync::atomic::Ordering::Relaxed);
        self.reverb_page(ui, &setter);
        ui.ctx().request_repaint();
    }
}

impl EditorApp {
    /// Each band's live dynamic gain change, dB (from the audio thread).
    fn band_gain_db(&self) -> [f32; crate::dsp::dynamic_eq::BANDS] {
        std::array::from_fn(|k| {
            self.meters.band_gain_db[k].load(std::sync::atomic::Ordering::Relaxed)
        })
    }

    /// The audio thread reported a live sidechain within the last half second (hosts with
    /// large blocks report less often than the editor draws).
    fn sidechain_live(&self) -> bool {
        self.sidechain_seen
            .is_some_and(|t| t.elapsed().as_secs_f32() < 0.5)
    }
}
