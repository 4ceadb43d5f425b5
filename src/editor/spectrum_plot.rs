//! The EQ & Dynamics page's display: a log-frequency axis (20 Hz-20 kHz, labelled), a dB axis
//! for the curves with a selectable range (left) and a dBFS axis for the spectrum (right);
//! the input spectrum, the spectral threshold curve (draggable) and its live gain change, each
//! band's curve and their sum with the live dynamic gains, and one handle per band: drag for
//! frequency and gain, mouse wheel for Q, double-click to reset, right-click for shape, slope,
//! placement and detector, Alt + press to listen. Every drag and every wheel step is one host
//! gesture.

use nice_plug::prelude::{Param, ParamSetter};

use crate::dsp::dynamic_eq::BandSettings;
use crate::dsp::spectral::SpectralDynamics;
use crate::params::{BandParams, FluxForgeParams};
use crate::shared::{display_hz, Spectrum, DISPLAY_HIGH_HZ, DISPLAY_LOW_HZ, DISPLAY_POINTS};

/// What the display draws, as plain data (the page owns it).
pub struct PlotData<'a> {
    /// The analyzer frame on show (smoothed by the page).
    pub shown: &'a Spectrum,
    /// The curves' dB range (symmetric).
    pub range_db: f32,
    /// Which spectra are drawn.
    pub show_input: bool,
    pub show_output: bool,
    /// The session's sample rate, Hz (the curves are the digital sections at it).
    pub rate: f64,
    /// Each band's live dynamic gain, dB.
    pub band_gain_db: &'a [f32],
    /// Height of the display, points (its width is the width given).
    pub height: f32,
}

/// What the display's handles and drags change: the selected band, the drags in progress,
/// the band held to listen to, and the lines as last drawn (for the tests).
#[derive(Debug)]
pub struct PlotView {
    /// The band whose controls the page shows.
    pub selected: usize,
    pub(super) dragging: Option<usize>,
    /// The band the user holds to listen to (Listen button, or Alt + press on its handle).
    pub listening: Option<usize>,
    /// A drag of the spectral threshold curve: where it started (y) and the threshold then.
    pub(super) threshold_drag: Option<(f32, f32)>,
    /// The input and output spectra as last drawn, screen points.
    pub spectrum_line: Vec<egui::Pos2>,
    pub output_line: Vec<egui::Pos2>,
}

impl Default for PlotView {
    fn default() -> Self {
        Self {
            selected: 2,
            dragging: None,
            listening: None,
            threshold_drag: None,
            spectrum_line: Vec::new(),
            output_line: Vec::new(),
        }
    }
}

/// Spectrum level range, dBFS (bottom, top).
pub const LEVEL_RANGE: (f32, f32) = (-100.0, 0.0);
/// Margins of the plot area inside the display: left (dB labels), right (dBFS labels),
/// top, bottom (frequency labels), points.
const MARGIN: (f32, f32, f32, f32) = (30.0, 34.0, 6.0, 16.0);
/// Labelled frequencies, Hz.
const FREQ_TICKS: [f32; 10] = [
    20.0, 50.0, 100.0, 200.0, 500.0, 1000.0, 2000.0, 5000.0, 10_000.0, 20_000.0,
];
/// Band colours (handles and their curves).
const BAND_COLORS: [(u8, u8, u8); 8] = [
    (232, 96, 96),
    (236, 164, 72),
    (222, 214, 90),
    (120, 220, 140),
    (90, 200, 220),
    (110, 140, 240),
    (176, 120, 236),
    (230, 120, 200),
];

/// The plot area of a display whose outer rectangle is `outer`.
pub fn plot_area(outer: egui::Rect) -> egui::Rect {
    egui::Rect::from_min_max(
        outer.min + egui::vec2(MARGIN.0, MARGIN.2),
        outer.max - egui::vec2(MARGIN.1, MARGIN.3),
    )
}

