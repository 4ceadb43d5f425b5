//! The preset bar at the top of the editor: the factory bank and the user's presets (browse,
//! previous/next, save, import, export), mix lock, A/B compare and undo/redo.
//!
//! Every change it makes goes through the host's parameter gestures (begin, set, end), so
//! the plugin's smoothers glide to a loaded preset as they do under automation, and the
//! host's automation and undo see ordinary parameter changes. A preset with its own IR stores
//! it in the session; the loader crossfades to it.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::atomic::Ordering;

use nice_plug::context::gui::GuiContext;

use super::history::{Compare, History, Slot, Values};
use crate::dsp::long_term_spectrum::POINTS;
use crate::params::access::params_of;
use crate::params::{FluxForgeParams, PresetRef};
use crate::preset::{Preset, MIX_LOCK_IDS};
use crate::{factory_presets, user_presets};

/// The parameters' normalized values by ID, and the EQ match curve as entries of its own
/// ([`MATCH_ON`] 1 or 0, then one per point in dB under [`MATCH_PREFIX`]), so a Match or a
/// Clear is an undo step, A/B compares it, and a preset's curve loads with its values.
pub fn values(params: &FluxForgeParams) -> Values {
    let mut v: Values = params_of(params)
        .into_iter()
        .map(|(id, p)| (id, p.normalized()))
        .collect();
    v.extend(match_values(params.match_curve.get().as_ref()));
    v
}

/// The match entries of [`values`] for `curve` (`None`: no match).
pub fn match_values(curve: Option<&[f32; POINTS]>) -> Values {
    let mut v = Values::new();
    v.insert(
        MATCH_ON.to_string(),
        if curve.is_some() { 1.0 } else { 0.0 },
    );
    let c = curve.copied().unwrap_or([0.0; POINTS]);
    v.extend((0..POINTS).map(|i| (match_key(i), c[i])));
    v
}

/// The entry that says whether there is a match curve.
pub const MATCH_ON: &str = "eq-match:on";
/// The prefix of the match curve's entries (`eq-match:000` ... `eq-match:120`).
pub const MATCH_PREFIX: &str = "eq-match:";

fn match_key(i: usize) -> String {
    format!("{MATCH_PREFIX}{i:03}")
}

/// Sets the match curve from `values`' match entries over the current curve's (nothing when
/// `values` has none).
fn send_match(params: &FluxForgeParams, values: &Values) {
    if !values.keys().any(|k| k.starts_with(MATCH_PREFIX)) {
        return;
    }
    let current = params.match_curve.get();
    let on = values.get(MATCH_ON).map_or(current.is_some(), |v| *v > 0.5);
    let base = current.unwrap_or([0.0; POINTS]);
    let curve: [f32; POINTS] =
        std::array::from_fn(|i| values.get(&match_key(i)).copied().unwrap_or(base[i]));
    let want = on.then_some(curve);
    if want != current {
        params.match_curve.put(want.as_ref());
    }
}

/// What loading `preset` sets: normalized values by ID (the kept IDs left out), and what in
/// it was unknown or clamped.
pub fn preset_values(preset: &Preset, keep: &[&str]) -> (Values, Vec<String>) {
    let scratch = FluxForgeParams::default();
    let notes = preset.apply(&scratch);
    let mut v = values(&scratch);
    v.retain(|id, _| !keep.contains(&id.as_str()));
    (v, notes)
}

/// Sends `values` to the host as one gesture per parameter (and sets the match curve from its
/// entries).
fn send(gui: &GuiContext, params: &FluxForgeParams, values: &Values) {
    send_match(params, values);
    for (id, p) in params_of(params) {
        if let Some(n) = values.get(&id) {
            if p.normalized() != *n {
                let ptr = p.ptr();
                // SAFETY: `ptr` points into `params`, which is the plugin's own parameter
                // object and outlives these calls (the GUI context's contract for raw
                // parameter gestures).
                unsafe {
                    gui.raw_begin_set_parameter(ptr);
                    gui.raw_set_parameter_normalized(ptr, *n);
                    gui.raw_end_set_parameter(ptr);
                }
            }
        }
    }
}

/// The preset bar's state (the editor's side only).
pub struct PresetBar {
    history: Option<History>,
    compare: Compare,
    factory: Vec<Preset>,
    user: Vec<(PathBuf, Preset)>,
    /// Index into `factory` then `user` of the preset loaded last, and the values it set.
    current: Option<usize>,
    loaded: Option<Values>,
    /// The session's loaded preset as this bar last saw it (the host may load one).
    seen: Option<PresetRef>,
    /// The user preset folder (`None`: the platform names no home).
    root: Option<PathBuf>,
    /// The browser's search text and favourites filter, and the favourites' keys.
    search: String,
    only_favourites: bool,
    favourites: BTreeSet<String>,
    save_name: String,
    save_category: String,
    file_text: String,
    show_files: bool,
    message: Option<String>,
}

