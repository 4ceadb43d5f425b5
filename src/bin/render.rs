//! `fluxforge-render`: bounce a WAV file through the FluxForge engine offline.
//!
//! It runs exactly the chain the plugin runs (same engine, same default IR, same plan), so a
//! render matches the plugin in a host for the same settings. See `--help`.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use fluxforge::dsp::chain::Engine;
use fluxforge::dsp::eq_match::{match_curve, MatchDesign};
use fluxforge::dsp::long_term_spectrum::LongTermSpectrum;
use fluxforge::dsp::sweep_capture::{CaptureOptions, SweepSpec};
use fluxforge::ir_file;
use fluxforge::ir_source::Source;
use fluxforge::ir_state::StoredIr;
use fluxforge::params::{FluxForgeParams, Room};
use fluxforge::preset::{self, Preset};
use fluxforge::room_capture;
use fluxforge::state_repair::{self, Schema};
use serde_json::Value;
use std::sync::Arc;

const HELP: &str = "\
fluxforge-render: process a WAV file with FluxForge offline

USAGE:
    fluxforge-render <INPUT.wav> <OUTPUT.wav> [OPTIONS]
    fluxforge-render --make-demo-input <FILE.wav>
    fluxforge-render --make-sweep <SWEEP.wav> [SWEEP OPTIONS]
    fluxforge-render --capture <SWEEP.wav> <RECORDING.wav> <IR.wav> [CAPTURE OPTIONS]

The output has the input's sample rate and sample format (16/24/32-bit integer or 32-bit
float). A mono input gives a stereo output (the reverb is stereo), as in the plugin's
mono-in/stereo-out layout. Inputs with more than two channels are rejected.

OPTIONS:
    --ir FILE           Impulse response (WAV 16/24/32-bit integer or 32-bit float, AIFF/AIFC
                        or FLAC; mono, stereo or 4-channel true stereo; up to 60 s).
                        Resampled to the input's rate.     [default: the room parameter]
ALIASES (each sets one parameter; --list-params shows its range, unit and default):
    --room NAME         room          Factory impulse: small-room, medium-room, chamber,
                                      plate, large-hall or cathedral
    --stretch PCT       ir_stretch    --reverse           ir_reverse=on
    --trim MS           ir_trim       --length PCT        ir_length
    --decay PCT         ir_decay      --low-cut HZ        ir_lowcut (bottom = off)
    --high-cut HZ       ir_highcut (top = off)            --predelay MS       ir_predelay
    --no-ir-auto-gain   ir_autogain=off                   --width FRACTION    wet_width
    --wet-level DB      wet_level     --in-gain DB        in_gain
    --out-gain DB       out_gain      --mix FRACTION      mix
    --bypass            bypass=on     --mode MODE         sat_mode (clean, subtle, warm, tape)
    --drive DB          sat_drive     --drive-trim DB     sat_trim
    --drive-mix FRACTION sat_mix      --no-auto-gain      sat_auto=off
    --oversample        sat_os=on
