//! The EQ match row of the EQ & Dynamics page: Learn (the plugin's input and the sidechain,
//! heard on the audio thread), the reference (the sidechain, or an audio file analysed on a
//! thread of its own), Match (the curve into the session, where the audio thread picks it
//! up), Clear, and the amount.

use std::path::PathBuf;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Instant;

use nice_plug::prelude::ParamSetter;

use super::widgets;
use crate::dsp::eq_match::match_curve;
use crate::dsp::long_term_spectrum::{HOP, POINTS};
use crate::match_state::{file_spectrum, LearnFeed, Learned};
use crate::params::FluxForgeParams;

/// What the input is matched to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reference {
    /// The sidechain, learned with the input.
    Sidechain,
    /// An audio file.
    File,
}

type Analysis = JoinHandle<Result<[f32; POINTS], String>>;

/// The row's state.
pub struct MatchPanel {
    pub(crate) reference: Reference,
    /// When the running learn started.
    learning_since: Option<Instant>,
    /// The spectra of the last learn, as last read.
    learned: Option<Learned>,
    /// The reference file's name and spectrum.
    pub(crate) file: Option<(String, [f32; POINTS])>,
    /// A file being analysed.
    analysing: Option<(PathBuf, Analysis)>,
    /// The path field (where no file dialog is available, and for typing one).
    pub(crate) path_text: String,
    dialog: Option<crate::file_dialog::Pending>,
    /// What the row says (an error or the last action).
    pub(crate) message: String,
    /// A curve to set (`Some(None)`: clear), for the editor to apply as one undo step.
    wanted: Option<Option<[f32; POINTS]>>,
}

impl Default for MatchPanel {
    fn default() -> Self {
        Self {
            reference: Reference::Sidechain,
            learning_since: None,
            learned: None,
            file: None,
            analysing: None,
            path_text: String::new(),
            dialog: None,
            message: String::new(),
            wanted: None,
        }
    }
}

impl Drop for MatchPanel {
    /// An analysis in progress is waited for (it reads one file), so no thread outlives the
    /// editor.
    fn drop(&mut self) {
        if let Some((_, h)) = self.analysing.take() {
            let _ = h.join();
        }
    }
}

impl MatchPanel {
    /// Analyses `path` as the reference, on a thread of its own.
    pub fn analyse_file(&mut self, path: PathBuf) {
        if let Some((_, h)) = self.analysing.take() {
            let _ = h.join();
        }
        let p = path.clone();
        match std::thread::Builder::new()
            .name("fluxforge-match".into())
            .spawn(move || file_spectrum(&p))
        {
            Ok(h) => {
                self.message = format!("Analysing {}…", file_name(&path));
                self.analysing = Some((path, h));
            }
            Err(e) => self.message = format!("Cannot analyse the file: {e}"),
        }
    }

    /// Whether a file analysis is running.
    pub fn analysing(&self) -> bool {
        self.analysing.is_some()
    }

    /// Collects a finished analysis and the newest learned spectra (every frame).
    fn poll(&mut self, feed: &LearnFeed) {
        if self
            .analysing
            .as_ref()
            .is_some_and(|(_, h)| h.is_finished())
        {
            if let Some((path, h)) = self.analysing.take() {
                match h.join() {
                    Ok(Ok(spectrum)) => {
                        self.message = format!("Reference: {}", file_name(&path));
                        self.file = Some((file_name(&path), spectrum));
                        self.reference = Reference::File;
                    }
                    Ok(Err(e)) => self.message = e,
                    Err(_) => self.message = "The file analysis failed".into(),
                }
            }
        }
        if let Some(d) = self.dialog.as_mut() {
            match d.poll() {
                crate::file_dialog::Poll::Open => {}
                crate::file_dialog::Poll::Chosen(path) => {
                    self.dialog = None;
                    self.path_text = path.to_string_lossy().into_owned();
                    self.analyse_file(path);
                }
                crate::file_dialog::Poll::Cancelled => self.dialog = None,
            }
        }
        if let Some(l) = feed.latest() {
            self.learned = Some(l);
        }
        if !feed.learning() {
            self.learning_since = None;
        }
    }

    /// The reference spectrum chosen, if there is one to match to.
    fn reference_db(&self) -> Option<&[f32; POINTS]> {
        match self.reference {
            Reference::Sidechain => self
                .learned
                .as_ref()
                .filter(|l| l.key_frames > 0)
                .map(|l| &l.key_db),
            Reference::File => self.file.as_ref().map(|f| &f.1),
        }
    }

    /// The curve Match or Clear asked for (once): `Some(None)` clears.
    pub fn take_wanted(&mut self) -> Option<Option<[f32; POINTS]>> {
        self.wanted.take()
    }

