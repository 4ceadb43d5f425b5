//! `fluxforge-render`: bounce a WAV file through the FluxForge engine offline.
//!
//! It runs exactly the chain the plugin runs (same engine, same default IR, same plan), so a
//! render matches the plugin in a host for the same settings. See `--help`.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use fluxforge::dsp::chain::{Engine, Settings};
use fluxforge::dsp::convolver::Kernel;
use fluxforge::dsp::ir_edit::IrEdits;
use fluxforge::ir_file;
use fluxforge::loader::Source;
use fluxforge::params::Room;
use fluxforge::preset::Preset;
use std::sync::Arc;

const HELP: &str = "\
fluxforge-render: process a WAV file with FluxForge offline

USAGE:
    fluxforge-render <INPUT.wav> <OUTPUT.wav> [OPTIONS]
    fluxforge-render --make-demo-input <FILE.wav>

The output has the input's sample rate and sample format (16/24/32-bit integer or 32-bit
float). A mono input gives a stereo output (the reverb is stereo), as in the plugin's
mono-in/stereo-out layout. Inputs with more than two channels are rejected.

OPTIONS:
    --ir FILE           Impulse response (WAV 16/24/32-bit integer or 32-bit float, AIFF/AIFC
                        or FLAC; mono, stereo or 4-channel true stereo; up to 60 s).
                        Resampled to the input's rate.     [default: factory Medium Room]
    --room NAME         Factory impulse instead: small-room, medium-room, chamber, plate,
                        large-hall or cathedral
