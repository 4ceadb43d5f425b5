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
    (-(i as f32) / 500.0).exp() * if i.is_multiple_of(3) { 0.8 } else { -0.5 }
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

/// Every encoding the writers write.
const WRITTEN_ENCODINGS: [WavEncoding; 5] = [
    WavEncoding::Float,
    WavEncoding::Int(16),
    WavEncoding::Int(24),
    WavEncoding::Int(32),
    WavEncoding::Int(8),
];

/// What hound's own per-sample writer makes of `samples` (the reference of the fast writer).
fn hound_wav(channels: u16, encoding: WavEncoding, samples: &[f32]) -> Vec<u8> {
    let (bits, format) = match encoding {
        WavEncoding::Int(b) => (b, hound::SampleFormat::Int),
        WavEncoding::Float => (32, hound::SampleFormat::Float),
    };
    let spec = hound::WavSpec {
        channels,
        sample_rate: 44_100,
        bits_per_sample: bits,
        sample_format: format,
    };
    let mut buf = std::io::Cursor::new(Vec::new());
    let mut w = hound::WavWriter::new(&mut buf, spec).unwrap();
    for &v in samples {
        match encoding {
            WavEncoding::Float => w.write_sample(v).unwrap(),
            WavEncoding::Int(b) => w.write_sample(quantize(v, b)).unwrap(),
        }
    }
    w.finalize().unwrap();
    buf.into_inner()
}

#[test]
fn the_writer_and_the_reader_match_hounds_sample_by_sample_paths() {
    let mut rng = Rng::new(77);
    for encoding in WRITTEN_ENCODINGS {
        for channels in [1u16, 2, 4] {
            // An odd count too: a mono 24-bit file then has an odd data length.
            for n in [0usize, 1, 7, 4801] {
                let samples: Vec<f32> = (0..n * channels as usize)
                    .map(|i| match i % 97 {
                        0 => 1.5, // clipped by the integer formats
                        1 => -1.0,
                        _ => rng.bipolar() as f32,
                    })
                    .collect();
                let mut ours = std::io::Cursor::new(Vec::new());
                write_wav(
                    &mut ours,
                    channels,
                    44_100,
                    encoding,
                    samples.iter().copied(),
                )
                .unwrap();
                let ours = ours.into_inner();
                let theirs = hound_wav(channels, encoding, &samples);
                assert_eq!(ours, theirs, "{encoding:?} {channels} ch {n} frames: bytes");
                if n == 0 || channels > 2 || matches!(encoding, WavEncoding::Int(8)) {
                    // The input rules take one or two channels and some audio; 8-bit WAV is
                    // written, not read.
                    continue;
                }
                // The reader: what hound's iterator reads.
                let got = decode_audio(&ours, &INPUT_RULES).unwrap();
                let want: Vec<f32> = {
                    let r = hound::WavReader::new(std::io::Cursor::new(&theirs[..])).unwrap();
                    match encoding {
                        WavEncoding::Float => r.into_samples::<f32>().map(Result::unwrap).collect(),
                        WavEncoding::Int(b) => {
                            let scale = 1.0 / (1u64 << (b - 1)) as f32;
                            r.into_samples::<i32>()
                                .map(|v| v.unwrap() as f32 * scale)
                                .collect()
                        }
                    }
                };
                let flat: Vec<f32> = (0..n)
                    .flat_map(|i| got.channels.iter().map(move |c| c[i]))
                    .collect();
                assert_eq!(flat, want, "{encoding:?} {channels} ch {n} frames: samples");
                // A data chunk cut short is reported as truncated.
                if n > 7 {
                    let cut = &ours[..ours.len() - 5];
                    assert!(matches!(
                        decode_audio(cut, &INPUT_RULES),
                        Err(IrError::Truncated)
                    ));
                }
            }
        }
    }
}

#[test]
fn a_24_bit_file_in_4_byte_containers_reads_through_the_general_path() {
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: 48_000,
        bits_per_sample: 24,
        sample_format: hound::SampleFormat::Int,
    };
    let mut buf = std::io::Cursor::new(Vec::new());
    let mut w = hound::WavWriter::new_with_spec_ex(
        &mut buf,
        hound::WavSpecEx {
            spec,
            bytes_per_sample: 4,
        },
    )
    .unwrap();
    let codes: Vec<i32> = (0..200)
        .map(|i| (i * 40_000) % 8_000_000 - 4_000_000)
        .collect();
    for c in &codes {
        w.write_sample(*c).unwrap();
    }
    w.finalize().unwrap();
    let got = decode_audio(&buf.into_inner(), &INPUT_RULES).unwrap();
    let scale = 1.0 / (1u64 << 23) as f32;
    for (i, c) in codes.iter().enumerate() {
        assert_eq!(got.channels[i % 2][i / 2], *c as f32 * scale, "sample {i}");
    }
}