    /// Asks for the curve from the learned input and the reference (see
    /// [`Self::take_wanted`]). Returns whether there is one.
    pub fn apply(&mut self) -> bool {
        let Some(input) = self.learned.as_ref().filter(|l| l.input_frames > 0) else {
            self.message = "Learn the input first".into();
            return false;
        };
        let Some(reference) = self.reference_db() else {
            self.message = match self.reference {
                Reference::Sidechain => "Nothing heard on the sidechain during the learn".into(),
                Reference::File => "Choose a reference file first".into(),
            };
            return false;
        };
        match match_curve(&input.input_db, reference) {
            Some(curve) => {
                self.wanted = Some(Some(curve));
                self.message = "Matched".into();
                true
            }
            None => {
                self.message = "Nothing to match: the input or the reference was silent".into();
                false
            }
        }
    }

    /// Draws the controls (in the band row of the page): Learn, the reference, Match, Clear
    /// and the amount.
    pub fn controls(
        &mut self,
        ui: &mut egui::Ui,
        params: &FluxForgeParams,
        setter: &ParamSetter,
        feed: &LearnFeed,
        rate: f32,
    ) {
        self.poll(feed);
        if self.analysing.is_some() || self.learning_since.is_some() || self.dialog.is_some() {
            ui.ctx()
                .request_repaint_after(std::time::Duration::from_millis(100));
        }
        ui.label(egui::RichText::new("EQ Match").strong())
            .on_hover_text(
                "Learn the input's average spectrum and a reference's (the sidechain, heard \
                 during the same learn, or an audio file), then Match: a smooth zero-latency \
                 EQ moves the input's tone onto the reference's (its loudness stays)",
            );
        let seconds = |frames: u64| frames as f32 * HOP as f32 / rate.max(1.0);
        let learn_label = match (self.learning_since, &self.learned) {
            (Some(_), Some(l)) => format!("Stop ({:.0} s)", seconds(l.input_frames)),
            (Some(_), None) => "Stop".to_string(),
            (None, _) => "Learn Match".to_string(),
        };
        if ui
            .button(learn_label)
            .on_hover_text(
                "Listen to the playing input (and the sidechain) until stopped; the longer, \
                 the steadier the average",
            )
            .clicked()
        {
            if self.learning_since.is_some() {
                feed.stop();
                self.learning_since = None;
            } else {
                feed.start();
                self.learned = None;
                self.learning_since = Some(Instant::now());
                self.message.clear();
            }
        }
        egui::ComboBox::from_id_salt("match_reference")
            .width(80.0)
            .selected_text(match self.reference {
                Reference::Sidechain => "Sidechain",
                Reference::File => "File",
            })
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut self.reference, Reference::Sidechain, "Sidechain");
                ui.selectable_value(&mut self.reference, Reference::File, "File");
            })
            .response
            .on_hover_text("What the input is matched to");
        let ready = self.learned.as_ref().is_some_and(|l| l.input_frames > 0)
            && self.reference_db().is_some();
        if ui
            .add_enabled(ready, egui::Button::new("Match"))
            .on_hover_text("Set the match curve from the learned input and the reference")
            .clicked()
        {
            self.apply();
        }
        let has_curve = params.match_curve.get().is_some();
        if ui
            .add_enabled(has_curve, egui::Button::new("Clear"))
            .on_hover_text("Remove the match curve")
            .clicked()
        {
            self.wanted = Some(None);
            self.message = "Match cleared".into();
        }
        widgets::slider(ui, &params.match_amount, setter, 60.0);
    }

    /// Draws the reference file's controls and the row's message (in a free grid row of the
    /// page: a label cell and three more).
    pub fn file_row(
        &mut self,
        ui: &mut egui::Ui,
        dialog_backend: Option<&crate::file_dialog::Backend>,
    ) {
        if self.reference != Reference::File {
            ui.label("");
            ui.label(egui::RichText::new(&self.message).small());
            return;
        }
        ui.label("Reference");
        let field = ui.add(
            egui::TextEdit::singleline(&mut self.path_text)
                .hint_text("reference file")
                .desired_width(110.0),
        );
        let entered = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
        ui.horizontal(|ui| {
            if (ui.button("Analyse").clicked() || entered) && !self.path_text.trim().is_empty() {
                self.analyse_file(PathBuf::from(self.path_text.trim()));
            }
            if let Some(b) = dialog_backend {
                if ui.button("Browse…").clicked() && self.dialog.is_none() {
                    match crate::file_dialog::Pending::open(b, None) {
                        Ok(p) => self.dialog = Some(p),
                        Err(e) => self.message = e,
                    }
                }
            }
        });
        ui.label(egui::RichText::new(&self.message).small());
    }
}

/// The match row's state and what its controls need besides the parameters.
pub struct MatchUi<'a> {
    /// The row's state.
    pub panel: &'a mut MatchPanel,
    /// The learn's feed.
    pub feed: &'a Arc<LearnFeed>,
    /// The platform's file dialog, if any.
    pub dialog_backend: Option<&'a crate::file_dialog::Backend>,
    /// The session's rate, Hz.
    pub rate: f32,
}

fn file_name(path: &std::path::Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}