/// The x of frequency `f` Hz in `rect` (log axis, 20 Hz at the left edge, 20 kHz at the right).
pub fn x_of(rect: egui::Rect, f: f32) -> f32 {
    let t = (f / DISPLAY_LOW_HZ).ln() / (DISPLAY_HIGH_HZ / DISPLAY_LOW_HZ).ln();
    rect.left() + rect.width() * t.clamp(0.0, 1.0)
}

/// The frequency at `x` in `rect`, Hz.
pub fn f_of(rect: egui::Rect, x: f32) -> f32 {
    let t = ((x - rect.left()) / rect.width()).clamp(0.0, 1.0);
    DISPLAY_LOW_HZ * (DISPLAY_HIGH_HZ / DISPLAY_LOW_HZ).powf(t)
}

/// The y of a spectrum level in dBFS.
pub fn y_level(rect: egui::Rect, db: f32) -> f32 {
    let t = (db - LEVEL_RANGE.0) / (LEVEL_RANGE.1 - LEVEL_RANGE.0);
    rect.bottom() - rect.height() * t.clamp(0.0, 1.0)
}

/// The level in dBFS at `y`.
fn level_of_y(rect: egui::Rect, y: f32) -> f32 {
    let t = ((rect.bottom() - y) / rect.height()).clamp(0.0, 1.0);
    LEVEL_RANGE.0 + t * (LEVEL_RANGE.1 - LEVEL_RANGE.0)
}

/// The y of a curve gain in dB on a +-`range` scale.
pub fn y_eq(rect: egui::Rect, db: f32, range: f32) -> f32 {
    rect.center().y - rect.height() * 0.5 * (db / range).clamp(-1.0, 1.0)
}

/// The curve gain at `y` on a +-`range` scale, dB.
pub fn db_of_y(rect: egui::Rect, y: f32, range: f32) -> f32 {
    ((rect.center().y - y) / (rect.height() * 0.5) * range).clamp(-range, range)
}

fn band_color(i: usize, on: bool) -> egui::Color32 {
    let (r, g, b) = BAND_COLORS[i % BAND_COLORS.len()];
    if on {
        egui::Color32::from_rgb(r, g, b)
    } else {
        egui::Color32::from_gray(90)
    }
}

use super::widgets::{choice, set};

/// The gain a band's handle sits at, dB.
fn handle_db(s: &BandSettings) -> f32 {
    if s.kind.has_gain() {
        s.gain_db
    } else {
        0.0
    }
}

