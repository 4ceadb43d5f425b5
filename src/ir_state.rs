//! The loaded IR as it is saved in the plugin state: name, source path and the samples
//! themselves (lossless, compressed), so that a session opens with the same sound on a machine
//! that does not have the file.
//!
//! Encoding of [`StoredIr::data`]: the source samples (as decoded, at the file's own rate) as
//! little-endian `f32`, channel after channel; the bytes regrouped into four planes (all first
//! bytes, then all second bytes, ...), which puts the slowly varying sign/exponent bytes
//! together; DEFLATE (`miniz_oxide`, level 1: 10x faster than level 6 for a few percent more bytes); base64. Decoding is bounded: the header's frame
//! count and layout are checked against the limits of [`crate::ir_file`] before anything is
//! allocated, the text length against the largest DEFLATE output for that size, and the
//! decompressor stops at the exact expected size.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::RwLock;

use base64::Engine as _;
use nice_plug::params::persist::PersistentField;
use serde::{Deserialize, Serialize};

use crate::ir_file::{self, IrData, IrError, IR_RULES};

/// Version of the encoding in [`StoredIr::format`].
pub const FORMAT: u32 = 1;

/// An impulse response embedded in the plugin state. Every field has a default so an old or
/// partial state still deserialises; [`StoredIr::decode`] then decides whether it is usable.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct StoredIr {
    /// Encoding version ([`FORMAT`]).
    pub format: u32,
    /// Display name (the file's stem).
    pub name: String,
    /// Where the file was loaded from (shown to the user; the samples below are what plays).
    pub path: String,
    /// Sample rate of the stored samples, Hz.
    pub sample_rate: u32,
    /// Channel count: 1, 2 or 4.
    pub channels: u32,
    /// Samples per channel.
    pub frames: u64,
    /// The samples, encoded as described in the module documentation.
    pub data: String,
}

impl StoredIr {
    /// Encodes a decoded IR. Allocates; a 4 s stereo IR takes a few milliseconds.
    pub fn encode(ir: &IrData, path: &str) -> Self {
        let n = ir.len() * ir.channels.len();
        let mut planes = vec![0u8; 4 * n];
        for (i, v) in ir.channels.iter().flatten().enumerate() {
            for (p, b) in v.to_le_bytes().iter().enumerate() {
                planes[p * n + i] = *b;
            }
        }
        let packed = miniz_oxide::deflate::compress_to_vec(&planes, 1);
        Self {
            format: FORMAT,
            name: ir.name.clone(),
            path: path.to_string(),
            sample_rate: ir.sample_rate,
            channels: ir.channels.len() as u32,
            frames: ir.len() as u64,
            data: base64::engine::general_purpose::STANDARD.encode(packed),
        }
    }

    /// Decodes and validates the stored samples. Allocation is bounded by the limits of
    /// [`crate::ir_file`] (at most [`MAX_FILE_SECONDS`] of 4 channels at 384 kHz) whatever the
    /// state claims.
    pub fn decode(&self) -> Result<IrData, IrError> {
        let damaged = |m: &str| IrError::Damaged(m.to_string());
        if self.format != FORMAT {
            return Err(damaged(&format!(
                "unknown encoding version {}",
                self.format
            )));
        }
        ir_file::check_layout(&IR_RULES, self.channels, self.sample_rate, self.frames)?;
        let n = self.frames as usize * self.channels as usize;
        let raw_len = 4 * n;
        // DEFLATE never expands by more than 5 bytes per 16 KB stored block plus a header.
        let max_packed = raw_len + raw_len / 16_000 * 5 + 1024;
        if self.data.len() > max_packed.div_ceil(3) * 4 + 4 {
            return Err(damaged("the sample data is larger than its header allows"));
        }
        let packed = base64::engine::general_purpose::STANDARD
            .decode(self.data.as_bytes())
            .map_err(|e| damaged(&format!("base64: {e}")))?;
        let planes = miniz_oxide::inflate::decompress_to_vec_with_limit(&packed, raw_len)
            .map_err(|e| damaged(&format!("inflate: {:?}", e.status)))?;
        if planes.len() != raw_len {
            return Err(damaged("the sample data is shorter than its header says"));
        }
        let mut flat = Vec::with_capacity(n);
        for i in 0..n {
            flat.push(f32::from_le_bytes([
                planes[i],
                planes[n + i],
                planes[2 * n + i],
                planes[3 * n + i],
            ]));
        }
        ir_file::check_samples(&IR_RULES, &flat)?;
        Ok(IrData {
            name: self.name.clone(),
            sample_rate: self.sample_rate,
            channels: flat
                .chunks_exact(self.frames as usize)
                .map(<[f32]>::to_vec)
                .collect(),
        })
    }
}

/// The persisted IR field of the parameters: the stored IR (or `None`: no file loaded) and an
/// epoch that counts every change, so the audio thread can notice a state load with one atomic
/// read. Only non-audio threads take the lock.
#[derive(Debug, Default)]
pub struct IrField {
    stored: RwLock<Option<StoredIr>>,
    epoch: AtomicU64,
}

impl IrField {
    /// A clone of the stored IR. Allocates; not for the audio thread.
    pub fn get(&self) -> Option<StoredIr> {
        self.stored.read().map(|s| s.clone()).unwrap_or(None)
    }

    /// Replaces the stored IR and advances the epoch.
    pub fn put(&self, value: Option<StoredIr>) {
        if let Ok(mut s) = self.stored.write() {
            *s = value;
        }
        self.epoch.fetch_add(1, Ordering::AcqRel);
    }

