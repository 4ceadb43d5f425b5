//! The static curve of a downward gain computer with a soft knee, shared by the dynamic EQ's
//! bands and the spectral stage's bins.

/// Static gain change of a downward gain computer with a soft knee, dB (<= 0).
/// `level_db` is the detector level, `ratio >= 1`; the quadratic knee of D. Giannoulis,
/// M. Massberg, J. D. Reiss, "Digital Dynamic Range Compressor Design - A Tutorial and
/// Analysis", JAES 60(6), 2012, eq. 4. Written without branches (the knee part is the square
/// of the clamped overshoot, the linear part the overshoot past the knee), so that a loop of
/// them vectorises; a knee narrower than 0.001 dB counts as 0.001 dB.
#[inline(always)]
pub fn compress_db(level_db: f32, threshold_db: f32, ratio: f32, knee_db: f32) -> f32 {
    let over = level_db - threshold_db;
    let slope = 1.0 - 1.0 / ratio.max(1.0);
    let knee = knee_db.max(1e-3);
    let in_knee = (over + 0.5 * knee).max(0.0).min(knee);
    -slope * (in_knee * in_knee / (2.0 * knee) + (over - 0.5 * knee).max(0.0))
}
