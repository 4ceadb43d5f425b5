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
mod tests;