impl Default for PresetBar {
    fn default() -> Self {
        let mut bar = Self {
            history: None,
            compare: Compare::default(),
            factory: factory_presets::bank(),
            user: Vec::new(),
            current: None,
            loaded: None,
            seen: None,
            root: user_presets::folder(),
            search: String::new(),
            only_favourites: false,
            favourites: BTreeSet::new(),
            save_name: String::new(),
            save_category: "User".into(),
            file_text: String::new(),
            show_files: false,
            message: None,
        };
        bar.rescan();
        bar
    }
}

impl PresetBar {
    fn rescan(&mut self) {
        if let Some(root) = &self.root {
            let (found, errors) = user_presets::list(root);
            self.user = found;
            self.favourites = user_presets::favourites(root);
            if let Some(e) = errors.first() {
                self.message = Some(e.clone());
            }
        }
    }

    /// Uses `root` as the user preset folder (the tests' scratch folder).
    #[cfg(test)]
    pub fn set_root(&mut self, root: PathBuf) {
        self.root = Some(root);
        self.rescan();
    }

    /// Whether preset `i` is a favourite.
    pub fn is_favourite(&self, i: usize) -> bool {
        self.source(i)
            .is_some_and(|s| self.favourites.contains(&user_presets::favourite_key(&s)))
    }

    /// Stars or unstars preset `i`, saving the list at once.
    fn toggle_favourite(&mut self, i: usize) {
        let (Some(source), Some(root)) = (self.source(i), &self.root) else {
            return;
        };
        let key = user_presets::favourite_key(&source);
        if !self.favourites.remove(&key) {
            self.favourites.insert(key);
        }
        if let Err(e) = user_presets::save_favourites(root, &self.favourites) {
            self.message = Some(e);
        }
    }

    /// Whether preset `i` passes the browser's search and favourites filter: every word of
    /// the search appears in its name, category, author or description (any case).
    pub fn matches(&self, i: usize) -> bool {
        let Some(p) = self.preset(i) else {
            return false;
        };
        if self.only_favourites && !self.is_favourite(i) {
            return false;
        }
        let hay = format!("{} {} {} {}", p.name, p.category, p.author, p.notes).to_lowercase();
        self.search
            .to_lowercase()
            .split_whitespace()
            .all(|w| hay.contains(w))
    }

    /// Preset `i` of the factory bank followed by the user's presets.
    fn preset(&self, i: usize) -> Option<&Preset> {
        match i.checked_sub(self.factory.len()) {
            None => self.factory.get(i),
            Some(u) => self.user.get(u).map(|(_, p)| p),
        }
    }

    fn count(&self) -> usize {
        self.factory.len() + self.user.len()
    }

    /// Sets the parameters in `target` (normalized values by ID) as one undo step.
    pub fn apply_as_step(&mut self, params: &FluxForgeParams, gui: &GuiContext, target: &Values) {
        let before = values(params);
        send(gui, params, target);
        let mut after = before.clone();
        after.extend(target.iter().map(|(k, v)| (k.clone(), *v)));
        if let Some(h) = &mut self.history {
            h.record(&before, &after);
        }
    }

    /// A preset is loaded and some parameter has moved since.
    pub fn modified(&self, params: &FluxForgeParams) -> bool {
        self.loaded.as_ref().is_some_and(|l| {
            values(params)
                .iter()
                .any(|(id, v)| l.get(id).is_none_or(|w| (v - w).abs() > 1e-6))
        })
    }

    /// Where preset `i` comes from.
    fn source(&self, i: usize) -> Option<PresetRef> {
        let p = self.preset(i)?;
        let file = i
            .checked_sub(self.factory.len())
            .and_then(|u| self.user.get(u))
            .map(|(path, _)| path.clone());
        Some(PresetRef {
            name: p.name.clone(),
            file,
        })
    }

