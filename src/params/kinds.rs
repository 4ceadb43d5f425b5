//! The host enums (each mirrors a DSP enum, written once by `host_enum!`) and the factory
//! room choice.

use nice_plug::prelude::*;

use crate::dsp::chain::{EqPlacement, Listening};
use crate::dsp::ducker::DuckMode;
use crate::dsp::dynamic_eq::{BandKind, DynamicMode, Placement, Slope};
use crate::dsp::saturator::{CharacterMode, Oversampling};
use crate::dsp::spectral::SpectralMode;
use crate::dsp::DetectorSource;

/// A host enum that mirrors a DSP enum, written once: the variants in saved order (append
/// only), their display names, and both conversions. Variant names are the DSP enum's.
macro_rules! host_enum {
    ($(#[$m:meta])* $name:ident <=> $dsp:ident {
        $($(#[$vm:meta])* $v:ident = $label:literal),+ $(,)?
    }) => {
        $(#[$m])*
        #[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
        pub enum $name {
            $($(#[$vm])* #[name = $label] $v),+
        }

        impl From<$name> for $dsp {
            fn from(x: $name) -> Self {
                match x {
                    $($name::$v => $dsp::$v),+
                }
            }
        }

        impl From<$dsp> for $name {
            fn from(x: $dsp) -> Self {
                match x {
                    $($dsp::$v => $name::$v),+
                }
            }
        }
    };
}

host_enum! {
    /// The character mode as a host enum.
    Character <=> CharacterMode {
        /// Bit-exact pass-through.
        Clean = "Clean",
        /// Transformer-style, odd harmonics.
        Subtle = "Subtle",
        /// Tube-style, even and odd harmonics.
        Warm = "Warm",
        /// Tape-style soft knee with high-frequency softening.
        Tape = "Tape",
    }
}

host_enum! {
    /// EQ band shape as a host enum.
    BandType <=> BandKind {
        /// Peaking bell.
        Bell = "Bell",
        /// Low shelf.
        LowShelf = "Low Shelf",
        /// High shelf.
        HighShelf = "High Shelf",
        /// High-pass.
        LowCut = "Low Cut",
        /// Low-pass.
        HighCut = "High Cut",
        /// Notch.
        Notch = "Notch",
        /// Band-pass.
        BandPass = "Band Pass",
        /// Tilt around the frequency.
        TiltShelf = "Tilt Shelf",
    }
}

host_enum! {
    /// A detector's source as a host enum.
    DetectorInput <=> DetectorSource {
        /// The processed signal.
        Internal = "Internal",
        /// The sidechain input.
        External = "Sidechain",
    }
}

host_enum! {
    /// Cut slope as a host enum.
    CutSlope <=> Slope {
        /// 12 dB/oct.
        Db12 = "12 dB/oct",
        /// 24 dB/oct.
        Db24 = "24 dB/oct",
        /// 48 dB/oct.
        Db48 = "48 dB/oct",
    }
}

host_enum! {
    /// A band's stereo placement as a host enum.
    StereoPlacement <=> Placement {
        /// Both channels.
        Stereo = "Stereo",
        /// Left only.
        Left = "Left",
        /// Right only.
        Right = "Right",
        /// Mid only.
        Mid = "Mid",
        /// Side only.
        Side = "Side",
    }
}

host_enum! {
    /// A band's dynamic behaviour as a host enum.
    BandDynamics <=> DynamicMode {
        /// Static.
        Off = "Off",
        /// Cut when the band is loud.
        Down = "Down",
        /// Boost when the band is loud.
        Up = "Up",
    }
}

host_enum! {
    /// Where the EQ & dynamics section sits, as a host enum.
    EqPosition <=> EqPlacement {
        /// Before the reverb, on the whole signal.
        Input = "Input",
        /// On the reverb's return only.
        Return = "Reverb Return",
    }
}

/// The pre-delay as a note value at the host's tempo (saved by position: append only).
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum PredelayNote {
    /// The pre-delay in milliseconds (the Pre-delay parameter).
    #[name = "Off (ms)"]
    Off,
    #[name = "1/64 T"]
    N64T,
    #[name = "1/64"]
    N64,
    #[name = "1/64 D"]
    N64D,
    #[name = "1/32 T"]
    N32T,
    #[name = "1/32"]
    N32,
    #[name = "1/32 D"]
    N32D,
    #[name = "1/16 T"]
    N16T,
    #[name = "1/16"]
    N16,
    #[name = "1/16 D"]
    N16D,
    #[name = "1/8 T"]
    N8T,
    #[name = "1/8"]
    N8,
    #[name = "1/8 D"]
    N8D,
    #[name = "1/4 T"]
    N4T,
    #[name = "1/4"]
    N4,
    #[name = "1/4 D"]
    N4D,
    #[name = "1/2 T"]
    N2T,
    #[name = "1/2"]
    N2,
    #[name = "1/2 D"]
    N2D,
}

impl PredelayNote {
    /// The note's length in beats (quarter notes), `None` for Off: each value (1/64 to 1/2)
    /// as a triplet (2/3), straight and dotted (3/2).
    pub fn beats(self) -> Option<f64> {
        let k = self.to_index();
        (k > 0).then(|| {
            let (value, kind) = ((k - 1) / 3, (k - 1) % 3);
            let straight = 4.0 / 64.0 * 2f64.powi(value as i32);
            straight * [2.0 / 3.0, 1.0, 1.5][kind]
        })
    }

    /// The pre-delay at `tempo_bpm`, milliseconds (`None` for Off or without a tempo).
    pub fn ms(self, tempo_bpm: f64) -> Option<f64> {
        let beats = self.beats()?;
        (tempo_bpm > 0.0 && tempo_bpm.is_finite()).then(|| beats * 60_000.0 / tempo_bpm)
    }
}

host_enum! {
    /// How the reverb ducks, as a host enum.
    DuckKind <=> DuckMode {
        /// One gain for the whole wet signal.
        Broadband = "Broadband",
        /// Only where the dry signal is loud now.
        Spectral = "Spectral",
    }
}

host_enum! {
    /// What the output plays, as a host enum (a monitoring aid: not saved in presets, and a
    /// loaded session always starts at Normal).
    ListenMode <=> Listening {
        /// The mix.
        Normal = "Normal",
        /// What the EQ & dynamics section removes or adds.
        Delta = "Delta",
        /// The reverb alone.
        WetOnly = "Wet Only",
    }
}

host_enum! {
    /// Spectral dynamics direction as a host enum.
    SpectralDirection <=> SpectralMode {
        /// Compress what is above the threshold curve.
        Down = "Down",
        /// Raise what is below it.
        Up = "Up",
    }
}

/// The oversampling factor of the character stage while oversampling is on (saved by
/// position: append only).
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum OsFactor {
    /// Twice the rate.
    #[name = "2x"]
    X2,
    /// Four times the rate.
    #[name = "4x"]
    X4,
}

impl OsFactor {
    /// The oversampling `on` and this factor give.
    pub fn with(self, on: bool) -> Oversampling {
        match (on, self) {
            (false, _) => Oversampling::Off,
            (true, OsFactor::X2) => Oversampling::X2,
            (true, OsFactor::X4) => Oversampling::X4,
        }
    }
}

/// The character stage's oversampling in offline renders (saved by position: append only).
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum RenderOs {
    /// The playback setting.
    #[name = "As Playback"]
    AsPlayback,
    /// No oversampling.
    #[name = "Off"]
    Off,
    /// Twice the rate.
    #[name = "2x"]
    X2,
    /// Four times the rate.
    #[name = "4x"]
    X4,
}

impl RenderOs {
    /// The render choice (`None`: as while playing).
    pub fn choice(self) -> Option<Oversampling> {
        match self {
            RenderOs::AsPlayback => None,
            RenderOs::Off => Some(Oversampling::Off),
            RenderOs::X2 => Some(Oversampling::X2),
            RenderOs::X4 => Some(Oversampling::X4),
        }
    }
}

/// The factory room the reverb uses (order is saved in sessions: append only). The names
/// match [`crate::dsp::ir_gen::factory_rooms`].
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Room {
    /// 0.8 s.
    #[name = "Small Room"]
    SmallRoom,
    /// 1.6 s (the default).
    #[name = "Medium Room"]
    MediumRoom,
    /// 2.5 s.
    Chamber,
    /// 3.0 s.
    Plate,
    /// 4.0 s.
    #[name = "Large Hall"]
    LargeHall,
    /// 7.5 s.
    Cathedral,
    /// The IR loaded from a file (stored, with its samples, in the session).
    #[name = "Loaded File"]
    File,
}

impl Room {
    /// Display name (the `#[name]` above).
    pub fn name(self) -> &'static str {
        Self::variants()[self.to_index()]
    }

    /// Every room, in saved order.
    pub fn all() -> impl Iterator<Item = Room> {
        (0..Self::variants().len()).map(Self::from_index)
    }

    /// The generator's description of this factory room (`None` for [`Room::File`]). The
    /// factory list and this enum share their order (checked by a test).
    pub fn factory_spec(self) -> Option<crate::dsp::ir_gen::RoomSpec> {
        if self == Room::File {
            return None;
        }
        crate::dsp::ir_gen::factory_rooms()
            .into_iter()
            .nth(self.to_index())
    }
}
