//! Meters: ballistics applied on the GUI thread to the peaks and sums of squares the audio
//! thread reports (peak: instant attack, a held peak marker, a constant fall-off in dB per
//! second, IEC 60268-18 style, simplified; RMS: the mean square over a 300 ms time constant;
//! a clip indicator that latches at 0 dBFS until clicked), and their drawing with a dB scale.

/// Floor of the meter scale, dBFS.
pub const FLOOR_DB: f32 = -60.0;
/// Time constant of the RMS reading, seconds.
pub const RMS_S: f32 = 0.3;

/// Ballistics state of one meter channel.
#[derive(Clone, Debug)]
pub struct MeterBallistics {
    /// Displayed level, dBFS.
    pub level_db: f32,
    /// Held peak, dBFS.
    pub hold_db: f32,
    /// Seconds the held peak has left before it starts to fall.
    hold_left_s: f32,
    /// Fall-off of the level, dB per second.
    pub falloff_db_per_s: f32,
    /// How long a new peak is held, seconds.
    pub hold_s: f32,
    /// Mean square over [`RMS_S`] (linear) and its level, dBFS.
    mean_square: f32,
    pub rms_db: f32,
    /// A peak reached 0 dBFS since the indicator was last cleared.
    pub clipped: bool,
}

impl Default for MeterBallistics {
    fn default() -> Self {
        Self {
            level_db: FLOOR_DB,
            hold_db: FLOOR_DB,
            hold_left_s: 0.0,
            falloff_db_per_s: 24.0,
            hold_s: 1.5,
            mean_square: 0.0,
            rms_db: FLOOR_DB,
            clipped: false,
        }
    }
}

impl MeterBallistics {
    /// Advances by `dt_s` seconds with the linear `peak` and the mean square seen in that time
    /// (`None`: no audio arrived; the RMS holds).
    pub fn update_with_rms(&mut self, peak: f32, mean_square: Option<f32>, dt_s: f32) {
        if let Some(ms) = mean_square.filter(|m| m.is_finite()) {
            let a = 1.0 - (-dt_s / RMS_S).exp();
            self.mean_square += a * (ms - self.mean_square);
        }
        self.rms_db = if self.mean_square > 0.0 {
            (10.0 * self.mean_square.log10()).max(FLOOR_DB)
        } else {
            FLOOR_DB
        };
        if peak >= 1.0 {
            self.clipped = true;
        }
        self.update(peak, dt_s);
    }

    /// Advances by `dt_s` seconds with the linear `peak` seen in that time.
    pub fn update(&mut self, peak: f32, dt_s: f32) {
        let db = if peak > 0.0 {
            (20.0 * peak.log10()).max(FLOOR_DB)
        } else {
            FLOOR_DB
        };
        self.level_db = (self.level_db - self.falloff_db_per_s * dt_s)
            .max(db)
            .max(FLOOR_DB);
        if db >= self.hold_db {
            self.hold_db = db;
            self.hold_left_s = self.hold_s;
        } else if self.hold_left_s > 0.0 {
            self.hold_left_s -= dt_s;
        } else {
            self.hold_db = (self.hold_db - self.falloff_db_per_s * dt_s).max(self.level_db);
        }
    }
}

/// The y of `db` on a meter of `rect`.
fn y_of(rect: egui::Rect, db: f32) -> f32 {
    rect.bottom() - rect.height() * ((db - FLOOR_DB) / -FLOOR_DB).clamp(0.0, 1.0)
}