#[test]
fn a_file_is_written_whole_or_not_at_all() {
    let dir = std::env::temp_dir().join(format!("fluxforge-wav-atomic-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("taken")).unwrap();
    // Written whole: readable at once, and nothing else left beside it.
    let ok = dir.join("ok.wav");
    write_wav_file(&ok, 2, 48_000, WavEncoding::Int(24), vec![0.25f32; 960]).unwrap();
    assert_eq!(
        decode_audio(&std::fs::read(&ok).unwrap(), &INPUT_RULES)
            .unwrap()
            .channels[0]
            .len(),
        480
    );
    // A write that cannot end (the name is taken by a folder) names the file and leaves no
    // partial file behind.
    let e = write_wav_file(
        &dir.join("taken"),
        2,
        48_000,
        WavEncoding::Float,
        vec![0.0f32; 8],
    )
    .unwrap_err();
    assert!(e.contains("taken"), "{e}");
    let names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.contains("partial")), "{names:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn quantize_rounds_half_away_from_zero_as_f64_round_does() {
    let reference = |v: f32, bits: u16| -> i32 {
        let full = (1u64 << (bits - 1)) as f64;
        (v as f64 * full).round().clamp(-full, full - 1.0) as i32
    };
    let mut rng = Rng::new(5);
    for bits in [8u16, 16, 20, 24, 32] {
        let full = (1u64 << (bits - 1)) as f32;
        let mut values = vec![
            0.0,
            -0.0,
            1.0,
            -1.0,
            1.5,
            -1.5,
            f32::MAX,
            f32::MIN,
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::NAN,
            f32::MIN_POSITIVE,
            1e-30,
        ];
        // Exact halves and their neighbours, where the two roundings could part.
        for k in [0.5f32, 1.5, 2.5, 100.5, 8_388_606.5, 1e6 + 0.5] {
            for s in [1.0f32, -1.0] {
                let v = s * k / full;
                values.extend([
                    v,
                    f32::from_bits(v.to_bits() + 1),
                    f32::from_bits(v.to_bits() - 1),
                ]);
            }
        }
        values.extend((0..10_000).map(|_| 1.2 * rng.bipolar() as f32));
        for v in values {
            assert_eq!(
                quantize(v, bits),
                reference(v, bits),
                "{v:e} at {bits} bits"
            );
        }
    }
}

#[test]
fn a_wav_written_in_pieces_is_the_wav_written_at_once() {
    let dir = std::env::temp_dir().join(format!("fluxforge-wav-pieces-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut rng = Rng::new(9);
    for encoding in WRITTEN_ENCODINGS {
        for channels in [1usize, 2] {
            let frames = 10_007;
            let planar: Vec<Vec<f32>> = (0..channels)
                .map(|_| (0..frames).map(|_| 1.1 * rng.bipolar() as f32).collect())
                .collect();
            let interleaved = (0..frames).flat_map(|i| planar.iter().map(move |c| c[i]));
            let mut whole = std::io::Cursor::new(Vec::new());
            write_wav(&mut whole, channels as u16, 48_000, encoding, interleaved).unwrap();
            let path = dir.join("pieces.wav");
            let _ = std::fs::remove_file(&path);
            let mut w =
                WavFileWriter::create(&path, channels as u16, 48_000, encoding, frames).unwrap();
            let mut pos = 0;
            for n in [0usize, 1, 64, 8192, 333].iter().cycle() {
                let n = (*n).min(frames - pos);
                let slices: Vec<&[f32]> = planar.iter().map(|c| &c[pos..pos + n]).collect();
                w.write(&slices).unwrap();
                pos += n;
                if pos == frames {
                    break;
                }
            }
            // Nothing under the final name until the end.
            assert!(!path.exists());
            w.finish().unwrap();
            assert_eq!(
                std::fs::read(&path).unwrap(),
                whole.into_inner(),
                "{encoding:?}, {channels} channels"
            );
        }
    }
    // A file left unfinished, or short of its frames, leaves nothing behind.
    let short = dir.join("short.wav");
    let mut w = WavFileWriter::create(&short, 2, 48_000, WavEncoding::Int(24), 10).unwrap();
    w.write(&[&[0.1; 4], &[0.2; 4]]).unwrap();
    assert!(w
        .write(&[&[0.1; 7], &[0.2; 7]])
        .unwrap_err()
        .contains("more frames"));
    assert!(w.finish().unwrap_err().contains("6 frames missing"));
    drop(
        WavFileWriter::create(&dir.join("dropped.wav"), 1, 48_000, WavEncoding::Float, 5).unwrap(),
    );
    let names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["pieces.wav"], "{names:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}
