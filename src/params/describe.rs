//! What each parameter does (the editor's tooltips), by ID.

/// What a parameter does, by ID (a band's IDs without their `_N`): the editor's tooltips.
/// Every parameter has one (a test checks).
pub fn description(id: &str) -> &'static str {
    let base = match id.rsplit_once('_') {
        Some((b, n)) if id.starts_with("eq_") && n.parse::<usize>().is_ok() => b,
        _ => id,
    };
    match base {
        "in_gain" => "Gain before all processing",
        "out_gain" => "Gain after all processing",
        "mix" => "Balance of the dry signal and the reverb",
        "room" => "The impulse response: a factory room or the loaded file",
        "bypass" => "Passes the input through untouched (crossfaded)",
        "sat_mode" => "Character of the saturation: Clean, Subtle (odd), Warm (even and odd), Tape",
        "sat_drive" => "How hard the signal drives the saturation",
        "sat_trim" => "Level after the saturation",
        "sat_auto" => "Keeps the level steady as the drive changes",
        "sat_mix" => "Balance of the clean and the saturated signal",
        "sat_os" => "Runs the saturation at a higher rate while playing (less aliasing)",
        "sat_os_factor" => {
            "How many times the rate the saturation runs at while oversampling: 2x or 4x"
        }
        "sat_os_render" => "Oversampling of the saturation in offline renders (bounces)",
        "ir_predelay" => "Silence before the reverb starts",
        "ir_trim" => "Removed from the start of the impulse response",
        "ir_length" => "Part of the impulse response kept (with a fade at the cut)",
        "ir_reverse" => "Plays the impulse response backwards",
        "ir_stretch" => "Time scale of the impulse response (longer is also lower)",
        "ir_decay" => "Decay time relative to the impulse response's own",
        "duck_mode" => {
            "Broadband: the whole reverb ducks; Spectral: only where the dry signal is loud now"
        }
        "listen" => "Hear the mix, what EQ & Dynamics removes or adds (Delta), or the reverb alone",
        "ir_predelay_sync" => {
            "Pre-delay as a note value at the host's tempo (Off: the milliseconds above)"
        }
        "ir_dlow" => "Decay time of the tail's lows, relative to their own (after the split)",
        "ir_dmid" => "Decay time of the tail's mids, relative to their own (after the split)",
        "ir_dhigh" => "Decay time of the tail's highs, relative to their own (after the split)",
        "ir_dxlow" => "Where the low decay band ends and the mid one starts",
        "ir_dxhigh" => "Where the mid decay band ends and the high one starts",
        "ir_lowcut" => "High-pass on the reverb (lowest setting: off)",
        "ir_highcut" => "Low-pass on the reverb (highest setting: off)",
        "ir_autogain" => "Makes impulse responses equally loud",
        "ir_attack" => "Fade-in at the start of the impulse response",
        "ir_hold" => "Time before the decay shaping starts",
        "ir_early" => "Level of the early reflections (before the split)",
        "ir_late" => "Level of the tail (after the split)",
        "ir_split" => "Where early becomes late (Auto: the measured mixing time)",
        "wet_width" => "Stereo width of the reverb",
        "wet_level" => "Level of the reverb",
        "eq_on" => "Puts the band in the signal path",
        "eq_type" => "Shape: bell, shelves, tilt, notch, band-pass or cuts",
        "eq_freq" => "Centre or corner frequency of the band",
        "eq_gain" => "Static gain of the band",
        "eq_q" => "Width of the band (higher is narrower)",
        "eq_dyn" => "Dynamic behaviour: off, cut when loud (Down) or boost when loud (Up)",
        "eq_spec" => {
            "Spectral dynamics: each frequency inside the band's shape is cut or boosted on its \
             own level, so a loud resonance is tamed while quieter notes in the band keep \
             their level (zero latency; both channels linked)"
        }
        "eq_thresh" => "Level of the band above which the dynamic part acts",
        "eq_ratio" => "How strongly the dynamic part acts above the threshold",
        "eq_attack" => "How fast the dynamic part reacts",
        "eq_release" => "How fast the dynamic part lets go",
        "eq_range" => "Largest dynamic gain change",
        "eq_slope" => "Steepness of the cuts",
        "eq_place" => "Which part of the stereo signal the band processes and listens to",
        "eq_source" => "What the band's detector listens to: the signal or the sidechain",
        "eq_where" => "Where the EQ and dynamics sit: on the input or on the reverb return",
        "spec_on" => "Per-frequency dynamics on or off",
        "spec_mode" => "Down compresses what is above the curve, Up raises what is below it",
        "spec_thresh" => "Level of the threshold curve at 1 kHz",
        "spec_tilt" => "Slope of the threshold curve per octave",
        "spec_ratio" => "How strongly the spectral dynamics act",
        "spec_knee" => "Softness of the threshold",
        "spec_range" => "Largest spectral gain change",
        "spec_attack" => "How fast the spectral dynamics react",
        "spec_release" => "How fast the spectral dynamics let go",
        "spec_res" => "How widely a loud frequency affects its neighbours",
        "spec_source" => "What the spectral analysis listens to: the signal or the sidechain",
        "duck_thresh" => "Dry level above which the reverb is turned down",
        "duck_depth" => "How far the reverb is turned down (0: off)",
        "duck_release" => "How fast the reverb comes back",
        "match_amount" => {
            "How much of the EQ match curve is applied: 100 % moves the input's average \
             spectrum onto the reference's, 0 % leaves it (no curve: nothing happens)"
        }
        _ => "",
    }
}
