//! FluxForge's own window adapter: the host's editor window (a baseview window) running the
//! egui editor, drawn with egui_glow.
//!
//! The framework's egui adapter drops baseview's drag-and-drop events, so a file dragged from a
//! file manager onto the editor never arrived. This adapter turns them into egui's hovered and
//! dropped files (and accepts the drop, so the dragging application sees a copy), which is what
//! [`EditorApp`]'s drop handling reads. Everything else the editor needs from its window is
//! here too: pointer, wheel, keyboard and text, focus, the clipboard, cursors, the scale menu's
//! zoom, the session's saved size, resizing by the host or by the editor's corner, and repaints
//! asked for by the plugin (parameter changes from the host).
//!
//! Everything runs on the window's thread (the host's GUI thread, or the standalone's); nothing
//! here is touched by the audio thread.

use std::cell::{Cell, RefCell};
use std::error::Error;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use baseview::dpi::{LogicalSize, Size};
use baseview::{
    DropData, DropEffect, Event, EventStatus, HandlerError, MouseButton, MouseCursor, MouseEvent,
    ScrollDelta, Window, WindowContext, WindowEvent, WindowHandler, WindowSettings, WindowSize,
};
use egui_glow::glow::{self, HasContext as _};
use keyboard_types::{Key, KeyState, NamedKey};
use nice_plug::context::gui::GuiContext;
use nice_plug::editor::dpi::NativeSize;
use nice_plug::editor::{
    Editor, EditorHandle, HostMethods, Modifiers as HostModifiers, ParentWindowHandle, ResizeHint,
    SpawnedEditor, VirtualKeyCode,
};

use super::{EditorApp, MIN_SIZE, SCALES};

/// How often the window looks for a repaint the plugin asked for (host parameter changes).
const REPAINT_POLL: Duration = Duration::from_millis(16);

/// What the plugin and the open window share: the size the host should give the window, the
/// system's scale factor, whether a window is open, and a repaint request.
#[derive(Debug)]
pub struct WindowShared {
    /// The window's size in logical pixels (the editor's points times its zoom).
    logical: Mutex<(f64, f64)>,
    /// The system's (or the host's) scale factor: physical pixels per logical pixel.
    scale: Mutex<Option<f64>>,
    open: AtomicBool,
    repaint: AtomicBool,
}

impl WindowShared {
    /// A window of `points` (the editor's logical size) at `zoom`.
    pub fn new(points: (f32, f32), zoom: f32) -> Arc<Self> {
        Arc::new(Self {
            logical: Mutex::new((
                f64::from(points.0 * zoom).round(),
                f64::from(points.1 * zoom).round(),
            )),
            scale: Mutex::new(None),
            open: AtomicBool::new(false),
            repaint: AtomicBool::new(false),
        })
    }

    /// Whether an editor window is open.
    pub fn is_open(&self) -> bool {
        self.open.load(Ordering::Acquire)
    }

    /// Asks the open window (if any) to draw a new frame.
    pub fn request_repaint(&self) {
        self.repaint.store(true, Ordering::Release);
    }

    fn scale(&self) -> f64 {
        self.scale.lock().map(|s| s.unwrap_or(1.0)).unwrap_or(1.0)
    }

    fn set_logical(&self, w: f64, h: f64) {
        if let Ok(mut l) = self.logical.lock() {
            *l = (w, h);
        }
    }

    fn logical(&self) -> (f64, f64) {
        self.logical.lock().map(|l| *l).unwrap_or((
            f64::from(super::EDITOR_SIZE.0),
            f64::from(super::EDITOR_SIZE.1),
        ))
    }
}

/// The plugin's editor: opens [`EditorApp`] in a window of its own adapter.
pub struct FluxEditor {
    app: Arc<Mutex<EditorApp>>,
    params: Arc<crate::params::FluxForgeParams>,
    shared: Arc<WindowShared>,
    resize_hint: ResizeHint,
}

