//! Parameter ranges, units and the float-parameter constructor, shared with the editor.

use nice_plug::prelude::*;

use super::text::Unit;
use crate::dsp::ir_edit::{HIGH_CUT_OFF_HZ, LEVEL_OFF_DB, LOW_CUT_OFF_HZ};

/// A float parameter whose text (with its unit) follows `unit`, snapped to `step` if any.
pub(super) fn float(
    name: impl Into<String>,
    default: f32,
    range: FloatRange,
    unit: Unit,
    step: Option<f32>,
) -> FloatParam {
    let p = FloatParam::new(name, default, range)
        .with_unit(unit.suffix())
        .with_value_to_string(unit.formatter())
        .with_string_to_value(unit.parser());
    match step {
        Some(s) => p.with_step_size(s),
        None => p,
    }
}

/// Drive range in dB, shared with the editor.
pub fn drive_range_db() -> FloatRange {
    FloatRange::Linear {
        min: 0.0,
        max: 36.0,
    }
}

/// Gain parameter range in dB, shared with the editor.
pub fn gain_range_db() -> FloatRange {
    FloatRange::Linear {
        min: -24.0,
        max: 24.0,
    }
}

/// Stretch range, percent.
pub fn stretch_range_pct() -> FloatRange {
    FloatRange::Linear {
        min: 50.0,
        max: 200.0,
    }
}

/// Low-cut range, Hz (the bottom value means off).
pub fn low_cut_range_hz() -> FloatRange {
    FloatRange::Skewed {
        min: LOW_CUT_OFF_HZ,
        max: 1000.0,
        factor: FloatRange::skew_factor(-0.75),
    }
}

/// High-cut range, Hz (the top value means off).
pub fn high_cut_range_hz() -> FloatRange {
    FloatRange::Skewed {
        min: 1000.0,
        max: HIGH_CUT_OFF_HZ,
        factor: FloatRange::skew_factor(-1.0),
    }
}

/// Range of the crossover between the low and mid decay bands, Hz.
pub fn decay_low_range_hz() -> FloatRange {
    FloatRange::Skewed {
        min: 50.0,
        max: 1000.0,
        factor: FloatRange::skew_factor(-0.75),
    }
}

/// Range of the crossover between the mid and high decay bands, Hz.
pub fn decay_high_range_hz() -> FloatRange {
    FloatRange::Skewed {
        min: 1000.0,
        max: 16_000.0,
        factor: FloatRange::skew_factor(-1.0),
    }
}

/// EQ frequency range, Hz (shared with the editor). The skew (0.3) keeps the bottom shown
/// value ("20.00 Hz") within 1 % of a knob's travel and puts 1 kHz at 40 %.
pub fn eq_freq_range() -> FloatRange {
    FloatRange::Skewed {
        min: 20.0,
        max: 20_000.0,
        factor: 0.3,
    }
}

/// EQ gain range, dB.
pub fn eq_gain_range() -> FloatRange {
    FloatRange::Linear {
        min: -24.0,
        max: 24.0,
    }
}

/// A time range in ms. The skew gives the shortest shown value at most 2 % of a knob's
/// travel (a steeper one spent 5 % on it).
pub(super) fn ms_range(min: f32, max: f32) -> FloatRange {
    FloatRange::Skewed {
        min,
        max,
        factor: FloatRange::skew_factor(-1.0),
    }
}

/// Filter Q range (shared with the editor).
pub fn q_range() -> FloatRange {
    FloatRange::Skewed {
        min: 0.1,
        max: 18.0,
        factor: FloatRange::skew_factor(-1.0),
    }
}

/// Pre-delay range, ms.
pub fn predelay_range_ms() -> FloatRange {
    LIN(0.0, MAX_PREDELAY_MS)
}

/// Longest pre-delay, milliseconds (a synced note value is limited to it too).
pub const MAX_PREDELAY_MS: f32 = 500.0;

/// 0..1.
pub(super) fn unit_range() -> FloatRange {
    LIN(0.0, 1.0)
}

#[allow(non_snake_case)]
pub(super) const fn LIN(min: f32, max: f32) -> FloatRange {
    FloatRange::Linear { min, max }
}

pub(super) const DB: Unit = Unit::Db { decimals: 1 };
pub(super) const MS0: Unit = Unit::Ms { decimals: 0 };
pub(super) const MS1: Unit = Unit::Ms { decimals: 1 };
pub(super) const LEVEL: Unit = Unit::Level {
    decimals: 1,
    floor: LEVEL_OFF_DB,
};
pub(super) const PCT0: Unit = Unit::Percent { decimals: 0 };
pub(super) const PCT_OF_FRACTION: Unit = Unit::Fraction { decimals: 1 };

/// Ratio range (a skew that leaves 1:1 at most 2 % of the travel).
pub(super) fn ratio_range() -> FloatRange {
    FloatRange::Skewed {
        min: 1.0,
        max: 20.0,
        factor: FloatRange::skew_factor(-1.0),
    }
}
