//! The character stage: drive into one of the [`super::shaper`] modes with antiderivative
//! antialiasing, optionally at 2x or 4x oversampling (a separate choice for offline renders),
//! with smoothing, mode crossfades, DC blocking,
//! Tape's high-frequency softening and the stage's own dry/wet mix. No reported latency.
//!
//! * **ADAA** ([`super::shaper`]) averages the shaper between consecutive samples: half a
//!   sample of group delay, aliasing well below a naive shaper's.
//! * **2x or 4x oversampling** with polyphase IIR half-band filters ([`super::halfband`]; 4x
//!   cascades a second, cheaper stage): causal,
//!   so nothing is reported to the host. The cost is a small fractional group delay (the
//!   filters' phase plus ADAA's half-sample average at the high rate); the dry signal of the
//!   stage's own mix goes through the identical linear chain, so mixing never comb-filters.
//!
//! Modes: **Clean** passes the stage through bit-exactly. **Subtle** is `tanh` (symmetric:
//! odd harmonics). **Warm** is a biased `tanh` (asymmetric: even and odd harmonics) followed
//! by a 5 Hz DC blocker. **Tape** is the algebraic sigmoid `u / sqrt(1 + u^2)`, whose knee is
//! softer than `tanh`'s, followed by a one-pole high-frequency softening whose cutoff falls
//! from 20 kHz to about 9 kHz as the drive rises. Mode changes crossfade over 20 ms; drive,
//! trim and mix are smoothed.
//!
//! Work runs in blocks of [`CHUNK`] samples: the controls for the block first, then, two
//! channels at a time, the upsampling of both side by side, each channel's shaper over the
//! whole block (vectorised, [`adaa_block`]), and the downsampling and mixing of both side by
//! side (the filters' recursions are what the stage waits on; two independent ones overlap).

use super::fast_math::db_to_gain;
pub use super::halfband::Oversampling;
use super::halfband::{default_coefs, second_stage_coefs, Downsampler, Upsampler, STAGE1, STAGE2};
pub use super::shaper::CharacterMode;
use super::shaper::{adaa_block, shape};
use super::simd::SimdLevel;
use super::smoother::Smoother;

/// Reference level at which automatic gain compensation gives unity gain (-12 dBFS).
const AUTO_GAIN_REF: f64 = 0.25;
/// Crossfade time of a mode change, milliseconds.
pub const MODE_FADE_MS: f32 = 20.0;
/// Input samples per block of work (up to four times as many at the oversampled rate).
const CHUNK: usize = super::shaper::MAX_BLOCK / 4;

/// The saturator's controls.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SaturatorSettings {
    /// Character mode.
    pub mode: CharacterMode,
    /// Drive into the shaper, dB (0..+36).
    pub drive_db: f32,
    /// Output trim, dB.
    pub trim_db: f32,
    /// Automatic gain compensation: unity gain for a -12 dBFS signal at any drive.
    pub auto_gain: bool,
    /// Wet/dry mix of the stage, 0..1.
    pub mix: f32,
    /// Oversampling around the shaper while playing (less aliasing at high drive, a few
    /// samples of group delay: docs/MANUAL.md, Character modes). Off: ADAA alone, half a
    /// sample of group delay.
    pub oversample: Oversampling,
    /// Oversampling in offline renders (see [`Saturator::set_offline`]); `None`: as while
    /// playing.
    pub render_oversample: Option<Oversampling>,
}

impl Default for SaturatorSettings {
    fn default() -> Self {
        Self {
            mode: CharacterMode::Clean,
            drive_db: 6.0,
            trim_db: 0.0,
            auto_gain: true,
            mix: 1.0,
            oversample: Oversampling::Off,
            render_oversample: None,
        }
    }
}

/// The state of two channels, which run side by side: their filters' recursions overlap
/// instead of waiting on each other (a lone last channel runs beside silence). Each channel
/// computes exactly what it would alone.
#[derive(Clone, Debug)]
struct Pair {
    /// The upsampler of both channels; each channel's shaped path and its dry reference
    /// share its output and go down through identical filters, all four side by side
    /// (`[wet 0, dry 0, wet 1, dry 1]`).
    up: Upsampler<2, 4, STAGE1>,
    down: Downsampler<4, 8, STAGE1>,
    /// The second stages of 4x.
    up2: Upsampler<2, 4, STAGE2>,
    down2: Downsampler<4, 8, STAGE2>,
    /// Previous driven sample at the working rate (ADAA memory), per channel.
    u_prev: [f64; 2],
    /// Previous undriven sample at the working rate (the dry path's half-sample average).
    x_prev: [f32; 2],
    /// DC blocker state (input, output).
    dc_x1: [f32; 2],
    dc_y1: [f32; 2],
    /// Tape softening one-pole state.
    lp: [f32; 2],
}