impl FluxEditor {
    /// The editor for `app`; `shared` is the plugin's handle on its window.
    pub fn new(app: EditorApp, shared: Arc<WindowShared>) -> Self {
        Self {
            params: app.params.clone(),
            app: Arc::new(Mutex::new(app)),
            shared,
            resize_hint: super::resize_hint(),
        }
    }

    /// The window's logical size: the session's saved editor geometry (a session loaded since
    /// the plugin was created opens at its own size), else the last size the window had.
    fn logical(&self) -> (f64, f64) {
        if !self.shared.is_open() {
            if let Some([w, h, z]) = self.params.editor_size.read().ok().and_then(|g| *g) {
                let z = if SCALES.contains(&z) { z } else { 1.0 };
                self.shared.set_logical(
                    f64::from(w.max(MIN_SIZE.0) * z).round(),
                    f64::from(h.max(MIN_SIZE.1) * z).round(),
                );
            }
        }
        self.shared.logical()
    }
}

impl Editor for FluxEditor {
    type Handle = FluxEditorHandle;

    fn spawn(
        &self,
        parent: Option<ParentWindowHandle>,
        wait_for_parent: bool,
        fallback_scale_factor: Option<f64>,
        gui: GuiContext,
        host: Option<HostMethods>,
    ) -> Result<SpawnedEditor<Self::Handle>, Box<dyn Error>> {
        let (w, h) = self.logical();
        let min = LogicalSize::new(f64::from(MIN_SIZE.0) * 0.75, f64::from(MIN_SIZE.1) * 0.75);
        let mut settings = WindowSettings::new()
            .with_title("FluxForge")
            .with_size(Size::Logical(LogicalSize::new(w, h)))
            .with_min_size(Size::Logical(min))
            .with_resizable(true)
            .with_wait_for_parent(wait_for_parent)
            .with_fallback_scale_factor(fallback_scale_factor)
            .with_gl_config(Some(baseview::gl::GlConfig::default()));
        settings = settings.with_parent(parent.as_ref());
        if let Ok(mut app) = self.app.lock() {
            app.attach(gui);
        }
        let app = self.app.clone();
        let shared = self.shared.clone();
        let window = Window::create_with_host(
            settings,
            move |window| FluxWindow::new(window, app, shared),
            host.map(host_adapter),
        )?;
        self.shared.open.store(true, Ordering::Release);
        Ok(SpawnedEditor {
            handle: FluxEditorHandle {
                shared: self.shared.clone(),
                resize_hint: self.resize_hint,
            },
            window,
        })
    }

    fn size(&self) -> NativeSize<u32> {
        let (w, h) = self.logical();
        NativeSize::from_size(
            nice_plug::editor::dpi::Size::Logical(nice_plug::editor::dpi::LogicalSize::new(w, h)),
            self.shared.scale(),
        )
    }

    fn resize_hint(&self) -> ResizeHint {
        self.resize_hint
    }

    unsafe fn assume_standalone_in_process(&self) {
        // SAFETY: this function's contract (the caller owns the process's windowing, as the
        // standalone does) is the one `baseview::assume_standalone_in_process` asks for.
        unsafe { baseview::assume_standalone_in_process() }
    }
}

/// The host's callbacks (resize requests, destruction, main-thread calls) as baseview's.
fn host_adapter(host: HostMethods) -> baseview::host::Host {
    struct Callbacks(Box<dyn nice_plug::editor::HostCallbacks>);
    impl baseview::host::HostCallbacks for Callbacks {
        fn request_resize(&mut self, size: WindowSize) -> Result<(), HandlerError> {
            self.0
                .request_resize(size.physical.into(), size.scale_factor)
                .map_err(HandlerError::from_boxed)
        }
        fn destroyed(&mut self) {
            self.0.destroyed();
        }
    }
    struct MainThread(Box<dyn nice_plug::editor::HostMainThreadCaller>);
    impl baseview::host::HostMainThreadCaller for MainThread {
        fn call_main_thread(&mut self) {
            self.0.call_main_thread();
        }
    }
    baseview::host::Host::new()
        .with_callbacks(Callbacks(host.callbacks))
        .with_main_thread(MainThread(host.main_thread_caller))
}

