//! The built-in impulse-response browser: folders and IR files (each with its layout, rate
//! and length, read from the header), favourites and recent files. Clicking a file loads it
//! (an audition: the reverb crossfades to it, and the next click to another). It is the
//! fallback where the platform has no dialog ([`crate::file_dialog`]), and always there for
//! browsing a folder of IRs from inside the plugin.
//!
//! Favourites and recent files are two text files (one path per line) in the user data
//! folder, beside the presets: `ir-favourites.txt` and `ir-recent.txt`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::ir_file::{probe, FileInfo, IR_EXTENSIONS};

/// How many recent files are kept.
pub const RECENT: usize = 12;
/// How many entries of one folder are listed.
const MAX_ENTRIES: usize = 2000;

/// The browser's state.
pub struct FileBrowser {
    /// Whether the window is open.
    pub open: bool,
    /// The folder shown, and its subfolders and IR files (sorted, folders first).
    dir: Option<PathBuf>,
    folders: Vec<PathBuf>,
    files: Vec<PathBuf>,
    /// Header info per file, read when first shown.
    info: HashMap<PathBuf, Result<FileInfo, String>>,
    /// Where the lists are saved (`None`: not saved).
    store: Option<PathBuf>,
    favourites: Vec<PathBuf>,
    recent: Vec<PathBuf>,
    message: Option<String>,
}

impl Default for FileBrowser {
    /// Saving its lists in the user data folder (not in the editor's unit tests, which use
    /// [`FileBrowser::with_store`] with a scratch folder).
    fn default() -> Self {
        let store = crate::user_presets::folder().and_then(|p| p.parent().map(Path::to_path_buf));
        Self::with_store(store.filter(|_| !cfg!(test)))
    }
}

fn read_list(path: &Path) -> Vec<PathBuf> {
    crate::user_presets::read_lines(path)
        .into_iter()
        .map(PathBuf::from)
        .collect()
}

