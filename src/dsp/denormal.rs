//! Flush-to-zero / denormals-are-zero for the duration of a processing call.
//!
//! Subnormal floats take a slow microcode path on x86 (tens to hundreds of cycles per
//! operation) and on many ARM cores; decaying reverb tails and filter states produce them.
//! While a [`DenormalGuard`] lives, the thread flushes them to zero: on x86-64 the SSE control
//! register (MXCSR) has FTZ and DAZ set, on aarch64 the floating-point control register (FPCR)
//! has FZ set (bit 24: subnormal inputs and results of single and double precision are
//! zero, the one bit covers both of x86's). Dropping the guard restores the caller's mode. On
//! other architectures it does nothing.

/// Sets FTZ and DAZ on creation and restores the previous mode on drop. The mode belongs to
/// the thread that set it, so the guard cannot be sent to another thread (it is `!Send`).
pub struct DenormalGuard {
    #[cfg(target_arch = "x86_64")]
    saved: u32,
    #[cfg(target_arch = "aarch64")]
    saved: u64,
    _this_thread: std::marker::PhantomData<*const ()>,
}

#[cfg(target_arch = "x86_64")]
const FTZ_DAZ: u32 = (1 << 15) | (1 << 6);

/// FPCR.FZ.
#[cfg(target_arch = "aarch64")]
const FZ: u64 = 1 << 24;

impl DenormalGuard {
    /// Enables flush-to-zero until the guard is dropped.
    #[inline]
    pub fn new() -> Self {
        #[cfg(target_arch = "x86_64")]
        {
            let mut saved: u32 = 0;
            // SAFETY: stmxcsr/ldmxcsr only read and write the SSE control register, which every
            // x86-64 CPU has; the mode change is undone in `drop` on this same thread.
            unsafe {
                std::arch::asm!("stmxcsr [{}]", in(reg) &mut saved, options(nostack));
                let new = saved | FTZ_DAZ;
                std::arch::asm!("ldmxcsr [{}]", in(reg) &new, options(nostack, readonly));
            }
            Self {
                saved,
                _this_thread: std::marker::PhantomData,
            }
        }
        #[cfg(target_arch = "aarch64")]
        {
            let saved: u64;
            // SAFETY: reading and writing FPCR is allowed at EL0 on every aarch64 CPU and only
            // changes this thread's floating-point mode; `drop` restores it on this thread.
            unsafe {
                std::arch::asm!("mrs {}, fpcr", out(reg) saved, options(nomem, nostack));
                std::arch::asm!("msr fpcr, {}", in(reg) saved | FZ, options(nomem, nostack));
            }
            Self {
                saved,
                _this_thread: std::marker::PhantomData,
            }
        }
        #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
        Self {
            _this_thread: std::marker::PhantomData,
        }
    }
}

impl Default for DenormalGuard {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for DenormalGuard {
    #[inline]
    fn drop(&mut self) {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: see `new`.
        unsafe {
            std::arch::asm!("ldmxcsr [{}]", in(reg) &self.saved, options(nostack, readonly));
        }
        #[cfg(target_arch = "aarch64")]
        // SAFETY: see `new`.
        unsafe {
            std::arch::asm!("msr fpcr, {}", in(reg) self.saved, options(nomem, nostack));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
    fn flushes_subnormals_while_alive_and_restores_after() {
        // Each product from fresh opaque operands, so the compiler cannot fold or share the
        // multiplications across the mode changes (it assumes the default mode throughout).
        let product = || {
            std::hint::black_box(
                std::hint::black_box(f32::MIN_POSITIVE) * std::hint::black_box(0.5f32),
            )
        };
        assert!(product() > 0.0, "subnormal results before the guard");
        {
            let _g = DenormalGuard::new();
            assert_eq!(product(), 0.0, "flushed while the guard lives");
        }
        assert!(product() > 0.0, "the mode is restored after");
    }
}
