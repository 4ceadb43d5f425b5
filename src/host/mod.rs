//! The plugin's entry points for the hosts: the CLAP entry and the VST3 factory. They create
//! the framework's wrappers and put one thing in front of them: every plugin state a host
//! hands back passes through [`crate::state_repair`] before the framework reads it, so a
//! damaged session loses only what is damaged.

use std::sync::OnceLock;

use crate::params::FluxForgeParams;
use crate::state_repair::{self, Schema};

pub mod clap_entry;
pub mod preset_discovery;
pub mod vst3_entry;

/// Largest state a host may hand us, bytes (an embedded 20 s 4-channel 384 kHz IR is ~150 MB
/// of base64 at worst).
pub const MAX_STATE_BYTES: usize = 512 << 20;

fn schema() -> &'static Schema {
    static SCHEMA: OnceLock<Schema> = OnceLock::new();
    SCHEMA.get_or_init(|| Schema::of(&FluxForgeParams::default()))
}

/// The JSON state to give the framework for the JSON a host gave us, and whether anything at
/// all was recovered. Logs what was dropped.
pub fn repair_state(json: &[u8]) -> (Vec<u8>, bool) {
    let (bytes, salvage) = state_repair::prepare(json, schema());
    if let Some(r) = &salvage.report {
        nice_plug::nice_error!("{r}");
    }
    (bytes, salvage.usable)
}