impl Pair {
    fn new() -> Self {
        let (c, c2) = (default_coefs(), second_stage_coefs());
        Self {
            up: Upsampler::new(&c),
            down: Downsampler::new(&c),
            up2: Upsampler::new(&c2),
            down2: Downsampler::new(&c2),
            u_prev: [0.0; 2],
            x_prev: [0.0; 2],
            dc_x1: [0.0; 2],
            dc_y1: [0.0; 2],
            lp: [0.0; 2],
        }
    }

    fn reset(&mut self) {
        self.up.reset();
        self.down.reset();
        self.up2.reset();
        self.down2.reset();
        self.u_prev = [0.0; 2];
        self.x_prev = [0.0; 2];
        self.dc_x1 = [0.0; 2];
        self.dc_y1 = [0.0; 2];
        self.lp = [0.0; 2];
    }
}

/// The controls of one block, per input sample.
struct Controls {
    len: usize,
    /// Drive gain, output trim, mix.
    drive: [f32; CHUNK],
    trim: [f32; CHUNK],
    mix: [f32; CHUNK],
    /// Shaped-path gain of mode A and of mode B (weight times gain compensation).
    gain_a: [f64; CHUNK],
    gain_b: [f64; CHUNK],
    /// Weight of Tape's softening and its pole.
    tape_w: [f32; CHUNK],
    lp_a: [f32; CHUNK],
    /// Weight of the untouched input (fades to and from Clean).
    input_w: [f32; CHUNK],
    /// The shaped mode and the one being faded out (None: none).
    mode_a: CharacterMode,
    mode_b: Option<CharacterMode>,
}

/// A stereo (or any channel count) character saturator.
pub struct Saturator {
    sample_rate: f32,
    /// The channels two by two.
    pairs: Vec<Pair>,
    mode: CharacterMode,
    /// The mode being faded out, with the fade position 0..1 of the new mode.
    fade_from: Option<CharacterMode>,
    fade_pos: f32,
    fade_step: f32,
    drive: Smoother,
    trim: Smoother,
    mix: Smoother,
    auto_gain: bool,
    /// The oversampling in effect, the settings' choices for playback and renders, and
    /// whether the host renders offline.
    oversample: Oversampling,
    choices: (Oversampling, Option<Oversampling>),
    offline: bool,
    /// Gain compensations of the two faded modes and the tape softening pole, valid for
    /// `coef_key` = (drive gain, modes, auto gain): recomputed only when one changes.
    coefs: (f64, f64, f32),
    coef_key: Option<(f32, CharacterMode, CharacterMode, bool)>,
    /// DC blocker pole (5 Hz).
    dc_r: f32,
    controls: Box<Controls>,
    simd: SimdLevel,
}

impl Saturator {
    /// A saturator for `channels` channels at `sample_rate` Hz. Allocates.
    pub fn new(channels: usize, sample_rate: f32, settings: &SaturatorSettings) -> Self {
        let mut s = Self {
            sample_rate,
            pairs: (0..channels.div_ceil(2)).map(|_| Pair::new()).collect(),
            mode: settings.mode,
            fade_from: None,
            fade_pos: 1.0,
            fade_step: 1.0 / (MODE_FADE_MS * 1e-3 * sample_rate).max(1.0),
            drive: Smoother::new(db_to_gain(settings.drive_db), 20.0, sample_rate),
            trim: Smoother::new(db_to_gain(settings.trim_db), 20.0, sample_rate),
            mix: Smoother::new(settings.mix.clamp(0.0, 1.0), 20.0, sample_rate),
            auto_gain: settings.auto_gain,
            oversample: settings.oversample,
            choices: (settings.oversample, settings.render_oversample),
            offline: false,
            coefs: (1.0, 1.0, 0.0),
            coef_key: None,
            dc_r: 1.0 - std::f32::consts::TAU * 5.0 / sample_rate,
            controls: Box::new(Controls {
                len: 0,
                drive: [0.0; CHUNK],
                trim: [0.0; CHUNK],
                mix: [0.0; CHUNK],
                gain_a: [0.0; CHUNK],
                gain_b: [0.0; CHUNK],
                tape_w: [0.0; CHUNK],
                lp_a: [0.0; CHUNK],
                input_w: [0.0; CHUNK],
                mode_a: CharacterMode::Clean,
                mode_b: None,
            }),
            simd: SimdLevel::detect(),
        };
        s.set_settings(settings);
        s
    }

