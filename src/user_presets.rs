//! User presets on disk: one file per preset (the format of [`crate::preset`]) in a folder per
//! category under the platform's user data folder:
//!
//! - Linux and the BSDs: `$XDG_DATA_HOME/FluxForge/Presets` (else
//!   `~/.local/share/FluxForge/Presets`)
//! - macOS: `~/Library/Audio/Presets/FluxForge`
//! - Windows: `%APPDATA%\FluxForge\Presets`
//!
//! Import copies a preset file into the folder (validated first); export writes one preset to
//! any path. Everything here runs on the editor's thread, never the audio thread.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::params::PresetRef;
use crate::preset::Preset;

/// The user preset folder of this platform, if the environment names a home.
pub fn folder() -> Option<PathBuf> {
    let env = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if cfg!(target_os = "windows") {
        return env("APPDATA").map(|d| d.join("FluxForge").join("Presets"));
    }
    if cfg!(target_os = "macos") {
        return env("HOME").map(|h| h.join("Library/Audio/Presets/FluxForge"));
    }
    env("XDG_DATA_HOME")
        .or_else(|| env("HOME").map(|h| h.join(".local/share")))
        .map(|d| d.join("FluxForge").join("Presets"))
}

/// A file name from a preset or category name: no path separators or characters the common
/// file systems refuse; never empty.
fn file_stem(name: &str) -> String {
    let s: String = name
        .trim()
        .chars()
        .map(|c| {
            if "/\\:*?\"<>|".contains(c) || c.is_control() {
                '_'
            } else {
                c
            }
        })
        .collect();
    let s = s.trim_matches('.').to_string();
    if s.is_empty() {
        "Untitled".into()
    } else {
        s
    }
}

/// Every preset under `root` (category folders and files directly in it), sorted by category
/// and name, with its path. Files that do not read as presets are skipped and returned as
/// errors.
pub fn list(root: &Path) -> (Vec<(PathBuf, Preset)>, Vec<String>) {
    let mut found = Vec::new();
    let mut errors = Vec::new();
    let mut visit = |dir: &Path, category: Option<&str>| {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        for e in rd.filter_map(Result::ok) {
            let p = e.path();
            if p.extension()
                .is_some_and(|x| x.eq_ignore_ascii_case("json"))
            {
                match Preset::load(&p) {
                    Ok(mut preset) => {
                        if preset.category.is_empty() {
                            preset.category = category.unwrap_or("User").to_string();
                        }
                        found.push((p, preset));
                    }
                    Err(e) => errors.push(e),
                }
            }
        }
    };
    visit(root, None);
    if let Ok(rd) = std::fs::read_dir(root) {
        let mut dirs: Vec<PathBuf> = rd
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.is_dir())
            .collect();
        dirs.sort();
        for d in dirs {
            let cat = d
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("User")
                .to_string();
            visit(&d, Some(&cat));
        }
    }
    found.sort_by(|a, b| (&a.1.category, &a.1.name).cmp(&(&b.1.category, &b.1.name)));
    (found, errors)
}

/// Saves `preset` under `root` in its category's folder as `<name>.json` (replacing a preset
/// of the same name). Returns the path.
pub fn save(root: &Path, preset: &Preset) -> Result<PathBuf, String> {
    let category = if preset.category.trim().is_empty() {
        "User"
    } else {
        &preset.category
    };
    let dir = root.join(file_stem(category));
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let path = dir.join(format!("{}.json", file_stem(&preset.name)));
    preset.save(&path)?;
    Ok(path)
}

/// Imports a preset file: reads it (refusing anything that is not a preset) and saves it
/// under `root`. Returns the imported preset's new path.
pub fn import(root: &Path, file: &Path) -> Result<PathBuf, String> {
    let mut preset = Preset::load(file)?;
    if preset.name.trim().is_empty() {
        preset.name = file
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("Imported")
            .to_string();
    }
    save(root, &preset)
}

