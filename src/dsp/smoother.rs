//! Linear parameter ramps: a new target is reached in a fixed time, sample by sample, so
//! automation never steps (zipper noise) and the result does not depend on block sizes.

/// A linear ramp toward a target value over a fixed number of samples.
#[derive(Clone, Debug)]
pub struct Smoother {
    current: f32,
    target: f32,
    step: f32,
    remaining: u32,
    /// Ramp length, in samples.
    ramp_samples: u32,
}

impl Smoother {
    /// A smoother at `value` whose ramps last `ramp_ms` milliseconds at `sample_rate` Hz.
    pub fn new(value: f32, ramp_ms: f32, sample_rate: f32) -> Self {
        Self {
            current: value,
            target: value,
            step: 0.0,
            remaining: 0,
            ramp_samples: ((ramp_ms * 1e-3 * sample_rate).round() as u32).max(1),
        }
    }

    /// Starts a ramp to `target` unless it is already the target.
    #[inline]
    pub fn set_target(&mut self, target: f32) {
        if target != self.target {
            self.target = target;
            self.remaining = self.ramp_samples;
            self.step = (target - self.current) / self.ramp_samples as f32;
        }
    }

    /// Jumps to `value` (on reset, or when the host loads a state while stopped).
    pub fn reset(&mut self, value: f32) {
        self.current = value;
        self.target = value;
        self.remaining = 0;
    }

    /// The next value.
    #[inline]
    #[allow(clippy::should_implement_trait)] // a ramp that never ends, not an iterator
    pub fn next(&mut self) -> f32 {
        if self.remaining > 0 {
            self.remaining -= 1;
            self.current = if self.remaining == 0 {
                self.target
            } else {
                self.current + self.step
            };
        }
        self.current
    }

    /// Advances `n` samples at once: the value is that of the ramp's position, not of `n`
    /// accumulated steps, so skipping in any split lands on the same value.
    #[inline]
    pub fn skip(&mut self, n: usize) {
        if self.remaining > 0 {
            self.remaining = self
                .remaining
                .saturating_sub(n.min(u32::MAX as usize) as u32);
            self.current = if self.remaining == 0 {
                self.target
            } else {
                self.target - self.step * self.remaining as f32
            };
        }
    }

    /// Whether a ramp is in progress.
    pub fn is_smoothing(&self) -> bool {
        self.remaining > 0
    }

    /// The value most recently returned by [`Smoother::next`].
    pub fn current(&self) -> f32 {
        self.current
    }

    /// The target value.
    pub fn target(&self) -> f32 {
        self.target
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ramps_linearly_and_lands_exactly() {
        let mut s = Smoother::new(0.0, 1.0, 1000.0); // 1 sample per ms -> 1 sample ramp
        s.set_target(1.0);
        assert_eq!(s.next(), 1.0);
        let mut s = Smoother::new(0.0, 10.0, 1000.0);
        s.set_target(1.0);
        let v: Vec<f32> = (0..12).map(|_| s.next()).collect();
        for w in v.windows(2).take(9) {
            assert!((w[1] - w[0] - 0.1).abs() < 1e-6);
        }
        assert_eq!(v[9], 1.0);
        assert_eq!(v[11], 1.0);
        assert!(!s.is_smoothing());
    }

    #[test]
    fn skipping_follows_the_ramp_in_any_split() {
        let mut stepped = Smoother::new(0.0, 10.0, 1000.0);
        stepped.set_target(3.0);
        let values: Vec<f32> = (0..12).map(|_| stepped.next()).collect();
        for split in [
            &[1usize, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1][..],
            &[3, 4, 5],
            &[12],
            &[7, 5],
        ] {
            let mut s = Smoother::new(0.0, 10.0, 1000.0);
            s.set_target(3.0);
            let mut at = 0;
            for &n in split {
                s.skip(n);
                at += n;
                assert!(
                    (s.current() - values[at - 1]).abs() < 1e-5,
                    "{split:?} at {at}"
                );
            }
            assert_eq!(s.current(), 3.0);
            assert!(!s.is_smoothing());
        }
    }
}
