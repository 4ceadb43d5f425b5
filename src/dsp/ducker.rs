//! Ducking of the reverb return: the wet signal is turned down while the dry signal is loud,
//! so a vocal stays clear and the reverb blooms in the gaps.
//!
//! The key (the dry signal that feeds the reverb) is read as its peak over each
//! [`UPDATE`]-sample step of a fixed grid (so host call sizes cannot change the result). The
//! reduction is 1 dB per dB the key's peak lies above the threshold, up to the depth; it is
//! smoothed in dB by one-poles with a fixed [`ATTACK_MS`] attack and the set release (a
//! release of `r` ms recovers 63 % of the reduction in `r` ms), and the linear gain is
//! ramped across each step, so the wet signal never steps. Depth 0 is off and costs nothing.

use super::fast_math::{db_to_gain, power_db};

/// Control grid, samples.
pub const UPDATE: usize = 16;
/// Attack time constant of the reduction, ms.
pub const ATTACK_MS: f32 = 5.0;

/// How the wet signal is ducked (saved by position: append only).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DuckMode {
    /// One gain for the whole wet signal (this module).
    Broadband,
    /// Per frequency: the wet signal goes down only where the dry signal is loud now (the
    /// spectral dynamics keyed by the dry signal; wired in [`super::chain`]).
    Spectral,
}

/// The ducker's controls.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DuckSettings {
    /// Key peak level above which the wet signal is turned down, dBFS.
    pub threshold_db: f32,
    /// Largest reduction, dB (0 = off).
    pub depth_db: f32,
    /// Release time constant, ms.
    pub release_ms: f32,
    /// Broadband or spectral.
    pub mode: DuckMode,
}

impl Default for DuckSettings {
    fn default() -> Self {
        Self {
            threshold_db: -24.0,
            depth_db: 0.0,
            release_ms: 300.0,
            mode: DuckMode::Broadband,
        }
    }
}

/// A stereo ducker (linked: the louder key channel counts).
#[derive(Clone, Debug)]
pub struct Ducker {
    rate: f32,
    settings: DuckSettings,
    attack: f32,
    release: f32,
    /// Largest key magnitude in the current step.
    peak: f32,
    /// Samples left in the current step.
    countdown: usize,
    /// Smoothed reduction, dB (>= 0).
    reduction_db: f32,
    /// Gain applied to the next sample, its per-sample step and the step's end value.
    gain: f32,
    step: f32,
    target: f32,
}

impl Ducker {
    /// A ducker at `rate` Hz (no reduction).
    pub fn new(rate: f32, settings: &DuckSettings) -> Self {
        let mut d = Self {
            rate,
            settings: *settings,
            attack: 1.0,
            release: 1.0,
            peak: 0.0,
            countdown: UPDATE,
            reduction_db: 0.0,
            gain: 1.0,
            step: 0.0,
            target: 1.0,
        };
        d.set_settings(settings);
        d
    }

    /// New controls (the reduction moves to them with its own time constants).
    pub fn set_settings(&mut self, s: &DuckSettings) {
        let per_step = UPDATE as f32 / self.rate;
        let one_pole = |ms: f32| 1.0 - (-per_step / (ms * 1e-3)).exp();
        self.settings = *s;
        self.attack = one_pole(ATTACK_MS);
        self.release = one_pole(s.release_ms.max(1.0));
    }

    /// No reduction, a fresh grid.
    pub fn reset(&mut self) {
        self.peak = 0.0;
        self.countdown = UPDATE;
        self.reduction_db = 0.0;
        self.gain = 1.0;
        self.step = 0.0;
        self.target = 1.0;
    }

    /// The current reduction, dB (>= 0; for the editor's meter).
    pub fn reduction_db(&self) -> f32 {
        self.reduction_db
    }