/// A spawned editor window, as the plugin's wrapper holds it.
pub struct FluxEditorHandle {
    shared: Arc<WindowShared>,
    resize_hint: ResizeHint,
}

impl EditorHandle for FluxEditorHandle {
    type Window = Window;
    type Error = baseview::Error;

    fn run_until_closed(window: Self::Window) -> Result<(), Self::Error> {
        window.run_until_closed()
    }

    fn set_parent(&self, parent: ParentWindowHandle, window: &Window) -> Result<(), Self::Error> {
        window.set_parent(&parent)
    }

    fn show(&self, window: &Window) -> Result<(), Self::Error> {
        let r = window.show();
        self.shared.request_repaint();
        r
    }

    fn hide(&self, window: &Window) -> Result<(), Self::Error> {
        window.hide()
    }

    fn set_size(&self, size: NativeSize<u32>, window: &Window) -> Result<(), Self::Error> {
        window.resize(size)
    }

    fn host_main_thread_callback(&self, window: &Window) {
        window.host_main_thread_callback();
    }

    fn adjust_size(&self, size: NativeSize<u32>, window: &Window) -> Option<NativeSize<u32>> {
        let now = window.size();
        Some(self.resize_hint.adjust_size(
            size,
            NativeSize::from_logical_or_physical(now.logical, now.physical),
            now.scale_factor,
        ))
    }

    fn set_fallback_scale_factor(&self, scale: f64, window: &Window) -> Result<(), Self::Error> {
        window.suggest_fallback_scale_factor(scale)
    }

    fn on_virtual_key_from_host(&self, _: VirtualKeyCode, _: bool, _: HostModifiers) -> bool {
        false
    }

    fn state_changed(&self) {
        self.shared.request_repaint();
    }

    fn param_value_changed(&self, _id: &str, _normalized_value: f32) {
        self.shared.request_repaint();
    }

    fn param_modulation_changed(&self, _id: &str, _modulation_offset: f32) {
        self.shared.request_repaint();
    }
}

impl Drop for FluxEditorHandle {
    fn drop(&mut self) {
        self.shared.open.store(false, Ordering::Release);
    }
}

/// The window's handler: input to egui, egui's frame to OpenGL.
struct FluxWindow {
    window: WindowContext,
    app: Arc<Mutex<EditorApp>>,
    shared: Arc<WindowShared>,
    ctx: egui::Context,
    gl: Arc<glow::Context>,
    painter: RefCell<egui_glow::Painter>,
    input: RefCell<egui::RawInput>,
    start: Instant,
    /// Physical pixels per logical pixel (the system's scale).
    scale: Cell<f64>,
    /// The zoom the last frame ran at (the editor's scale menu changes it).
    zoom: Cell<f32>,
    pointer: Cell<Option<egui::Pos2>>,
    modifiers: Cell<egui::Modifiers>,
    cursor: Cell<MouseCursor>,
    clipboard: RefCell<Option<copypasta::ClipboardContext>>,
    timer: baseview::TimerHandle,
}

