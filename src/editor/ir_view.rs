//! The impulse response as it plays (after the edits): its level on a dB scale, its energy
//! decay curve (Schroeder backward integration), the pre-delay, the envelope's attack and
//! hold and the early/late split drawn on it, and the source with the part that was kept.

use crate::loader::IrStatus;

/// Level range of the view, dB re the IR's peak.
const RANGE_DB: f32 = 72.0;
/// Margins: left (dB labels), bottom (time labels and the source bar).
const MARGIN: (f32, f32) = (30.0, 26.0);

/// A tick step (seconds) that puts about six labels on `seconds`.
fn time_step(seconds: f32) -> f32 {
    let raw = (seconds / 6.0).max(1e-3);
    let decade = 10f32.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * decade)
        .find(|s| *s >= raw * 0.999)
        .unwrap_or(10.0 * decade)
}

/// Draws the view at the available width, `height` points tall, and the decay readout under
/// it.
pub fn show(ui: &mut egui::Ui, st: &IrStatus, width: f32, height: f32) {
    let (outer, resp) = ui.allocate_exact_size(egui::vec2(width, height), egui::Sense::hover());
    resp.widget_info(|| {
        egui::WidgetInfo::labeled(egui::Role::Image, true, "Impulse response view")
    });
    let p = ui.painter_at(outer);
    p.rect_filled(outer, 3.0, egui::Color32::from_gray(22));
    let rect = egui::Rect::from_min_max(
        outer.min + egui::vec2(MARGIN.0, 4.0),
        outer.max - egui::vec2(4.0, MARGIN.1),
    );
    let font = egui::FontId::proportional(9.5);
    let label = egui::Color32::from_gray(120);
    let y_db = |db: f32| rect.top() + rect.height() * (-db / RANGE_DB).clamp(0.0, 1.0);
    for db in [0.0, -24.0, -48.0, -72.0] {
        let y = y_db(db);
        p.line_segment(
            [egui::pos2(rect.left(), y), egui::pos2(rect.right(), y)],
            egui::Stroke::new(1.0, egui::Color32::from_gray(40)),
        );
        p.text(
            egui::pos2(rect.left() - 4.0, y),
            egui::Align2::RIGHT_CENTER,
            format!("{db}"),
            font.clone(),
            label,
        );
    }
    let secs = st.seconds.max(1e-3);
    let x_t = |t: f32| rect.left() + rect.width() * (t / secs).clamp(0.0, 1.0);
    let step = time_step(secs);
    let mut t = 0.0;
    while t <= secs + 1e-6 {
        let x = x_t(t);
        p.line_segment(
            [egui::pos2(x, rect.top()), egui::pos2(x, rect.bottom())],
            egui::Stroke::new(1.0, egui::Color32::from_gray(36)),
        );
        let text = if step < 1.0 {
            format!("{:.0} ms", t * 1e3)
        } else {
            format!("{t:.0} s")
        };
        p.text(
            egui::pos2(x + 2.0, rect.bottom() + 1.0),
            egui::Align2::LEFT_TOP,
            text,
            font.clone(),
            label,
        );
        t += step;
    }
    if st.overview.is_empty() {
        return;
    }
    // Pre-delay, attack and hold.
    let shade = |from: f32, to: f32, color: egui::Color32| {
        if to > from {
            p.rect_filled(
                egui::Rect::from_min_max(
                    egui::pos2(x_t(from), rect.top()),
                    egui::pos2(x_t(to), rect.bottom()),
                ),
                0.0,
                color,
            );
        }
    };
    let pre = st.predelay_seconds;
    shade(
        0.0,
        pre,
        egui::Color32::from_rgba_unmultiplied(90, 120, 200, 40),
    );
    shade(
        pre,
        pre + st.attack_seconds,
        egui::Color32::from_rgba_unmultiplied(120, 200, 120, 30),
    );
    // Level per column, dB re the peak.
    let peak = st
        .overview
        .iter()
        .map(|m| m[0].abs().max(m[1].abs()))
        .fold(1e-9f32, f32::max);
    let n = st.overview.len() as f32;
    let color = egui::Color32::from_rgb(90, 160, 220);
    for (i, m) in st.overview.iter().enumerate() {
        let x = rect.left() + rect.width() * (i as f32 + 0.5) / n;
        let level = m[0].abs().max(m[1].abs()) / peak;
        let db = 20.0 * level.max(1e-9).log10();
        p.line_segment(
            [egui::pos2(x, rect.bottom()), egui::pos2(x, y_db(db))],
            egui::Stroke::new(1.0, color.gamma_multiply(0.7)),
        );
    }
    // Energy decay curve.
    let edc: Vec<egui::Pos2> = st
        .decay
        .edc_db
        .iter()
        .enumerate()
        .map(|(i, db)| {
            egui::pos2(
                rect.left() + rect.width() * i as f32 / st.decay.edc_db.len().max(1) as f32,
                y_db(*db),
            )
        })
        .collect();
    p.add(egui::Shape::line(
        edc,
        egui::Stroke::new(1.5, egui::Color32::from_rgb(235, 200, 90)),
    ));
    // Hold and split markers.
    let marker = |t: f32, text: &str, color: egui::Color32| {
        if t > 0.0 && t < secs {
            let x = x_t(t);
            p.line_segment(
                [egui::pos2(x, rect.top()), egui::pos2(x, rect.bottom())],
                egui::Stroke::new(1.0, color),
            );
            p.text(
                egui::pos2(x + 3.0, rect.top() + 2.0),
                egui::Align2::LEFT_TOP,
                text,
                font.clone(),
                color,
            );
        }
    };
    if st.hold_seconds > 0.0 {
        marker(
            pre + st.hold_seconds,
            "hold",
            egui::Color32::from_rgb(150, 210, 150),
        );
    }
    marker(
        st.split_seconds,
        "early | late",
        egui::Color32::from_rgb(220, 150, 220),
    );
    // Source bar: the whole (stretched, reversed) source, the kept part highlighted.
    let bar = egui::Rect::from_min_max(
        egui::pos2(rect.left(), outer.bottom() - 7.0),
        egui::pos2(rect.right(), outer.bottom() - 2.0),
    );
    p.rect_filled(bar, 2.0, egui::Color32::from_gray(60));
    let kept = egui::Rect::from_min_max(
        egui::pos2(bar.left() + bar.width() * st.kept.0, bar.top()),
        egui::pos2(bar.left() + bar.width() * st.kept.1, bar.bottom()),
    );
    p.rect_filled(kept, 2.0, egui::Color32::from_rgb(200, 170, 80));
    let secs_text = |v: Option<f32>| v.map_or("-".to_string(), |s| format!("{s:.2} s"));
    ui.label(
        egui::RichText::new(format!(
            "Decay: T30 {}   T60 {}   early/late split at {:.0} ms   (level: blue, energy decay: yellow)",
            secs_text(st.decay.t30_s),
            secs_text(st.decay.t60_s),
            (st.split_seconds - pre) * 1e3
        ))
        .small(),
    );
}

#[cfg(test)]
mod tests {
    use super::time_step;

    #[test]
    fn time_ticks_are_round_and_about_six() {
        for (secs, want) in [(0.3, 0.05), (1.6, 0.5), (4.0, 1.0), (7.5, 2.0), (20.0, 5.0)] {
            assert!(
                (time_step(secs) - want).abs() < 1e-6,
                "{secs}: {}",
                time_step(secs)
            );
        }
    }
}
