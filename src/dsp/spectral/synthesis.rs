//! The gain curve becomes a filter: the real cepstrum of the log magnitude on the
//! [`SYN_N`]/2+1-bin grid, folded onto positive quefrencies and exponentiated, gives the
//! minimum-phase FIR (A. V. Oppenheim, R. W. Schafer, "Discrete-Time Signal Processing",
//! 3rd ed., sec. 13.8), truncated to [`FIR_LEN`] taps with a raised-cosine tail and handed
//! to the partitioned FIR.

use realfft::num_complex::Complex;

use super::super::fast_math;
use super::super::simd::{Isa, Kernel};
use super::{SpectralDynamics, BLOCK, FIR_LEN, RESYNTH_DB, SYN_N};

impl SpectralDynamics {
    /// Builds the minimum-phase FIR for the current gains into the idle filter slot. Returns
    /// false (and builds nothing) when no gain moved by more than [`RESYNTH_DB`].
    pub(super) fn synthesise(&mut self) -> bool {
        struct Synthesise<'a>(&'a mut SpectralDynamics);
        impl Kernel for Synthesise<'_> {
            type Output = bool;
            #[inline(always)]
            fn run<I: Isa>(self) -> bool {
                self.0.synthesise_impl()
            }
        }
        self.simd.run(Synthesise(self))
    }

    #[inline(always)]
    fn synthesise_impl(&mut self) -> bool {
        let half = SYN_N / 2;
        let moved = self
            .gain_db
            .iter()
            .zip(&self.synth_db)
            .any(|(g, s)| (g - s).abs() > RESYNTH_DB);
        if !moved {
            return false;
        }
        self.synth_db.copy_from_slice(&self.gain_db);
        // Real cepstrum of the log magnitude (natural log).
        let ln = std::f32::consts::LN_10 / 20.0;
        for (z, g) in self.s_spec.iter_mut().zip(&self.synth_db) {
            *z = Complex::new(g * ln, 0.0);
        }
        let _ = self.s_inv.process_with_scratch(
            &mut self.s_spec,
            &mut self.s_time,
            &mut self.s_scratch,
        );
        // Fold onto positive quefrencies (and undo the inverse FFT's factor N).
        let scale = 1.0 / SYN_N as f32;
        let (low, high) = self.s_time.split_at_mut(half);
        low[0] *= scale;
        for v in &mut low[1..] {
            *v *= 2.0 * scale;
        }
        high[0] *= scale;
        high[1..].fill(0.0);
        let _ = self.s_fwd.process_with_scratch(
            &mut self.s_time,
            &mut self.s_spec,
            &mut self.s_scratch,
        );
        for z in self.s_spec.iter_mut() {
            let (sin, cos) = fast_math::sin_cos(z.im);
            let m = fast_math::exp(z.re);
            *z = Complex::new(m * cos, m * sin);
        }
        self.s_spec[0].im = 0.0;
        self.s_spec[half].im = 0.0;
        let _ = self.s_inv.process_with_scratch(
            &mut self.s_spec,
            &mut self.s_time,
            &mut self.s_scratch,
        );
        // h = s_time / N, truncated to FIR_LEN taps with a short raised-cosine tail.
        for v in &mut self.s_time[..FIR_LEN] {
            *v *= scale;
        }
        for (v, w) in self.s_time[FIR_LEN - BLOCK..FIR_LEN]
            .iter_mut()
            .zip(&self.taper)
        {
            *v *= w;
        }
        self.fir.load(&self.s_time[..FIR_LEN]);
        true
    }
}