impl FluxWindow {
    fn new(
        window: WindowContext,
        app: Arc<Mutex<EditorApp>>,
        shared: Arc<WindowShared>,
    ) -> Result<Self, HandlerError> {
        let gl_context = window.gl_context().ok_or_else(|| {
            HandlerError::from_boxed("the window has no OpenGL context".to_string().into())
        })?;
        // SAFETY: the context belongs to this window, which lives on this thread; it is made
        // current only while this handler draws and released before returning.
        unsafe { gl_context.make_current()? };
        // SAFETY: the loader resolves symbols of the context just made current.
        let gl = Arc::new(unsafe {
            glow::Context::from_loader_function_cstr(|s| gl_context.get_proc_address(s))
        });
        let painter = egui_glow::Painter::new(gl.clone(), "", None, true)
            .map_err(|e| HandlerError::from_boxed(e.to_string().into()));
        // SAFETY: as above: release what was made current.
        unsafe { gl_context.make_not_current()? };
        let painter = painter?;

        let ctx = egui::Context::default();
        {
            let waker = window.waker();
            ctx.set_request_repaint_callback(move |info| waker.request_redraw_after(info.delay));
        }
        let size = window.size();
        let saved_zoom = app
            .lock()
            .ok()
            .and_then(|a| a.params.editor_size.read().ok().and_then(|g| *g))
            .map(|[_, _, z]| z)
            .filter(|z| SCALES.contains(z))
            .unwrap_or(1.0);
        ctx.set_zoom_factor(saved_zoom);
        if let Ok(mut s) = shared.scale.lock() {
            *s = Some(size.scale_factor);
        }
        let mut input = egui::RawInput {
            max_texture_side: Some(painter.max_texture_side()),
            ..Default::default()
        };
        input.viewports.insert(
            egui::ViewportId::ROOT,
            egui::ViewportInfo {
                title: Some("FluxForge".into()),
                native_pixels_per_point: Some(size.scale_factor as f32),
                focused: Some(true),
                ..Default::default()
            },
        );
        let clipboard = copypasta::ClipboardContext::new().ok();
        let timer = window.create_timer(REPAINT_POLL)?;
        ctx.set_visuals(egui::Visuals::dark());
        Ok(Self {
            window,
            app,
            shared,
            ctx,
            gl,
            painter: RefCell::new(painter),
            input: RefCell::new(input),
            start: Instant::now(),
            scale: Cell::new(size.scale_factor),
            zoom: Cell::new(saved_zoom),
            pointer: Cell::new(None),
            modifiers: Cell::new(egui::Modifiers::default()),
            cursor: Cell::new(MouseCursor::Default),
            clipboard: RefCell::new(clipboard),
            timer,
        })
    }

    /// Physical pixels per egui point.
    fn pixels_per_point(&self) -> f64 {
        self.scale.get() * f64::from(self.ctx.zoom_factor())
    }

    fn point(&self, physical: baseview::dpi::PhysicalPosition<f64>) -> egui::Pos2 {
        let p = self.pixels_per_point();
        egui::pos2((physical.x / p) as f32, (physical.y / p) as f32)
    }

    fn set_modifiers(&self, m: &keyboard_types::Modifiers, input: &mut egui::RawInput) {
        let new = modifiers(m);
        if self.modifiers.get() != new {
            self.modifiers.set(new);
            input.events.push(egui::Event::ModifiersChanged(new));
        }
    }

    /// A file drag over the window: the files hover (the editor says what a drop does), or
    /// are dropped (the editor loads the first one).
    fn drag(&self, position: baseview::dpi::PhysicalPosition<f64>, data: &DropData, dropped: bool) {
        let files: Vec<PathBuf> = match data {
            DropData::Files(f) => f.clone(),
            _ => Vec::new(),
        };
        let pos = self.point(position);
        self.pointer.set(Some(pos));
        let mut input = self.input.borrow_mut();
        input.events.push(egui::Event::PointerMoved(pos));
        input.hovered_files.clear();
        if dropped {
            input.dropped_files.extend(
                files
                    .into_iter()
                    .map(|path| Arc::new(DroppedPath(path)) as egui::DroppedFileHandle),
            );
        } else {
            input
                .hovered_files
                .extend(files.into_iter().map(|path| egui::HoveredFile {
                    path: Some(path),
                    ..Default::default()
                }));
        }
    }

    fn paste(&self, input: &mut egui::RawInput) {
        if let Some(c) = self.clipboard.borrow_mut().as_mut() {
            if let Ok(text) = copypasta::ClipboardProvider::get_contents(c) {
                input.events.push(egui::Event::Paste(text));
            }
        }
    }
}

impl WindowHandler for FluxWindow {
    fn poll(&self) {
        if self.shared.repaint.swap(false, Ordering::AcqRel) {
            self.window.request_redraw();
        }
    }

