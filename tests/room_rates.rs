//! Every room, and a loaded file through the resampler, sounds equally loud and equally long
//! at every session rate: the energy a listener hears (20 Hz-20 kHz) within ±0.5 dB of the
//! 48 kHz IR's, and the T30 decay time within 3 %. Measured here independently of the
//! plugin's own auto-gain measurement: one whole-IR FFT, and Schroeder backward integration.

use std::sync::Arc;

use fluxforge::dsp::ir_edit::IrEdits;
use fluxforge::dsp::rng::Rng;
use fluxforge::ir_file::IrData;
use fluxforge::ir_source::Source;
use fluxforge::params::Room;
use realfft::RealFftPlanner;

const RATES: [f32; 5] = [44_100.0, 48_000.0, 88_200.0, 96_000.0, 192_000.0];

/// Mean `|H(f)|^2` over 20 Hz-20 kHz, from one FFT of the whole (zero-padded) channel.
fn audible_power(x: &[f32], rate: f32) -> f64 {
    let n = (2 * x.len()).next_power_of_two();
    let fft = RealFftPlanner::<f64>::new().plan_fft_forward(n);
    let mut buf: Vec<f64> = x.iter().map(|v| *v as f64).collect();
    buf.resize(n, 0.0);
    let mut spec = fft.make_output_vec();
    fft.process(&mut buf, &mut spec).unwrap();
    let bin = rate as f64 / n as f64;
    let (lo, hi) = (
        (20.0 / bin).ceil() as usize,
        (20_000.0 / bin).floor() as usize,
    );
    spec[lo..=hi].iter().map(|z| z.norm_sqr()).sum::<f64>() / (hi + 1 - lo) as f64
}

/// T30 in seconds: Schroeder backward integration, twice the time from -5 to -35 dB.
fn t30(x: &[f32], rate: f32) -> f64 {
    let mut edc: Vec<f64> = x.iter().map(|v| (*v as f64).powi(2)).collect();
    for i in (0..edc.len() - 1).rev() {
        edc[i] += edc[i + 1];
    }
    let total = edc[0];
    let at = |db: f64| {
        let level = total * 10f64.powf(db / 10.0);
        edc.iter()
            .position(|e| *e < level)
            .expect("decays that far") as f64
            / rate as f64
    };
    2.0 * (at(-35.0) - at(-5.0))
}

fn check(name: &str, source: &Source) {
    let mut at48 = None;
    let mut rows = Vec::new();
    for rate in RATES {
        let ir = fluxforge::ir_source::render_ir(source, rate, &IrEdits::default()).channels;
        let power: f64 = ir.iter().map(|c| audible_power(c, rate)).sum::<f64>() / ir.len() as f64;
        let t = t30(&ir[0], rate);
        rows.push((rate, power, t));
        if rate == 48_000.0 {
            at48 = Some((power, t));
        }
    }
    let (p48, t48) = at48.unwrap();
    for (rate, power, t) in rows {
        let db = 10.0 * (power / p48).log10();
        assert!(
            db.abs() <= 0.5,
            "{name} at {rate} Hz: {db:+.2} dB in band vs 48 kHz"
        );
        let dt = t / t48 - 1.0;
        assert!(
            dt.abs() <= 0.03,
            "{name} at {rate} Hz: T30 {t:.3} s vs {t48:.3} s"
        );
    }
}

#[test]
fn every_factory_room_is_equally_loud_and_long_at_every_rate() {
    // Every factory room (all but the loaded file).
    for room in Room::all().filter(|r| *r != Room::File) {
        check(room.name(), &Source::Factory(room));
    }
}

#[test]
fn a_loaded_file_is_equally_loud_and_long_at_every_rate() {
    // A decaying-noise true-stereo-free stereo IR at 44.1 kHz, 1.5 s.
    let mut rng = Rng::new(12);
    let rate = 44_100;
    let channels = (0..2)
        .map(|_| {
            (0..(1.5 * rate as f64) as usize)
                .map(|i| (rng.bipolar() * (-(i as f64) / (0.2 * rate as f64)).exp()) as f32)
                .collect()
        })
        .collect();
    let ir = IrData {
        name: "noise".into(),
        sample_rate: rate,
        channels,
    };
    let source = Source::File(Arc::new(ir.clone()), String::new());
    check("file", &source);
    // Without auto-gain too: the resampler keeps the file the same filter.
    for rate in RATES {
        let edits = IrEdits {
            auto_gain: false,
            ..Default::default()
        };
        let a = fluxforge::ir_source::render_ir(&source, rate, &edits).channels;
        let b = fluxforge::ir_source::render_ir(&source, 48_000.0, &edits).channels;
        let db = 10.0 * (audible_power(&a[0], rate) / audible_power(&b[0], 48_000.0)).log10();
        assert!(
            db.abs() <= 0.5,
            "file without auto-gain at {rate} Hz: {db:+.2} dB"
        );
    }
}