    /// Follows a preset the host loaded (or a session recalled): the bar names it, and its
    /// values are what "modified" compares against.
    fn follow_session(&mut self, params: &FluxForgeParams) {
        let now = params.preset.read().ok().and_then(|p| p.clone());
        if now == self.seen {
            return;
        }
        self.seen = now.clone();
        let Some(now) = now else { return };
        if self.current.and_then(|i| self.source(i)).as_ref() == Some(&now) {
            return;
        }
        if now
            .file
            .as_ref()
            .is_some_and(|f| !self.user.iter().any(|(p, _)| p == f))
        {
            self.rescan();
        }
        self.current = (0..self.count()).find(|&i| self.source(i).as_ref() == Some(&now));
        let preset = match &now.file {
            None => self.current.and_then(|i| self.preset(i)).cloned(),
            Some(f) => Preset::load(f).ok(),
        };
        self.loaded = preset.map(|p| {
            let keep: &[&str] = if params.mix_lock.load(Ordering::Relaxed) {
                &MIX_LOCK_IDS
            } else {
                &[]
            };
            let (mut v, _) = preset_values(&p, keep);
            let here = values(params);
            for id in keep {
                if let Some(x) = here.get(*id) {
                    v.insert(id.to_string(), *x);
                }
            }
            v
        });
    }

    /// The name the bar shows: the loaded preset's, else "Presets".
    fn shown_name(&self) -> Option<String> {
        self.current
            .and_then(|i| self.preset(i))
            .map(|p| p.name.clone())
            .or_else(|| self.seen.as_ref().map(|s| s.name.clone()))
    }

    /// Loads preset `i` as one undo step.
    fn load(&mut self, i: usize, params: &FluxForgeParams, gui: &GuiContext) {
        let Some(preset) = self.preset(i).cloned() else {
            return;
        };
        let keep: &[&str] = if params.mix_lock.load(Ordering::Relaxed) {
            &MIX_LOCK_IDS
        } else {
            &[]
        };
        let before = values(params);
        let (target, notes) = preset_values(&preset, keep);
        if let Some(ir) = &preset.ir {
            params.ir.put(Some(ir.clone()));
        }
        send(gui, params, &target);
        let mut after = before.clone();
        after.extend(target);
        if let Some(h) = &mut self.history {
            h.record(&before, &after);
        }
        self.current = Some(i);
        self.loaded = Some(values(params));
        self.seen = self.source(i);
        if let Ok(mut p) = params.preset.write() {
            *p = self.seen.clone();
        }
        self.message =
            (!notes.is_empty()).then(|| format!("{}: {}", preset.name, notes.join("; ")));
        if let Some(m) = &self.message {
            nice_plug::nice_warn!("{m}");
        }
    }

