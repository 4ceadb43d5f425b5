//! Learn for the spectral dynamics: from a few seconds of a material's spectrum, the threshold
//! curve (a level at 1 kHz and a tilt in dB per octave, as
//! [`super::spectral::SpectralDynamics::threshold_at`] draws it) that sits a chosen
//! distance below the material's average spectrum.
//!
//! Frames are averaged as powers (so loud moments count as loud); the curve is the
//! least-squares line through the average level in dB against `log2(f / 1 kHz)` over
//! [`LOW_HZ`]..[`HIGH_HZ`], points below [`FLOOR_DB`] ignored, lowered by the distance.

/// Lowest frequency the fit looks at, Hz.
pub const LOW_HZ: f32 = 50.0;
/// Highest frequency the fit looks at, Hz.
pub const HIGH_HZ: f32 = 15_000.0;
/// Levels at or below this are silence and do not count, dBFS.
pub const FLOOR_DB: f32 = -100.0;

/// The power mean of spectrum frames, point by point.
#[derive(Clone, Debug, Default)]
pub struct SpectrumAverage {
    power: Vec<f64>,
    frames: usize,
}

impl SpectrumAverage {
    /// An empty average of frames of `points` levels.
    pub fn new(points: usize) -> Self {
        Self {
            power: vec![0.0; points],
            frames: 0,
        }
    }

    /// Adds a frame of levels in dB (one per point; extra points are ignored).
    pub fn add(&mut self, level_db: &[f32]) {
        for (p, l) in self.power.iter_mut().zip(level_db) {
            if l.is_finite() {
                *p += 10f64.powf(*l as f64 / 10.0);
            }
        }
        self.frames += 1;
    }

    /// Frames added so far.
    pub fn frames(&self) -> usize {
        self.frames
    }

    /// The average level of each point, dB ([`FLOOR_DB`] where nothing was heard).
    pub fn mean_db(&self) -> Vec<f32> {
        self.power
            .iter()
            .map(|p| {
                let m = p / self.frames.max(1) as f64;
                if m > 0.0 {
                    ((10.0 * m.log10()) as f32).max(FLOOR_DB)
                } else {
                    FLOOR_DB
                }
            })
            .collect()
    }
}

/// A threshold curve.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Curve {
    /// Level at 1 kHz, dBFS.
    pub threshold_db: f32,
    /// Slope, dB per octave.
    pub tilt_db: f32,
}

/// The curve `distance_db` below the least-squares line through `level_db` (at `freqs_hz`)
/// over [`LOW_HZ`]..[`HIGH_HZ`]; `None` when fewer than two points there are above
/// [`FLOOR_DB`] (silence teaches nothing).
pub fn fit(freqs_hz: &[f32], level_db: &[f32], distance_db: f32) -> Option<Curve> {
    let pts: Vec<(f64, f64)> = freqs_hz
        .iter()
        .zip(level_db)
        .filter(|(f, l)| (LOW_HZ..=HIGH_HZ).contains(*f) && **l > FLOOR_DB)
        .map(|(f, l)| (((*f / 1000.0) as f64).log2(), *l as f64))
        .collect();
    if pts.len() < 2 {
        return None;
    }
    let n = pts.len() as f64;
    let (sx, sy) = pts.iter().fold((0.0, 0.0), |(a, b), (x, y)| (a + x, b + y));
    let (mx, my) = (sx / n, sy / n);
    let (sxx, sxy) = pts.iter().fold((0.0, 0.0), |(a, b), (x, y)| {
        (a + (x - mx) * (x - mx), b + (x - mx) * (y - my))
    });
    if sxx <= 0.0 {
        return None;
    }
    let slope = sxy / sxx;
    let at_1k = my - slope * mx;
    Some(Curve {
        threshold_db: (at_1k - distance_db as f64) as f32,
        tilt_db: slope as f32,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dsp::rng::Rng;

    fn log_points(n: usize) -> Vec<f32> {
        (0..n)
            .map(|i| 20.0 * 1000f32.powf(i as f32 / (n - 1) as f32))
            .collect()
    }

    #[test]
    fn the_fit_recovers_a_tilted_spectrum_and_sits_the_distance_below_it() {
        let f = log_points(256);
        let mut rng = Rng::new(3);
        for (level, tilt) in [(-30.0f32, -3.0f32), (-50.0, 1.5), (-20.0, 0.0)] {
            // The line plus +-2 dB of ripple, averaged over 200 frames.
            let mut avg = SpectrumAverage::new(f.len());
            for _ in 0..200 {
                let frame: Vec<f32> = f
                    .iter()
                    .map(|hz| level + tilt * (hz / 1000.0).log2() + 2.0 * rng.bipolar() as f32)
                    .collect();
                avg.add(&frame);
            }
            assert_eq!(avg.frames(), 200);
            let c = fit(&f, &avg.mean_db(), 6.0).unwrap();
            // The power mean of +-2 dB of uniform ripple sits above the line by
            // 10 log10((10^0.2 - 10^-0.2) / (0.4 ln 10)) = 0.153 dB.
            let lift = 10.0
                * ((10f32.powf(0.2) - 10f32.powf(-0.2)) / (0.4 * std::f32::consts::LN_10)).log10();
            assert!(
                (c.tilt_db - tilt).abs() < 0.05,
                "tilt {} vs {tilt}",
                c.tilt_db
            );
            assert!(
                (c.threshold_db - (level - 6.0 + lift)).abs() < 0.1,
                "threshold {} for {level}",
                c.threshold_db
            );
        }
    }

    #[test]
    fn silence_and_points_outside_the_range_teach_nothing() {
        let f = log_points(64);
        assert_eq!(fit(&f, &vec![FLOOR_DB; 64], 6.0), None);
        // Loud content only below 50 Hz and above 15 kHz: ignored.
        let l: Vec<f32> = f
            .iter()
            .map(|hz| {
                if (LOW_HZ..=HIGH_HZ).contains(hz) {
                    FLOOR_DB
                } else {
                    -10.0
                }
            })
            .collect();
        assert_eq!(fit(&f, &l, 6.0), None);
        let mut avg = SpectrumAverage::new(4);
        assert!(avg.mean_db().iter().all(|&v| v == FLOOR_DB), "no frames");
        avg.add(&[-20.0, f32::NAN, -20.0, -20.0]);
        avg.add(&[-20.0, -20.0, FLOOR_DB, -20.0]);
        let m = avg.mean_db();
        assert!((m[0] + 20.0).abs() < 1e-4 && (m[1] + 23.01).abs() < 0.01);
    }
}