    /// Runs the shaper's vectorised loops at `level` (capped at what the CPU supports).
    pub fn set_simd_level(&mut self, level: SimdLevel) {
        self.simd = level;
    }
    /// Sets new targets; a mode change starts a crossfade (a change during a fade restarts it
    /// from the current mixture's dominant mode).
    pub fn set_settings(&mut self, s: &SaturatorSettings) {
        if s.mode != self.mode {
            if self.mode == CharacterMode::Clean || self.fade_from == Some(CharacterMode::Clean) {
                // Leaving Clean: the filters were idle; start them from silence under the fade.
                for p in &mut self.pairs {
                    p.reset();
                }
            }
            self.fade_from = Some(if self.fade_pos < 0.5 {
                self.fade_from.unwrap_or(self.mode)
            } else {
                self.mode
            });
            self.fade_pos = 0.0;
            self.mode = s.mode;
        }
        self.drive
            .set_target(db_to_gain(s.drive_db.clamp(0.0, 36.0)));
        self.trim
            .set_target(db_to_gain(s.trim_db.clamp(-24.0, 24.0)));
        self.mix.set_target(s.mix.clamp(0.0, 1.0));
        self.auto_gain = s.auto_gain;
        self.choices = (s.oversample, s.render_oversample);
        self.apply_oversampling();
    }

    /// The host processes offline (a bounce): the settings' render oversampling applies.
    pub fn set_offline(&mut self, offline: bool) {
        self.offline = offline;
        self.apply_oversampling();
    }

    fn apply_oversampling(&mut self) {
        let (play, render) = self.choices;
        let os = if self.offline {
            render.unwrap_or(play)
        } else {
            play
        };
        if os != self.oversample {
            // The paths have different filter states; switching is a (documented) reset.
            for p in &mut self.pairs {
                p.reset();
            }
            self.oversample = os;
        }
    }

    /// The oversampling in effect.
    pub fn oversampling(&self) -> Oversampling {
        self.oversample
    }

    /// Clears all state; ramps end at their targets.
    pub fn reset(&mut self) {
        for p in &mut self.pairs {
            p.reset();
        }
        if self.fade_from.take().is_some() {
            self.fade_pos = 1.0;
        }
        for s in [&mut self.drive, &mut self.trim, &mut self.mix] {
            let t = s.target();
            s.reset(t);
        }
    }

    /// Whether the stage is an exact pass-through right now.
    pub fn is_clean(&self) -> bool {
        self.mode == CharacterMode::Clean && self.fade_from.is_none()
    }

    /// Processes `channels` in place (all the same length; as many as at construction).
    pub fn process(&mut self, channels: &mut [&mut [f32]]) {
        if self.is_clean() {
            // Keep the smoothers moving so a later switch starts from current values.
            let n = channels.first().map_or(0, |c| c.len());
            for _ in 0..n {
                self.drive.next();
                self.trim.next();
                self.mix.next();
            }
            return;
        }
        let len = channels[0].len();
        let mut pos = 0;
        while pos < len {
            let m = (len - pos).min(CHUNK);
            self.controls(m);
            for (chs, pair) in channels.chunks_mut(2).zip(self.pairs.iter_mut()) {
                let mut x = [[0.0f32; CHUNK]; 2];
                for (x, c) in x.iter_mut().zip(chs.iter()) {
                    x[..m].copy_from_slice(&c[pos..pos + m]);
                }
                pair.process(
                    &mut x,
                    chs.len(),
                    &self.controls,
                    self.oversample,
                    self.dc_r,
                    self.simd,
                );
                for (x, c) in x.iter().zip(chs.iter_mut()) {
                    c[pos..pos + m].copy_from_slice(&x[..m]);
                }
            }
            pos += m;
        }
    }

