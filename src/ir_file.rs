//! Impulse-response files: decoding and validating IR files, energy normalisation and
//! resampling to the session rate. Everything here allocates and may take milliseconds: it
//! runs off the audio thread (background task, renderer, tests), never in `process()`.
//!
//! Accepted: RIFF/WAVE with 16/24/32-bit integer or 32-bit float samples; 1 (mono),
//! 2 (stereo) or 4 (true stereo: LL, LR, RL, RR) channels; at most [`MAX_FILE_SECONDS`].
//! Anything else is refused with an [`IrError`] whose message says what is wrong; nothing is
//! guessed. AIFF/AIFC (read here, about a hundred lines) and FLAC (the pure-Rust `claxon`
//! decoder, no native code) are read too; [`load_ir`] recognises the format by the file's
//! first bytes, so a misnamed file still loads and a foreign one gets a message.

use std::fmt;
use std::path::Path;

/// Longest IR file accepted, seconds (the convolver plays at most
/// [`crate::ir_source::IR_CAPACITY_SECONDS`] of it).
pub const MAX_FILE_SECONDS: f64 = 60.0;
/// Largest accepted file, bytes (60 s of 4-channel 32-bit audio at 192 kHz, plus headers).
pub const MAX_FILE_BYTES: u64 = 60 * 192_000 * 4 * 4 + 4096;

/// A decoded impulse response.
#[derive(Clone, Debug, PartialEq)]
pub struct IrData {
    /// Display name (file stem).
    pub name: String,
    /// Sample rate of `channels`, Hz.
    pub sample_rate: u32,
    /// Samples per channel: 1, 2 or 4 channels of equal length.
    pub channels: Vec<Vec<f32>>,
}

impl IrData {
    /// Length in samples.
    pub fn len(&self) -> usize {
        self.channels.first().map_or(0, Vec::len)
    }

    /// Whether the IR has no samples.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Why an IR was refused.
#[derive(Clone, Debug, PartialEq)]
pub enum IrError {
    /// The file could not be read.
    Io(String),
    /// Not a RIFF/WAVE file, or its header is damaged.
    NotWav(String),
    /// A WAV encoding this loader does not read.
    Unsupported(String),
    /// The data ends before the header says it should.
    Truncated,
    /// No samples.
    Empty,
    /// Every sample is zero.
    Silent,
    /// NaN or infinite samples.
    NonFinite,
    /// Longer than [`MAX_FILE_SECONDS`].
    TooLong(f64),
    /// A channel count other than 1, 2 or 4.
    Channels(u16),
    /// The copy of the IR stored in a session is damaged or implausible.
    Damaged(String),
}

impl fmt::Display for IrError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IrError::Io(e) => write!(f, "cannot read the file: {e}"),
            IrError::NotWav(e) => write!(f, "not a WAV file ({e})"),
            IrError::Unsupported(e) => write!(
                f,
                "unsupported WAV encoding: {e}; use 16/24/32-bit integer or 32-bit float"
            ),
            IrError::Truncated => write!(f, "the file is truncated: it ends inside its audio data"),
            IrError::Empty => write!(f, "the file has no samples"),
            IrError::Silent => write!(f, "the impulse response is silent (all samples are zero)"),
            IrError::NonFinite => {
                write!(f, "the impulse response contains NaN or infinite samples")
            }
            IrError::TooLong(s) => write!(
                f,
                "the impulse response is {s:.1} s long; the limit is {MAX_FILE_SECONDS} s"
            ),
            IrError::Channels(n) => write!(
                f,
                "{n} channels; impulse responses must have 1, 2 or 4 (true stereo) channels"
            ),
            IrError::Damaged(e) => write!(
                f,
                "the impulse response stored in the session is damaged ({e})"
            ),
        }
    }
}

impl std::error::Error for IrError {}

/// Reads and validates a WAV impulse response from a file.
pub fn load_wav(path: &Path) -> Result<IrData, IrError> {
    let (bytes, name) = read_file(path)?;
    decode_wav(&bytes, &name)
}

