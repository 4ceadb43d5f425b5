//! The platform's open-file dialog for an impulse response, without a GUI toolkit's main loop
//! in the host's process: the dialog is another process (`zenity` or `kdialog` on Linux and
//! the BSDs, `osascript` on macOS, PowerShell's Windows Forms dialog on Windows), which the
//! editor starts and then polls once per frame ([`Pending::poll`]); it never waits for it.
//! Closing the editor (dropping the [`Pending`]) closes the dialog. Where no backend exists,
//! the editor's built-in browser is the fallback.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use crate::ir_file::IR_EXTENSIONS;

/// How a dialog is shown.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Backend {
    /// GNOME's `zenity` (also on many other desktops).
    Zenity(PathBuf),
    /// KDE's `kdialog`.
    Kdialog(PathBuf),
    /// macOS: AppleScript's `choose file` through `osascript`.
    AppleScript(PathBuf),
    /// Windows: the system dialog through PowerShell's Windows Forms.
    PowerShell(PathBuf),
}

/// What [`choose`] looks at: the platform, the environment and the programs on the path.
pub struct Environment<'a> {
    /// `std::env::consts::OS`.
    pub os: &'a str,
    /// An environment variable's value.
    pub var: &'a dyn Fn(&str) -> Option<String>,
    /// The full path of a program found on the search path.
    pub which: &'a dyn Fn(&str) -> Option<PathBuf>,
}

/// The dialog backend for this environment, if any. On Linux and the BSDs a dialog needs a
/// display (`DISPLAY` or `WAYLAND_DISPLAY`); KDE sessions prefer `kdialog`, others `zenity`.
/// `FLUXFORGE_FILE_DIALOG=builtin` turns the native dialog off.
pub fn choose(env: &Environment) -> Option<Backend> {
    if (env.var)("FLUXFORGE_FILE_DIALOG").is_some_and(|v| v.eq_ignore_ascii_case("builtin")) {
        return None;
    }
    match env.os {
        "windows" => (env.which)("powershell.exe")
            .or_else(|| (env.which)("powershell"))
            .map(Backend::PowerShell),
        "macos" => (env.which)("osascript").map(Backend::AppleScript),
        _ => {
            let display = ["DISPLAY", "WAYLAND_DISPLAY"]
                .iter()
                .any(|k| (env.var)(k).is_some_and(|v| !v.is_empty()));
            if !display {
                return None;
            }
            let kde = (env.var)("XDG_CURRENT_DESKTOP")
                .is_some_and(|d| d.to_ascii_uppercase().contains("KDE"));
            let zenity = || (env.which)("zenity").map(Backend::Zenity);
            let kdialog = || (env.which)("kdialog").map(Backend::Kdialog);
            if kde {
                kdialog().or_else(zenity)
            } else {
                zenity().or_else(kdialog)
            }
        }
    }
}

/// [`choose`] for this process.
pub fn detect() -> Option<Backend> {
    choose(&Environment {
        os: std::env::consts::OS,
        var: &|k| std::env::var(k).ok(),
        which: &which,
    })
}

