//! The audio-file front: one decoder that recognises WAV, AIFF/AIFC and FLAC by their first
//! bytes ([`decode_audio`]), one set of acceptance rules per use ([`IR_RULES`] for impulse
//! responses, wherever they come from: a file, a session's stored copy; [`INPUT_RULES`] for
//! the renderer's input), one WAV writer ([`write_wav`]); then energy normalisation and
//! resampling of IRs to the session rate. Everything here allocates and may take milliseconds: it
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

/// The file extensions an impulse response file may have (files are read by content; these
/// only pick files for lists and dialogs).
pub const IR_EXTENSIONS: [&str; 6] = ["wav", "wave", "aif", "aiff", "aifc", "flac"];

mod aiff;
mod probe;
use aiff::aiff;
pub use probe::{probe, probe_bytes, FileInfo};

/// Longest IR file accepted, seconds (the convolver plays at most
/// [`crate::ir_source::IR_CAPACITY_SECONDS`] of it).
pub const MAX_FILE_SECONDS: f64 = 60.0;
/// Largest accepted file, bytes (60 s of 4-channel 32-bit audio at 192 kHz, plus headers).
pub const MAX_FILE_BYTES: u64 = 60 * 192_000 * 4 * 4 + 4096;

/// What a decoder accepts. Checked on the header before anything is allocated for the data,
/// then on the samples.
#[derive(Clone, Copy, Debug)]
pub struct Rules {
    /// Accepted channel counts.
    pub channels: &'static [u32],
    /// Longest accepted audio, seconds.
    pub max_seconds: f64,
    /// Largest accepted file, bytes.
    pub max_bytes: u64,
    /// Refuse audio whose samples are all zero.
    pub reject_silent: bool,
    /// Refuse NaN or infinite samples.
    pub reject_non_finite: bool,
}

/// Accepted sample rates, Hz (inclusive).
pub const RATES: (u32, u32) = (8_000, 384_000);

/// The rules for impulse responses: 1, 2 or 4 channels, at most [`MAX_FILE_SECONDS`], not
/// silent, finite.
pub const IR_RULES: Rules = Rules {
    channels: &[1, 2, 4],
    max_seconds: MAX_FILE_SECONDS,
    max_bytes: MAX_FILE_BYTES,
    reject_silent: true,
    reject_non_finite: true,
};

/// The rules for audio to process (the renderer's input and sidechain): mono or stereo, up
/// to an hour; silence is fine, and non-finite samples are the engine's to sanitise.
pub const INPUT_RULES: Rules = Rules {
    channels: &[1, 2],
    max_seconds: 3600.0,
    max_bytes: 3600 * 384_000 * 2 * 4 + 4096,
    reject_silent: false,
    reject_non_finite: false,
};

/// Decoded audio of any accepted format.
#[derive(Clone, Debug, PartialEq)]
pub struct Decoded {
    /// Sample rate, Hz.
    pub sample_rate: u32,
    /// Samples per channel, full scale 1.0.
    pub channels: Vec<Vec<f32>>,
    /// The file's sample encoding (to write a result in kind).
    pub encoding: WavEncoding,
}

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
    /// A channel count the rules do not accept.
    Channels(u16),
    /// A sample rate outside [`RATES`].
    Rate(u32),
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
            IrError::Rate(r) => write!(
                f,
                "sample rate {r} Hz; {} to {} Hz are accepted",
                RATES.0, RATES.1
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
    let (bytes, name) = read_file(path, &IR_RULES)?;
    decode_wav(&bytes, &name)
}