    /// Replaces the stored IR and advances the epoch only if the epoch is still `epoch`
    /// (checked under the write lock, so a concurrent state load cannot slip in between).
    /// Returns whether it did.
    pub fn put_if_epoch(&self, value: Option<StoredIr>, epoch: u64) -> bool {
        let Ok(mut s) = self.stored.write() else {
            return false;
        };
        if self.epoch.load(Ordering::Acquire) != epoch {
            return false;
        }
        *s = value;
        self.epoch.fetch_add(1, Ordering::AcqRel);
        true
    }

    /// Counts changes; lock-free, for the audio thread.
    pub fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }
}

impl<'a> PersistentField<'a, Option<StoredIr>> for IrField {
    fn set(&self, new_value: Option<StoredIr>) {
        self.put(new_value);
    }

    fn map<F, R>(&self, f: F) -> R
    where
        F: Fn(&Option<StoredIr>) -> R,
    {
        match self.stored.read() {
            Ok(s) => f(&s),
            Err(_) => f(&None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dsp::rng::Rng;

    fn ir(ch: usize, frames: usize) -> IrData {
        let mut rng = Rng::new(7);
        IrData {
            name: "test".into(),
            sample_rate: 44_100,
            channels: (0..ch)
                .map(|_| {
                    (0..frames)
                        .map(|i| (rng.bipolar() * (-(i as f64) / 3000.0).exp()) as f32)
                        .collect()
                })
                .collect(),
        }
    }

    #[test]
    fn round_trip_is_bit_exact_through_json_and_compresses() {
        for ch in [1, 2, 4] {
            let src = ir(ch, 20_000);
            let stored = StoredIr::encode(&src, "/somewhere/test.wav");
            let json = serde_json::to_string(&Some(stored.clone())).unwrap();
            let back: Option<StoredIr> = serde_json::from_str(&json).unwrap();
            let dec = back.unwrap().decode().unwrap();
            assert_eq!(dec, src);
            let raw = 4 * ch * 20_000;
            assert!(
                stored.data.len() < raw * 4 / 3,
                "{} vs {raw}",
                stored.data.len()
            );
        }
        // Integer-sourced IRs (16/24-bit files) compress much better.
        let mut q = ir(2, 48_000);
        for c in &mut q.channels {
            for v in c.iter_mut() {
                *v = (*v * 8_388_607.0).round() / 8_388_608.0;
            }
        }
        let s = StoredIr::encode(&q, "");
        let ratio = (s.data.len() as f64 * 0.75) / (4.0 * 2.0 * 48_000.0);
        assert!(ratio < 0.85, "compressed to {ratio}");
    }

    #[test]
    fn damaged_or_absurd_states_are_refused_without_large_allocations() {
        let good = StoredIr::encode(&ir(2, 5000), "x.wav");
        let cases: Vec<(StoredIr, &str)> = vec![
            (
                StoredIr {
                    data: "!!!not base64".into(),
                    ..good.clone()
                },
                "base64",
            ),
            (
                StoredIr {
                    data: "AAAA".repeat(10),
                    ..good.clone()
                },
                "inflate",
            ),
            (
                StoredIr {
                    frames: 4000,
                    ..good.clone()
                },
                "damaged",
            ),
            (
                StoredIr {
                    frames: 6000,
                    ..good.clone()
                },
                "shorter",
            ),
            (
                StoredIr {
                    frames: 400,
                    ..good.clone()
                },
                "larger than",
            ),
            (
                StoredIr {
                    frames: 1 << 40,
                    ..good.clone()
                },
                "limit is",
            ),
            (
                StoredIr {
                    channels: 3,
                    ..good.clone()
                },
                "channels",
            ),
            (
                StoredIr {
                    channels: 1 << 20,
                    ..good.clone()
                },
                "channels",
            ),
            (
                StoredIr {
                    sample_rate: 0,
                    ..good.clone()
                },
                "sample rate",
            ),
            (
                StoredIr {
                    format: 99,
                    ..good.clone()
                },
                "version",
            ),
            (StoredIr::default(), "version"),
            (
                StoredIr {
                    frames: 0,
                    ..good.clone()
                },
                "no samples",
            ),
        ];
        for (s, want) in cases {
            let e = s.decode().unwrap_err().to_string();
            assert!(e.contains(want), "{want}: {e}");
        }
        // A decompression bomb: 1 GB of zeros claimed as 5000 frames stops at the limit.
        let bomb = miniz_oxide::deflate::compress_to_vec(&vec![0u8; 50_000_000], 9);
        let s = StoredIr {
            data: base64::engine::general_purpose::STANDARD.encode(bomb),
            ..good.clone()
        };
        assert!(s.decode().is_err());
        // NaN and silent content.
        let mut nan = ir(1, 100);
        nan.channels[0][50] = f32::NAN;
        assert_eq!(StoredIr::encode(&nan, "").decode(), Err(IrError::NonFinite));
        let silent = IrData {
            channels: vec![vec![0.0; 100]],
            ..ir(1, 100)
        };
        assert_eq!(StoredIr::encode(&silent, "").decode(), Err(IrError::Silent));
    }

    #[test]
    fn field_counts_changes_and_serialises_none() {
        let f = IrField::default();
        let e0 = f.epoch();
        assert_eq!(f.map(|v| serde_json::to_string(v).unwrap()), "null");
        f.set(Some(StoredIr::encode(&ir(1, 10), "p")));
        assert_eq!(f.epoch(), e0 + 1);
        assert_eq!(f.get().unwrap().path, "p");
        // An old state (a field the version did not have) fills in defaults.
        let s: StoredIr = serde_json::from_str(r#"{"name":"x"}"#).unwrap();
        assert_eq!(s.format, 0);
    }
}