    fn on_timer(&self, timer: &baseview::TimerHandle) {
        if timer == self.timer {
            self.poll();
        }
    }

    fn draw(&self) -> Result<(), HandlerError> {
        let size = self.window.size();
        let zoom = self.ctx.zoom_factor();
        let ppp = size.scale_factor * f64::from(zoom);
        let points = egui::vec2(
            (f64::from(size.physical.width) / ppp) as f32,
            (f64::from(size.physical.height) / ppp) as f32,
        );
        let raw = {
            let mut input = self.input.borrow_mut();
            input.time = Some(self.start.elapsed().as_secs_f64());
            input.screen_rect = Some(egui::Rect::from_min_size(egui::Pos2::ZERO, points));
            if let Some(v) = input.viewports.get_mut(&egui::ViewportId::ROOT) {
                v.native_pixels_per_point = Some(size.scale_factor as f32);
                v.inner_rect = Some(egui::Rect::from_min_size(egui::Pos2::ZERO, points));
            }
            input.take()
        };
        let app = self.app.clone();
        let mut output = self.ctx.run_ui(raw, |ui| {
            if let Ok(mut app) = app.lock() {
                app.draw(ui);
            }
        });

        // The window follows the editor: its scale menu (zoom) and its size requests.
        let new_zoom = self.ctx.zoom_factor();
        let mut resize_to: Option<egui::Vec2> = None;
        if new_zoom != self.zoom.get() {
            self.zoom.set(new_zoom);
            resize_to = Some(points);
        }
        if let Some(v) = output.viewport_output.get(&egui::ViewportId::ROOT) {
            for command in &v.commands {
                match command {
                    egui::ViewportCommand::InnerSize(s) => resize_to = Some(*s),
                    egui::ViewportCommand::Close => self.window.request_close(),
                    egui::ViewportCommand::Focus => {
                        let _ = self.window.focus();
                    }
                    _ => {}
                }
            }
        }
        let (now_w, now_h) = (size.logical.width, size.logical.height);
        match resize_to {
            Some(s) => {
                let (w, h) = (f64::from(s.x * new_zoom), f64::from(s.y * new_zoom));
                self.shared.set_logical(w.round(), h.round());
                if (w - now_w).abs() >= 1.0 || (h - now_h).abs() >= 1.0 {
                    let _ = self.window.resize(Size::Logical(LogicalSize::new(w, h)));
                }
            }
            None => self.shared.set_logical(now_w.round(), now_h.round()),
        }

        // Paint.
        let gl_context = self.window.gl_context().ok_or_else(|| {
            HandlerError::from_boxed("the window lost its OpenGL context".to_string().into())
        })?;
        // SAFETY: this window's context, on this window's thread; released below.
        unsafe { gl_context.make_current()? };
        let ppp = (size.scale_factor * f64::from(new_zoom)) as f32;
        let shapes = std::mem::take(&mut output.shapes);
        let primitives = self.ctx.tessellate(shapes, ppp);
        {
            let mut painter = self.painter.borrow_mut();
            // SAFETY: the context the painter was made with is current (above).
            unsafe {
                self.gl.clear_color(0.0, 0.0, 0.0, 1.0);
                self.gl.clear(glow::COLOR_BUFFER_BIT);
            }
            // Every texture change is applied or freed (egui checks that none is dropped).
            for (id, deltas) in output.textures_delta.set.drain() {
                for delta in &deltas {
                    painter.set_texture(id, delta);
                }
            }
            painter.paint_primitives(
                [size.physical.width, size.physical.height],
                ppp,
                &primitives,
            );
            for id in output.textures_delta.free.drain() {
                painter.free_texture(id);
            }
        }
        gl_context.swap_buffers()?;
        // SAFETY: releases the context made current above.
        unsafe { gl_context.make_not_current()? };

        for command in output.platform_output.commands.drain(..) {
            if let egui::OutputCommand::CopyText(text) = command {
                if let Some(c) = self.clipboard.borrow_mut().as_mut() {
                    let _ = copypasta::ClipboardProvider::set_contents(c, text);
                }
            }
        }
        let cursor = cursor(output.platform_output.cursor_icon);
        if cursor != self.cursor.get() {
            self.cursor.set(cursor);
            let _ = self.window.set_mouse_cursor(cursor);
        }
        Ok(())
    }

