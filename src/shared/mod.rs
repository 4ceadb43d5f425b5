//! State shared between the audio thread and the editor, without locks: the meters
//! ([`meters`]), the kernel mailbox ([`mailbox`]) and the analyzer feed ([`spectrum`]).

pub mod mailbox;
pub mod meters;
pub mod spectrum;

pub use mailbox::Mailbox;
pub use meters::{Meters, PaddedMeter};
pub use spectrum::{
    display_hz, spectrum_feed, Spectrum, SpectrumFeed, SpectrumWriter, DISPLAY_HIGH_HZ,
    DISPLAY_LOW_HZ, DISPLAY_POINTS,
};
