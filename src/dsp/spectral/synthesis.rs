//! The gain curve becomes a filter: the real cepstrum of the log magnitude on the
//! [`SYN_N`]/2+1-bin grid, folded onto positive quefrencies and exponentiated, gives the
//! minimum-phase FIR (A. V. Oppenheim, R. W. Schafer, "Discrete-Time Signal Processing",
//! 3rd ed., sec. 13.8), truncated to [`FIR_LEN`] taps with a raised-cosine tail.

use std::sync::Arc;

use realfft::num_complex::Complex;
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};

use super::super::fast_math;
use super::super::simd::{Isa, Kernel, SimdLevel};
use super::{BLOCK, FIR_LEN, RESYNTH_DB, SYN_N};

/// Designs minimum-phase FIRs from gain curves (dB on [`SYN_N`]/2+1 bins).
pub struct MinPhase {
    inv: Arc<dyn ComplexToReal<f32>>,
    fwd: Arc<dyn RealToComplex<f32>>,
    spec: Vec<Complex<f32>>,
    time: Vec<f32>,
    scratch: Vec<Complex<f32>>,
    /// The gains of the filter last designed, dB.
    gains_db: Vec<f32>,
    /// Raised-cosine fade over the FIR's last [`BLOCK`] taps.
    taper: Vec<f32>,
}

impl MinPhase {
    /// A designer whose last filter is the identity. Allocates and plans the FFTs.
    pub fn new() -> Self {
        let mut planner = RealFftPlanner::<f32>::new();
        let inv = planner.plan_fft_inverse(SYN_N);
        let fwd = planner.plan_fft_forward(SYN_N);
        let scratch = inv.get_scratch_len().max(fwd.get_scratch_len());
        Self {
            spec: fwd.make_output_vec(),
            time: fwd.make_input_vec(),
            inv,
            fwd,
            scratch: vec![Complex::default(); scratch],
            gains_db: vec![0.0; SYN_N / 2 + 1],
            taper: (0..BLOCK)
                .map(|n| 0.5 * (1.0 + (std::f32::consts::PI * n as f32 / BLOCK as f32).cos()))
                .collect(),
        }
    }

    /// Forgets the last design (the next one is made unless every gain is 0 dB).
    pub fn reset(&mut self) {
        self.gains_db.fill(0.0);
    }

    /// The [`FIR_LEN`] taps for `gains_db` ([`SYN_N`]/2+1 values), or `None` (and no work)
    /// when no gain moved by more than [`RESYNTH_DB`] since the last design.
    pub fn design(&mut self, level: SimdLevel, gains_db: &[f32]) -> Option<&[f32]> {
        struct Design<'a>(&'a mut MinPhase, &'a [f32]);
        impl Kernel for Design<'_> {
            type Output = bool;
            #[inline(always)]
            fn run<I: Isa>(self) -> bool {
                self.0.design_impl(self.1)
            }
        }
        level
            .run(Design(self, gains_db))
            .then(|| &self.time[..FIR_LEN])
    }

    #[inline(always)]
    fn design_impl(&mut self, gains_db: &[f32]) -> bool {
        let half = SYN_N / 2;
        let moved = gains_db
            .iter()
            .zip(&self.gains_db)
            .any(|(g, s)| (g - s).abs() > RESYNTH_DB);
        if !moved {
            return false;
        }
        self.gains_db.copy_from_slice(gains_db);
        // Real cepstrum of the log magnitude (natural log).
        let ln = std::f32::consts::LN_10 / 20.0;
        for (z, g) in self.spec.iter_mut().zip(&self.gains_db) {
            *z = Complex::new(g * ln, 0.0);
        }
        let _ = self
            .inv
            .process_with_scratch(&mut self.spec, &mut self.time, &mut self.scratch);
        // Fold onto positive quefrencies (and undo the inverse FFT's factor N).
        let scale = 1.0 / SYN_N as f32;
        let (low, high) = self.time.split_at_mut(half);
        low[0] *= scale;
        for v in &mut low[1..] {
            *v *= 2.0 * scale;
        }
        high[0] *= scale;
        high[1..].fill(0.0);
        let _ = self
            .fwd
            .process_with_scratch(&mut self.time, &mut self.spec, &mut self.scratch);
        for z in self.spec.iter_mut() {
            let (sin, cos) = fast_math::sin_cos(z.im);
            let m = fast_math::exp(z.re);
            *z = Complex::new(m * cos, m * sin);
        }
        self.spec[0].im = 0.0;
        self.spec[half].im = 0.0;
        let _ = self
            .inv
            .process_with_scratch(&mut self.spec, &mut self.time, &mut self.scratch);
        // h = s_time / N, truncated to FIR_LEN taps with a short raised-cosine tail.
        for v in &mut self.time[..FIR_LEN] {
            *v *= scale;
        }
        for (v, w) in self.time[FIR_LEN - BLOCK..FIR_LEN]
            .iter_mut()
            .zip(&self.taper)
        {
            *v *= w;
        }
        true
    }
}

impl Default for MinPhase {
    fn default() -> Self {
        Self::new()
    }
}