    fn resized(&self, size: WindowSize) -> Result<(), HandlerError> {
        self.scale.set(size.scale_factor);
        if let Ok(mut s) = self.shared.scale.lock() {
            *s = Some(size.scale_factor);
        }
        if let Some(v) = self
            .input
            .borrow_mut()
            .viewports
            .get_mut(&egui::ViewportId::ROOT)
        {
            v.native_pixels_per_point = Some(size.scale_factor as f32);
        }
        self.shared
            .set_logical(size.logical.width.round(), size.logical.height.round());
        self.window.request_redraw();
        Ok(())
    }

    fn on_event(&self, event: Event) -> EventStatus {
        if matches!(event, Event::Mouse(MouseEvent::ButtonPressed { .. }))
            && !self.window.has_focus()
        {
            let _ = self.window.focus();
        }
        let mut status = EventStatus::Captured;
        if let Event::Mouse(
            MouseEvent::DragEntered { position, data, .. }
            | MouseEvent::DragMoved { position, data, .. }
            | MouseEvent::DragDropped { position, data, .. },
        ) = &event
        {
            let dropped = matches!(event, Event::Mouse(MouseEvent::DragDropped { .. }));
            self.drag(*position, data, dropped);
            self.window.request_redraw();
            return accept(data);
        }
        {
            let mut input = self.input.borrow_mut();
            match &event {
                Event::Mouse(m) => match m {
                    MouseEvent::CursorMoved {
                        position,
                        modifiers,
                    } => {
                        self.set_modifiers(modifiers, &mut input);
                        let pos = self.point(*position);
                        self.pointer.set(Some(pos));
                        input.events.push(egui::Event::PointerMoved(pos));
                    }
                    MouseEvent::ButtonPressed { button, modifiers }
                    | MouseEvent::ButtonReleased { button, modifiers } => {
                        self.set_modifiers(modifiers, &mut input);
                        let pressed = matches!(m, MouseEvent::ButtonPressed { .. });
                        if let (Some(pos), Some(button)) =
                            (self.pointer.get(), mouse_button(*button))
                        {
                            input.events.push(egui::Event::PointerButton {
                                pos,
                                button,
                                pressed,
                                modifiers: self.modifiers.get(),
                            });
                        }
                    }
                    MouseEvent::WheelScrolled { delta, modifiers } => {
                        self.set_modifiers(modifiers, &mut input);
                        let (unit, delta) = match *delta {
                            ScrollDelta::Lines { x, y } => {
                                (egui::MouseWheelUnit::Line, egui::vec2(x, y))
                            }
                            ScrollDelta::Pixels { x, y } => (
                                egui::MouseWheelUnit::Point,
                                egui::vec2(x, y) / self.pixels_per_point() as f32,
                            ),
                        };
                        input.events.push(egui::Event::MouseWheel {
                            unit,
                            delta,
                            modifiers: self.modifiers.get(),
                            phase: egui::TouchPhase::Move,
                            source: egui::MouseWheelSource::Unknown,
                        });
                    }
                    MouseEvent::CursorLeft => {
                        self.pointer.set(None);
                        input.events.push(egui::Event::PointerGone);
                    }
                    MouseEvent::DragLeft => input.hovered_files.clear(),
                    _ => {}
                },
                Event::Keyboard(k) => {
                    self.set_modifiers(&k.modifiers, &mut input);
                    let pressed = k.state == KeyState::Down;
                    let m = self.modifiers.get();
                    if let Some(key) = egui_key(&k.key) {
                        input.events.push(egui::Event::Key {
                            key,
                            physical_key: None,
                            pressed,
                            repeat: k.repeat,
                            modifiers: m,
                        });
                        if pressed && m.command {
                            match key {
                                egui::Key::C => input.events.push(egui::Event::Copy),
                                egui::Key::X => input.events.push(egui::Event::Cut),
                                egui::Key::V => self.paste(&mut input),
                                _ => {}
                            }
                        }
                    }
                    if pressed && !m.ctrl && !m.command {
                        if let Key::Character(text) = &k.key {
                            input.events.push(egui::Event::Text(text.clone()));
                        }
                    }
                    // Keys the editor does not want (no text field has focus) go to the host,
                    // so its shortcuts (the transport's space bar) keep working.
                    if !self.ctx.egui_wants_keyboard_input() {
                        status = EventStatus::Ignored;
                    }
                }
                Event::Window(WindowEvent::Focused) => {
                    input.events.push(egui::Event::WindowFocused(true));
                }
                Event::Window(WindowEvent::Unfocused) => {
                    input.events.push(egui::Event::WindowFocused(false));
                }
                _ => status = EventStatus::Ignored,
            }
        }
        self.window.request_redraw();
        status
    }
}