impl PlotView {
    /// Draws the display (its size: the width given and `d.height`) and acts on it.
    pub fn plot(
        &mut self,
        ui: &mut egui::Ui,
        params: &FluxForgeParams,
        setter: &ParamSetter,
        d: &PlotData,
    ) {
        let (rate, band_gain_db, height) = (d.rate, d.band_gain_db, d.height);
        let width = ui.available_width();
        let (outer, bg) = ui.allocate_exact_size(egui::vec2(width, height), egui::Sense::drag());
        bg.widget_info(|| {
            egui::WidgetInfo::labeled(egui::Role::Canvas, true, "Spectrum and EQ display")
        });
        let rect = plot_area(outer);
        let range = d.range_db;
        let p = ui.painter_at(outer);
        p.rect_filled(outer, 3.0, egui::Color32::from_gray(18));
        let grid = egui::Stroke::new(1.0, egui::Color32::from_gray(38));
        let label = egui::Color32::from_gray(120);
        let font = egui::FontId::proportional(9.5);
        for f in FREQ_TICKS {
            let x = x_of(rect, f);
            p.line_segment(
                [egui::pos2(x, rect.top()), egui::pos2(x, rect.bottom())],
                grid,
            );
            let text = if f >= 1000.0 {
                format!("{}k", f / 1000.0)
            } else {
                format!("{f}")
            };
            p.text(
                egui::pos2(x, rect.bottom() + 2.0),
                egui::Align2::CENTER_TOP,
                text,
                font.clone(),
                label,
            );
        }
        // Curve scale (left): five ticks over +-range; spectrum scale (right): every 20 dB.
        for k in -2..=2 {
            let db = range * k as f32 / 2.0;
            let y = y_eq(rect, db, range);
            p.line_segment(
                [egui::pos2(rect.left(), y), egui::pos2(rect.right(), y)],
                if k == 0 {
                    egui::Stroke::new(1.0, egui::Color32::from_gray(60))
                } else {
                    grid
                },
            );
            p.text(
                egui::pos2(rect.left() - 4.0, y),
                egui::Align2::RIGHT_CENTER,
                format!("{db:+}"),
                font.clone(),
                label,
            );
        }
        for db in [-100.0f32, -80.0, -60.0, -40.0, -20.0, 0.0] {
            p.text(
                egui::pos2(rect.right() + 4.0, y_level(rect, db)),
                egui::Align2::LEFT_CENTER,
                format!("{db}"),
                font.clone(),
                egui::Color32::from_rgb(90, 130, 170),
            );
        }
        // Axis titles in the bottom corners, beside the frequency labels.
        p.text(
            egui::pos2(outer.right() - 2.0, outer.bottom() - 2.0),
            egui::Align2::RIGHT_BOTTOM,
            "dBFS",
            font.clone(),
            egui::Color32::from_rgb(90, 130, 170),
        );
        p.text(
            egui::pos2(outer.left() + 2.0, outer.bottom() - 2.0),
            egui::Align2::LEFT_BOTTOM,
            "dB",
            font.clone(),
            label,
        );
        // Input spectrum (what the section hears) and output spectrum (what leaves the plugin).
        let line = |levels: &[f32]| -> Vec<egui::Pos2> {
            levels
                .iter()
                .enumerate()
                .map(|(i, l)| egui::pos2(x_of(rect, display_hz(i)), y_level(rect, *l)))
                .collect()
        };
        self.spectrum_line = line(&d.shown.level_db);
        self.output_line = line(&d.shown.output_db);
        if d.show_output {
            p.add(egui::Shape::line(
                self.output_line.clone(),
                egui::Stroke::new(1.0, egui::Color32::from_rgb(150, 150, 170)),
            ));
        }
        if d.show_input {
            p.add(egui::Shape::line(
                self.spectrum_line.clone(),
                egui::Stroke::new(1.2, egui::Color32::from_rgb(90, 150, 210)),
            ));
        }
        // Spectral threshold curve (drag it up or down) and its live gain change.
        let sd = params.settings().spectral;
        if sd.enabled {
            let thr: Vec<egui::Pos2> = (0..DISPLAY_POINTS)
                .map(|i| {
                    let f = display_hz(i);
                    egui::pos2(
                        x_of(rect, f),
                        y_level(rect, SpectralDynamics::threshold_at(&sd, f)),
                    )
                })
                .collect();
            p.add(egui::Shape::dashed_line(
                &thr,
                egui::Stroke::new(1.0, egui::Color32::from_rgb(220, 220, 120)),
                6.0,
                4.0,
            ));
            let gr: Vec<egui::Pos2> = (0..DISPLAY_POINTS)
                .map(|i| {
                    egui::pos2(
                        x_of(rect, display_hz(i)),
                        y_eq(rect, d.shown.gain_db[i], range),
                    )
                })
                .collect();
            p.add(egui::Shape::line(
                gr,
                egui::Stroke::new(1.5, egui::Color32::from_rgb(240, 140, 60)),
            ));
            if bg.drag_started() {
                if let Some(pos) = bg.interact_pointer_pos() {
                    let on_curve = SpectralDynamics::threshold_at(&sd, f_of(rect, pos.x));
                    if (y_level(rect, on_curve) - pos.y).abs() <= 8.0 {
                        setter.begin_set_parameter(&params.spec_threshold);
                        self.threshold_drag = Some((pos.y, sd.threshold_db));
                    }
                }
            }
            if let (Some((y0, t0)), Some(pos)) = (self.threshold_drag, bg.interact_pointer_pos()) {
                let moved = level_of_y(rect, pos.y) - level_of_y(rect, y0);
                setter.set_parameter(&params.spec_threshold, t0 + moved);
            }
        }
        if bg.drag_stopped() && self.threshold_drag.take().is_some() {
            setter.end_set_parameter(&params.spec_threshold);
        }
        // Each band's curve (with its live dynamic gain) and the sum.
        let live: Vec<(usize, BandSettings)> = params
            .bands
            .iter()
            .enumerate()
            .filter(|(_, b)| b.enabled.value())
            .map(|(i, b)| {
                let mut s = b.settings();
                // A spectral band's gain is per bin: its curve is drawn below, not its bell.
                if !s.spectral {
                    s.gain_db += band_gain_db.get(i).copied().unwrap_or(0.0);
                }
                (i, s)
            })
            .collect();
        let freqs: Vec<f64> = (0..DISPLAY_POINTS).map(|i| display_hz(i) as f64).collect();
        let mut sum = vec![0.0f64; DISPLAY_POINTS];
        for (i, s) in &live {
            let curve: Vec<egui::Pos2> = freqs
                .iter()
                .zip(&mut sum)
                .map(|(f, acc)| {
                    let db = s.response_db(*f, rate);
                    *acc += db;
                    egui::pos2(x_of(rect, *f as f32), y_eq(rect, db as f32, range))
                })
                .collect();
            p.add(egui::Shape::line(
                curve,
                egui::Stroke::new(1.0, band_color(*i, true).gamma_multiply(0.6)),
            ));
        }
        // The spectral bands' per-bin gains: their own curve, and part of the sum.
        if live.iter().any(|(_, s)| s.spectral && s.is_dynamic()) {
            let curve: Vec<egui::Pos2> = freqs
                .iter()
                .zip(&mut sum)
                .zip(&d.shown.bands_db)
                .map(|((f, acc), db)| {
                    *acc += *db as f64;
                    egui::pos2(x_of(rect, *f as f32), y_eq(rect, *db, range))
                })
                .collect();
            p.add(egui::Shape::line(
                curve,
                egui::Stroke::new(1.5, egui::Color32::from_rgb(90, 220, 200)),
            ));
        }
        // The EQ match curve at its amount: its own line, and part of the sum (the filter
        // plays it within 0.2 dB).
        if let Some(curve) = params.match_curve.get() {
            let amount = params.match_amount.value();
            let line: Vec<egui::Pos2> = freqs
                .iter()
                .zip(&mut sum)
                .map(|(f, acc)| {
                    let db = amount * crate::dsp::eq_match::curve_db_at(&curve, *f as f32);
                    *acc += db as f64;
                    egui::pos2(x_of(rect, *f as f32), y_eq(rect, db, range))
                })
                .collect();
            p.add(egui::Shape::line(
                line,
                egui::Stroke::new(1.5, egui::Color32::from_rgb(190, 130, 240)),
            ));
        }
        let total: Vec<egui::Pos2> = freqs
            .iter()
            .zip(&sum)
            .map(|(f, db)| egui::pos2(x_of(rect, *f as f32), y_eq(rect, *db as f32, range)))
            .collect();
        p.add(egui::Shape::line(
            total,
            egui::Stroke::new(2.0, egui::Color32::from_rgb(235, 235, 235)),
        ));
        for (i, b) in params.bands.iter().enumerate() {
            self.handle(ui, &p, rect, i, b, setter, d);
        }
        // Readout under the pointer.
        if let Some(pos) = bg.hover_pos().filter(|pos| rect.contains(*pos)) {
            let f = f_of(rect, pos.x);
            let text = if f >= 1000.0 {
                format!(
                    "{:.2} kHz  {:+.1} dB",
                    f / 1000.0,
                    db_of_y(rect, pos.y, range)
                )
            } else {
                format!("{f:.0} Hz  {:+.1} dB", db_of_y(rect, pos.y, range))
            };
            p.text(
                egui::pos2(rect.right() - 4.0, rect.top() + 4.0),
                egui::Align2::RIGHT_TOP,
                text,
                font,
                egui::Color32::from_gray(200),
            );
        }
    }