    /// Draws the bar and acts on it.
    pub fn ui(&mut self, ui: &mut egui::Ui, params: &FluxForgeParams, gui: &GuiContext) {
        self.follow_session(params);
        let now = values(params);
        let history = self
            .history
            .get_or_insert_with(|| History::new(now.clone()));
        let (interacting, released) = ui.input(|i| {
            (
                i.pointer.any_down() || !i.keys_down.is_empty(),
                i.pointer.any_released(),
            )
        });
        history.observe(&now, interacting, released);
        let (can_undo, can_redo) = (history.undo_len() > 0, history.redo_len() > 0);

        ui.horizontal(|ui| {
            let n = self.count();
            if ui.button("<").on_hover_text("Previous preset").clicked() && n > 0 {
                let i = self.current.map_or(n - 1, |c| (c + n - 1) % n);
                self.load(i, params, gui);
            }
            if ui.button(">").on_hover_text("Next preset").clicked() && n > 0 {
                let i = self.current.map_or(0, |c| (c + 1) % n);
                self.load(i, params, gui);
            }
            let modified = self.modified(params);
            let shown = self.shown_name().map_or("Presets".to_string(), |name| {
                if modified {
                    format!("{name} *")
                } else {
                    name
                }
            });
            let mut pick = None;
            let mut star = None;
            let description = self
                .current
                .and_then(|i| self.preset(i))
                .map(|p| p.notes.clone())
                .unwrap_or_default();
            let combo = egui::ComboBox::from_id_salt("preset")
                .width(200.0)
                .height(420.0)
                .selected_text(shown)
                .close_behavior(egui::PopupCloseBehavior::CloseOnClickOutside)
                .show_ui(ui, |ui| {
                    ui.horizontal(|ui| {
                        let label = ui.label("Search");
                        ui.add(
                            egui::TextEdit::singleline(&mut self.search)
                                .hint_text("name, category or words")
                                .desired_width(150.0),
                        )
                        .labelled_by(label.id);
                        ui.toggle_value(&mut self.only_favourites, "Favourites only")
                            .on_hover_text("Show only favourite presets");
                    });
                    ui.separator();
                    let mut last_cat = String::new();
                    let mut shown_any = false;
                    for i in 0..self.count() {
                        if !self.matches(i) {
                            continue;
                        }
                        let Some(p) = self.preset(i) else { continue };
                        shown_any = true;
                        let cat = if i < self.factory.len() {
                            p.category.clone()
                        } else {
                            format!("User / {}", p.category)
                        };
                        if cat != last_cat {
                            ui.label(egui::RichText::new(&cat).weak());
                            last_cat = cat;
                        }
                        ui.horizontal(|ui| {
                            let fav = self.is_favourite(i);
                            if super::widgets::star(ui, fav, &format!("Favourite {}", p.name))
                                .clicked()
                            {
                                star = Some(i);
                            }
                            if ui
                                .selectable_label(self.current == Some(i), &p.name)
                                .on_hover_text(&p.notes)
                                .clicked()
                            {
                                pick = Some(i);
                                ui.close();
                            }
                        });
                    }
                    if !shown_any {
                        ui.weak("No preset matches");
                    }
                });
            if !description.is_empty() {
                combo.response.on_hover_text(description);
            }
            if let Some(i) = star {
                self.toggle_favourite(i);
            }
            if let Some(i) = pick {
                self.load(i, params, gui);
            }
            ui.separator();
            let label = match self.compare.active() {
                Slot::A => "A",
                Slot::B => "B",
            };
            if ui
                .button(format!("A/B: {label}"))
                .on_hover_text("Switch between settings A and B")
                .clicked()
            {
                let before = values(params);
                let load = self.compare.switch(&before);
                send(gui, params, &load);
                let mut after = before.clone();
                after.extend(load);
                if let Some(h) = &mut self.history {
                    h.record(&before, &after);
                }
            }
            let copy = match self.compare.active() {
                Slot::A => "Copy to B",
                Slot::B => "Copy to A",
            };
            if ui
                .button(copy)
                .on_hover_text("Copy these settings to the other slot")
                .clicked()
            {
                self.compare.copy_to_other(&values(params));
            }
            ui.separator();
            if ui
                .add_enabled(can_undo, egui::Button::new("Undo"))
                .clicked()
            {
                if let Some(v) = self.history.as_mut().and_then(History::undo) {
                    send(gui, params, &v);
                }
            }
            if ui
                .add_enabled(can_redo, egui::Button::new("Redo"))
                .clicked()
            {
                if let Some(v) = self.history.as_mut().and_then(History::redo) {
                    send(gui, params, &v);
                }
            }
            ui.separator();
            let mut lock = params.mix_lock.load(Ordering::Relaxed);
            if ui
                .checkbox(&mut lock, "Mix lock")
                .on_hover_text("Keep Mix and Output when a preset loads")
                .changed()
            {
                params.mix_lock.store(lock, Ordering::Relaxed);
            }
            ui.toggle_value(&mut self.show_files, "Save…");
        });
        if self.show_files {
            self.files_ui(ui, params);
        }
        if let Some(m) = &self.message {
            ui.colored_label(egui::Color32::from_rgb(240, 90, 80), m);
        }
    }

    /// Save as a user preset; import and export a single file.
    fn files_ui(&mut self, ui: &mut egui::Ui, params: &FluxForgeParams) {
        ui.horizontal(|ui| {
            ui.label("Name");
            ui.add(egui::TextEdit::singleline(&mut self.save_name).desired_width(140.0));
            ui.label("Category");
            ui.add(egui::TextEdit::singleline(&mut self.save_category).desired_width(90.0));
            if ui.button("Save preset").clicked() {
                let mut p = Preset::capture(params);
                p.name = self.save_name.trim().to_string();
                p.category = self.save_category.trim().to_string();
                p.ir = params.ir.get();
                self.message = match self.root.clone() {
                    None => Some("No user data folder (HOME is not set)".into()),
                    Some(root) if !p.name.is_empty() => match user_presets::save(&root, &p) {
                        Ok(_) => {
                            self.rescan();
                            None
                        }
                        Err(e) => Some(e),
                    },
                    Some(_) => Some("Give the preset a name".into()),
                };
            }
            ui.separator();
            ui.label("File");
            ui.add(egui::TextEdit::singleline(&mut self.file_text).desired_width(200.0));
            let file = PathBuf::from(self.file_text.trim());
            if ui.button("Import").clicked() {
                self.message = match self.root.clone() {
                    Some(root) => match user_presets::import(&root, &file) {
                        Ok(_) => {
                            self.rescan();
                            None
                        }
                        Err(e) => Some(e),
                    },
                    None => Some("No user data folder (HOME is not set)".into()),
                };
            }
            if ui.button("Export").clicked() {
                let mut p = Preset::capture(params);
                p.name = self.save_name.trim().to_string();
                p.category = self.save_category.trim().to_string();
                p.ir = params.ir.get();
                self.message = user_presets::export(&p, &file).err();
            }
        });
    }
}
