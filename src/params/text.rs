//! How parameter values read as text, and how typed text reads back: one rule per kind of
//! value, used by every float parameter, so hosts, the editor and validators see the same
//! thing and `value -> text -> value -> text` is stable.
//!
//! Rules: the unit is always shown. Where it is a fixed suffix it is also the parameter's unit
//! (hosts show it as the unit label; nice-plug appends it to the number); a frequency carries
//! its own ("1.50 kHz", and "Off" with no unit after it), so its unit label is empty. A value that rounds to zero prints without a sign
//! ("0.0 dB", never "-0.0 dB"); an end of a range that means "off" prints and parses as
//! "Off"; parsing accepts the text as printed, the bare number, and common spellings (a `k`
//! multiplier for Hz, seconds for ms, "3:1" or "3" for a ratio), case-insensitively.

use std::sync::Arc;

/// A text-to-value parser as nice-plug takes it.
pub type Parser = Arc<dyn Fn(&str) -> Option<f32> + Send + Sync>;

/// What a float parameter's value means, for display and parsing.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Unit {
    /// Decibels with `decimals` decimals: "-3.5 dB".
    Db { decimals: usize },
    /// Decibels per octave: "1.5 dB/oct".
    DbPerOct { decimals: usize },
    /// A fraction shown in percent (`0.5` -> "50.0 %").
    Fraction { decimals: usize },
    /// A value already in percent: "150 %".
    Percent { decimals: usize },
    /// Milliseconds: "12.5 ms".
    Ms { decimals: usize },
    /// Frequency with a resolution that follows the magnitude: "45.30 Hz", "450.0 Hz",
    /// "4.50 kHz", "14.50 kHz". `off` is the end of the range that means the filter is off.
    Hz { off: Option<f32> },
    /// A ratio: "3.70:1".
    Ratio,
    /// A filter's Q: "Q 0.71".
    Q,
    /// Octaves: "0.33 oct".
    Octaves,
    /// A level in decibels whose bottom `floor` (and anything below) means silence:
    /// "-6.0 dB", "-inf dB".
    Level { decimals: usize, floor: f32 },
    /// Milliseconds where 0 means "measured from the material": "80 ms", "Auto".
    MsAuto { decimals: usize },
}

/// Rounds `v` to `decimals` decimals and drops the sign of a zero.
fn rounded(v: f32, decimals: usize) -> f32 {
    let scale = 10f64.powi(decimals as i32);
    let r = ((v as f64) * scale).round() / scale;
    if r == 0.0 {
        0.0
    } else {
        r as f32
    }
}

fn fixed(v: f32, decimals: usize) -> String {
    format!("{:.*}", decimals, rounded(v, decimals))
}

impl Unit {
    /// The text of a frequency of `hz` Hz: 10 mHz below 100 Hz, 0.1 Hz below 1 kHz, 10 Hz
    /// above (in kHz).
    fn hz_text(hz: f32) -> String {
        if hz < 100.0 {
            format!("{} Hz", fixed(hz, 2))
        } else if hz < 999.95 {
            format!("{} Hz", fixed(hz, 1))
        } else {
            format!("{} kHz", fixed(hz / 1000.0, 2))
        }
    }

    /// The text for `value`.
    pub fn format(self, value: f32) -> String {
        match self {
            Unit::Db { decimals } => format!("{} dB", fixed(value, decimals)),
            Unit::DbPerOct { decimals } => format!("{} dB/oct", fixed(value, decimals)),
            Unit::Fraction { decimals } => format!("{} %", fixed(value * 100.0, decimals)),
            Unit::Percent { decimals } => format!("{} %", fixed(value, decimals)),
            Unit::Ms { decimals } => format!("{} ms", fixed(value, decimals)),
            Unit::Hz { off } => match off {
                Some(o) if (value - o).abs() <= o * 1e-4 => "Off".to_string(),
                _ => Self::hz_text(value),
            },
            Unit::Ratio => format!("{}:1", fixed(value, 2)),
            Unit::Q => format!("Q {}", fixed(value, 2)),
            Unit::Octaves => format!("{} oct", fixed(value, 2)),
            Unit::Level { decimals, floor } => {
                if value <= floor {
                    "-inf dB".to_string()
                } else {
                    format!("{} dB", fixed(value, decimals))
                }
            }
            Unit::MsAuto { decimals } => {
                if rounded(value, decimals) <= 0.0 {
                    "Auto".to_string()
                } else {
                    format!("{} ms", fixed(value, decimals))
                }
            }
        }
    }