    /// Band `i`'s handle.
    #[allow(clippy::too_many_arguments)]
    fn handle(
        &mut self,
        ui: &mut egui::Ui,
        p: &egui::Painter,
        rect: egui::Rect,
        i: usize,
        b: &BandParams,
        setter: &ParamSetter,
        d: &PlotData,
    ) {
        let (range, band_gain_db) = (d.range_db, d.band_gain_db);
        let s = b.settings();
        let c = egui::pos2(x_of(rect, s.freq_hz), y_eq(rect, handle_db(&s), range));
        let id = ui.make_persistent_id(("band", i));
        let resp = ui.interact(
            egui::Rect::from_center_size(c, egui::vec2(18.0, 18.0)),
            id,
            egui::Sense::click_and_drag(),
        );
        resp.widget_info(|| {
            egui::WidgetInfo::labeled(egui::Role::Button, true, format!("Band {}", i + 1))
        });
        let resp = resp.on_hover_text(format!(
            "Band {}: drag for frequency and gain, wheel for Q, double-click to reset, \
             right-click for shape, slope, placement and detector, Alt + press to listen",
            i + 1
        ));
        let alt = ui.input(|inp| inp.modifiers.alt);
        if alt && resp.is_pointer_button_down_on() {
            self.listening = Some(i);
        }
        if resp.drag_started() && !alt {
            self.dragging = Some(i);
            self.selected = i;
            setter.begin_set_parameter(&b.freq);
            setter.begin_set_parameter(&b.gain);
        }
        if resp.clicked() {
            self.selected = i;
        }
        if self.dragging == Some(i) {
            if let Some(pos) = resp.interact_pointer_pos() {
                setter.set_parameter(&b.freq, f_of(rect, pos.x));
                if s.kind.has_gain() {
                    setter.set_parameter(&b.gain, db_of_y(rect, pos.y, range));
                }
            }
            if resp.drag_stopped() {
                setter.end_set_parameter(&b.gain);
                setter.end_set_parameter(&b.freq);
                self.dragging = None;
            }
        }
        if resp.hovered() {
            // One gesture per wheel step: up narrows (raises Q), down widens.
            let wheel: f32 = ui.input(|inp| {
                inp.raw
                    .events
                    .iter()
                    .map(|e| match e {
                        egui::Event::MouseWheel { delta, unit, .. } => {
                            delta.y
                                * match unit {
                                    egui::MouseWheelUnit::Point => 1.0,
                                    egui::MouseWheelUnit::Line => 40.0,
                                    egui::MouseWheelUnit::Page => 400.0,
                                }
                        }
                        _ => 0.0,
                    })
                    .sum()
            });
            if wheel != 0.0 {
                let q = (s.q * 2f32.powf(wheel / 200.0)).clamp(0.1, 18.0);
                set(setter, &b.q, q);
                self.selected = i;
            }
        }
        if resp.double_clicked() {
            for p in [&b.freq, &b.gain, &b.q] {
                set(setter, p, p.default_plain_value());
            }
        }
        resp.context_menu(|ui| {
            let mut on = b.enabled.value();
            if ui.checkbox(&mut on, "On").changed() {
                set(setter, &b.enabled, on);
            }
            choice(ui, setter, &b.kind);
            choice(ui, setter, &b.slope);
            choice(ui, setter, &b.placement);
            choice(ui, setter, &b.source);
            choice(ui, setter, &b.dynamics);
        });
        // The handle; a dynamic band also shows where its gain is right now.
        let on = b.enabled.value();
        let color = band_color(i, on);
        let live = band_gain_db.get(i).copied().unwrap_or(0.0);
        if on && live.abs() > 0.05 && s.kind.has_gain() {
            let now = egui::pos2(c.x, y_eq(rect, s.gain_db + live, range));
            p.line_segment([c, now], egui::Stroke::new(2.0, color));
            p.circle_filled(now, 3.0, color);
        }
        p.circle(
            c,
            if self.selected == i { 8.0 } else { 6.0 },
            color.gamma_multiply(0.35),
            egui::Stroke::new(1.5, color),
        );
        p.text(
            c,
            egui::Align2::CENTER_CENTER,
            format!("{}", i + 1),
            egui::FontId::proportional(10.0),
            egui::Color32::WHITE,
        );
    }
}
