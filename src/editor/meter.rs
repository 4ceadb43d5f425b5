//! Peak meter ballistics, applied on the GUI thread to the peaks the audio thread reports:
//! instant attack, a held peak marker, and a constant fall-off in dB per second
//! (IEC 60268-18 style "peak programme" behaviour, simplified).

/// Floor of the meter scale, dBFS.
pub const FLOOR_DB: f32 = -60.0;

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
}

impl Default for MeterBallistics {
    fn default() -> Self {
        Self {
            level_db: FLOOR_DB,
            hold_db: FLOOR_DB,
            hold_left_s: 0.0,
            falloff_db_per_s: 24.0,
            hold_s: 1.5,
        }
    }
}

impl MeterBallistics {
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

#[cfg(test)]
mod tests {
    use super::*;

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