EVERY PARAMETER:
    --set ID=VALUE      Set any parameter by its ID (repeatable): a plain value in the units
                        --list-params shows, the text the plugin displays (\"30 %\", \"2.5 kHz\"),
                        a choice's name, or on/off. The aliases above are shorthands.
    --list-params       Print every parameter: ID, name, range, default; and exit
    --preset FILE|NAME  Load a preset file (the plugin's format) or a factory preset by name
                        (vocal-plate). Parameters it does not name take their defaults;
                        flags given after it override its values.
    --list-presets      Print the factory bank (category, name, what it is for) and exit
    --state FILE        Load a plugin state saved by a host (JSON, as CLAP/VST3 state): its
                        parameters and embedded IR, so a bounce plays what the session plays
    --save-preset FILE  Write every parameter's final value (and a loaded IR) as a preset.
OTHER OPTIONS:
    --sidechain FILE    A WAV file (mono or stereo, at the input's rate) fed to the sidechain
                        input: bands and the spectral stage set to \"Sidechain\" listen to it
                        (silence after its end)
    --match-reference FILE
                        EQ match: learn the long-term spectra of the input and of FILE (WAV,
                        AIFF or FLAC, any rate) and apply the smooth curve that moves the
                        input's tone onto FILE's, its loudness kept (match_amount scales it;
                        --save-preset keeps the curve)
    --tempo BPM         The tempo a synced pre-delay (ir_predelay_sync) follows; without it a
                        synced pre-delay falls back to ir_predelay in ms, as in a host
                        without a transport
    --tail SECONDS      Seconds of reverb tail appended after the input
                        [default: the IR's length]
    --block N           Processing block size in samples, 1..=65536 [default: 512]
    --quiet             No progress bar
    --make-demo-input FILE
                        Write a dry 4 s stereo test phrase (plucked notes and claps,
                        48 kHz, 24-bit) to FILE and exit: something to hear the reverb on.
    -h, --help          Show this help
TAKING A ROOM'S IMPULSE RESPONSE:
    --make-sweep FILE   Write an exponential sine sweep (mono, 24-bit WAV) to play into the
                        room, and exit. Options:
      --sweep-seconds S   Length of the sweep, 1..120 s [default: 10]. A longer sweep is
                          quieter to the noise and keeps a longer tail clear of the
                          loudspeaker's distortion (about a tenth of its length)
      --sweep-from HZ     Start frequency [default: 20]
      --sweep-to HZ       End frequency [default: 20000]
      --sweep-level DB    Peak level, -60..0 dBFS [default: -6]
      --sweep-silence S   Silence after the sweep, for the tail, 0..60 s [default: 4]
      --sweep-rate HZ     Sample rate [default: 48000]
    --capture SWEEP RECORDING IR
                        Deconvolve RECORDING (mono or stereo, started with the sweep, at its
                        rate) by SWEEP into the room's impulse response IR (32-bit float WAV,
                        peak -1 dBFS): the loudspeaker's harmonic distortion is separated out,
                        the start trimmed to the direct sound and the tail to the noise floor,
                        both faded. Options:
      --capture-length S  Longest IR kept, 0.1..60 s [default: 30]
      --no-trim           Keep every lag from the sweep's start to the recording's end

EXIT STATUS:
    0 on success; 1 with a one-line error on stderr otherwise.
";

struct Args {
    input: PathBuf,
    sidechain: Option<PathBuf>,
    ir: Option<PathBuf>,
    output: PathBuf,
    params: FluxForgeParams,
    stored_ir: Option<StoredIr>,
    save_preset: Option<PathBuf>,
    match_reference: Option<PathBuf>,
    tail_s: Option<f64>,
    block: usize,
    quiet: bool,
}

/// The friendly flags: each sets one parameter, from its argument or (switches) a fixed value.
const ALIASES: &[(&str, &str, Option<&str>)] = &[
    ("--in-gain", "in_gain", None),
    ("--out-gain", "out_gain", None),
    ("--mix", "mix", None),
    ("--bypass", "bypass", Some("on")),
    ("--room", "room", None),
    ("--stretch", "ir_stretch", None),
    ("--reverse", "ir_reverse", Some("on")),
    ("--trim", "ir_trim", None),
    ("--length", "ir_length", None),
    ("--decay", "ir_decay", None),
    ("--low-cut", "ir_lowcut", None),
    ("--high-cut", "ir_highcut", None),
    ("--predelay", "ir_predelay", None),
    ("--no-ir-auto-gain", "ir_autogain", Some("off")),
    ("--width", "wet_width", None),
    ("--wet-level", "wet_level", None),
    ("--mode", "sat_mode", None),
    ("--drive", "sat_drive", None),
    ("--drive-trim", "sat_trim", None),
    ("--drive-mix", "sat_mix", None),
    ("--no-auto-gain", "sat_auto", Some("off")),
    ("--oversample", "sat_os", Some("on")),
];

/// Sets a parameter from a command-line value; clamping is reported on stderr.
fn set_param(params: &FluxForgeParams, flag: &str, id: &str, value: &str) -> Result<(), String> {
    match preset::set(params, id, &Value::String(value.to_string())) {
        Ok(Some(note)) => {
            eprintln!("fluxforge-render: {note}");
            Ok(())
        }
        Ok(None) => Ok(()),
        Err(e) => Err(format!("{flag}: {e}")),
    }
}

/// Loads a host's plugin state (raw JSON, or CLAP's length-prefixed JSON) into `params`;
/// returns its embedded IR. A damaged state loads what is intact, with a warning.
fn load_state(
    path: &std::path::Path,
    params: &FluxForgeParams,
) -> Result<Option<StoredIr>, String> {
    let bytes =
        std::fs::read(path).map_err(|e| format!("cannot read state {}: {e}", path.display()))?;
    let json = match bytes.get(..8) {
        Some(len)
            if u64::from_le_bytes(len.try_into().unwrap_or_default()) as usize
                == bytes.len() - 8 =>
        {
            &bytes[8..]
        }
        _ => &bytes[..],
    };
    let salvage = state_repair::read(json, &Schema::of(params));
    if !salvage.usable {
        return Err(format!("{} is not a FluxForge state", path.display()));
    }
    if let Some(r) = &salvage.report {
        eprintln!("fluxforge-render: {}: {r}", path.display());
    }
    for e in preset::apply_state_values(&salvage.state, params) {
        eprintln!("fluxforge-render: {}: {e}", path.display());
    }
    let curve = salvage
        .state
        .fields
        .get(preset::MATCH_FIELD)
        .and_then(|f| serde_json::from_str::<Option<Vec<f32>>>(f).ok())
        .flatten();
    params.match_curve.put_values(curve.as_deref());
    Ok(salvage
        .state
        .fields
        .get("ir")
        .and_then(|f| serde_json::from_str::<Option<StoredIr>>(f).ok())
        .flatten())
}

/// What one call of the program does.
enum Job {
    Render(Box<Args>),
    MakeSweep(PathBuf, SweepSpec),
    Capture([PathBuf; 3], CaptureOptions),
}

fn parse_args() -> Result<Option<Job>, String> {
    use lexopt::Arg::{Long, Short, Value};
    let mut positional = Vec::new();
    let params = FluxForgeParams::default();
    let mut stored_ir = None;
    let mut save_preset = None;
    let mut ir = None;
    let mut sidechain = None;
    let mut match_reference = None;
    let mut tail_s = None;
    let mut block = 512usize;
    let mut quiet = false;
    let mut sweep = SweepSpec::default();
    let mut make_sweep = None;
    let mut capture = None;
    let mut capture_options = CaptureOptions::default();
    let mut parser = lexopt::Parser::from_env();
    // An option's value as text, or "FLAG needs WHAT".
    let value = |parser: &mut lexopt::Parser, flag: &str, what: &str| {
        parser
            .value()
            .map_err(|_| format!("{flag} needs {what}"))?
            .into_string()
            .map_err(|v| format!("{flag}: not valid text: {v:?}"))
    };
    let num = |flag: &str, v: String| -> Result<f64, String> {
        v.parse::<f64>()
            .ok()
            .filter(|x| x.is_finite())
            .ok_or_else(|| format!("{flag}: not a number: {v}"))
    };
    while let Some(arg) = parser.next().map_err(|e| format!("{e} (see --help)"))? {
        let flag = match &arg {
            Long(name) => format!("--{name}"),
            Short(c) => format!("-{c}"),
            Value(v) => {
                positional.push(PathBuf::from(v));
                continue;
            }
        };
        if let Some((_, id, fixed)) = ALIASES.iter().find(|(f, _, _)| *f == flag) {
            let v = match fixed {
                Some(v) => v.to_string(),
                None => value(&mut parser, &flag, "a value")?,
            };
            set_param(&params, &flag, id, &v)?;
            continue;
        }
        match flag.as_str() {
            "-h" | "--help" => return Ok(None),
            "--list-presets" => {
                for p in fluxforge::factory_presets::bank() {
                    println!("{:<12} {:<22} {}", p.category, p.name, p.notes);
                }
                std::process::exit(0);
            }
            "--list-params" => {
                print!("{}", preset::table(&params));
                std::process::exit(0);
            }
            "--set" => {
                let kv = value(&mut parser, &flag, "ID=VALUE")?;
                let (id, v) = kv
                    .split_once('=')
                    .ok_or_else(|| format!("--set {kv}: expected ID=VALUE"))?;
                set_param(&params, "--set", id.trim(), v.trim())?;
            }
            "--preset" => {
                let p = value(&mut parser, &flag, "a file or a factory preset name")?;
                let path = std::path::Path::new(&p);
                let preset = match fluxforge::factory_presets::find(&p) {
                    Some(f) if !path.exists() => f,
                    _ => Preset::load(path)?,
                };
                for note in preset.apply(&params) {
                    eprintln!("fluxforge-render: {p}: {note}");
                }
                stored_ir = preset.ir.clone();
            }
            "--state" => {
                let p = value(&mut parser, &flag, "a file")?;
                stored_ir = load_state(std::path::Path::new(&p), &params)?;
            }
            "--save-preset" => {
                save_preset = Some(PathBuf::from(value(&mut parser, &flag, "a file")?))
            }
            "--ir" => ir = Some(PathBuf::from(value(&mut parser, &flag, "a file")?)),
            "--sidechain" => sidechain = Some(PathBuf::from(value(&mut parser, &flag, "a file")?)),
            "--match-reference" => {
                match_reference = Some(PathBuf::from(value(&mut parser, &flag, "a file")?))
            }
            "--tempo" => {
                let bpm = num(&flag, value(&mut parser, &flag, "a value")?)?;
                if !(10.0..=999.0).contains(&bpm) {
                    return Err("--tempo must be 10..=999 BPM".into());
                }
                params.set_host_tempo(Some(bpm));
            }
            "--tail" => {
                tail_s = Some(num(&flag, value(&mut parser, &flag, "a value")?)?.clamp(0.0, 600.0))
            }
            "--block" => {
                let b = num(&flag, value(&mut parser, &flag, "a value")?)?;
                if !(1.0..=65536.0).contains(&b) {
                    return Err("--block must be 1..=65536".into());
                }
                block = b as usize;
            }
            "--quiet" => quiet = true,
            "--make-sweep" => {
                make_sweep = Some(PathBuf::from(value(&mut parser, &flag, "a file")?))
            }
            "--sweep-seconds" => sweep.seconds = num(&flag, value(&mut parser, &flag, "seconds")?)?,
            "--sweep-from" => sweep.from_hz = num(&flag, value(&mut parser, &flag, "Hz")?)?,
            "--sweep-to" => sweep.to_hz = num(&flag, value(&mut parser, &flag, "Hz")?)?,
            "--sweep-level" => sweep.level_db = num(&flag, value(&mut parser, &flag, "dB")?)?,
            "--sweep-silence" => {
                sweep.silence_s = num(&flag, value(&mut parser, &flag, "seconds")?)?
            }
            "--sweep-rate" => {
                let hz = num(&flag, value(&mut parser, &flag, "Hz")?)?;
                sweep.rate = hz.clamp(0.0, u32::MAX as f64) as u32;
            }
            "--capture" => {
                let files: Vec<PathBuf> = parser
                    .values()
                    .map_err(|_| "--capture needs SWEEP RECORDING IR".to_string())?
                    .map(PathBuf::from)
                    .collect();
                let files: [PathBuf; 3] = files
                    .try_into()
                    .map_err(|_| "--capture needs three files: SWEEP RECORDING IR".to_string())?;
                capture = Some(files);
            }
            "--capture-length" => {
                let s = num(&flag, value(&mut parser, &flag, "seconds")?)?;
                if !(0.1..=ir_file::MAX_FILE_SECONDS).contains(&s) {
                    return Err(format!(
                        "--capture-length must be 0.1..={} s",
                        ir_file::MAX_FILE_SECONDS
                    ));
                }
                capture_options.max_seconds = s;
            }
            "--no-trim" => capture_options.trim = false,
            "--make-demo-input" => {
                let p = PathBuf::from(value(&mut parser, &flag, "a file")?);
                write_demo_input(&p)?;
                eprintln!("wrote {}", p.display());
                std::process::exit(0);
            }
            other => return Err(format!("unknown option {other} (see --help)")),
        }
    }
    match (make_sweep, capture) {
        (Some(_), Some(_)) => return Err("--make-sweep and --capture are separate steps".into()),
        (Some(path), None) => return Ok(Some(Job::MakeSweep(path, sweep))),
        (None, Some(files)) => return Ok(Some(Job::Capture(files, capture_options))),
        (None, None) => {}
    }
    if positional.len() != 2 {
        return Err("expected an input and an output file (see --help)".into());
    }
    let output = positional.pop().unwrap_or_default();
    let input = positional.pop().unwrap_or_default();
    Ok(Some(Job::Render(Box::new(Args {
        input,
        sidechain,
        output,
        ir,
        params,
        stored_ir,
        save_preset,
        match_reference,
        tail_s,
        block,
        quiet,
    }))))
}

/// Reads audio to process through the plugin's one audio-file front (WAV, AIFF/AIFC or
/// FLAC, recognised by content).
fn read_audio(path: &std::path::Path) -> Result<ir_file::Decoded, String> {
    ir_file::load_audio(path).map_err(|e| match e {
        ir_file::IrError::Channels(n) => {
            format!("{}: {n} channels; 1 or 2 are supported", path.display())
        }
        ir_file::IrError::Io(io) => format!("cannot read {io}"),
        ir_file::IrError::NotWav(why) => format!(
            "{} is not a readable WAV, AIFF or FLAC file ({why})",
            path.display()
        ),
        other => format!("{}: {other}", path.display()),
    })
}

/// Writes a stereo WAV.
fn write_wav(
    path: &std::path::Path,
    rate: u32,
    encoding: ir_file::WavEncoding,
    l: &[f32],
    r: &[f32],
) -> Result<(), String> {
    let frames = l.iter().zip(r).flat_map(|(a, b)| [*a, *b]);
    ir_file::write_wav_file(path, 2, rate, encoding, frames)
}

/// A dry phrase: Karplus-Strong plucks (Karplus & Strong, CMJ 7(2), 1983) on a minor
/// pentatonic line, panned left/right, and short noise-burst claps on beats 2 and 4.
fn write_demo_input(path: &std::path::Path) -> Result<(), String> {
    let [l, r] = fluxforge::demo::phrase(48_000);
    write_wav(path, 48_000, ir_file::WavEncoding::Int(24), &l, &r)
}

/// Frames rendered between two writes of the output file.
const WRITE_FRAMES: usize = 8192;

fn run(args: Args) -> Result<(), String> {
    let audio = read_audio(&args.input)?;
    let rate = audio.sample_rate as f32;
    // The plugin's own pipeline and plan, so a render equals the plugin's output.
    // A file given with --ir, else the IR a preset or state carries when its room is the
    // loaded file, else the factory room.
    let room = args.params.room.value();
    let mut stored = args.stored_ir.clone();
    let source = match (&args.ir, &stored) {
        (Some(path), _) => {
            let ir = ir_file::load_ir(path)
                .map_err(|e| format!("impulse response {}: {e}", path.display()))?;
            stored = Some(StoredIr::encode(&ir, &path.display().to_string()));
            Source::File(Arc::new(ir), path.display().to_string())
        }
        (None, Some(s)) if room == Room::File => {
            let ir = s
                .decode()
                .map_err(|e| format!("embedded impulse response: {e}"))?;
            Source::File(Arc::new(ir), s.path.clone())
        }
        _ => Source::Factory(room),
    };
    if let Some(reference) = &args.match_reference {
        // EQ match: the input's long-term spectrum against the reference's.
        let mut heard = LongTermSpectrum::new(rate);
        let ch = &audio.channels;
        heard.push([&ch[0], ch.get(1).unwrap_or(&ch[0])]);
        let reference_db = fluxforge::match_state::file_spectrum(reference)
            .map_err(|e| format!("match reference {e}"))?;
        let curve = match_curve(&heard.points_db(), &reference_db).ok_or_else(|| {
            format!(
                "nothing to match: {} or {} is silent or too short",
                args.input.display(),
                reference.display()
            )
        })?;
        args.params.match_curve.put(Some(&curve));
    }
    let settings = args.params.settings();
    let edited = fluxforge::ir_source::render_ir(&source, rate, &args.params.ir_edits());
    let refs: Vec<&[f32]> = edited.channels.iter().map(Vec::as_slice).collect();
    let kernel = fluxforge::ir_source::kernel_for(&refs, args.block);
    let ir_len = refs[0].len();
    let mut engine = Engine::new(rate, Some(Box::new(kernel)), &settings);
    // A render is offline: the character stage's render oversampling applies.
    engine.set_offline(true);
    // The EQ match curve (from --match-reference, a preset or a state) plays from the start.
    if let Some(curve) = args.params.match_curve.get() {
        engine.set_match(&MatchDesign::new(&curve, rate));
        engine.reset();
    }

    let frames = audio.channels[0].len();
    let tail = args.tail_s.map_or(ir_len, |s| (s * rate as f64) as usize);
    let total = frames + tail;
    let (file_rate, file_encoding) = (audio.sample_rate, audio.encoding);
    // The render runs in place in the decoded channels (silence appended for the tail): no
    // copy of the input, and the output is written as it is made.
    let mut channels = audio.channels.into_iter();
    let mut l = channels.next().unwrap_or_default();
    let mut r = channels.next().unwrap_or_else(|| l.clone());
    l.resize(total, 0.0);
    r.resize(total, 0.0);

    // The sidechain, as long as the render (silence after its end).
    let key = match &args.sidechain {
        Some(path) => {
            let sc = read_audio(path)?;
            if sc.sample_rate != file_rate {
                return Err(format!(
                    "{}: {} Hz; the sidechain must have the input's rate ({} Hz)",
                    path.display(),
                    sc.sample_rate,
                    file_rate
                ));
            }
            let fit = |c: &Vec<f32>| {
                let mut v = vec![0.0f32; total];
                let n = c.len().min(total);
                v[..n].copy_from_slice(&c[..n]);
                v
            };
            let kl = fit(&sc.channels[0]);
            let kr = fit(sc.channels.get(1).unwrap_or(&sc.channels[0]));
            Some([kl, kr])
        }
        None => None,
    };
    let show = !args.quiet && std::io::stderr().is_terminal() && total > 10 * rate as usize;
    // The output in the input's encoding (a FLAC or AIFF input of 8 bits is written as
    // 16-bit WAV: hound writes 8-bit WAV unsigned, which the front does not read back).
    let encoding = match file_encoding {
        ir_file::WavEncoding::Int(b) if b < 16 => ir_file::WavEncoding::Int(16),
        other => other,
    };
    let mut out = ir_file::WavFileWriter::create(&args.output, 2, file_rate, encoding, total)?;
    let start = Instant::now();
    let mut pos = 0;
    let mut written = 0;
    let mut last_pct = usize::MAX;
    while pos < total {
        let n = args.block.min(total - pos);
        let k = key
            .as_ref()
            .map(|[a, b]| [&a[pos..pos + n], &b[pos..pos + n]]);
        engine.process_keyed(&mut [&mut l[pos..pos + n], &mut r[pos..pos + n]], k);
        pos += n;
        if pos - written >= WRITE_FRAMES || pos == total {
            out.write(&[&l[written..pos], &r[written..pos]])?;
            written = pos;
        }
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
    out.finish()?;
    if let Some(p) = &args.save_preset {
        let mut preset = Preset::capture(&args.params);
        if args.ir.is_some() {
            // A file given with --ir: the preset carries it and selects it.
            preset
                .params
                .insert("room".into(), Value::String(Room::File.name().into()));
        }
        preset.ir = stored.filter(|_| args.ir.is_some() || room == Room::File);
        preset.save(p)?;
    }
    if !args.quiet {
        let secs = total as f64 / rate as f64;
        let took = start.elapsed().as_secs_f64();
        eprintln!(
            "wrote {} ({secs:.2} s at {} Hz, {:.0}x real time)",
            args.output.display(),
            file_rate,
            secs / took.max(1e-9)
        );
    }
    Ok(())
}

fn run_job(job: Job) -> Result<(), String> {
    match job {
        Job::Render(args) => run(*args),
        Job::MakeSweep(path, spec) => room_capture::write_sweep(&path, &spec)
            .map(|what| eprintln!("wrote {}: {what}", path.display())),
        Job::Capture([sweep, recording, ir], options) => {
            let report = room_capture::capture_files(&sweep, &recording, &ir, options)?;
            for w in &report.warnings {
                eprintln!("fluxforge-render: warning: {w}");
            }
            eprintln!("wrote {}: {report}", ir.display());
            Ok(())
        }
    }
}

fn main() -> ExitCode {
    match parse_args().and_then(|job| job.map(run_job).transpose()) {
        Ok(None) => {
            print!("{HELP}");
            ExitCode::SUCCESS
        }
        Ok(Some(())) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("fluxforge-render: error: {e}");
            ExitCode::FAILURE
        }
    }
}