/// Exports one preset to `file`.
pub fn export(preset: &Preset, file: &Path) -> Result<(), String> {
    preset.save(file)
}

/// The file under the user folder that lists the favourite presets, one key
/// ([`favourite_key`]) per line. Not `.json`, so [`list`] never reads it as a preset.
pub const FAVOURITES_FILE: &str = "favourites.txt";

/// The favourites key of a preset: `factory:<name>` or `file:<path>`.
pub fn favourite_key(source: &PresetRef) -> String {
    match &source.file {
        None => format!("factory:{}", source.name),
        Some(f) => format!("file:{}", f.display()),
    }
}

/// The non-empty lines of a list file, trimmed (none when the file does not exist yet).
pub fn read_lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .map(|t| {
            t.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(String::from)
                .collect()
        })
        .unwrap_or_default()
}

/// The favourite presets' keys (empty when there is no list yet).
pub fn favourites(root: &Path) -> BTreeSet<String> {
    read_lines(&root.join(FAVOURITES_FILE))
        .into_iter()
        .collect()
}

/// Writes the favourites list.
pub fn save_favourites(root: &Path, keys: &BTreeSet<String>) -> Result<(), String> {
    std::fs::create_dir_all(root).map_err(|e| format!("cannot create {}: {e}", root.display()))?;
    let path = root.join(FAVOURITES_FILE);
    let text: String = keys.iter().map(|k| format!("{k}\n")).collect();
    std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!(
            "fluxforge-user-presets-{}-{name}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn saves_lists_imports_and_exports_by_category() {
        let root = scratch("a");
        let mut p = Preset::empty();
        p.name = "My Plate: v2/final".into();
        p.category = "Vocals".into();
        p.params.insert("mix".into(), serde_json::json!(0.4));
        let path = save(&root, &p).unwrap();
        assert_eq!(path, root.join("Vocals").join("My Plate_ v2_final.json"));
        let mut q = Preset::empty();
        q.name = "Room".into();
        save(&root, &q).unwrap();
        std::fs::write(root.join("Vocals").join("broken.json"), "{").unwrap();
        let (found, errors) = list(&root);
        let names: Vec<(&str, &str)> = found
            .iter()
            .map(|(_, p)| (p.category.as_str(), p.name.as_str()))
            .collect();
        assert_eq!(
            names,
            vec![("User", "Room"), ("Vocals", "My Plate: v2/final")]
        );
        assert_eq!(errors.len(), 1);
        // Export, then import into another folder: the same preset.
        let out = scratch("export.json");
        export(&p, &out).unwrap();
        let root2 = scratch("b");
        let imported = import(&root2, &out).unwrap();
        assert_eq!(Preset::load(&imported).unwrap(), p);
        assert!(import(&root2, &root.join("Vocals").join("broken.json")).is_err());
    }

    #[test]
    fn favourites_are_kept_beside_the_presets_and_never_listed_as_one() {
        let root = scratch("favs");
        assert!(favourites(&root).is_empty());
        let a = favourite_key(&PresetRef {
            name: "Vocal Plate".into(),
            file: None,
        });
        let b = favourite_key(&PresetRef {
            name: "Mine".into(),
            file: Some(root.join("User").join("Mine.json")),
        });
        assert_eq!(a, "factory:Vocal Plate");
        assert_ne!(a, b);
        save_favourites(&root, &[a.clone(), b.clone()].into()).unwrap();
        assert_eq!(favourites(&root), [a, b].into());
        let (found, errors) = list(&root);
        assert!(found.is_empty() && errors.is_empty(), "{errors:?}");
    }

    #[test]
    fn the_folder_follows_the_platform_convention() {
        let f = folder().expect("a home is set");
        if cfg!(all(unix, not(target_os = "macos"))) {
            assert!(f.ends_with("FluxForge/Presets"), "{}", f.display());
        }
    }
}