    /// Advances the smoothers and the mode fade over `len` samples into `self.controls`.
    fn controls(&mut self, len: usize) {
        let fading = self.fade_from.is_some();
        let from = self.fade_from.unwrap_or(self.mode);
        // The shaped path mixes the non-Clean modes; a fade to or from Clean is done on the
        // output against the untouched input instead.
        let clean_fade =
            fading && (self.mode == CharacterMode::Clean || from == CharacterMode::Clean);
        let (ma, mb) = if clean_fade {
            let m = if self.mode == CharacterMode::Clean {
                from
            } else {
                self.mode
            };
            (m, None)
        } else if fading {
            (self.mode, Some(from))
        } else {
            (self.mode, None)
        };
        let c = &mut *self.controls;
        c.len = len;
        c.mode_a = ma;
        c.mode_b = mb;
        let steady = !fading
            && !self.drive.is_smoothing()
            && !self.trim.is_smoothing()
            && !self.mix.is_smoothing();
        // Nothing moves: the block's controls are one set of values (the per-sample loop
        // below would compute these same values at every sample).
        let len = if steady { 1 } else { len };
        for i in 0..len {
            let g = self.drive.next();
            c.drive[i] = g;
            c.trim[i] = self.trim.next();
            c.mix[i] = self.mix.next();
            if self.fade_from.is_some() {
                self.fade_pos = (self.fade_pos + self.fade_step).min(1.0);
                if self.fade_pos >= 1.0 {
                    self.fade_from = None;
                }
            }
            let pos = self.fade_pos;
            let (wa, wb, wx) = if clean_fade {
                let wx = if self.mode == CharacterMode::Clean {
                    pos
                } else {
                    1.0 - pos
                };
                (1.0, 0.0, wx)
            } else if mb.is_some() {
                (pos, 1.0 - pos, 0.0)
            } else {
                (1.0, 0.0, 0.0)
            };
            let mb = mb.unwrap_or(ma);
            let key = (g, ma, mb, self.auto_gain);
            if self.coef_key != Some(key) {
                let comp = |m: CharacterMode| -> f64 {
                    if self.auto_gain {
                        AUTO_GAIN_REF / shape(m, g as f64 * AUTO_GAIN_REF).abs().max(1e-9)
                    } else {
                        1.0
                    }
                };
                // Tape's softening cutoff: 20 kHz at 0 dB drive, ~9 kHz at +36 dB.
                let fc = (20_000.0 * g.powf(-0.2)).min(0.45 * self.sample_rate);
                self.coefs = (
                    comp(ma),
                    comp(mb),
                    (-std::f32::consts::TAU * fc / self.sample_rate).exp(),
                );
                self.coef_key = Some(key);
            }
            let (ca, cb, lp_a) = self.coefs;
            c.gain_a[i] = wa as f64 * ca;
            c.gain_b[i] = wb as f64 * cb;
            c.lp_a[i] = lp_a;
            c.tape_w[i] = if ma == CharacterMode::Tape { wa } else { 0.0 }
                + if mb == CharacterMode::Tape { wb } else { 0.0 };
            c.input_w[i] = wx;
        }
        if steady {
            /// The first `n` values of `a` as its first.
            fn spread<T: Copy>(a: &mut [T], n: usize) {
                let v = a[0];
                a[1..n].fill(v);
            }
            let n = c.len;
            spread(&mut c.drive, n);
            spread(&mut c.trim, n);
            spread(&mut c.mix, n);
            spread(&mut c.gain_a, n);
            spread(&mut c.gain_b, n);
            spread(&mut c.lp_a, n);
            spread(&mut c.tape_w, n);
            spread(&mut c.input_w, n);
        }
    }
}