/// A labelled group of meters (one bar per channel: RMS solid, peak lighter above it, the
/// held peak as a line), a dB scale, the clip indicators (click to clear) and the held peak
/// as a number.
pub fn group(ui: &mut egui::Ui, label: &str, meters: &mut [MeterBallistics], height: f32) {
    ui.vertical(|ui| {
        let clipped = meters.iter().any(|m| m.clipped);
        let clip = ui
            .add(
                egui::Button::new(egui::RichText::new("CLIP").small())
                    .fill(if clipped {
                        egui::Color32::from_rgb(200, 50, 40)
                    } else {
                        egui::Color32::from_gray(40)
                    })
                    .min_size(egui::vec2(40.0, 14.0)),
            )
            .on_hover_text(format!("{label}: a peak reached 0 dBFS (click to clear)"));
        if clip.clicked() {
            for m in meters.iter_mut() {
                m.clipped = false;
            }
        }
        ui.horizontal(|ui| {
            let (scale, _) = ui.allocate_exact_size(egui::vec2(18.0, height), egui::Sense::hover());
            let p = ui.painter();
            for db in [0.0, -6.0, -12.0, -24.0, -36.0, -48.0, -60.0] {
                p.text(
                    egui::pos2(scale.right() - 1.0, y_of(scale, db)),
                    egui::Align2::RIGHT_CENTER,
                    format!("{}", -db),
                    egui::FontId::proportional(8.5),
                    egui::Color32::from_gray(120),
                );
            }
            for m in meters.iter() {
                let (rect, _) =
                    ui.allocate_exact_size(egui::vec2(10.0, height), egui::Sense::hover());
                let p = ui.painter();
                p.rect_filled(rect, 2.0, egui::Color32::from_gray(30));
                let color = |db: f32| {
                    if db > -0.1 {
                        egui::Color32::from_rgb(230, 70, 60)
                    } else if db > -12.0 {
                        egui::Color32::from_rgb(230, 200, 70)
                    } else {
                        egui::Color32::from_rgb(90, 200, 120)
                    }
                };
                let bar = |db: f32| {
                    egui::Rect::from_min_max(egui::pos2(rect.left(), y_of(rect, db)), rect.max)
                };
                p.rect_filled(bar(m.level_db), 2.0, color(m.level_db).gamma_multiply(0.45));
                p.rect_filled(bar(m.rms_db), 2.0, color(m.rms_db));
                let hold = y_of(rect, m.hold_db);
                p.line_segment(
                    [
                        egui::pos2(rect.left(), hold),
                        egui::pos2(rect.right(), hold),
                    ],
                    egui::Stroke::new(2.0, egui::Color32::WHITE),
                );
            }
        });
        ui.label(label);
        let hold = meters.iter().map(|b| b.hold_db).fold(FLOOR_DB, f32::max);
        ui.label(
            egui::RichText::new(if hold <= FLOOR_DB {
                "-inf".to_string()
            } else {
                format!("{hold:.1}")
            })
            .small(),
        );
    });
}

/// A gain-reduction meter: a bar down from the top, `reduction_db` (>= 0) on a 0..24 dB scale.
pub fn reduction(ui: &mut egui::Ui, label: &str, reduction_db: f32, height: f32) {
    ui.vertical(|ui| {
        ui.add_space(18.0);
        let (rect, resp) = ui.allocate_exact_size(egui::vec2(10.0, height), egui::Sense::hover());
        resp.on_hover_text(format!("{label}: {reduction_db:.1} dB of gain reduction"));
        let p = ui.painter();
        p.rect_filled(rect, 2.0, egui::Color32::from_gray(30));
        let frac = (reduction_db / 24.0).clamp(0.0, 1.0);
        p.rect_filled(
            egui::Rect::from_min_max(
                rect.min,
                egui::pos2(rect.right(), rect.top() + rect.height() * frac),
            ),
            2.0,
            egui::Color32::from_rgb(240, 140, 60),
        );
        for db in [6.0f32, 12.0, 18.0] {
            let y = rect.top() + rect.height() * db / 24.0;
            p.line_segment(
                [egui::pos2(rect.left(), y), egui::pos2(rect.right(), y)],
                egui::Stroke::new(1.0, egui::Color32::from_gray(70)),
            );
        }
        ui.add(egui::Label::new(egui::RichText::new(label).small()).extend());
        ui.add(
            egui::Label::new(egui::RichText::new(format!("-{reduction_db:.1}")).small()).extend(),
        );
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rms_reads_a_sine_3_db_under_its_peak_and_clips_latch() {
        let mut m = MeterBallistics::default();
        // A -6 dBFS sine: peak 0.5, mean square 0.125, for 2 s of 60 frames per second.
        for _ in 0..120 {
            m.update_with_rms(0.5, Some(0.125), 1.0 / 60.0);
        }
        assert!((m.level_db + 6.02).abs() < 0.05);
        assert!((m.rms_db + 9.03).abs() < 0.05, "RMS {}", m.rms_db);
        assert!(!m.clipped);
        // One frame at 0 dBFS latches the clip indicator; silence does not clear it.
        m.update_with_rms(1.0, Some(0.5), 1.0 / 60.0);
        for _ in 0..120 {
            m.update_with_rms(0.0, Some(0.0), 1.0 / 60.0);
        }
        assert!(m.clipped);
        // No audio (a stopped transport): the RMS holds.
        let before = m.rms_db;
        m.update_with_rms(0.0, None, 1.0);
        assert_eq!(m.rms_db, before);
    }

    #[test]
    fn attack_is_instant_falloff_and_hold_are_timed() {
        let mut m = MeterBallistics::default();
        m.update(1.0, 0.01);
        assert!((m.level_db - 0.0).abs() < 1e-6);
        for _ in 0..50 {
            m.update(0.0, 0.02); // one second of silence
        }
        assert!(
            (m.level_db + 24.0).abs() < 0.01,
            "falls 24 dB in 1 s: {}",
            m.level_db
        );
        assert_eq!(m.hold_db, 0.0, "peak still held after 1 s");
        for _ in 0..50 {
            m.update(0.0, 0.02);
        }
        assert!(
            m.hold_db < 0.0 && m.hold_db >= m.level_db,
            "hold falls after 1.5 s"
        );
    }
}