    /// The value `text` means, if it is one (not clamped to any range).
    pub fn parse(self, text: &str) -> Option<f32> {
        let t = text.trim().to_ascii_lowercase();
        let number = |s: &str| s.trim().parse::<f32>().ok().filter(|v| v.is_finite());
        let strip = |s: &str, suffixes: &[&str]| {
            let mut s = s.trim().to_string();
            for suf in suffixes {
                if let Some(rest) = s.strip_suffix(suf) {
                    s = rest.trim().to_string();
                    break;
                }
            }
            s
        };
        match self {
            Unit::Db { .. } => number(&strip(&t, &["db"])),
            Unit::DbPerOct { .. } => number(&strip(&t, &["db/oct", "db/octave", "db"])),
            Unit::Fraction { .. } => number(&strip(&t, &["%"])).map(|v| v / 100.0),
            Unit::Percent { .. } => number(&strip(&t, &["%"])),
            Unit::Ms { .. } => {
                if let Some(v) = number(&strip(&t, &["ms"])) {
                    return Some(v);
                }
                number(&strip(&t, &["s", "sec"])).map(|v| v * 1000.0)
            }
            Unit::Hz { off } => {
                if t == "off" {
                    return off;
                }
                let s = strip(&t, &["hz"]);
                match s.strip_suffix('k') {
                    Some(k) => number(k).map(|v| v * 1000.0),
                    None => number(&s),
                }
            }
            Unit::Ratio => number(&strip(&t, &[":1"])),
            Unit::Q => number(t.trim_start_matches('q').trim_end_matches('q')),
            Unit::Octaves => number(&strip(&t, &["octaves", "octave", "oct"])),
            Unit::Level { floor, .. } => {
                let s = strip(&t, &["db"]);
                if matches!(s.as_str(), "-inf" | "inf" | "off") {
                    return Some(floor);
                }
                number(&s)
            }
            Unit::MsAuto { decimals } => {
                if t == "auto" {
                    return Some(0.0);
                }
                Unit::Ms { decimals }.parse(&t)
            }
        }
    }

    /// The parameter's unit label: the fixed suffix of [`Unit::format`]'s text, or empty.
    pub fn suffix(self) -> &'static str {
        match self {
            Unit::Db { .. } | Unit::Level { .. } => " dB",
            Unit::DbPerOct { .. } => " dB/oct",
            Unit::Fraction { .. } | Unit::Percent { .. } => " %",
            Unit::Ms { .. } => " ms",
            Unit::Hz { .. } | Unit::Q | Unit::MsAuto { .. } => "",
            Unit::Ratio => ":1",
            Unit::Octaves => " oct",
        }
    }

    /// The display formatter nice-plug takes: the text without the unit label, which
    /// nice-plug appends.
    pub fn formatter(self) -> Arc<dyn Fn(f32) -> String + Send + Sync> {
        Arc::new(move |v| {
            let t = self.format(v);
            t.strip_suffix(self.suffix()).unwrap_or(&t).to_string()
        })
    }

    /// The parser nice-plug takes ([`Parser`]).
    pub fn parser(self) -> Parser {
        Arc::new(move |s| self.parse(s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_has_no_sign_and_off_reads_back() {
        assert_eq!(Unit::Db { decimals: 1 }.format(-0.04), "0.0 dB");
        assert_eq!(Unit::Db { decimals: 1 }.format(-0.0), "0.0 dB");
        assert_eq!(Unit::Db { decimals: 1 }.format(-0.06), "-0.1 dB");
        let low = Unit::Hz { off: Some(20.0) };
        assert_eq!(low.format(20.0), "Off");
        assert_eq!(low.parse("Off"), Some(20.0));
        let high = Unit::Hz {
            off: Some(20_000.0),
        };
        assert_eq!(high.parse("off"), Some(20_000.0));
        assert_eq!(high.format(20_000.0), "Off");
        assert_eq!(high.format(1_000.0), "1.00 kHz");
    }

    #[test]
    fn common_spellings_parse() {
        let hz = Unit::Hz { off: None };
        assert_eq!(hz.parse("1.5k"), Some(1500.0));
        assert_eq!(hz.parse("1.5 kHz"), Some(1500.0));
        assert_eq!(hz.parse("440"), Some(440.0));
        assert_eq!(hz.parse("440 Hz"), Some(440.0));
        assert_eq!(Unit::Ms { decimals: 1 }.parse("1.2 s"), Some(1200.0));
        assert_eq!(Unit::Ms { decimals: 1 }.parse("12 ms"), Some(12.0));
        assert_eq!(Unit::Ratio.parse("3.7:1"), Some(3.7));
        assert_eq!(Unit::Ratio.parse("4"), Some(4.0));
        assert_eq!(Unit::Ratio.format(3.7), "3.70:1");
        assert_eq!(Unit::Q.parse("Q 0.71"), Some(0.71));
        assert_eq!(Unit::Q.parse("2"), Some(2.0));
        assert_eq!(Unit::Fraction { decimals: 1 }.parse("45 %"), Some(0.45));
        assert_eq!(Unit::Fraction { decimals: 1 }.format(0.45), "45.0 %");
        assert_eq!(Unit::Db { decimals: 1 }.parse("nan dB"), None);
        let level = Unit::Level {
            decimals: 1,
            floor: -48.0,
        };
        assert_eq!(level.format(-48.0), "-inf dB");
        assert_eq!(level.parse("-inf dB"), Some(-48.0));
        assert_eq!(level.parse("-3 dB"), Some(-3.0));
        let auto = Unit::MsAuto { decimals: 0 };
        assert_eq!(auto.format(0.0), "Auto");
        assert_eq!(auto.format(80.0), "80 ms");
        assert_eq!(auto.parse("auto"), Some(0.0));
        assert_eq!(auto.parse("0.1 s"), Some(100.0));
    }
}
