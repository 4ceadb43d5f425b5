//! A least-squares straight line through points added one at a time: the slope of a decay
//! curve in dB against time (T30 and its kin, ISO 3382-1), shared by the decay measures, the
//! band decay and the tests.

/// Running sums of a least-squares line fit.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct LineFit {
    sx: f64,
    sy: f64,
    sxx: f64,
    sxy: f64,
    n: f64,
}

impl LineFit {
    /// Adds the point `(x, y)`.
    pub fn add(&mut self, x: f64, y: f64) {
        self.sx += x;
        self.sy += y;
        self.sxx += x * x;
        self.sxy += x * y;
        self.n += 1.0;
    }

    /// Number of points added.
    pub fn count(&self) -> usize {
        self.n as usize
    }

    /// The line's slope (NaN with fewer than two distinct `x`).
    pub fn slope(&self) -> f64 {
        (self.n * self.sxy - self.sx * self.sy) / (self.n * self.sxx - self.sx * self.sx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_slope_of_points_on_a_line_and_around_it() {
        let mut f = LineFit::default();
        for i in 0..10 {
            f.add(i as f64, 3.0 - 2.5 * i as f64);
        }
        assert_eq!(f.count(), 10);
        assert!((f.slope() + 2.5).abs() < 1e-12);
        // Symmetric noise about the line leaves the slope.
        let mut g = LineFit::default();
        for (x, y) in [(0.0, 1.0), (0.0, -1.0), (1.0, 3.0), (1.0, 1.0)] {
            g.add(x, y);
        }
        assert!((g.slope() - 2.0).abs() < 1e-12);
        assert!(LineFit::default().slope().is_nan());
    }
}
