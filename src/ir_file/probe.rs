//! What an audio file holds (channels, rate, length) from its header alone: the file
//! browser lists folders of IRs without decoding them. Reads at most [`PREFIX`] bytes.

use std::io::Read;
use std::path::Path;

use super::aiff::extended_to_f64;

/// How much of a file the probe reads.
pub const PREFIX: usize = 256 << 10;

/// An audio file's layout, from its header.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FileInfo {
    /// Channel count.
    pub channels: u32,
    /// Sample rate, Hz.
    pub rate: u32,
    /// Frames (samples per channel).
    pub frames: u64,
}

impl FileInfo {
    /// The length, seconds.
    pub fn seconds(&self) -> f64 {
        self.frames as f64 / self.rate.max(1) as f64
    }
}

/// Reads the header of the WAV, AIFF/AIFC or FLAC file at `path`.
pub fn probe(path: &Path) -> Result<FileInfo, String> {
    let mut head = Vec::with_capacity(4096);
    std::fs::File::open(path)
        .and_then(|f| f.take(PREFIX as u64).read_to_end(&mut head))
        .map_err(|e| e.to_string())?;
    probe_bytes(&head)
}

/// [`probe`] on the first bytes of a file.
pub fn probe_bytes(head: &[u8]) -> Result<FileInfo, String> {
    match head.get(..4) {
        Some(b"fLaC") => {
            let r = claxon::FlacReader::new(std::io::Cursor::new(head))
                .map_err(|e| format!("FLAC: {e}"))?;
            let s = r.streaminfo();
            Ok(FileInfo {
                channels: s.channels,
                rate: s.sample_rate,
                frames: s.samples.unwrap_or(0),
            })
        }
        Some(b"FORM") => aiff(head),
        Some(b"RIFF" | b"RIFX" | b"RF64") => {
            let r = hound::WavReader::new(std::io::Cursor::new(head))
                .map_err(|e| format!("WAV: {e}"))?;
            let s = r.spec();
            Ok(FileInfo {
                channels: s.channels as u32,
                rate: s.sample_rate,
                frames: r.duration() as u64,
            })
        }
        _ => Err("not a WAV, AIFF or FLAC file".into()),
    }
}

/// The `COMM` chunk of an AIFF or AIFC header.
fn aiff(head: &[u8]) -> Result<FileInfo, String> {
    if head.len() < 12 || !matches!(&head[8..12], b"AIFF" | b"AIFC") {
        return Err("AIFF: not an AIFF form".into());
    }
    let mut pos = 12;
    while pos + 8 <= head.len() {
        let size = u32::from_be_bytes(head[pos + 4..pos + 8].try_into().expect("4")) as usize;
        let body = pos + 8;
        if &head[pos..pos + 4] == b"COMM" {
            let c = head.get(body..body + 18).ok_or("AIFF: short COMM chunk")?;
            return Ok(FileInfo {
                channels: u16::from_be_bytes([c[0], c[1]]) as u32,
                frames: u32::from_be_bytes([c[2], c[3], c[4], c[5]]) as u64,
                rate: extended_to_f64(&c[8..18])
                    .round()
                    .clamp(0.0, u32::MAX as f64) as u32,
            });
        }
        pos = body.saturating_add(size + (size & 1));
    }
    Err("AIFF: no COMM chunk in the header".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_gives_the_layout_without_decoding() {
        let dir = std::env::temp_dir().join(format!("fluxforge-probe-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("t.wav");
        let frames = 44_100 * 3 / 2;
        let samples = vec![0.25f32; frames * 2];
        super::super::write_wav_file(
            &path,
            2,
            44_100,
            super::super::WavEncoding::Int(24),
            samples,
        )
        .unwrap();
        let info = probe(&path).unwrap();
        assert_eq!(
            info,
            FileInfo {
                channels: 2,
                rate: 44_100,
                frames: frames as u64
            }
        );
        assert!((info.seconds() - 1.5).abs() < 1e-9);
        // An AIFF header: COMM after another chunk, 4 channels, 96 kHz.
        let mut a = b"FORM\0\0\0\0AIFF".to_vec();
        a.extend_from_slice(b"NAME\0\0\0\x03abc\0");
        a.extend_from_slice(b"COMM\0\0\0\x12\0\x04\0\0\x01\x00\0\x18");
        // 96000 as an 80-bit extended: exponent 16383 + 16, mantissa 96000 << 47.
        a.extend_from_slice(&(16383u16 + 16).to_be_bytes());
        a.extend_from_slice(&(96_000u64 << 47).to_be_bytes());
        assert_eq!(
            probe_bytes(&a).unwrap(),
            FileInfo {
                channels: 4,
                rate: 96_000,
                frames: 256
            }
        );
        assert!(probe_bytes(b"OggS....").is_err());
        assert!(probe_bytes(b"").is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
