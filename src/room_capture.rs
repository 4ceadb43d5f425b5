//! Taking a room's impulse response with files: the sweep to play ([`write_sweep`]) and the
//! IR file made from its recording ([`capture_files`]), the renderer's `--make-sweep` and
//! `--capture`. Files go through the audio-file front ([`crate::ir_file`]); the measurement
//! itself is [`crate::dsp::sweep_capture`]. Allocates and reads files: never on the audio
//! thread.

use std::path::Path;

use crate::dsp::sweep_capture::{self, CaptureOptions, SweepSpec};
use crate::ir_file::{self, WavEncoding};

/// Peak level of a written IR, dBFS.
pub const IR_PEAK_DB: f64 = -1.0;

/// Writes the sweep `spec` describes (mono, 24-bit WAV) and returns a line describing it.
pub fn write_sweep(path: &Path, spec: &SweepSpec) -> Result<String, String> {
    spec.check()?;
    let x = spec.render();
    ir_file::write_wav_file(path, 1, spec.rate, WavEncoding::Int(24), x.iter().copied())?;
    Ok(format!(
        "{:.1} s sweep {:.0} Hz .. {:.0} Hz at {:.1} dBFS, then {:.1} s of silence, {} Hz; \
         room tails up to {:.2} s stay clear of its distortion",
        spec.seconds,
        spec.from_hz,
        spec.to_hz,
        spec.level_db,
        spec.silence_s,
        spec.rate,
        spec.clear_tail_seconds()
    ))
}

/// What a capture found.
#[derive(Clone, Debug, PartialEq)]
pub struct CaptureReport {
    /// Channels of the IR written (those of the recording).
    pub channels: usize,
    /// Its length, seconds.
    pub seconds: f64,
    /// The direct sound's delay after the sweep's start, milliseconds (removed by the trim).
    pub direct_ms: f64,
    /// Noise floor under the response's peak, dB.
    pub noise_db: f64,
    /// Gain applied so the IR peaks at [`IR_PEAK_DB`], dB.
    pub gain_db: f64,
    /// What the user should know (clipping, distortion under the start, a noisy room).
    pub warnings: Vec<String>,
}

impl std::fmt::Display for CaptureReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} channel{}, {:.2} s; direct sound {:.1} ms after the sweep's start; noise floor \
             {:.0} dB under the peak; normalised by {:+.1} dB to peak at {IR_PEAK_DB} dBFS",
            self.channels,
            if self.channels == 1 { "" } else { "s" },
            self.seconds,
            self.direct_ms,
            -self.noise_db,
            self.gain_db
        )
    }
}

/// Reads `sweep` (the file [`write_sweep`] wrote, or any exponential sweep; its first channel)
/// and `recording` (mono or stereo, at the sweep's rate, started with the sweep), and writes
/// the room's response to `out` as a 32-bit float WAV of the recording's channels.
pub fn capture_files(
    sweep: &Path,
    recording: &Path,
    out: &Path,
    options: CaptureOptions,
) -> Result<CaptureReport, String> {
    let read = |p: &Path, what: &str| {
        ir_file::load_audio(p).map_err(|e| format!("{what} {}: {e}", p.display()))
    };
    let s = read(sweep, "sweep")?;
    let r = read(recording, "recording")?;
    if s.sample_rate != r.sample_rate {
        return Err(format!(
            "the recording is at {} Hz and the sweep at {} Hz: record at the sweep's rate",
            r.sample_rate, s.sample_rate
        ));
    }
    let mut warnings = Vec::new();
    let peak_in = r
        .channels
        .iter()
        .flatten()
        .fold(0.0f32, |m, v| m.max(v.abs()));
    if peak_in >= 0.999 {
        warnings.push(
            "the recording reaches full scale (clipped): play the sweep softer or lower the \
             input gain, then record again"
                .to_string(),
        );
    }
    let got = sweep_capture::capture(&s.channels[0], &r.channels, s.sample_rate, options)?;
    let rate = s.sample_rate as f64;
    let len = got.channels[0].len();
    let seconds = len as f64 / rate;
    let sweep_seconds = sweep_capture::sweep_shape(&s.channels[0], s.sample_rate)
        .map(|sh| (sh.span.1 - sh.span.0) as f64 / rate)
        .unwrap_or(0.0);
    if seconds > got.clear_seconds {
        warnings.push(format!(
            "the room's tail ({seconds:.2} s) is longer than this sweep keeps clear of its \
             distortion ({:.2} s): a sweep of {:.0} s or more (--sweep-seconds) keeps the \
             loudspeaker's distortion out of the IR's start",
            got.clear_seconds,
            (sweep_seconds * seconds / got.clear_seconds).ceil()
        ));
    }
    if got.noise_db > -40.0 {
        warnings.push(format!(
            "the noise floor is only {:.0} dB under the peak: play the sweep louder, use a \
             longer sweep, or record in a quieter room",
            -got.noise_db
        ));
    }
    let peak = got
        .channels
        .iter()
        .flatten()
        .fold(0.0f32, |m, v| m.max(v.abs()));
    let gain = 10f64.powf(IR_PEAK_DB / 20.0) / peak as f64;
    let channels = got.channels.len();
    let interleaved = (0..len).flat_map(|i| {
        got.channels
            .iter()
            .map(move |c| (c[i] as f64 * gain) as f32)
    });
    ir_file::write_wav_file(
        out,
        channels as u16,
        s.sample_rate,
        WavEncoding::Float,
        interleaved,
    )?;
    Ok(CaptureReport {
        channels,
        seconds,
        direct_ms: got.direct_lag as f64 / rate * 1000.0,
        noise_db: got.noise_db,
        gain_db: 20.0 * gain.log10(),
        warnings,
    })
}
