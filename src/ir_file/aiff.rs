//! AIFF and AIFC, read by hand (about a hundred lines; the format is simple and no kept crate
//! reads it).

use super::{check_layout, finish, Decoded, IrError, Rules, WavEncoding};

/// IEEE 754 80-bit extended (big-endian) to `f64`, as AIFF stores its sample rate.
pub(super) fn extended_to_f64(b: &[u8]) -> f64 {
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

/// AIFF (8/16/24/32-bit integer) or AIFC (`NONE`, `sowt`, `fl32`). Format: Apple, "Audio
/// Interchange File Format AIFF-C", 1991.
pub(super) fn aiff(bytes: &[u8], rules: &Rules) -> Result<Decoded, IrError> {
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
    check_layout(rules, n_ch, rate_u, frames)?;
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
    let encoding = if float {
        WavEncoding::Float
    } else {
        WavEncoding::Int(bits as u16)
    };
    finish(rules, rate_u, n_ch, interleaved, encoding)
}