IR EDITS (as the plugin's parameters, applied in this order):
    --stretch PCT       Time scale, 50..200 %                       [default: 100]
    --reverse           Play the IR backwards
    --trim MS           Remove MS milliseconds from the start, 0..1000 [default: 0]
    --length PCT        Keep PCT % of the rest (fade-out at the cut)  [default: 100]
    --decay PCT         Decay time relative to the IR's own, 25..200 % [default: 100]
    --low-cut HZ        12 dB/oct high-pass on the IR, 20 (off)..1000 [default: off]
    --high-cut HZ       12 dB/oct low-pass on the IR, 1000..20000 (off) [default: off]
    --predelay MS       Silence before the IR, 0..500 ms             [default: 0]
    --no-ir-auto-gain   Keep the IR's own level (no energy normalisation)
    --width FRACTION    Reverb stereo width (mid/side), 0..2           [default: 1]
    --wet-level DB      Reverb level, -36..12 dB                     [default: 0]
OTHER OPTIONS:
    --preset FILE       Load settings from a preset file (JSON, as written by --save-preset).
                        Flags given after it override its values.
    --save-preset FILE  Write the final settings to FILE as a preset.
    --in-gain DB        Input gain in dB, -24..24            [default: 0]
    --out-gain DB       Output gain in dB, -24..24           [default: 0]
    --mix FRACTION      Reverb dry/wet mix, 0..1             [default: 0.3]
    --bypass            Pass the input through unchanged
    --mode MODE         Character: clean, subtle, warm or tape     [default: clean]
    --drive DB          Drive into the character stage, 0..36      [default: 6]
    --drive-trim DB     Character stage output trim, -24..24       [default: 0]
    --drive-mix FRACTION
                        Character stage dry/wet, 0..1              [default: 1]
    --no-auto-gain      Turn off the character stage's gain compensation
    --oversample        2x oversampling in the character stage
    --tail SECONDS      Seconds of reverb tail appended after the input
                        [default: the IR's length]
    --block N           Processing block size in samples, 1..=65536 [default: 512]
    --quiet             No progress bar
    --make-demo-input FILE
                        Write a dry 4 s stereo test phrase (plucked notes and claps,
                        48 kHz, 24-bit) to FILE and exit: something to hear the reverb on.
    -h, --help          Show this help

EXIT STATUS:
    0 on success; 1 with a one-line error on stderr otherwise.
";

struct Args {
    input: PathBuf,
    ir: Option<PathBuf>,
    room: Room,
    output: PathBuf,
    settings: Settings,
    edits: IrEdits,
    save_preset: Option<PathBuf>,
    tail_s: Option<f64>,
    block: usize,
    quiet: bool,
}

fn parse_args() -> Result<Option<Args>, String> {
    let mut positional = Vec::new();
    let mut settings = Settings::default();
    let mut edits = IrEdits::default();
    let mut save_preset = None;
    let mut ir = None;
    let mut room = Room::MediumRoom;
    let mut tail_s = None;
    let mut block = 512usize;
    let mut quiet = false;
    let mut it = std::env::args().skip(1);
    let num = |flag: &str, v: Option<String>| -> Result<f64, String> {
        let v = v.ok_or_else(|| format!("{flag} needs a value"))?;
        v.parse::<f64>()
            .ok()
            .filter(|x| x.is_finite())
            .ok_or_else(|| format!("{flag}: not a number: {v}"))
    };
    while let Some(a) = it.next() {
        match a.as_str() {
            "-h" | "--help" => return Ok(None),
            "--preset" => {
                let p = it.next().ok_or("--preset needs a file")?;
                let preset = Preset::load(std::path::Path::new(&p))?;
                settings = preset.settings()?;
                edits = preset.edits();
            }
            "--save-preset" => {
                save_preset = Some(PathBuf::from(
                    it.next().ok_or("--save-preset needs a file")?,
                ))
            }
            "--in-gain" => settings.input_gain_db = num(&a, it.next())?.clamp(-24.0, 24.0) as f32,
            "--out-gain" => settings.output_gain_db = num(&a, it.next())?.clamp(-24.0, 24.0) as f32,
            "--mix" => settings.mix = num(&a, it.next())?.clamp(0.0, 1.0) as f32,
            "--bypass" => settings.bypass = true,
            "--ir" => ir = Some(PathBuf::from(it.next().ok_or("--ir needs a file")?)),
            "--room" => {
                let name = it.next().ok_or("--room needs a name")?;
                let want = name.to_ascii_lowercase().replace(['-', '_'], " ");
                room = (0..)
                    .map_while(Room::from_index)
                    .find(|r| *r != Room::File && r.name().to_ascii_lowercase() == want)
                    .ok_or_else(|| format!("--room: unknown room {name} (see --help)"))?;
            }
            "--stretch" => edits.stretch_pct = num(&a, it.next())?.clamp(50.0, 200.0) as f32,
            "--reverse" => edits.reverse = true,
            "--trim" => edits.trim_ms = num(&a, it.next())?.clamp(0.0, 1000.0) as f32,
            "--length" => edits.length_pct = num(&a, it.next())?.clamp(1.0, 100.0) as f32,
            "--decay" => edits.decay_pct = num(&a, it.next())?.clamp(25.0, 200.0) as f32,
            "--low-cut" => edits.low_cut_hz = num(&a, it.next())?.clamp(20.0, 1000.0) as f32,
            "--high-cut" => edits.high_cut_hz = num(&a, it.next())?.clamp(1000.0, 20_000.0) as f32,
            "--predelay" => edits.predelay_ms = num(&a, it.next())?.clamp(0.0, 500.0) as f32,
            "--no-ir-auto-gain" => edits.auto_gain = false,
            "--width" => settings.width = num(&a, it.next())?.clamp(0.0, 2.0) as f32,
            "--wet-level" => settings.wet_level_db = num(&a, it.next())?.clamp(-36.0, 12.0) as f32,
            "--mode" => {
                let m = it.next().ok_or("--mode needs a value")?;
                settings.character.mode = fluxforge::preset::parse_mode(&m).ok_or_else(|| {
                    format!("--mode: unknown mode {m} (clean, subtle, warm, tape)")
                })?;
            }
            "--drive" => settings.character.drive_db = num(&a, it.next())?.clamp(0.0, 36.0) as f32,
            "--drive-trim" => {
                settings.character.trim_db = num(&a, it.next())?.clamp(-24.0, 24.0) as f32
            }
            "--drive-mix" => settings.character.mix = num(&a, it.next())?.clamp(0.0, 1.0) as f32,
            "--no-auto-gain" => settings.character.auto_gain = false,
            "--oversample" => settings.character.oversample = true,
            "--tail" => tail_s = Some(num(&a, it.next())?.clamp(0.0, 600.0)),
            "--block" => {
                let b = num(&a, it.next())?;
                if !(1.0..=65536.0).contains(&b) {
                    return Err("--block must be 1..=65536".into());
                }
                block = b as usize;
            }
            "--quiet" => quiet = true,
            "--make-demo-input" => {
                let p = PathBuf::from(it.next().ok_or("--make-demo-input needs a file")?);
                write_demo_input(&p)?;
                eprintln!("wrote {}", p.display());
                std::process::exit(0);
            }
            s if s.starts_with('-') => return Err(format!("unknown option {s} (see --help)")),
            _ => positional.push(PathBuf::from(a)),
        }
    }
    if positional.len() != 2 {
        return Err("expected an input and an output file (see --help)".into());
    }
    let output = positional.pop().unwrap_or_default();
    let input = positional.pop().unwrap_or_default();
    Ok(Some(Args {
        input,
        output,
        ir,
        room,
        settings,
        edits,
        save_preset,
        tail_s,
        block,
        quiet,
    }))
}

/// Decoded audio: per-channel samples in [-1, 1] and the file's format.
struct Audio {
    channels: Vec<Vec<f32>>,
    spec: hound::WavSpec,
}

fn read_wav(path: &std::path::Path) -> Result<Audio, String> {
    let reader = hound::WavReader::open(path).map_err(|e| match e {
        hound::Error::IoError(io) => format!("cannot read {}: {io}", path.display()),
        other => format!("{} is not a readable WAV file: {other}", path.display()),
    })?;
    let spec = reader.spec();
    let n_ch = spec.channels as usize;
    if n_ch == 0 || n_ch > 2 {
        return Err(format!(
            "{}: {n_ch} channels; 1 or 2 are supported",
            path.display()
        ));
    }
    let interleaved: Vec<f32> = match (spec.sample_format, spec.bits_per_sample) {
        (hound::SampleFormat::Float, 32) => reader.into_samples::<f32>().collect::<Result<_, _>>(),
        (hound::SampleFormat::Int, b @ (8 | 16 | 24 | 32)) => {
            let scale = 1.0 / (1u64 << (b - 1)) as f32;
            reader
                .into_samples::<i32>()
                .map(|s| s.map(|v| v as f32 * scale))
                .collect::<Result<_, _>>()
        }
        (f, b) => {
            return Err(format!(
                "{}: unsupported sample format {f:?} {b}-bit",
                path.display()
            ))
        }
    }
    .map_err(|e| format!("{}: corrupt or truncated WAV data: {e}", path.display()))?;
    let frames = interleaved.len() / n_ch;
    let channels = (0..n_ch)
        .map(|c| (0..frames).map(|i| interleaved[i * n_ch + c]).collect())
        .collect();
    Ok(Audio { channels, spec })
}

/// Writes a stereo WAV in the input's encoding.
fn write_wav(
    path: &std::path::Path,
    spec: hound::WavSpec,
    l: &[f32],
    r: &[f32],
) -> Result<(), String> {
    let encoding = match spec.sample_format {
        hound::SampleFormat::Float => ir_file::WavEncoding::Float,
        hound::SampleFormat::Int => ir_file::WavEncoding::Int(spec.bits_per_sample),
    };
    let frames = l.iter().zip(r).flat_map(|(a, b)| [*a, *b]);
    ir_file::write_wav_file(path, 2, spec.sample_rate, encoding, frames)
}

/// A dry phrase: Karplus-Strong plucks (Karplus & Strong, CMJ 7(2), 1983) on a minor
/// pentatonic line, panned left/right, and short noise-burst claps on beats 2 and 4.
fn write_demo_input(path: &std::path::Path) -> Result<(), String> {
    let rate = 48_000usize;
    let len = 4 * rate;
    let mut l = vec![0.0f32; len];
    let mut r = vec![0.0f32; len];
    let mut rng = fluxforge::dsp::rng::Rng::new(2026);
    let notes = [57, 60, 62, 64, 67, 69, 67, 64];
    for (i, &note) in notes.iter().enumerate() {
        let start = i * rate / 3;
        let period =
            (rate as f64 / (440.0 * 2f64.powf((note as f64 - 69.0) / 12.0))).round() as usize;
        let mut line: Vec<f64> = (0..period).map(|_| rng.bipolar()).collect();
        let pan = if i % 2 == 0 { 0.3 } else { 0.7 };
        for n in 0..rate / 2 {
            let k = n % period;
            let v = line[k];
            line[k] = 0.996 * 0.5 * (v + line[(k + 1) % period]);
            if start + n < len {
                l[start + n] += (0.35 * v * (1.0 - pan)) as f32;
                r[start + n] += (0.35 * v * pan) as f32;
            }
        }
    }
    for beat in [1usize, 3, 5, 7] {
        let start = beat * rate / 2;
        for n in 0..rate / 20 {
            let env = (-(n as f64) / (rate as f64 * 0.008)).exp();
            let v = (0.5 * rng.bipolar() * env) as f32;
            l[start + n] += v;
            r[start + n] += v;
        }
    }
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: rate as u32,
        bits_per_sample: 24,
        sample_format: hound::SampleFormat::Int,
    };
    write_wav(path, spec, &l, &r)
}

fn run(args: Args) -> Result<(), String> {
    let audio = read_wav(&args.input)?;
    let rate = audio.spec.sample_rate as f32;
    // The plugin's own pipeline and plan, so a render equals the plugin's output.
    let source = match &args.ir {
        None => Source::Factory(args.room),
        Some(path) => {
            let ir = ir_file::load_ir(path)
                .map_err(|e| format!("impulse response {}: {e}", path.display()))?;
            Source::File(Arc::new(ir), path.display().to_string())
        }
    };
    let edited = fluxforge::render_ir(&source, rate, &args.edits);
    let plan = fluxforge::plan_for_rate(rate);
    let refs: Vec<&[f32]> = edited.channels.iter().map(Vec::as_slice).collect();
    let kernel = Kernel::new(&plan, &refs, 2, 2);
    let ir_len = refs[0].len();
    let mut engine = Engine::new(rate, plan, Some(Box::new(kernel)), &args.settings);

    let frames = audio.channels[0].len();
    let tail = args.tail_s.map_or(ir_len, |s| (s * rate as f64) as usize);
    let total = frames + tail;
    let mut l = vec![0.0f32; total];
    let mut r = vec![0.0f32; total];
    l[..frames].copy_from_slice(&audio.channels[0]);
    r[..frames].copy_from_slice(audio.channels.get(1).unwrap_or(&audio.channels[0]));

    let show = !args.quiet && std::io::stderr().is_terminal() && total > 10 * rate as usize;
    let start = Instant::now();
    let mut pos = 0;
    let mut last_pct = usize::MAX;
    while pos < total {
        let n = args.block.min(total - pos);
        engine.process(&mut [&mut l[pos..pos + n], &mut r[pos..pos + n]]);
        pos += n;
        let pct = pos * 100 / total;
        if show && pct != last_pct {
            last_pct = pct;
            let bar = "#".repeat(pct / 4) + &" ".repeat(25 - pct / 4);
            eprint!("\r[{bar}] {pct:3}%");
            let _ = std::io::stderr().flush();
        }
    }
    if show {
        eprintln!();
    }
    write_wav(&args.output, audio.spec, &l, &r)?;
    if let Some(p) = &args.save_preset {
        Preset::from_settings(&args.settings, &args.edits).save(p)?;
    }
    if !args.quiet {
        let secs = total as f64 / rate as f64;
        let took = start.elapsed().as_secs_f64();
        eprintln!(
            "wrote {} ({secs:.2} s at {} Hz, {:.0}x real time)",
            args.output.display(),
            audio.spec.sample_rate,
            secs / took.max(1e-9)
        );
    }
    Ok(())
}

fn main() -> ExitCode {
    match parse_args() {
        Ok(None) => {
            print!("{HELP}");
            ExitCode::SUCCESS
        }
        Ok(Some(args)) => match run(args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("fluxforge-render: error: {e}");
                ExitCode::FAILURE
            }
        },
        Err(e) => {
            eprintln!("fluxforge-render: error: {e}");
            ExitCode::FAILURE
        }
    }
}