/// The first `name` on `PATH` that is a file.
fn which(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// The command that shows the dialog and prints the chosen path (exit status non-zero on
/// cancel).
pub fn command(backend: &Backend, start: Option<&Path>) -> Command {
    let title = "Load impulse response";
    let patterns: Vec<String> = IR_EXTENSIONS
        .iter()
        .flat_map(|e| [format!("*.{e}"), format!("*.{}", e.to_uppercase())])
        .collect();
    match backend {
        Backend::Zenity(exe) => {
            let mut c = Command::new(exe);
            c.args(["--file-selection", "--title", title]);
            c.arg(format!(
                "--file-filter=Impulse responses | {}",
                patterns.join(" ")
            ));
            c.arg("--file-filter=All files | *");
            if let Some(d) = start {
                // zenity starts in the folder of a path that ends with a separator.
                c.arg(format!("--filename={}/", d.display()));
            }
            c
        }
        Backend::Kdialog(exe) => {
            let mut c = Command::new(exe);
            c.args(["--title", title, "--getopenfilename"]);
            c.arg(start.map_or_else(|| ".".into(), |d| d.display().to_string()));
            c.arg(format!("{}|Impulse responses", patterns.join(" ")));
            c
        }
        Backend::AppleScript(exe) => {
            let types: Vec<String> = IR_EXTENSIONS.iter().map(|e| format!("\"{e}\"")).collect();
            let mut script = format!(
                "POSIX path of (choose file with prompt \"{title}\" of type {{{}}}",
                types.join(", ")
            );
            if let Some(d) = start {
                let d = d
                    .display()
                    .to_string()
                    .replace('\\', "\\\\")
                    .replace('"', "\\\"");
                script.push_str(&format!(" default location (POSIX file \"{d}\")"));
            }
            script.push(')');
            let mut c = Command::new(exe);
            c.args(["-e", &script]);
            c
        }
        Backend::PowerShell(exe) => {
            let filter = format!("Impulse responses|{}|All files|*.*", patterns.join(";"));
            let mut script = format!(
                "[Console]::OutputEncoding = [Text.Encoding]::UTF8; \
                 Add-Type -AssemblyName System.Windows.Forms; \
                 $d = New-Object System.Windows.Forms.OpenFileDialog; \
                 $d.Title = '{title}'; $d.Filter = '{filter}'; "
            );
            if let Some(d) = start {
                let d = d.display().to_string().replace('\'', "''");
                script.push_str(&format!("$d.InitialDirectory = '{d}'; "));
            }
            script.push_str("if ($d.ShowDialog() -eq 'OK') { $d.FileName } else { exit 1 }");
            let mut c = Command::new(exe);
            c.args(["-NoProfile", "-NonInteractive", "-STA", "-Command", &script]);
            c
        }
    }
}

/// A dialog that is open.
pub struct Pending {
    child: Option<Child>,
}

/// What [`Pending::poll`] found.
#[derive(Debug, PartialEq, Eq)]
pub enum Poll {
    /// Still open.
    Open,
    /// The user chose this file.
    Chosen(PathBuf),
    /// Cancelled (or the dialog could not show).
    Cancelled,
}

impl Pending {
    /// Shows the dialog of `backend`, starting in `start`.
    pub fn open(backend: &Backend, start: Option<&Path>) -> Result<Self, String> {
        Self::spawn(command(backend, start))
    }

    /// Runs `command` as a dialog: its standard output, when it exits successfully, is the
    /// chosen path.
    pub fn spawn(mut command: Command) -> Result<Self, String> {
        let child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot open the file dialog: {e}"))?;
        Ok(Self { child: Some(child) })
    }

    /// Whether the dialog has closed, and with what. Never blocks.
    pub fn poll(&mut self) -> Poll {
        let Some(child) = self.child.as_mut() else {
            return Poll::Cancelled;
        };
        match child.try_wait() {
            Ok(None) => Poll::Open,
            Ok(Some(status)) => {
                let mut out = String::new();
                if let Some(mut s) = child.stdout.take() {
                    let _ = s.read_to_string(&mut out);
                }
                self.child = None;
                // The path is the output's first line (kdialog and osascript end it with a
                // newline, PowerShell with CR LF).
                let path = out.lines().next().unwrap_or("").trim_end_matches('\r');
                if status.success() && !path.is_empty() {
                    Poll::Chosen(PathBuf::from(path))
                } else {
                    Poll::Cancelled
                }
            }
            Err(_) => {
                self.child = None;
                Poll::Cancelled
            }
        }
    }
}

impl Drop for Pending {
    /// Closes a dialog still open (the editor closed).
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pick(os: &str, vars: &[(&str, &str)], programs: &[&str]) -> Option<Backend> {
        choose(&Environment {
            os,
            var: &|k| {
                vars.iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            },
            which: &|p| {
                programs
                    .contains(&p)
                    .then(|| PathBuf::from(format!("/bin/{p}")))
            },
        })
    }

    #[test]
    fn the_backend_follows_the_platform_the_desktop_and_what_is_installed() {
        let x11 = [("DISPLAY", ":0")];
        let both = ["zenity", "kdialog"];
        assert_eq!(
            pick("linux", &x11, &both),
            Some(Backend::Zenity("/bin/zenity".into()))
        );
        let kde = [
            ("WAYLAND_DISPLAY", "wayland-0"),
            ("XDG_CURRENT_DESKTOP", "KDE"),
        ];
        assert_eq!(
            pick("linux", &kde, &both),
            Some(Backend::Kdialog("/bin/kdialog".into()))
        );
        assert_eq!(
            pick("linux", &kde, &["zenity"]),
            Some(Backend::Zenity("/bin/zenity".into()))
        );
        assert_eq!(
            pick("linux", &x11, &[]),
            None,
            "nothing installed: built-in"
        );
        assert_eq!(pick("linux", &[], &both), None, "no display: built-in");
        assert_eq!(
            pick("freebsd", &x11, &["kdialog"]),
            Some(Backend::Kdialog("/bin/kdialog".into()))
        );
        assert_eq!(
            pick("macos", &[], &["osascript"]),
            Some(Backend::AppleScript("/bin/osascript".into()))
        );
        assert_eq!(
            pick("windows", &[], &["powershell.exe"]),
            Some(Backend::PowerShell("/bin/powershell.exe".into()))
        );
        let off = [("DISPLAY", ":0"), ("FLUXFORGE_FILE_DIALOG", "builtin")];
        assert_eq!(pick("linux", &off, &both), None, "turned off");
    }

    #[test]
    fn each_command_asks_for_impulse_response_files_from_the_start_folder() {
        let start = Path::new("/home/me/IRs");
        for b in [
            Backend::Zenity("zenity".into()),
            Backend::Kdialog("kdialog".into()),
            Backend::AppleScript("osascript".into()),
            Backend::PowerShell("powershell.exe".into()),
        ] {
            let c = command(&b, Some(start));
            let args: Vec<String> = c
                .get_args()
                .map(|a| a.to_string_lossy().into_owned())
                .collect();
            let all = args.join(" ");
            assert!(all.contains("wav") && all.contains("flac"), "{b:?}: {all}");
            assert!(all.contains("/home/me/IRs"), "{b:?}: {all}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_dialog_is_polled_without_waiting_and_closed_when_dropped() {
        // A stand-in dialog: a shell that waits, then prints a path.
        let mut c = Command::new("sh");
        c.args(["-c", "sleep 0.3; echo '/tmp/My IRs/Hall é.wav'"]);
        let mut p = Pending::spawn(c).unwrap();
        let t = std::time::Instant::now();
        assert_eq!(p.poll(), Poll::Open);
        assert!(
            t.elapsed() < std::time::Duration::from_millis(100),
            "poll never waits"
        );
        let got = loop {
            match p.poll() {
                Poll::Open => std::thread::sleep(std::time::Duration::from_millis(20)),
                other => break other,
            }
        };
        assert_eq!(got, Poll::Chosen("/tmp/My IRs/Hall é.wav".into()));
        // Cancel: a non-zero exit.
        let mut c = Command::new("sh");
        c.args(["-c", "exit 1"]);
        let mut p = Pending::spawn(c).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(200));
        assert_eq!(p.poll(), Poll::Cancelled);
        // Dropped while open: the process ends.
        let mut c = Command::new("sh");
        c.args(["-c", "sleep 30"]);
        let p = Pending::spawn(c).unwrap();
        let pid = p.child.as_ref().unwrap().id();
        let t = std::time::Instant::now();
        drop(p);
        assert!(t.elapsed() < std::time::Duration::from_secs(5));
        assert!(
            !Path::new(&format!("/proc/{pid}")).exists() || !cfg!(target_os = "linux"),
            "the dialog process is gone"
        );
    }
}
