//! FluxForge: zero-latency convolution reverb, dynamic EQ with spectral dynamics and
//! character saturation, as a CLAP and VST3 plugin.
//!
//! The module map (one line each) is in `docs/ARCHITECTURE.md`. [`plugin`] is the host glue
//! (the struct and its trait implementations), [`host`] the exported entry points, [`dsp`]
//! the framework-free signal processing. Imports run downward: nothing imports this file.

pub mod demo;
pub mod dsp;
pub mod editor;
pub mod factory_presets;
pub mod file_dialog;
pub mod host;
pub mod ir_file;
pub mod ir_source;
pub mod ir_state;
pub mod loader;
pub mod match_state;
pub mod params;
pub mod plugin;
pub mod preset;
pub mod room_capture;
pub mod shared;
pub mod state_repair;
pub mod user_presets;
pub mod worker;

pub use plugin::FluxForge;