impl Drop for FluxWindow {
    fn drop(&mut self) {
        if let Some(c) = self.window.gl_context() {
            // SAFETY: the painter's GL objects belong to this window's context, made current
            // here on its thread to free them, then released.
            unsafe {
                if c.make_current().is_ok() {
                    self.painter.borrow_mut().destroy();
                    let _ = c.make_not_current();
                }
            }
        }
    }
}

/// A file dropped on the window, as egui hands it to the editor.
#[derive(Debug)]
pub struct DroppedPath(pub PathBuf);

impl egui::DroppedFile for DroppedPath {
    fn path(&self) -> &std::path::Path {
        &self.0
    }

    fn bytes(&self) -> Result<Vec<u8>, String> {
        std::fs::read(&self.0).map_err(|e| e.to_string())
    }
}

/// A drag carrying files is accepted as a copy (the file stays where it is).
fn accept(data: &DropData) -> EventStatus {
    match data {
        DropData::Files(f) if !f.is_empty() => EventStatus::AcceptDrop(DropEffect::Copy),
        _ => EventStatus::Ignored,
    }
}

fn modifiers(m: &keyboard_types::Modifiers) -> egui::Modifiers {
    let mac = cfg!(target_os = "macos");
    egui::Modifiers {
        alt: m.alt(),
        ctrl: m.ctrl(),
        shift: m.shift(),
        mac_cmd: mac && m.meta(),
        command: if mac { m.meta() } else { m.ctrl() },
    }
}

fn mouse_button(b: MouseButton) -> Option<egui::PointerButton> {
    Some(match b {
        MouseButton::Left => egui::PointerButton::Primary,
        MouseButton::Right => egui::PointerButton::Secondary,
        MouseButton::Middle => egui::PointerButton::Middle,
        MouseButton::Back => egui::PointerButton::Extra1,
        MouseButton::Forward => egui::PointerButton::Extra2,
        _ => return None,
    })
}

/// The egui key for a keyboard key: named keys by their meaning, characters by their name
/// (`a` is [`egui::Key::A`], so shortcuts work whatever the case).
fn egui_key(key: &Key) -> Option<egui::Key> {
    use egui::Key as E;
    match key {
        Key::Named(n) => Some(match n {
            NamedKey::ArrowDown => E::ArrowDown,
            NamedKey::ArrowLeft => E::ArrowLeft,
            NamedKey::ArrowRight => E::ArrowRight,
            NamedKey::ArrowUp => E::ArrowUp,
            NamedKey::Escape => E::Escape,
            NamedKey::Tab => E::Tab,
            NamedKey::Backspace => E::Backspace,
            NamedKey::Enter => E::Enter,
            NamedKey::Insert => E::Insert,
            NamedKey::Delete => E::Delete,
            NamedKey::Home => E::Home,
            NamedKey::End => E::End,
            NamedKey::PageUp => E::PageUp,
            NamedKey::PageDown => E::PageDown,
            NamedKey::Copy => E::Copy,
            NamedKey::Cut => E::Cut,
            NamedKey::Paste => E::Paste,
            _ => return None,
        }),
        Key::Character(s) if s == " " => Some(E::Space),
        Key::Character(s) => E::from_name(&s.to_uppercase()).or_else(|| E::from_name(s)),
    }
}

