//! A file dragged from a file manager onto the editor's real window loads as the IR.
//!
//! Opens the standalone FluxForge (`--backend dummy`, no audio device) on a virtual X display
//! (Xvfb) and plays the part of a file manager: this test is the drag source of the XDND
//! protocol (version 5), written here on the X protocol itself. It announces a `text/uri-list`,
//! moves over the editor, waits for the editor's window to accept, drops, serves the selection
//! the window asks for, and waits for the drop to finish; then the plugin's loader must report
//! the file loaded. Once for a plain path and once for a `file://` URI whose folder and file
//! names hold spaces and non-ASCII characters (percent-encoded, as file managers send them).
#![cfg(target_os = "linux")]

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use x11rb::connection::Connection;
use x11rb::protocol::xproto::{
    AtomEnum, ClientMessageEvent, ConnectionExt as _, CreateWindowAux, EventMask, PropMode,
    SelectionNotifyEvent, Window, WindowClass, SELECTION_NOTIFY_EVENT,
};
use x11rb::protocol::Event;
use x11rb::rust_connection::RustConnection;
use x11rb::wrapper::ConnectionExt as _;
use x11rb::CURRENT_TIME;

/// Kills a child process when the test ends, however it ends.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A virtual X server on the first free display number from 140.
fn start_xvfb() -> (Killed, String) {
    for n in 140..240 {
        if Path::new(&format!("/tmp/.X11-unix/X{n}")).exists()
            || Path::new(&format!("/tmp/.X{n}-lock")).exists()
        {
            continue;
        }
        let display = format!(":{n}");
        let child = Command::new("Xvfb")
            .args([
                &display,
                "-screen",
                "0",
                "1600x1000x24",
                "+extension",
                "GLX",
            ])
            .args(["-nolisten", "tcp"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("Xvfb (scripts/deps.sh test installs it)");
        let mut child = Killed(child);
        let t0 = Instant::now();
        while t0.elapsed() < Duration::from_secs(10) {
            if RustConnection::connect(Some(&display)).is_ok() {
                return (child, display);
            }
            if let Ok(Some(_)) = child.0.try_wait() {
                break; // that display was taken after all: try the next
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    panic!("no free X display between :140 and :239");
}

/// A short stereo IR (a decaying noise burst), written as 24-bit WAV.
fn write_ir(path: &Path, seed: u32) {
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: 48_000,
        bits_per_sample: 24,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    let mut s = seed;
    for i in 0..24_000 {
        for _ in 0..2 {
            s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let noise = (s >> 8) as f64 / f64::from(1u32 << 24) * 2.0 - 1.0;
            let v = noise * (-(i as f64) / 4_000.0).exp() * 0.5;
            w.write_sample((v * 8_388_607.0) as i32).unwrap();
        }
    }
    w.finalize().unwrap();
}

/// `file://` and the path, every byte outside RFC 3986's unreserved set and `/`
/// percent-encoded.
fn file_uri(path: &Path) -> String {
    let mut uri = String::from("file://");
    for &b in path.as_os_str().as_encoded_bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            uri.push(b as char);
        } else {
            uri.push_str(&format!("%{b:02X}"));
        }
    }
    uri
}

struct Atoms {
    aware: u32,
    enter: u32,
    position: u32,
    status: u32,
    drop: u32,
    finished: u32,
    selection: u32,
    copy: u32,
    uri_list: u32,
}

impl Atoms {
    fn new(c: &RustConnection) -> Self {
        let a = |name: &str| {
            c.intern_atom(false, name.as_bytes())
                .unwrap()
                .reply()
                .unwrap()
                .atom
        };
        Self {
            aware: a("XdndAware"),
            enter: a("XdndEnter"),
            position: a("XdndPosition"),
            status: a("XdndStatus"),
            drop: a("XdndDrop"),
            finished: a("XdndFinished"),
            selection: a("XdndSelection"),
            copy: a("XdndActionCopy"),
            uri_list: a("text/uri-list"),
        }
    }
}

/// The editor's window: a window under the root that says it takes XDND drops and whose name
/// is FluxForge.
fn find_editor(c: &RustConnection, root: Window, atoms: &Atoms) -> Option<Window> {
    let tree = c.query_tree(root).ok()?.reply().ok()?;
    for w in tree.children {
        let aware = c
            .get_property(false, w, atoms.aware, AtomEnum::ATOM, 0, 1)
            .ok()?
            .reply()
            .ok()?;
        let name = c
            .get_property(false, w, AtomEnum::WM_NAME, AtomEnum::ANY, 0, 64)
            .ok()?
            .reply()
            .ok()?;
        if aware.value_len > 0 && String::from_utf8_lossy(&name.value).contains("FluxForge") {
            return Some(w);
        }
    }
    None
}

fn client_message(c: &RustConnection, to: Window, kind: u32, data: [u32; 5]) {
    let ev = ClientMessageEvent::new(32, to, kind, data);
    c.send_event(false, to, EventMask::NO_EVENT, ev).unwrap();
    c.flush().unwrap();
}

/// What the drag source saw of the target.
#[derive(Debug, Default)]
struct DragResult {
    accepted_while_hovering: bool,
    selection_requests: usize,
    finished_accepted: Option<bool>,
}

/// Drags `uri_list` from a window of this test over `target`'s centre and drops it there.
fn drag_and_drop(c: &RustConnection, root: Window, target: Window, uri_list: &str) -> DragResult {
    let atoms = Atoms::new(c);
    let source = c.generate_id().unwrap();
    c.create_window(
        0,
        source,
        root,
        -10,
        -10,
        1,
        1,
        0,
        WindowClass::INPUT_ONLY,
        0,
        &CreateWindowAux::new().event_mask(EventMask::PROPERTY_CHANGE),
    )
    .unwrap();
    c.set_selection_owner(source, atoms.selection, CURRENT_TIME)
        .unwrap();
    let geometry = c.get_geometry(target).unwrap().reply().unwrap();
    let centre = c
        .translate_coordinates(
            target,
            root,
            (geometry.width / 2) as i16,
            (geometry.height / 2) as i16,
        )
        .unwrap()
        .reply()
        .unwrap();
    let xy = ((centre.dst_x as u32) << 16) | (centre.dst_y as u32 & 0xffff);

    // Enter (version 5, three types or fewer, inline), then a position with the copy action.
    client_message(
        c,
        target,
        atoms.enter,
        [source, 5 << 24, atoms.uri_list, 0, 0],
    );
    client_message(
        c,
        target,
        atoms.position,
        [source, 0, xy, CURRENT_TIME, atoms.copy],
    );

    let mut result = DragResult::default();
    let mut dropped = false;
    let t0 = Instant::now();
    let mut last_position = Instant::now();
    while t0.elapsed() < Duration::from_secs(20) && result.finished_accepted.is_none() {
        let Some(event) = c.poll_for_event().unwrap() else {
            // Hovering: a file manager sends positions as the pointer moves.
            if !dropped && last_position.elapsed() > Duration::from_millis(200) {
                client_message(
                    c,
                    target,
                    atoms.position,
                    [source, 0, xy, CURRENT_TIME, atoms.copy],
                );
                last_position = Instant::now();
            }
            std::thread::sleep(Duration::from_millis(5));
            continue;
        };
        match event {
            Event::SelectionRequest(req) if req.selection == atoms.selection => {
                result.selection_requests += 1;
                let property = if req.target == atoms.uri_list {
                    c.change_property8(
                        PropMode::REPLACE,
                        req.requestor,
                        req.property,
                        atoms.uri_list,
                        uri_list.as_bytes(),
                    )
                    .unwrap();
                    req.property
                } else {
                    0 // refused: not a type this source offers
                };
                let notify = SelectionNotifyEvent {
                    response_type: SELECTION_NOTIFY_EVENT,
                    sequence: 0,
                    time: req.time,
                    requestor: req.requestor,
                    selection: req.selection,
                    target: req.target,
                    property,
                };
                c.send_event(false, req.requestor, EventMask::NO_EVENT, notify)
                    .unwrap();
                c.flush().unwrap();
            }
            Event::ClientMessage(m) if m.type_ == atoms.status => {
                let d = m.data.as_data32();
                if d[1] & 1 == 1 {
                    result.accepted_while_hovering = true;
                    if !dropped {
                        dropped = true;
                        client_message(c, target, atoms.drop, [source, 0, CURRENT_TIME, 0, 0]);
                    }
                }
            }
            Event::ClientMessage(m) if m.type_ == atoms.finished => {
                let d = m.data.as_data32();
                result.finished_accepted = Some(d[1] & 1 == 1);
            }
            _ => {}
        }
    }
    c.destroy_window(source).unwrap();
    c.flush().unwrap();
    result
}

/// Waits until the standalone's log holds `line`; returns the whole log either way.
fn wait_for_log(log: &Path, line: &str, timeout: Duration) -> (bool, String) {
    let t0 = Instant::now();
    loop {
        let mut text = String::new();
        if let Ok(mut f) = std::fs::File::open(log) {
            let _ = f.read_to_string(&mut text);
        }
        if text.contains(line) {
            return (true, text);
        }
        if t0.elapsed() > timeout {
            return (false, text);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_wav_dragged_onto_the_real_editor_window_loads_as_the_ir() {
    let dir = std::env::temp_dir().join(format!("fluxforge-drop-{}", std::process::id()));
    let odd = dir.join("Impulse Räume été");
    std::fs::create_dir_all(&odd).unwrap();
    let plain = dir.join("plate.wav");
    let spaced = odd.join("Großer Saal ü 2.wav");
    write_ir(&plain, 1);
    write_ir(&spaced, 2);

    let (_xvfb, display) = start_xvfb();
    let log = dir.join("standalone.log");
    let app = Command::new(env!("CARGO_BIN_EXE_fluxforge-standalone"))
        .args(["--backend", "dummy"])
        .env("DISPLAY", &display)
        .env("FLUXFORGE_FILE_DIALOG", "builtin")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .expect("the standalone");
    let _app = Killed(app);

    let (c, screen) = RustConnection::connect(Some(&display)).unwrap();
    let root = c.setup().roots[screen].root;
    let atoms = Atoms::new(&c);
    let t0 = Instant::now();
    let target = loop {
        if let Some(w) = find_editor(&c, root, &atoms) {
            break w;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(60),
            "the editor window did not open; log:\n{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    std::thread::sleep(Duration::from_millis(500)); // the first frames

    for (file, uri) in [
        (&plain, format!("{}\r\n", file_uri(&plain))),
        (&spaced, format!("{}\r\n", file_uri(&spaced))),
    ] {
        assert!(uri.is_ascii(), "the URI is sent percent-encoded: {uri}");
        let r = drag_and_drop(&c, root, target, &uri);
        assert!(
            r.accepted_while_hovering,
            "the window did not accept the drag: {r:?}"
        );
        assert!(
            r.selection_requests >= 1,
            "the window never asked for the data: {r:?}"
        );
        assert_eq!(
            r.finished_accepted,
            Some(true),
            "the drop did not finish accepted: {r:?}"
        );
        let canonical: PathBuf = file.canonicalize().unwrap();
        let expected = format!("Loaded {}", canonical.display());
        let (loaded, text) = wait_for_log(&log, &expected, Duration::from_secs(20));
        assert!(loaded, "'{expected}' not in the standalone's log:\n{text}");
        println!("{uri:?} dropped and loaded: {r:?}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