impl Pair {
    /// One block of `used` channels (1 or 2) under the block's controls, in place in `x`.
    fn process(
        &mut self,
        x: &mut [[f32; CHUNK]; 2],
        used: usize,
        c: &Controls,
        oversample: Oversampling,
        dc_r: f32,
        simd: SimdLevel,
    ) {
        const HI: usize = 4 * CHUNK;
        let n = c.len;
        let factor = oversample.factor();
        let m = n * factor;
        // The working-rate input, undriven (shared by the shaped and the dry paths).
        let mut hi = [[0.0f32; HI]; 2];
        match oversample {
            Oversampling::Off => {
                for (h, x) in hi.iter_mut().zip(x.iter()) {
                    h[..n].copy_from_slice(&x[..n]);
                }
            }
            Oversampling::X2 => {
                let mut up = self.up;
                for i in 0..n {
                    let [a, b] = up.upsample([x[0][i], x[1][i]]);
                    hi[0][2 * i..2 * i + 2].copy_from_slice(&a);
                    hi[1][2 * i..2 * i + 2].copy_from_slice(&b);
                }
                self.up = up;
            }
            Oversampling::X4 => {
                let (mut up, mut up2) = (self.up, self.up2);
                for i in 0..n {
                    let [[a0, b0], [a1, b1]] = up.upsample([x[0][i], x[1][i]]);
                    let [p0, p1] = up2.upsample([a0, a1]);
                    let [q0, q1] = up2.upsample([b0, b1]);
                    hi[0][4 * i..4 * i + 4].copy_from_slice(&[p0[0], p0[1], q0[0], q0[1]]);
                    hi[1][4 * i..4 * i + 4].copy_from_slice(&[p1[0], p1[1], q1[0], q1[1]]);
                }
                (self.up, self.up2) = (up, up2);
            }
        }
        // The shaped path and the dry reference of each channel at the working rate.
        let mut wet = [[0.0f32; HI]; 2];
        let mut dry = [[0.0f32; HI]; 2];
        for ch in 0..used {
            let (hi, wet, dry) = (&hi[ch], &mut wet[ch], &mut dry[ch]);
            let mut u = [0.0f64; HI];
            for (k, (u, &h)) in u[..m].iter_mut().zip(&hi[..m]).enumerate() {
                *u = c.drive[k / factor] as f64 * h as f64;
            }
            let mut ya = [0.0f64; HI];
            adaa_block(simd, c.mode_a, self.u_prev[ch], &u[..m], &mut ya[..m]);
            if let Some(mb) = c.mode_b {
                let mut yb = [0.0f64; HI];
                adaa_block(simd, mb, self.u_prev[ch], &u[..m], &mut yb[..m]);
                for k in 0..m {
                    let i = k / factor;
                    wet[k] = (c.gain_a[i] * ya[k] + c.gain_b[i] * yb[k]) as f32;
                }
            } else {
                for k in 0..m {
                    wet[k] = (c.gain_a[k / factor] * ya[k]) as f32;
                }
            }
            self.u_prev[ch] = u[m - 1];
            // Dry reference: the same half-sample average as ADAA's linear region.
            let mut prev = self.x_prev[ch];
            for (d, &h) in dry[..m].iter_mut().zip(&hi[..m]) {
                *d = 0.5 * (prev + h);
                prev = h;
            }
            self.x_prev[ch] = prev;
        }
        let (mut down, mut down2) = (self.down, self.down2);
        let pairs = |k: usize| -> [[f32; 2]; 4] {
            [
                [wet[0][k], wet[0][k + 1]],
                [dry[0][k], dry[0][k + 1]],
                [wet[1][k], wet[1][k + 1]],
                [dry[1][k], dry[1][k + 1]],
            ]
        };
        for i in 0..n {
            // `[wet 0, dry 0, wet 1, dry 1]` at the host's rate.
            let y = match oversample {
                Oversampling::Off => [wet[0][i], dry[0][i], wet[1][i], dry[1][i]],
                Oversampling::X2 => down.downsample(pairs(2 * i)),
                Oversampling::X4 => {
                    let a = down2.downsample(pairs(4 * i));
                    let b = down2.downsample(pairs(4 * i + 2));
                    down.downsample(std::array::from_fn(|s| [a[s], b[s]]))
                }
            };
            for ch in 0..used {
                let (mut w, d) = (y[2 * ch], y[2 * ch + 1]);
                // DC blocker (Warm's asymmetry makes DC; inaudible elsewhere at 5 Hz).
                let dc = w - self.dc_x1[ch] + dc_r * self.dc_y1[ch];
                self.dc_x1[ch] = w;
                self.dc_y1[ch] = dc;
                w = dc;
                let tw = c.tape_w[i];
                if tw > 0.0 {
                    let a = c.lp_a[i];
                    self.lp[ch] = (1.0 - a) * w + a * self.lp[ch];
                    w = tw * self.lp[ch] + (1.0 - tw) * w;
                }
                let mix = c.mix[i];
                let processed = (1.0 - mix) * d + mix * w * c.trim[i];
                let wx = c.input_w[i];
                x[ch][i] = if wx == 0.0 {
                    processed
                } else {
                    wx * x[ch][i] + (1.0 - wx) * processed
                };
            }
        }
        (self.down, self.down2) = (down, down2);
    }
}

#[cfg(test)]
mod tests;