/// A file's bytes (refused above the rules' size before reading) and its stem as a name.
fn read_file(path: &Path, rules: &Rules) -> Result<(Vec<u8>, String), IrError> {
    let meta =
        std::fs::metadata(path).map_err(|e| IrError::Io(format!("{}: {e}", path.display())))?;
    if meta.is_dir() {
        return Err(IrError::Io(format!("{} is a folder", path.display())));
    }
    if meta.len() > rules.max_bytes {
        return Err(IrError::TooLong(
            meta.len() as f64 * rules.max_seconds / rules.max_bytes as f64,
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| IrError::Io(format!("{}: {e}", path.display())))?;
    let name = path
        .file_stem()
        .map_or_else(|| "IR".to_string(), |s| s.to_string_lossy().into_owned());
    Ok((bytes, name))
}

/// Decodes and validates WAV bytes as an impulse response.
pub fn decode_wav(bytes: &[u8], name: &str) -> Result<IrData, IrError> {
    wav(bytes, &IR_RULES).map(|d| d.named(name))
}

fn wav(bytes: &[u8], rules: &Rules) -> Result<Decoded, IrError> {
    let reader = hound::WavReader::new(std::io::Cursor::new(bytes)).map_err(|e| match e {
        hound::Error::Unsupported => {
            IrError::Unsupported("compressed or unknown sample format".into())
        }
        hound::Error::IoError(_) => IrError::Truncated,
        other => IrError::NotWav(other.to_string()),
    })?;
    let spec = reader.spec();
    let frames = reader.duration() as usize;
    check_layout(rules, spec.channels as u32, spec.sample_rate, frames as u64)?;
    // The header's length must fit in the data actually present (bounded allocation).
    let bytes_per_frame = spec.channels as usize * (spec.bits_per_sample as usize).div_ceil(8);
    if frames * bytes_per_frame > bytes.len() {
        return Err(IrError::Truncated);
    }
    let n_ch = spec.channels as usize;
    let samples = reader.len() as usize;
    // Packed samples (the container as wide as the bits: all the renderer writes and nearly
    // every file) are read straight from the bytes after hound has parsed the header, not
    // through its per-sample iterator (a third of the renderer's time on a long file was
    // there).
    let reader = match packed(reader, bytes, samples) {
        Ok(data) => {
            let (channels, encoding) = decode_packed(spec, data, samples)?;
            return finish_planar(rules, spec.sample_rate, channels, encoding);
        }
        Err(reader) => reader,
    };
    let (interleaved, encoding) = match (spec.sample_format, spec.bits_per_sample) {
        (hound::SampleFormat::Float, 32) => (
            reader.into_samples::<f32>().collect::<Result<Vec<_>, _>>(),
            WavEncoding::Float,
        ),
        (hound::SampleFormat::Int, b @ (16 | 24 | 32)) => {
            let scale = 1.0 / (1u64 << (b - 1)) as f32;
            (
                reader
                    .into_samples::<i32>()
                    .map(|s| s.map(|v| v as f32 * scale))
                    .collect::<Result<Vec<_>, _>>(),
                WavEncoding::Int(b),
            )
        }
        (f, b) => return Err(IrError::Unsupported(format!("{b}-bit {f:?}"))),
    };
    let interleaved = interleaved.map_err(|_| IrError::Truncated)?;
    if interleaved.len() < frames * n_ch {
        return Err(IrError::Truncated);
    }
    finish(rules, spec.sample_rate, n_ch, interleaved, encoding)
}

/// The sample bytes of a WAV whose header `reader` has parsed, when they are packed (the
/// data chunk's length is `samples` times the bytes of the bits); the reader back otherwise.
#[allow(clippy::result_large_err)]
fn packed<'a>(
    reader: hound::WavReader<std::io::Cursor<&'a [u8]>>,
    bytes: &'a [u8],
    samples: usize,
) -> Result<&'a [u8], hound::WavReader<std::io::Cursor<&'a [u8]>>> {
    let width = (reader.spec().bits_per_sample as usize).div_ceil(8);
    let cursor = reader.into_inner();
    let start = cursor.position() as usize;
    let declared = bytes
        .get(start.wrapping_sub(4)..start)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize);
    if declared.map(|d| d / width) == Some(samples) {
        let end = (start + samples * width).min(bytes.len());
        return Ok(&bytes[start.min(end)..end]);
    }
    // Not packed: parse again and read through hound.
    Err(hound::WavReader::new(std::io::Cursor::new(bytes)).expect("parsed once already"))
}

