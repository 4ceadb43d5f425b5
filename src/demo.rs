//! The demo phrase: 4 s of plucked notes (Karplus-Strong) and claps, the same everywhere it
//! is heard (the renderer's `--make-demo-input`, the standalone's demo mode and the editor
//! screenshots).
//!
//! Demo mode: with `FLUXFORGE_DEMO=1` in the environment when the plugin is created, the
//! plugin plays the phrase in a loop in place of its input (for trying it without an audio
//! interface, and so the screenshots show live spectra and meters); with
//! `FLUXFORGE_DEMO_PRESET=<name>` it starts on that factory preset. The phrase is made in
//! `activate()`; the audio thread only copies it.

use crate::dsp::rng::Rng;

/// The phrase at `rate` Hz, stereo.
pub fn phrase(rate: u32) -> [Vec<f32>; 2] {
    let rate = rate as usize;
    let len = 4 * rate;
    let mut l = vec![0.0f32; len];
    let mut r = vec![0.0f32; len];
    let mut rng = Rng::new(2026);
    let notes = [57, 60, 62, 64, 67, 69, 67, 64];
    for (i, &note) in notes.iter().enumerate() {
        let start = i * rate / 3;
        let period =
            (rate as f64 / (440.0 * 2f64.powf((note as f64 - 69.0) / 12.0))).round() as usize;
        let mut line: Vec<f64> = (0..period).map(|_| rng.bipolar()).collect();
        let pan = if i % 2 == 0 { 0.3 } else { 0.7 };
        for n in 0..rate / 2 {
            let k = n % period;
            let v = line[k];
            line[k] = 0.996 * 0.5 * (v + line[(k + 1) % period]);
            if start + n < len {
                l[start + n] += (0.35 * v * (1.0 - pan)) as f32;
                r[start + n] += (0.35 * v * pan) as f32;
            }
        }
    }
    for beat in [1usize, 3, 5, 7] {
        let start = beat * rate / 2;
        for n in 0..rate / 20 {
            let env = (-(n as f64) / (rate as f64 * 0.008)).exp();
            let v = (0.5 * rng.bipolar() * env) as f32;
            l[start + n] += v;
            r[start + n] += v;
        }
    }
    [l, r]
}

/// The phrase playing in a loop.
pub struct Player {
    phrase: [Vec<f32>; 2],
    pos: usize,
}

impl Player {
    /// A player at `rate` Hz (allocates: call it in `activate()`).
    pub fn new(rate: u32) -> Self {
        Self {
            phrase: phrase(rate),
            pos: 0,
        }
    }

    /// Writes the next samples of the phrase into the channels (no allocation).
    pub fn fill(&mut self, channels: &mut [&mut [f32]]) {
        let len = self.phrase[0].len();
        let n = channels.first().map_or(0, |c| c.len());
        for i in 0..n {
            for (c, ch) in channels.iter_mut().enumerate() {
                ch[i] = self.phrase[c.min(1)][self.pos];
            }
            self.pos = (self.pos + 1) % len;
        }
    }
}

/// Demo mode was asked for in the environment.
pub fn enabled() -> bool {
    std::env::var_os("FLUXFORGE_DEMO").is_some_and(|v| v != "0" && !v.is_empty())
}