/// A file's bytes (refused above [`MAX_FILE_BYTES`] before reading) and its stem as a name.
fn read_file(path: &Path) -> Result<(Vec<u8>, String), IrError> {
    let meta =
        std::fs::metadata(path).map_err(|e| IrError::Io(format!("{}: {e}", path.display())))?;
    if meta.is_dir() {
        return Err(IrError::Io(format!("{} is a folder", path.display())));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(IrError::TooLong(
            meta.len() as f64 / (4.0 * 4.0 * 192_000.0),
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| IrError::Io(format!("{}: {e}", path.display())))?;
    let name = path
        .file_stem()
        .map_or_else(|| "IR".to_string(), |s| s.to_string_lossy().into_owned());
    Ok((bytes, name))
}

/// Decodes and validates WAV bytes (a file's contents, or a copy embedded in a state).
pub fn decode_wav(bytes: &[u8], name: &str) -> Result<IrData, IrError> {
    let reader = hound::WavReader::new(std::io::Cursor::new(bytes)).map_err(|e| match e {
        hound::Error::Unsupported => {
            IrError::Unsupported("compressed or unknown sample format".into())
        }
        hound::Error::IoError(_) => IrError::Truncated,
        other => IrError::NotWav(other.to_string()),
    })?;
    let spec = reader.spec();
    if !matches!(spec.channels, 1 | 2 | 4) {
        return Err(IrError::Channels(spec.channels));
    }
    if spec.sample_rate < 8_000 || spec.sample_rate > 384_000 {
        return Err(IrError::Unsupported(format!(
            "sample rate {} Hz",
            spec.sample_rate
        )));
    }
    let frames = reader.duration() as usize;
    let seconds = frames as f64 / spec.sample_rate as f64;
    if seconds > MAX_FILE_SECONDS {
        return Err(IrError::TooLong(seconds));
    }
    // The header's length must fit in the data actually present (bounded allocation).
    let bytes_per_frame = spec.channels as usize * (spec.bits_per_sample as usize).div_ceil(8);
    if frames * bytes_per_frame > bytes.len() {
        return Err(IrError::Truncated);
    }
    let n_ch = spec.channels as usize;
    let interleaved: Vec<f32> = match (spec.sample_format, spec.bits_per_sample) {
        (hound::SampleFormat::Float, 32) => reader.into_samples::<f32>().collect::<Result<_, _>>(),
        (hound::SampleFormat::Int, b @ (16 | 24 | 32)) => {
            let scale = 1.0 / (1u64 << (b - 1)) as f32;
            reader
                .into_samples::<i32>()
                .map(|s| s.map(|v| v as f32 * scale))
                .collect::<Result<_, _>>()
        }
        (f, b) => return Err(IrError::Unsupported(format!("{b}-bit {f:?}"))),
    }
    .map_err(|_| IrError::Truncated)?;
    if interleaved.len() < frames * n_ch {
        return Err(IrError::Truncated);
    }
    finish(name, spec.sample_rate, n_ch, interleaved)
}

/// Validates interleaved samples and splits them into channels.
fn finish(name: &str, rate: u32, n_ch: usize, interleaved: Vec<f32>) -> Result<IrData, IrError> {
    if interleaved.is_empty() {
        return Err(IrError::Empty);
    }
    if interleaved.iter().any(|v| !v.is_finite()) {
        return Err(IrError::NonFinite);
    }
    if interleaved.iter().all(|v| *v == 0.0) {
        return Err(IrError::Silent);
    }
    let channels = (0..n_ch)
        .map(|c| interleaved.iter().skip(c).step_by(n_ch).copied().collect())
        .collect();
    Ok(IrData {
        name: name.to_string(),
        sample_rate: rate,
        channels,
    })
}

/// Checks a header's layout before anything is allocated for it.
fn check_layout(channels: u32, rate: u32, frames: u64) -> Result<(), IrError> {
    if !matches!(channels, 1 | 2 | 4) {
        return Err(IrError::Channels(channels.min(u16::MAX as u32) as u16));
    }
    if !(8_000..=384_000).contains(&rate) {
        return Err(IrError::Unsupported(format!("sample rate {rate} Hz")));
    }
    let seconds = frames as f64 / rate as f64;
    if seconds > MAX_FILE_SECONDS {
        return Err(IrError::TooLong(seconds));
    }
    if frames == 0 {
        return Err(IrError::Empty);
    }
    Ok(())
}

/// Reads and validates an impulse response in any supported format (WAV, AIFF/AIFC, FLAC),
/// chosen by the file's leading bytes, not its extension.
pub fn load_ir(path: &Path) -> Result<IrData, IrError> {
    let (bytes, name) = read_file(path)?;
    decode_any(&bytes, &name)
}

/// Decodes WAV, AIFF/AIFC or FLAC bytes, recognised by their magic number.
pub fn decode_any(bytes: &[u8], name: &str) -> Result<IrData, IrError> {
    match bytes.get(..4) {
        Some(b"fLaC") => decode_flac(bytes, name),
        Some(b"FORM") => decode_aiff(bytes, name),
        Some(b"RIFF" | b"RIFX" | b"RF64") | None => decode_wav(bytes, name),
        Some(_) => Err(IrError::NotWav(
            "not a WAV, AIFF or FLAC file (unrecognised header)".into(),
        )),
    }
}

/// Decodes and validates FLAC bytes (pure-Rust `claxon` decoder; any bit depth up to 32).
pub fn decode_flac(bytes: &[u8], name: &str) -> Result<IrData, IrError> {
    let mut reader = claxon::FlacReader::new(std::io::Cursor::new(bytes))
        .map_err(|e| IrError::NotWav(format!("FLAC: {e}")))?;
    let info = reader.streaminfo();
    let frames = info.samples.unwrap_or(0);
    check_layout(info.channels, info.sample_rate, frames)?;
    let n_ch = info.channels as usize;
    let scale = 1.0 / (1u64 << (info.bits_per_sample - 1)) as f32;
    let total = frames as usize * n_ch;
    let mut interleaved = Vec::with_capacity(total.min(bytes.len() * 8));
    for s in reader.samples().take(total) {
        let v = s.map_err(|e| match e {
            claxon::Error::IoError(_) => IrError::Truncated,
            other => IrError::NotWav(format!("FLAC: {other}")),
        })?;
        interleaved.push(v as f32 * scale);
    }
    if interleaved.len() < total {
        return Err(IrError::Truncated);
    }
    finish(name, info.sample_rate, n_ch, interleaved)
}

/// IEEE 754 80-bit extended (big-endian) to `f64`, as AIFF stores its sample rate.
fn extended_to_f64(b: &[u8]) -> f64 {
    let exp = (((b[0] as i32) & 0x7f) << 8) | b[1] as i32;
    let mant = u64::from_be_bytes(b[2..10].try_into().expect("ten bytes"));
    if exp == 0 && mant == 0 {
        return 0.0;
    }
    let v = mant as f64 * 2f64.powi(exp - 16383 - 63);
    if b[0] & 0x80 != 0 {
        -v
    } else {
        v
    }
}

/// Decodes and validates AIFF (8/16/24/32-bit integer) or AIFC (`NONE`, `sowt`, `fl32`)
/// bytes. Format: Apple, "Audio Interchange File Format AIFF-C", 1991.
pub fn decode_aiff(bytes: &[u8], name: &str) -> Result<IrData, IrError> {
    let bad = |m: &str| IrError::NotWav(format!("AIFF: {m}"));
    if bytes.len() < 12 || &bytes[..4] != b"FORM" {
        return Err(bad("no FORM header"));
    }
    let aifc = match &bytes[8..12] {
        b"AIFF" => false,
        b"AIFC" => true,
        _ => return Err(bad("not an AIFF form")),
    };
    let (mut comm, mut ssnd) = (None, None);
    let mut pos = 12;
    while pos + 8 <= bytes.len() {
        let id = &bytes[pos..pos + 4];
        let size = u32::from_be_bytes(bytes[pos + 4..pos + 8].try_into().expect("4")) as usize;
        let body = pos + 8;
        let end = body.saturating_add(size).min(bytes.len());
        match id {
            b"COMM" => comm = Some(&bytes[body..end]),
            b"SSND" => ssnd = Some((&bytes[body..end], body.saturating_add(size) > bytes.len())),
            _ => {}
        }
        pos = body.saturating_add(size).saturating_add(size & 1);
    }
    let comm = comm.ok_or_else(|| bad("no COMM chunk"))?;
    if comm.len() < 18 {
        return Err(IrError::Truncated);
    }
    let n_ch = u16::from_be_bytes([comm[0], comm[1]]) as u32;
    let frames = u32::from_be_bytes(comm[2..6].try_into().expect("4")) as u64;
    let bits = u16::from_be_bytes([comm[6], comm[7]]) as u32;
    let rate = extended_to_f64(&comm[8..18]);
    let rate_u = if rate.is_finite() && rate > 0.0 && rate < 1e7 {
        rate.round() as u32
    } else {
        0
    };
    let compression: &[u8] = if aifc {
        comm.get(18..22).ok_or(IrError::Truncated)?
    } else {
        b"NONE"
    };
    check_layout(n_ch, rate_u, frames)?;
    let (little, float) = match compression {
        b"NONE" | b"twos" => (false, false),
        b"sowt" => (true, false),
        b"fl32" | b"FL32" if bits == 32 => (false, true),
        other => {
            return Err(IrError::Unsupported(format!(
                "AIFC compression '{}'",
                String::from_utf8_lossy(other)
            )))
        }
    };
    if !float && !matches!(bits, 8 | 16 | 24 | 32) {
        return Err(IrError::Unsupported(format!("{bits}-bit AIFF")));
    }
    let (ssnd, cut) = ssnd.ok_or(IrError::Empty)?;
    if ssnd.len() < 8 {
        return Err(IrError::Truncated);
    }
    let offset = u32::from_be_bytes(ssnd[..4].try_into().expect("4")) as usize;
    let data = ssnd.get(8 + offset.min(ssnd.len())..).unwrap_or(&[]);
    let width = bits.div_ceil(8) as usize;
    let n_ch = n_ch as usize;
    let total = frames as usize * n_ch;
    if data.len() < total * width {
        return Err(if cut || !data.is_empty() {
            IrError::Truncated
        } else {
            IrError::Empty
        });
    }
    let scale = 1.0 / (1u64 << (bits - 1)) as f32;
    let interleaved = data[..total * width]
        .chunks_exact(width)
        .map(|w| {
            let mut be = [0u8; 4];
            for (i, b) in w.iter().enumerate() {
                be[i] = if little { w[width - 1 - i] } else { *b };
            }
            if float {
                f32::from_be_bytes(be)
            } else {
                // Left-justified in an i32, then scaled by the format's full scale.
                (i32::from_be_bytes(be) >> (32 - 8 * width)) as f32 * scale
            }
        })
        .collect();
    finish(name, rate_u, n_ch, interleaved)
}

/// How [`write_wav`] stores samples.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WavEncoding {
    /// Integers of this many bits (8 to 32): `round(v * 2^(bits-1))`, clamped to the range.
    Int(u16),
    /// 32-bit floats, as they are.
    Float,
}

/// The `bits`-bit integer code of `v` (full scale 1.0): `round(v * 2^(bits-1))`, clamped to
/// the format's range.
pub fn quantize(v: f32, bits: u16) -> i32 {
    let full = (1u64 << (bits - 1)) as f64;
    (v as f64 * full).round().clamp(-full, full - 1.0) as i32
}

/// Writes interleaved samples of `channels` channels at `rate` Hz as a WAV stream (the
/// renderer's output, and test and benchmark inputs).
pub fn write_wav<W: std::io::Write + std::io::Seek>(
    out: W,
    channels: u16,
    rate: u32,
    encoding: WavEncoding,
    interleaved: impl IntoIterator<Item = f32>,
) -> Result<(), hound::Error> {
    let (bits_per_sample, sample_format) = match encoding {
        WavEncoding::Int(bits) => (bits, hound::SampleFormat::Int),
        WavEncoding::Float => (32, hound::SampleFormat::Float),
    };
    let spec = hound::WavSpec {
        channels,
        sample_rate: rate,
        bits_per_sample,
        sample_format,
    };
    let mut w = hound::WavWriter::new(out, spec)?;
    match encoding {
        WavEncoding::Float => {
            for v in interleaved {
                w.write_sample(v)?;
            }
        }
        WavEncoding::Int(bits) => {
            for v in interleaved {
                w.write_sample(quantize(v, bits))?;
            }
        }
    }
    w.finalize()
}

/// [`write_wav`] to a file; the error names the file.
pub fn write_wav_file(
    path: &Path,
    channels: u16,
    rate: u32,
    encoding: WavEncoding,
    interleaved: impl IntoIterator<Item = f32>,
) -> Result<(), String> {
    let err = |e: &dyn fmt::Display| format!("cannot write {}: {e}", path.display());
    let file = std::fs::File::create(path).map_err(|e| err(&e))?;
    write_wav(
        std::io::BufWriter::new(file),
        channels,
        rate,
        encoding,
        interleaved,
    )
    .map_err(|e| err(&e))
}

/// The band auto-gain measures, Hz: what a listener hears. Energy outside it (above 20 kHz
/// there is 37-40 % of a generated room's at 96 kHz) does not count, so a room sounds equally
/// loud at every session rate.
pub const AUDIBLE_BAND_HZ: (f32, f32) = (20.0, 20_000.0);

/// Mean power gain of `x` (an IR at `rate` Hz) over [`AUDIBLE_BAND_HZ`]: the mean of `|X(f)|^2`
/// over the band's bins, measured by summing the spectra of consecutive 32768-sample frames
/// (bounded memory for any length). For an IR whose spectrum is flat it equals `sum x^2`.
pub fn in_band_energy(x: &[f32], rate: u32) -> f64 {
    const FRAME: usize = 32_768;
    if x.is_empty() {
        return 0.0;
    }
    let mut planner = realfft::RealFftPlanner::<f64>::new();
    let fft = planner.plan_fft_forward(FRAME);
    let mut buf = fft.make_input_vec();
    let mut spec = fft.make_output_vec();
    let bin_hz = rate as f64 / FRAME as f64;
    let lo = ((AUDIBLE_BAND_HZ.0 as f64 / bin_hz).ceil() as usize).max(1);
    let hi = ((AUDIBLE_BAND_HZ.1 as f64 / bin_hz).floor() as usize).min(FRAME / 2);
    let mut sum = vec![0.0f64; hi + 1];
    for frame in x.chunks(FRAME) {
        buf.fill(0.0);
        for (b, v) in buf.iter_mut().zip(frame) {
            *b = *v as f64;
        }
        fft.process(&mut buf, &mut spec).expect("sizes match");
        for (s, z) in sum[lo..=hi].iter_mut().zip(&spec[lo..=hi]) {
            *s += z.norm_sqr();
        }
    }
    sum[lo..=hi].iter().sum::<f64>() / (hi + 1 - lo) as f64
}

/// Scales the IR to unit mean in-band energy per output path ([`in_band_energy`]), so that
/// IRs of different lengths, layouts and sample rates sound equally loud for broadband input
/// (auto-gain). For true stereo the two paths into each output are summed before measuring.
pub fn normalize_energy(ir: &mut IrData) {
    let rate = ir.sample_rate;
    let energy = |v: &[f32]| in_band_energy(v, rate);
    let per_output = match ir.channels.len() {
        4 => {
            (energy(&ir.channels[0])
                + energy(&ir.channels[2])
                + energy(&ir.channels[1])
                + energy(&ir.channels[3]))
                / 2.0
        }
        n => ir.channels.iter().map(|c| energy(c)).sum::<f64>() / n as f64,
    };
    if per_output > 0.0 {
        let g = (1.0 / per_output.sqrt()) as f32;
        for c in &mut ir.channels {
            for v in c.iter_mut() {
                *v *= g;
            }
        }
    }
}

/// The IR at the session's `rate`: [`resample`]d and scaled by `source rate / rate`, so that
/// it is the same filter in continuous time (a sampled IR's gain grows with its rate: twice
/// the samples of the same waveform). Without auto-gain, a file or room then sounds as loud at
/// 96 kHz as at 48 kHz.
pub fn to_session_rate(ir: &IrData, rate: u32) -> IrData {
    let mut out = resample(ir, rate);
    if ir.sample_rate != rate && ir.sample_rate > 0 {
        let g = ir.sample_rate as f32 / rate as f32;
        for c in &mut out.channels {
            for v in c.iter_mut() {
                *v *= g;
            }
        }
    }
    out
}

/// The IR at `rate` Hz ([`crate::dsp::resample::resample`]): band-limited, aligned, length
/// `ceil(len * rate / in_rate)`. Returns the IR unchanged if the rates match.
pub fn resample(ir: &IrData, rate: u32) -> IrData {
    IrData {
        name: ir.name.clone(),
        sample_rate: rate,
        channels: crate::dsp::resample::resample(&ir.channels, ir.sample_rate, rate),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dsp::rng::Rng;

    fn wav(
        channels: u16,
        bits: u16,
        float: bool,
        rate: u32,
        frames: usize,
        f: impl Fn(usize) -> f32,
    ) -> Vec<u8> {
        let encoding = if float {
            WavEncoding::Float
        } else {
            WavEncoding::Int(bits)
        };
        let mut buf = std::io::Cursor::new(Vec::new());
        let samples = (0..frames * channels as usize).map(f);
        write_wav(&mut buf, channels, rate, encoding, samples).unwrap();
        buf.into_inner()
    }

    fn decay(i: usize) -> f32 {
        (-(i as f32) / 500.0).exp() * if i % 3 == 0 { 0.8 } else { -0.5 }
    }

    #[test]
    fn reads_every_supported_encoding_and_layout() {
        for (bits, float) in [(16u16, false), (24, false), (32, false), (32, true)] {
            for ch in [1u16, 2, 4] {
                let ir = decode_wav(&wav(ch, bits, float, 44_100, 3000, decay), "x").unwrap();
                assert_eq!(
                    (ir.channels.len(), ir.len(), ir.sample_rate),
                    (ch as usize, 3000, 44_100)
                );
                let tol = if float {
                    0.0
                } else {
                    2.0 / (1u64 << (bits - 1)) as f32
                };
                assert!(
                    (ir.channels[0][0] - decay(0)).abs() <= tol,
                    "{bits} {float}"
                );
            }
        }
    }

    #[test]
    fn bad_files_give_clear_errors() {
        let good = wav(2, 24, false, 48_000, 2000, decay);
        // Truncated inside the data.
        assert_eq!(
            decode_wav(&good[..good.len() - 500], "t"),
            Err(IrError::Truncated)
        );
        // Corrupt header.
        let mut bad = good.clone();
        bad[0..4].copy_from_slice(b"JUNK");
        assert!(matches!(decode_wav(&bad, "c"), Err(IrError::NotWav(_))));
        assert!(matches!(
            decode_wav(b"", "e"),
            Err(IrError::NotWav(_) | IrError::Truncated)
        ));
        // Zero length, silent, NaN/Inf.
        assert_eq!(
            decode_wav(&wav(1, 16, false, 48_000, 0, decay), "z"),
            Err(IrError::Empty)
        );
        assert_eq!(
            decode_wav(&wav(2, 16, false, 48_000, 100, |_| 0.0), "s"),
            Err(IrError::Silent)
        );
        assert_eq!(
            decode_wav(
                &wav(1, 32, true, 48_000, 100, |i| if i == 50 {
                    f32::NAN
                } else {
                    0.1
                }),
                "n"
            ),
            Err(IrError::NonFinite)
        );
        assert_eq!(
            decode_wav(
                &wav(1, 32, true, 48_000, 100, |i| if i == 5 {
                    f32::INFINITY
                } else {
                    0.1
                }),
                "i"
            ),
            Err(IrError::NonFinite)
        );
        // Channel counts.
        assert_eq!(
            decode_wav(&wav(3, 16, false, 48_000, 100, decay), "3"),
            Err(IrError::Channels(3))
        );
        assert_eq!(
            decode_wav(&wav(6, 16, false, 48_000, 100, decay), "6"),
            Err(IrError::Channels(6))
        );
        // Unsupported encoding: 8-bit and 64-bit float headers.
        assert!(matches!(
            decode_wav(&wav(1, 8, false, 48_000, 100, decay), "8"),
            Err(IrError::Unsupported(_))
        ));
        let mut alaw = wav(1, 16, false, 48_000, 100, decay);
        alaw[20] = 6; // format tag: A-law
        assert!(matches!(
            decode_wav(&alaw, "a"),
            Err(IrError::Unsupported(_) | IrError::NotWav(_))
        ));
        // Over 60 s (the header is checked before anything is allocated for the samples).
        let long = wav(1, 16, false, 8_000, 61 * 8_000, |_| 0.1);
        assert!(matches!(decode_wav(&long, "l"), Err(IrError::TooLong(s)) if s > 60.0));
        // A header that claims far more data than the file holds: refused, bounded.
        let mut liar = wav(1, 16, false, 48_000, 100, decay);
        let n = liar.len();
        liar[n - 200 - 4..n - 200].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(decode_wav(&liar, "h").is_err());
        // Unreadable path.
        assert!(matches!(
            load_wav(Path::new("/no/such/dir/ir.wav")),
            Err(IrError::Io(_))
        ));
        for e in [
            IrError::Truncated,
            IrError::Silent,
            IrError::Channels(3),
            IrError::TooLong(61.0),
        ] {
            assert!(!e.to_string().is_empty());
        }
    }

    #[test]
    fn normalisation_equalises_energy() {
        let mut a = decode_wav(&wav(2, 32, true, 48_000, 4000, decay), "a").unwrap();
        let mut b = decode_wav(
            &wav(2, 32, true, 48_000, 40_000, |i| 0.01 * decay(i / 10)),
            "b",
        )
        .unwrap();
        normalize_energy(&mut a);
        normalize_energy(&mut b);
        // Unit mean power gain over the audible band, per channel.
        let e = |ir: &IrData| {
            ir.channels
                .iter()
                .map(|c| in_band_energy(c, ir.sample_rate))
                .sum::<f64>()
                / 2.0
        };
        assert!((e(&a) - 1.0).abs() < 1e-4 && (e(&b) - 1.0).abs() < 1e-4);
        // For an IR with a flat spectrum that is its total energy (sum of squares).
        let mut rng = Rng::new(4);
        let white: Vec<f32> = (0..100_000).map(|_| rng.bipolar() as f32).collect();
        let total: f64 = white.iter().map(|v| (*v as f64).powi(2)).sum();
        let ratio = in_band_energy(&white, 48_000) / total;
        // 40 of the 48 kHz band's 48: the same mean as over all bins, within noise.
        assert!((ratio - 1.0).abs() < 0.03, "{ratio}");
    }

    #[test]
    fn resampled_ir_keeps_its_magnitude_response_to_18_khz() {
        // A 4 s-like noise IR at 44.1 kHz, resampled to 48 kHz: compare magnitude responses,
        // smoothed over 1/3 octave, up to 18 kHz.
        let mut rng = Rng::new(3);
        let len = 44_100;
        let ir = IrData {
            name: "n".into(),
            sample_rate: 44_100,
            channels: vec![(0..len)
                .map(|i| (rng.bipolar() * (-(i as f64) / 8000.0).exp()) as f32)
                .collect()],
        };
        let out = resample(&ir, 48_000);
        assert_eq!(out.len(), (len as u64 * 48_000).div_ceil(44_100) as usize);
        let band_db = |x: &[f32], rate: f64, lo: f64, hi: f64| {
            let n = 1 << 17;
            let mut buf = vec![0.0f32; n];
            buf[..x.len()].copy_from_slice(x);
            let fft = realfft::RealFftPlanner::<f32>::new().plan_fft_forward(n);
            let mut spec = fft.make_output_vec();
            fft.process(&mut buf, &mut spec).unwrap();
            let (a, b) = (
                (lo * n as f64 / rate) as usize,
                (hi * n as f64 / rate) as usize,
            );
            10.0 * (spec[a..b].iter().map(|z| z.norm_sqr() as f64).sum::<f64>() / (b - a) as f64)
                .log10()
        };
        let mut f = 100.0;
        while f < 18_000.0 {
            let (lo, hi) = (f / 2f64.powf(1.0 / 6.0), f * 2f64.powf(1.0 / 6.0));
            // Resampling keeps the continuous-time response; per-sample energy scales by the
            // rate ratio, which is compensated here.
            let d = band_db(&out.channels[0], 48_000.0, lo, hi)
                - band_db(&ir.channels[0], 44_100.0, lo, hi)
                - 20.0 * (48_000.0f64 / 44_100.0).log10();
            assert!(d.abs() < 0.5, "{f:.0} Hz: {d:.2} dB");
            f *= 2f64.powf(1.0 / 3.0);
        }
    }

    /// An AIFF (or AIFC with `compression`) file of 16/24-bit integer or 32-bit float samples.
    fn aiff(
        ch: u16,
        bits: u16,
        compression: Option<&[u8; 4]>,
        rate: f64,
        frames: usize,
        f: impl Fn(usize) -> f32,
    ) -> Vec<u8> {
        let little = compression == Some(b"sowt");
        let float = compression == Some(b"fl32");
        let width = bits as usize / 8;
        let mut data = Vec::new();
        for i in 0..frames * ch as usize {
            let v = f(i);
            let mut b = if float {
                v.to_be_bytes().to_vec()
            } else {
                let q = quantize(v, bits);
                q.to_be_bytes()[4 - width..].to_vec()
            };
            if little {
                b.reverse();
            }
            data.extend(b);
        }
        // 80-bit extended sample rate.
        let exp = rate.log2().floor() as i32;
        let mant = (rate / 2f64.powi(exp - 63)) as u64;
        let mut comm = Vec::new();
        comm.extend(ch.to_be_bytes());
        comm.extend((frames as u32).to_be_bytes());
        comm.extend(bits.to_be_bytes());
        comm.extend(((exp + 16383) as u16).to_be_bytes());
        comm.extend(mant.to_be_bytes());
        if let Some(c) = compression {
            comm.extend(c);
            comm.extend([0u8, 0]); // empty pascal string, padded
        }
        let mut body = Vec::new();
        body.extend(if compression.is_some() {
            b"AIFC"
        } else {
            b"AIFF"
        });
        body.extend(b"COMM");
        body.extend((comm.len() as u32).to_be_bytes());
        body.extend(&comm);
        body.extend(b"SSND");
        body.extend((data.len() as u32 + 8).to_be_bytes());
        body.extend([0u8; 8]);
        body.extend(&data);
        let mut out = b"FORM".to_vec();
        out.extend((body.len() as u32).to_be_bytes());
        out.extend(body);
        out
    }

    /// A FLAC stream with one VERBATIM frame per 4096 samples, 16-bit (FLAC format
    /// specification, xiph.org: STREAMINFO, frame header with CRC-8, subframes, CRC-16).
    fn flac(ch: u8, rate: u32, frames: usize, f: impl Fn(usize) -> f32) -> Vec<u8> {
        fn crc8(d: &[u8]) -> u8 {
            let mut c = 0u8;
            for b in d {
                c ^= b;
                for _ in 0..8 {
                    c = if c & 0x80 != 0 {
                        (c << 1) ^ 0x07
                    } else {
                        c << 1
                    };
                }
            }
            c
        }
        fn crc16(d: &[u8]) -> u16 {
            let mut c = 0u16;
            for b in d {
                c ^= (*b as u16) << 8;
                for _ in 0..8 {
                    c = if c & 0x8000 != 0 {
                        (c << 1) ^ 0x8005
                    } else {
                        c << 1
                    };
                }
            }
            c
        }
        let block = 4096usize;
        let mut out = b"fLaC".to_vec();
        out.extend([0x80, 0, 0, 34]); // last metadata block, STREAMINFO, 34 bytes
        out.extend((block as u16).to_be_bytes());
        out.extend((block as u16).to_be_bytes());
        out.extend([0u8; 6]); // frame sizes unknown
                              // 20 bits rate, 3 bits channels-1, 5 bits bps-1, 36 bits total samples.
        let packed: u64 =
            ((rate as u64) << 44) | (((ch - 1) as u64) << 41) | (15u64 << 36) | frames as u64;
        out.extend(packed.to_be_bytes());
        out.extend([0u8; 16]); // MD5 unknown
        for (n, start) in (0..frames).step_by(block).enumerate() {
            let len = block.min(frames - start);
            let mut fr = vec![0xFF, 0xF8, 0x70, ((ch - 1) << 4) | 0x08];
            assert!(n < 128);
            fr.push(n as u8);
            fr.extend(((len - 1) as u16).to_be_bytes());
            fr.push(crc8(&fr));
            for c in 0..ch as usize {
                fr.push(0x02); // VERBATIM, no wasted bits
                for i in start..start + len {
                    let q = quantize(f(i * ch as usize + c), 16) as i16;
                    fr.extend(q.to_be_bytes());
                }
            }
            let crc = crc16(&fr);
            fr.extend(crc.to_be_bytes());
            out.extend(fr);
        }
        out
    }

    #[test]
    fn reads_aiff_aifc_and_flac_like_the_same_wav() {
        let want = decode_wav(&wav(2, 16, false, 44_100, 5000, decay), "x").unwrap();
        for (name, bytes) in [
            ("aiff16", aiff(2, 16, None, 44_100.0, 5000, decay)),
            (
                "aifc-sowt",
                aiff(2, 16, Some(b"sowt"), 44_100.0, 5000, decay),
            ),
            ("flac", flac(2, 44_100, 5000, decay)),
        ] {
            let got = decode_any(&bytes, "x").unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(got.sample_rate, 44_100, "{name}");
            assert_eq!(got.channels.len(), 2, "{name}");
            assert_eq!(got.channels, want.channels, "{name}");
        }
        let a24 = decode_any(&aiff(4, 24, None, 96_000.0, 300, decay), "x").unwrap();
        let w24 = decode_wav(&wav(4, 24, false, 96_000, 300, decay), "x").unwrap();
        assert_eq!(a24.channels, w24.channels);
        assert_eq!(a24.sample_rate, 96_000);
        let af = decode_any(&aiff(1, 32, Some(b"fl32"), 48_000.0, 300, decay), "x").unwrap();
        assert_eq!(af.channels[0], (0..300).map(decay).collect::<Vec<_>>());
        // Broken variants get messages, not guesses.
        let good = aiff(2, 16, None, 44_100.0, 5000, decay);
        assert_eq!(
            decode_any(&good[..good.len() - 100], "x"),
            Err(IrError::Truncated)
        );
        let six = aiff(6, 16, None, 44_100.0, 100, decay);
        assert_eq!(decode_any(&six, "x"), Err(IrError::Channels(6)));
        let odd = aiff(2, 16, Some(b"ulaw"), 44_100.0, 100, decay);
        assert!(decode_any(&odd, "x")
            .unwrap_err()
            .to_string()
            .contains("ulaw"));
        let fl = flac(2, 44_100, 5000, decay);
        assert_eq!(
            decode_any(&fl[..fl.len() - 3000], "x"),
            Err(IrError::Truncated)
        );
        let mut bad = fl.clone();
        bad[100] ^= 0xFF; // corrupt a frame (CRC mismatch)
        assert!(decode_any(&bad, "x").is_err());
        let silent = flac(1, 44_100, 100, |_| 0.0);
        assert_eq!(decode_any(&silent, "x"), Err(IrError::Silent));
        assert!(decode_any(b"OggS and more", "x")
            .unwrap_err()
            .to_string()
            .contains("unrecognised"));
    }
}
