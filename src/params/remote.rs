//! CLAP remote-controls pages: how a hardware controller's eight knobs map to the plugin's
//! parameters, page by page, without MIDI learn. Every parameter is on exactly one page
//! (tested through the host, `tests/clap_host/remote.rs`); a page has at most eight slots.

use nice_plug::prelude::{RemoteControlsContext, RemoteControlsPage, RemoteControlsSection};

use super::FluxForgeParams;

/// Defines the pages: the reverb (its main controls, the IR's shape, ducking and levels),
/// the character stage, two pages per EQ band (the controls dialled most, then the rest) and
/// the spectral dynamics with the section's placement and the EQ match amount.
pub fn define(p: &FluxForgeParams, context: &mut impl RemoteControlsContext) {
    context.add_section("Reverb", |s| {
        s.add_page("Reverb", |pg| {
            pg.add_param(&p.mix);
            pg.add_param(&p.room);
            pg.add_param(&p.wet_level);
            pg.add_param(&p.width);
            pg.add_param(&p.predelay);
            pg.add_param(&p.decay);
            pg.add_param(&p.low_cut);
            pg.add_param(&p.high_cut);
        });
        s.add_page("IR Shape", |pg| {
            pg.add_param(&p.trim);
            pg.add_param(&p.length);
            pg.add_param(&p.stretch);
            pg.add_param(&p.reverse);
            pg.add_param(&p.ir_attack);
            pg.add_param(&p.ir_hold);
            pg.add_param(&p.ir_early);
            pg.add_param(&p.ir_late);
        });
        s.add_page("Tail & Sync", |pg| {
            pg.add_param(&p.predelay_sync);
            pg.add_param(&p.ir_split);
            pg.add_param(&p.decay_low);
            pg.add_param(&p.decay_mid);
            pg.add_param(&p.decay_high);
            pg.add_param(&p.decay_low_hz);
            pg.add_param(&p.decay_high_hz);
        });
        s.add_page("Ducking & Levels", |pg| {
            pg.add_param(&p.duck_threshold);
            pg.add_param(&p.duck_depth);
            pg.add_param(&p.duck_release);
            pg.add_param(&p.duck_mode);
            pg.add_param(&p.input_gain);
            pg.add_param(&p.output_gain);
            pg.add_param(&p.ir_auto_gain);
            pg.add_param(&p.bypass);
        });
    });
    context.add_section("Character", |s| {
        s.add_page("Character", |pg| {
            pg.add_param(&p.character);
            pg.add_param(&p.drive);
            pg.add_param(&p.sat_trim);
            pg.add_param(&p.drive_mix);
            pg.add_param(&p.auto_gain);
            pg.add_param(&p.oversample);
            pg.add_param(&p.os_factor);
            pg.add_param(&p.os_render);
        });
    });
    context.add_section("EQ Bands", |s| {
        for (i, b) in p.bands.iter().enumerate() {
            s.add_page(format!("Band {}", i + 1), |pg| {
                pg.add_param(&b.enabled);
                pg.add_param(&b.kind);
                pg.add_param(&b.freq);
                pg.add_param(&b.gain);
                pg.add_param(&b.q);
                pg.add_param(&b.dynamics);
                pg.add_param(&b.threshold);
                pg.add_param(&b.ratio);
            });
            s.add_page(format!("Band {} Detail", i + 1), |pg| {
                pg.add_param(&b.attack);
                pg.add_param(&b.release);
                pg.add_param(&b.range);
                pg.add_param(&b.slope);
                pg.add_param(&b.placement);
                pg.add_param(&b.source);
                pg.add_param(&b.spectral);
            });
        }
    });
    context.add_section("Spectral Dynamics", |s| {
        s.add_page("Spectral", |pg| {
            pg.add_param(&p.spec_on);
            pg.add_param(&p.spec_mode);
            pg.add_param(&p.spec_threshold);
            pg.add_param(&p.spec_tilt);
            pg.add_param(&p.spec_ratio);
            pg.add_param(&p.spec_knee);
            pg.add_param(&p.spec_range);
            pg.add_param(&p.spec_attack);
        });
        s.add_page("Spectral Timing & Placement", |pg| {
            pg.add_param(&p.spec_release);
            pg.add_param(&p.spec_resolution);
            pg.add_param(&p.spec_source);
            pg.add_param(&p.eq_placement);
            pg.add_param(&p.listen);
            pg.add_param(&p.match_amount);
        });
    });
}