/// Packed little-endian samples as floats (full scale 1.0), split into `spec.channels`
/// channels as they are read (no interleaved copy); a data chunk shorter than its header says
/// is truncated, and a last partial frame is dropped.
fn decode_packed(
    spec: hound::WavSpec,
    data: &[u8],
    samples: usize,
) -> Result<(Vec<Vec<f32>>, WavEncoding), IrError> {
    let b = spec.bits_per_sample;
    let width = (b as usize).div_ceil(8);
    if data.len() < samples * width {
        return Err(IrError::Truncated);
    }
    let n_ch = (spec.channels as usize).max(1);
    let data = &data[..samples / n_ch * n_ch * width];
    let split = |sample: fn(&[u8]) -> f32| -> Vec<Vec<f32>> {
        let mut channels = vec![Vec::with_capacity(samples / n_ch); n_ch];
        for frame in data.chunks_exact(width * n_ch) {
            for (c, s) in channels.iter_mut().zip(frame.chunks_exact(width)) {
                c.push(sample(s));
            }
        }
        channels
    };
    const S16: f32 = 1.0 / (1u64 << 15) as f32;
    const S24: f32 = 1.0 / (1u64 << 23) as f32;
    const S32: f32 = 1.0 / (1u64 << 31) as f32;
    Ok(match (spec.sample_format, b) {
        (hound::SampleFormat::Float, 32) => (
            split(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])),
            WavEncoding::Float,
        ),
        (hound::SampleFormat::Int, 16) => (
            split(|c| i16::from_le_bytes([c[0], c[1]]) as f32 * S16),
            WavEncoding::Int(16),
        ),
        (hound::SampleFormat::Int, 24) => (
            split(|c| (i32::from_le_bytes([0, c[0], c[1], c[2]]) >> 8) as f32 * S24),
            WavEncoding::Int(24),
        ),
        (hound::SampleFormat::Int, 32) => (
            split(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]) as f32 * S32),
            WavEncoding::Int(32),
        ),
        (f, b) => return Err(IrError::Unsupported(format!("{b}-bit {f:?}"))),
    })
}

impl Decoded {
    /// As an impulse response named `name`.
    fn named(self, name: &str) -> IrData {
        IrData {
            name: name.to_string(),
            sample_rate: self.sample_rate,
            channels: self.channels,
        }
    }
}

/// Checks samples against the rules: not empty, finite and not silent where required.
pub fn check_samples(rules: &Rules, samples: &[f32]) -> Result<(), IrError> {
    if samples.is_empty() {
        return Err(IrError::Empty);
    }
    if rules.reject_non_finite && samples.iter().any(|v| !v.is_finite()) {
        return Err(IrError::NonFinite);
    }
    if rules.reject_silent && samples.iter().all(|v| *v == 0.0) {
        return Err(IrError::Silent);
    }
    Ok(())
}

/// Validates interleaved samples and splits them into channels.
fn finish(
    rules: &Rules,
    rate: u32,
    n_ch: usize,
    interleaved: Vec<f32>,
    encoding: WavEncoding,
) -> Result<Decoded, IrError> {
    check_samples(rules, &interleaved)?;
    let channels = (0..n_ch)
        .map(|c| interleaved.iter().skip(c).step_by(n_ch).copied().collect())
        .collect();
    Ok(Decoded {
        sample_rate: rate,
        channels,
        encoding,
    })
}

/// Validates samples already split into channels (the same checks as [`check_samples`] on
/// all of them together: a file is silent when every channel is).
fn finish_planar(
    rules: &Rules,
    rate: u32,
    channels: Vec<Vec<f32>>,
    encoding: WavEncoding,
) -> Result<Decoded, IrError> {
    if channels.iter().all(Vec::is_empty) {
        return Err(IrError::Empty);
    }
    if rules.reject_non_finite && channels.iter().flatten().any(|v| !v.is_finite()) {
        return Err(IrError::NonFinite);
    }
    if rules.reject_silent && channels.iter().flatten().all(|v| *v == 0.0) {
        return Err(IrError::Silent);
    }
    Ok(Decoded {
        sample_rate: rate,
        channels,
        encoding,
    })
}

