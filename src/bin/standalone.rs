//! FluxForge as a standalone application (nice-plug's standalone wrapper: JACK, ALSA or the
//! `dummy` backend). Built only with `--features standalone`, so the plugin bundles never link
//! ALSA or JACK. `fluxforge-standalone --backend dummy` opens the editor with no audio device.

fn main() {
    nice_plug::prelude::nice_export_standalone::<fluxforge::FluxForge>();
}