fn cursor(icon: egui::CursorIcon) -> MouseCursor {
    use egui::CursorIcon as C;
    match icon {
        C::None => MouseCursor::Hidden,
        C::PointingHand => MouseCursor::Hand,
        C::Grab => MouseCursor::Hand,
        C::Grabbing => MouseCursor::HandGrabbing,
        C::Help => MouseCursor::Help,
        C::Text => MouseCursor::Text,
        C::VerticalText => MouseCursor::VerticalText,
        C::Wait => MouseCursor::Working,
        C::Progress => MouseCursor::PtrWorking,
        C::NotAllowed | C::NoDrop => MouseCursor::NotAllowed,
        C::ZoomIn => MouseCursor::ZoomIn,
        C::ZoomOut => MouseCursor::ZoomOut,
        C::Alias => MouseCursor::Alias,
        C::Copy => MouseCursor::Copy,
        C::Move => MouseCursor::Move,
        C::AllScroll => MouseCursor::AllScroll,
        C::Cell => MouseCursor::Cell,
        C::Crosshair => MouseCursor::Crosshair,
        C::ResizeEast => MouseCursor::EResize,
        C::ResizeNorth => MouseCursor::NResize,
        C::ResizeNorthEast => MouseCursor::NeResize,
        C::ResizeNorthWest => MouseCursor::NwResize,
        C::ResizeSouth => MouseCursor::SResize,
        C::ResizeSouthEast => MouseCursor::SeResize,
        C::ResizeSouthWest => MouseCursor::SwResize,
        C::ResizeWest => MouseCursor::WResize,
        C::ResizeHorizontal => MouseCursor::EwResize,
        C::ResizeVertical => MouseCursor::NsResize,
        C::ResizeNwSe => MouseCursor::NwseResize,
        C::ResizeNeSw => MouseCursor::NeswResize,
        C::ResizeColumn => MouseCursor::ColResize,
        C::ResizeRow => MouseCursor::RowResize,
        _ => MouseCursor::Default,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_drags_that_carry_files_are_accepted_and_as_a_copy() {
        let files = DropData::Files(vec![PathBuf::from("/ir/hall.wav")]);
        assert_eq!(accept(&files), EventStatus::AcceptDrop(DropEffect::Copy));
        assert_eq!(accept(&DropData::Files(Vec::new())), EventStatus::Ignored);
        assert_eq!(accept(&DropData::None), EventStatus::Ignored);
    }

    #[test]
    fn keys_reach_egui_by_meaning_whatever_the_case() {
        assert_eq!(egui_key(&Key::Character("z".into())), Some(egui::Key::Z));
        assert_eq!(egui_key(&Key::Character("Z".into())), Some(egui::Key::Z));
        assert_eq!(egui_key(&Key::Character("5".into())), Some(egui::Key::Num5));
        assert_eq!(
            egui_key(&Key::Character(" ".into())),
            Some(egui::Key::Space)
        );
        assert_eq!(
            egui_key(&Key::Named(NamedKey::Enter)),
            Some(egui::Key::Enter)
        );
        assert_eq!(egui_key(&Key::Named(NamedKey::F24)), None);
        assert_eq!(egui_key(&Key::Character("é".into())), None);
        // Control is the command key off macOS (copy, paste and undo shortcuts).
        let m = modifiers(&keyboard_types::Modifiers::CONTROL);
        assert!(m.ctrl);
        assert_eq!(m.command, !cfg!(target_os = "macos"));
    }
}
