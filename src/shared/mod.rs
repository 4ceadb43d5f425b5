//! State shared between the audio thread and the editor, without locks: the meters
//! ([`meters`]), the kernel mailbox ([`mailbox`]), the analyzer feed ([`spectrum`]) and the
//! host's word about the sidechain port ([`ports`]).

pub mod mailbox;
pub mod meters;
pub mod ports;
pub mod spectrum;

pub use mailbox::Mailbox;
pub use meters::{Meters, PaddedMeter};
pub use ports::PortWord;
pub use spectrum::{
    display_hz, spectrum_feed, Spectrum, SpectrumFeed, SpectrumWriter, DISPLAY_HIGH_HZ,
    DISPLAY_LOW_HZ, DISPLAY_POINTS,
};