    /// Turns `wet` down as `key` asks (the dry signal that feeds the reverb; without one,
    /// `wet` keys itself), in place. Any length; no allocation.
    ///
    /// # Panics
    /// If the slices differ in length.
    pub fn process_keyed(&mut self, wet: &mut [&mut [f32]; 2], key: Option<[&[f32]; 2]>) {
        let n = super::keyed_len(wet, key);
        if self.settings.depth_db <= 0.0 && self.gain == 1.0 && self.target == 1.0 {
            self.reduction_db = 0.0;
            return;
        }
        let [w0, w1] = wet;
        let mut pos = 0;
        while pos < n {
            let m = self.countdown.min(n - pos);
            for i in pos..pos + m {
                let (a, b) = match key {
                    Some([k0, k1]) => (k0[i], k1[i]),
                    None => (w0[i], w1[i]),
                };
                self.peak = self.peak.max(a.abs()).max(b.abs());
                w0[i] *= self.gain;
                w1[i] *= self.gain;
                self.gain += self.step;
            }
            self.countdown -= m;
            pos += m;
            if self.countdown == 0 {
                let s = self.settings;
                let over = power_db(self.peak * self.peak) - s.threshold_db;
                let want = over.clamp(0.0, s.depth_db.max(0.0));
                let c = if want > self.reduction_db {
                    self.attack
                } else {
                    self.release
                };
                self.reduction_db += c * (want - self.reduction_db);
                if !self.reduction_db.is_finite() || self.reduction_db < 1e-3 {
                    self.reduction_db = 0.0;
                }
                self.gain = self.target;
                self.target = if self.reduction_db == 0.0 {
                    1.0
                } else {
                    db_to_gain(-self.reduction_db)
                };
                self.step = (self.target - self.gain) / UPDATE as f32;
                self.peak = 0.0;
                self.countdown = UPDATE;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dsp::test_util;

    const RATE: f32 = 48_000.0;

    /// Ducks a constant wet signal of 1 behind a key that is a `burst` s 1 kHz sine at
    /// -6 dBFS between 0.5 s of silence and `after` s of silence; returns the wet gain per
    /// sample, in calls of `calls`.
    fn trace(s: &DuckSettings, burst: f64, after: f64, calls: &[usize]) -> Vec<f32> {
        let pre = (0.5 * RATE as f64) as usize;
        let on = (burst * RATE as f64) as usize;
        let len = pre + on + (after * RATE as f64) as usize;
        let mut key = vec![0.0f32; len];
        key[pre..pre + on].copy_from_slice(&test_util::sine(1000.0, 0.5, on, 0, RATE));
        let mut wet = [vec![1.0f32; len], vec![1.0f32; len]];
        let mut d = Ducker::new(RATE, s);
        let (mut pos, mut k) = (0, 0);
        let [w0, w1] = &mut wet;
        while pos < len {
            let n = calls[k % calls.len()].min(len - pos);
            d.process_keyed(
                &mut [&mut w0[pos..pos + n], &mut w1[pos..pos + n]],
                Some([&key[pos..pos + n], &key[pos..pos + n]]),
            );
            pos += n;
            k += 1;
        }
        assert_eq!(wet[0], wet[1]);
        wet[0].clone()
    }

    #[test]
    fn a_burst_ducks_by_the_depth_and_recovers_in_the_release_time() {
        for (depth, release) in [(12.0f32, 300.0f32), (24.0, 80.0), (6.0, 1500.0)] {
            let s = DuckSettings {
                threshold_db: -30.0,
                depth_db: depth,
                release_ms: release,
                mode: DuckMode::Broadband,
            };
            let after = (12.0 * release as f64 * 1e-3).max(1.0);
            let g = trace(&s, 1.0, after, &[64]);
            let db = |v: f32| 20.0 * v.log10();
            let pre = (0.5 * RATE) as usize;
            let end = pre + RATE as usize;
            // Before the burst: untouched. During its second half: the depth within 10 %.
            assert!(g[..pre].iter().all(|&v| v == 1.0));
            for &v in &g[pre + 24_000..end] {
                assert!(
                    (db(v) + depth).abs() <= 0.1 * depth,
                    "{depth} dB: {}",
                    db(v)
                );
            }
            // Recovery: 63 % of the reduction back within 10 % of the release time.
            let start = -db(g[end - 1]);
            let t = g[end..]
                .iter()
                .position(|&v| -db(v) <= start * (1.0 - 0.632))
                .expect("recovers") as f32
                / RATE
                * 1e3;
            assert!(
                (t / release - 1.0).abs() <= 0.1,
                "release {release} ms: recovered in {t} ms"
            );
            // Fully recovered: unity, exactly.
            assert_eq!(*g.last().unwrap(), 1.0);
            // The gain never steps: at most one step's share of the depth per sample.
            let jump = g
                .windows(2)
                .map(|w| (w[1] - w[0]).abs())
                .fold(0.0, f32::max);
            assert!(jump < 1.0 / UPDATE as f32 * 0.25, "{depth} dB: jump {jump}");
        }
    }

    #[test]
    fn quiet_keys_and_zero_depth_leave_the_wet_signal_alone_and_calls_do_not_matter() {
        let s = DuckSettings {
            threshold_db: -3.0,
            depth_db: 12.0,
            release_ms: 200.0,
            mode: DuckMode::Broadband,
        };
        assert!(
            trace(&s, 1.0, 0.5, &[64]).iter().all(|&v| v == 1.0),
            "below threshold"
        );
        let off = DuckSettings {
            depth_db: 0.0,
            threshold_db: -60.0,
            ..s
        };
        assert!(
            trace(&off, 1.0, 0.5, &[64]).iter().all(|&v| v == 1.0),
            "depth 0"
        );
        let on = DuckSettings {
            threshold_db: -20.0,
            ..s
        };
        assert_eq!(
            trace(&on, 0.3, 1.0, &[64]),
            trace(&on, 0.3, 1.0, &[1, 7, 300, 16, 4096])
        );
    }
}