fn is_ir(p: &Path) -> bool {
    p.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| IR_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

/// "stereo, 48000 Hz, 1.50 s" (or why the header could not be read).
pub fn describe(info: &Result<FileInfo, String>) -> String {
    match info {
        Ok(i) => {
            let layout = match i.channels {
                1 => "mono".to_string(),
                2 => "stereo".to_string(),
                4 => "true stereo".to_string(),
                n => format!("{n} channels"),
            };
            format!("{layout}, {} Hz, {:.2} s", i.rate, i.seconds())
        }
        Err(e) => format!("unreadable: {e}"),
    }
}

impl FileBrowser {
    /// A browser saving its lists under `store`.
    pub fn with_store(store: Option<PathBuf>) -> Self {
        let (favourites, recent) = store.as_ref().map_or((Vec::new(), Vec::new()), |s| {
            (
                read_list(&s.join("ir-favourites.txt")),
                read_list(&s.join("ir-recent.txt")),
            )
        });
        Self {
            open: false,
            dir: None,
            folders: Vec::new(),
            files: Vec::new(),
            info: HashMap::new(),
            store,
            favourites,
            recent,
            message: None,
        }
    }

    /// Shows `dir`.
    pub fn go(&mut self, dir: &Path) {
        let mut folders = Vec::new();
        let mut files = Vec::new();
        match std::fs::read_dir(dir) {
            Ok(rd) => {
                for e in rd.filter_map(Result::ok).take(MAX_ENTRIES) {
                    let p = e.path();
                    let hidden = p
                        .file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with('.'));
                    if hidden {
                        continue;
                    }
                    if p.is_dir() {
                        folders.push(p);
                    } else if is_ir(&p) {
                        files.push(p);
                    }
                }
                self.message = None;
            }
            Err(e) => self.message = Some(format!("cannot open {}: {e}", dir.display())),
        }
        let key = |p: &PathBuf| p.file_name().map(|n| n.to_string_lossy().to_lowercase());
        folders.sort_by_key(key);
        files.sort_by_key(key);
        self.dir = Some(dir.to_path_buf());
        self.folders = folders;
        self.files = files;
    }

    /// Opens the window on `near` (a file's folder, or the folder itself), else where it was,
    /// else the home folder.
    pub fn show_near(&mut self, near: Option<&Path>) {
        self.open = true;
        let start = near
            .and_then(|p| if p.is_dir() { Some(p) } else { p.parent() })
            .filter(|d| d.is_dir())
            .map(Path::to_path_buf)
            .or_else(|| self.dir.clone())
            .or_else(home);
        if let Some(d) = start {
            self.go(&d);
        }
    }

    /// The folder shown.
    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// A file was loaded (by any route): it goes to the top of the recent files.
    pub fn remember(&mut self, file: &Path) {
        self.recent.retain(|p| p != file);
        self.recent.insert(0, file.to_path_buf());
        self.recent.truncate(RECENT);
        self.save("ir-recent.txt", &self.recent.clone());
    }

    /// The recent files, newest first.
    pub fn recent(&self) -> &[PathBuf] {
        &self.recent
    }

    /// Whether `file` is a favourite.
    pub fn is_favourite(&self, file: &Path) -> bool {
        self.favourites.iter().any(|p| p == file)
    }

    /// Stars or unstars `file` (saved at once).
    pub fn toggle_favourite(&mut self, file: &Path) {
        if self.is_favourite(file) {
            self.favourites.retain(|p| p != file);
        } else {
            self.favourites.push(file.to_path_buf());
        }
        self.save("ir-favourites.txt", &self.favourites.clone());
    }

    fn save(&mut self, name: &str, list: &[PathBuf]) {
        let Some(store) = &self.store else { return };
        let text: String = list.iter().map(|p| format!("{}\n", p.display())).collect();
        let r = std::fs::create_dir_all(store).and_then(|_| std::fs::write(store.join(name), text));
        if let Err(e) = r {
            self.message = Some(format!("cannot save {name}: {e}"));
        }
    }

    fn info(&mut self, file: &Path) -> String {
        let i = self
            .info
            .entry(file.to_path_buf())
            .or_insert_with(|| probe(file));
        describe(i)
    }

    /// One file's row: star, name (click: load), its header info. Returns the file if clicked.
    fn file_row(&mut self, ui: &mut egui::Ui, file: &Path, label: &str) -> Option<PathBuf> {
        let mut chosen = None;
        ui.horizontal(|ui| {
            let fav = self.is_favourite(file);
            if super::widgets::star(ui, fav, &format!("Favourite {label}")).clicked() {
                self.toggle_favourite(file);
            }
            let info = self.info(file);
            if ui
                .selectable_label(false, label)
                .on_hover_text(file.display().to_string())
                .clicked()
            {
                chosen = Some(file.to_path_buf());
            }
            ui.label(egui::RichText::new(info).small().weak());
        });
        chosen
    }

    /// Draws the window if open; returns the file the user clicked (to load).
    pub fn ui(&mut self, ctx: &egui::Context) -> Option<PathBuf> {
        if !self.open {
            return None;
        }
        let mut open = true;
        let mut chosen = None;
        let mut go_to = None;
        egui::Window::new("Impulse response files")
            .open(&mut open)
            .default_size([560.0, 420.0])
            .collapsible(false)
            .show(ctx, |ui| {
                ui.horizontal(|ui| {
                    let up = self
                        .dir
                        .as_ref()
                        .and_then(|d| d.parent())
                        .map(Path::to_path_buf);
                    if ui
                        .add_enabled(up.is_some(), egui::Button::new("Up"))
                        .clicked()
                    {
                        go_to = up;
                    }
                    if ui.button("Home").clicked() {
                        go_to = home();
                    }
                    ui.label(
                        egui::RichText::new(
                            self.dir
                                .as_ref()
                                .map_or(String::new(), |d| d.display().to_string()),
                        )
                        .small(),
                    );
                });
                if let Some(m) = &self.message {
                    ui.colored_label(egui::Color32::from_rgb(240, 90, 80), m);
                }
                ui.separator();
                egui::ScrollArea::vertical().show(ui, |ui| {
                    if !self.favourites.is_empty() {
                        ui.label(egui::RichText::new("Favourites").weak());
                        for f in self.favourites.clone() {
                            let name = name_of(&f);
                            if let Some(c) = self.file_row(ui, &f, &name) {
                                chosen = Some(c);
                            }
                        }
                    }
                    if !self.recent.is_empty() {
                        ui.label(egui::RichText::new("Recent").weak());
                        for f in self.recent.clone() {
                            let name = name_of(&f);
                            if ui
                                .selectable_label(false, format!("{name}  ({})", self.info(&f)))
                                .on_hover_text(f.display().to_string())
                                .clicked()
                            {
                                chosen = Some(f);
                            }
                        }
                    }
                    ui.label(egui::RichText::new("This folder").weak());
                    for d in self.folders.clone() {
                        let name = name_of(&d);
                        if ui.selectable_label(false, format!("{name}/")).clicked() {
                            go_to = Some(d);
                        }
                    }
                    for f in self.files.clone() {
                        let name = name_of(&f);
                        if let Some(c) = self.file_row(ui, &f, &name) {
                            chosen = Some(c);
                        }
                    }
                    if self.folders.is_empty() && self.files.is_empty() {
                        ui.weak("No folders or impulse responses here");
                    }
                });
            });
        if let Some(d) = go_to {
            self.go(&d);
        }
        self.open = open;
        chosen
    }
}

/// A path's last component, for display.
fn name_of(p: &Path) -> String {
    p.file_name()
        .map_or(String::new(), |n| n.to_string_lossy().into_owned())
}

/// The user's home folder.
fn home() -> Option<PathBuf> {
    ["HOME", "USERPROFILE"]
        .iter()
        .find_map(|k| std::env::var_os(k).filter(|v| !v.is_empty()))
        .map(PathBuf::from)
}