/// Checks a header's layout (channels, rate, length) before anything is allocated for it.
pub fn check_layout(rules: &Rules, channels: u32, rate: u32, frames: u64) -> Result<(), IrError> {
    if !rules.channels.contains(&channels) {
        return Err(IrError::Channels(channels.min(u16::MAX as u32) as u16));
    }
    if !(RATES.0..=RATES.1).contains(&rate) {
        return Err(IrError::Rate(rate));
    }
    let seconds = frames as f64 / rate as f64;
    if seconds > rules.max_seconds {
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
    let (bytes, name) = read_file(path, &IR_RULES)?;
    decode_any(&bytes, &name)
}

/// Reads audio to process (WAV, AIFF/AIFC or FLAC, by content) under [`INPUT_RULES`].
pub fn load_audio(path: &Path) -> Result<Decoded, IrError> {
    let (bytes, _) = read_file(path, &INPUT_RULES)?;
    decode_audio(&bytes, &INPUT_RULES)
}

/// Decodes WAV, AIFF/AIFC or FLAC bytes as an impulse response.
pub fn decode_any(bytes: &[u8], name: &str) -> Result<IrData, IrError> {
    decode_audio(bytes, &IR_RULES).map(|d| d.named(name))
}

/// The one decode entry point: WAV, AIFF/AIFC or FLAC, recognised by the magic number, not
/// the name, and checked against `rules`.
pub fn decode_audio(bytes: &[u8], rules: &Rules) -> Result<Decoded, IrError> {
    match bytes.get(..4) {
        Some(b"fLaC") => flac(bytes, rules),
        Some(b"FORM") => aiff(bytes, rules),
        Some(b"RIFF" | b"RIFX" | b"RF64") | None => wav(bytes, rules),
        Some(_) => Err(IrError::NotWav(
            "not a WAV, AIFF or FLAC file (unrecognised header)".into(),
        )),
    }
}

/// Decodes and validates FLAC bytes as an impulse response.
pub fn decode_flac(bytes: &[u8], name: &str) -> Result<IrData, IrError> {
    flac(bytes, &IR_RULES).map(|d| d.named(name))
}

/// FLAC by the pure-Rust `claxon` decoder (any bit depth up to 32).
fn flac(bytes: &[u8], rules: &Rules) -> Result<Decoded, IrError> {
    let mut reader = claxon::FlacReader::new(std::io::Cursor::new(bytes))
        .map_err(|e| IrError::NotWav(format!("FLAC: {e}")))?;
    let info = reader.streaminfo();
    let frames = info.samples.unwrap_or(0);
    check_layout(rules, info.channels, info.sample_rate, frames)?;
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
    let bits = info.bits_per_sample.clamp(8, 32) as u16;
    finish(
        rules,
        info.sample_rate,
        n_ch,
        interleaved,
        WavEncoding::Int(bits),
    )
}

/// Decodes and validates AIFF or AIFC bytes as an impulse response.
pub fn decode_aiff(bytes: &[u8], name: &str) -> Result<IrData, IrError> {
    aiff(bytes, &IR_RULES).map(|d| d.named(name))
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
    let full = 1i64 << (bits - 1);
    let x = v as f64 * full as f64;
    // Half away from zero, as `f64::round` (a libm call on baseline x86-64): a float's value
    // times a power of two plus one half is exact in f64 below 2^52, and the cast truncates
    // towards zero (saturating; NaN gives 0); anything larger is clamped anyway.
    ((x + 0.5f64.copysign(x)) as i64).clamp(-full, full - 1) as i32
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
    let spec = wav_spec(channels, rate, encoding);
    if let (WavEncoding::Int(bits), None) = (encoding, packed_width(encoding)) {
        // Other widths (8-bit WAV is unsigned): hound's per-sample writer.
        let mut w = hound::WavWriter::new(out, spec)?;
        for v in interleaved {
            w.write_sample(quantize(v, bits))?;
        }
        return w.finalize();
    }
    // The samples as bytes in one pass, and the header exactly as hound writes it: hound's
    // per-sample writer was a third of the renderer's time on a long file.
    let interleaved = interleaved.into_iter();
    let mut data = Vec::new();
    pack(encoding, interleaved, &mut data);
    let mut out = out;
    out.write_all(&wav_header(spec, data.len())?)?;
    out.write_all(&data)?;
    out.flush()?;
    Ok(())
}

/// hound's description of a file of `channels` channels at `rate` Hz in `encoding`.
fn wav_spec(channels: u16, rate: u32, encoding: WavEncoding) -> hound::WavSpec {
    let (bits_per_sample, sample_format) = match encoding {
        WavEncoding::Int(bits) => (bits, hound::SampleFormat::Int),
        WavEncoding::Float => (32, hound::SampleFormat::Float),
    };
    hound::WavSpec {
        channels,
        sample_rate: rate,
        bits_per_sample,
        sample_format,
    }
}

/// Bytes per sample of the encodings [`pack`] writes (16, 24 and 32-bit integer and float);
/// `None` for the others, which go through hound's per-sample writer.
fn packed_width(encoding: WavEncoding) -> Option<usize> {
    match encoding {
        WavEncoding::Float | WavEncoding::Int(32) => Some(4),
        WavEncoding::Int(24) => Some(3),
        WavEncoding::Int(16) => Some(2),
        WavEncoding::Int(_) => None,
    }
}

/// Appends `samples` to `data` as little-endian `encoding` (one of [`packed_width`]'s).
fn pack(encoding: WavEncoding, samples: impl Iterator<Item = f32>, data: &mut Vec<u8>) {
    data.reserve(samples.size_hint().0 * packed_width(encoding).unwrap_or(4));
    match encoding {
        WavEncoding::Float => samples.for_each(|v| data.extend_from_slice(&v.to_le_bytes())),
        WavEncoding::Int(32) => {
            samples.for_each(|v| data.extend_from_slice(&quantize(v, 32).to_le_bytes()))
        }
        WavEncoding::Int(24) => {
            samples.for_each(|v| data.extend_from_slice(&quantize(v, 24).to_le_bytes()[..3]))
        }
        _ => samples.for_each(|v| data.extend_from_slice(&(quantize(v, 16) as i16).to_le_bytes())),
    }
}

/// The header hound writes for `spec` before `data_len` bytes of samples (made for no
/// samples, then given the data's length).
fn wav_header(spec: hound::WavSpec, data_len: usize) -> Result<Vec<u8>, hound::Error> {
    let mut header = std::io::Cursor::new(Vec::new());
    hound::WavWriter::new(&mut header, spec)?.finalize()?;
    let mut header = header.into_inner();
    let too_long = || hound::Error::FormatError("too long for a WAV file");
    let riff = u32::try_from(header.len() - 8 + data_len).map_err(|_| too_long())?;
    let len = u32::try_from(data_len).map_err(|_| too_long())?;
    let h = header.len();
    header[4..8].copy_from_slice(&riff.to_le_bytes());
    header[h - 4..].copy_from_slice(&len.to_le_bytes());
    Ok(header)
}

/// The temporary name a file is written under beside `path` (unique in the process).
fn partial_path(path: &Path) -> std::path::PathBuf {
    static COUNTER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let mut partial = path.as_os_str().to_owned();
    partial.push(format!(".partial-{}-{n}", std::process::id()));
    std::path::PathBuf::from(partial)
}

/// A WAV file written in pieces as they are made (the renderer's output: memory stays
/// constant however long the file): the header for a length given in advance, then the
/// samples, channel slices at a time. Like [`write_wav_file`], the file appears whole or not
/// at all: under a temporary name until [`finish`](Self::finish), removed if it is never
/// finished. The bytes are [`write_wav`]'s for the same samples.
pub struct WavFileWriter {
    path: std::path::PathBuf,
    partial: std::path::PathBuf,
    out: std::io::BufWriter<std::fs::File>,
    spec: hound::WavSpec,
    encoding: WavEncoding,
    frames_left: usize,
    bytes: Vec<u8>,
    /// Samples of an encoding hound writes sample by sample, held until the end.
    held: Option<Vec<f32>>,
    finished: bool,
}

impl WavFileWriter {
    /// Starts `path` for `frames` frames of `channels` channels at `rate` Hz.
    pub fn create(
        path: &Path,
        channels: u16,
        rate: u32,
        encoding: WavEncoding,
        frames: usize,
    ) -> Result<Self, String> {
        use std::io::Write as _;
        let spec = wav_spec(channels, rate, encoding);
        let partial = partial_path(path);
        let file = std::fs::File::create(&partial)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        let mut w = Self {
            path: path.to_path_buf(),
            partial,
            out: std::io::BufWriter::new(file),
            spec,
            encoding,
            frames_left: frames,
            bytes: Vec::new(),
            held: None,
            finished: false,
        };
        match packed_width(encoding) {
            Some(width) => {
                let header =
                    wav_header(spec, frames * channels as usize * width).map_err(|e| w.err(&e))?;
                w.out.write_all(&header).map_err(|e| w.err(&e))?;
            }
            None => w.held = Some(Vec::new()),
        }
        Ok(w)
    }

    fn err(&self, e: &dyn fmt::Display) -> String {
        format!("cannot write {}: {e}", self.path.display())
    }

    /// Appends the frames in `channels` (one slice per channel, all the same length).
    pub fn write(&mut self, channels: &[&[f32]]) -> Result<(), String> {
        use std::io::Write as _;
        let n = channels.first().map_or(0, |c| c.len());
        if channels.len() != self.spec.channels as usize || channels.iter().any(|c| c.len() != n) {
            return Err(self.err(&"channels do not match the file"));
        }
        if n > self.frames_left {
            return Err(self.err(&"more frames than the header announced"));
        }
        self.frames_left -= n;
        let frames = (0..n).flat_map(|i| channels.iter().map(move |c| c[i]));
        if let Some(held) = &mut self.held {
            held.extend(frames);
            return Ok(());
        }
        self.bytes.clear();
        pack(self.encoding, frames, &mut self.bytes);
        self.out.write_all(&self.bytes).map_err(|e| self.err(&e))
    }

    /// Ends the file (every announced frame must have been written) and gives it its name.
    pub fn finish(mut self) -> Result<(), String> {
        use std::io::Write as _;
        if self.frames_left != 0 {
            return Err(self.err(&format!("{} frames missing", self.frames_left)));
        }
        if let Some(held) = self.held.take() {
            write_wav(
                &mut self.out,
                self.spec.channels,
                self.spec.sample_rate,
                self.encoding,
                held,
            )
            .map_err(|e| self.err(&e))?;
        }
        self.out.flush().map_err(|e| self.err(&e))?;
        std::fs::rename(&self.partial, &self.path).map_err(|e| self.err(&e))?;
        self.finished = true;
        Ok(())
    }
}

impl Drop for WavFileWriter {
    fn drop(&mut self) {
        if !self.finished {
            let _ = std::fs::remove_file(&self.partial);
        }
    }
}

/// [`write_wav`] to a file; the error names the file. The file appears whole or not at all:
/// it is written under a temporary name beside it and renamed (a reader never sees a header
/// promising samples that are not there yet, and a failed write leaves no partial file).
pub fn write_wav_file(
    path: &Path,
    channels: u16,
    rate: u32,
    encoding: WavEncoding,
    interleaved: impl IntoIterator<Item = f32>,
) -> Result<(), String> {
    let err = |e: &dyn fmt::Display| format!("cannot write {}: {e}", path.display());
    let partial = partial_path(path);
    let written = std::fs::File::create(&partial)
        .map_err(|e| err(&e))
        .and_then(|file| {
            write_wav(
                std::io::BufWriter::new(file),
                channels,
                rate,
                encoding,
                interleaved,
            )
            .map_err(|e| err(&e))
        })
        .and_then(|()| std::fs::rename(&partial, path).map_err(|e| err(&e)));
    if written.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    written
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
mod tests;
