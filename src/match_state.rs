//! EQ match in the plugin: the curve saved with the session ([`MatchField`]), its design at
//! the session rate made on the instance's worker and handed to the audio thread
//! ([`MatchDesigner`]), and the learning of the two long-term spectra on the audio thread
//! while the editor asks for it ([`MatchLearner`] → [`LearnFeed`]).
//!
//! A curve reaches the sound like an IR does: whoever changes it (the editor's Match, a
//! state load, the renderer) stores it in the field, which counts the change; the audio
//! thread sees the count move, asks the worker, and takes the design from a mailbox when it
//! is ready, crossfading to it. The design it replaces goes back through a second mailbox and
//! is freed on the worker.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::RwLock;

use nice_plug::params::persist::PersistentField;

use crate::dsp::eq_match::{sanitize, Curve, MatchDesign};
use crate::dsp::long_term_spectrum::{LongTermSpectrum, POINTS};
use crate::shared::Mailbox;

/// The persisted match curve (`None`: no match) and an epoch counting every change. Values
/// from a state are checked ([`sanitize`]): a curve of the wrong length is dropped, values
/// that are not finite become 0 dB, the rest are clamped. Only non-audio threads lock.
#[derive(Debug, Default)]
pub struct MatchField {
    curve: RwLock<Option<Vec<f32>>>,
    epoch: AtomicU64,
}

impl MatchField {
    /// The curve (checked). Allocates nothing beyond the copy; not for the audio thread.
    pub fn get(&self) -> Option<Curve> {
        self.curve
            .read()
            .ok()
            .and_then(|c| c.as_deref().and_then(sanitize))
    }

    /// Stores `curve` (`None` clears the match) and advances the epoch.
    pub fn put(&self, curve: Option<&Curve>) {
        if let Ok(mut c) = self.curve.write() {
            *c = curve.map(|c| c.to_vec());
        }
        self.epoch.fetch_add(1, Ordering::AcqRel);
    }

    /// Stores values as a state or a file brings them: checked by [`sanitize`] (the wrong
    /// length clears the match).
    pub fn put_values(&self, values: Option<&[f32]>) {
        self.put(values.and_then(sanitize).as_ref());
    }

    /// Counts changes; lock-free, for the audio thread.
    pub fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }
}

impl<'a> PersistentField<'a, Option<Vec<f32>>> for MatchField {
    fn set(&self, new_value: Option<Vec<f32>>) {
        self.put_values(new_value.as_deref());
    }

    fn map<F, R>(&self, f: F) -> R
    where
        F: Fn(&Option<Vec<f32>>) -> R,
    {
        match self.curve.read() {
            Ok(c) => f(&c),
            Err(_) => f(&None),
        }
    }
}

/// Designs made on the worker for the audio thread, and the ones it retired.
#[derive(Default)]
pub struct MatchDesigner {
    /// Rate of the session, Hz (bits of an `f32`; 0 while inactive).
    rate: AtomicU32,
    /// The field's epoch the newest design was made from (`u64::MAX`: none).
    made: AtomicU64,
    /// Designs to the audio thread.
    inbox: Mailbox<MatchDesign>,
    /// Designs the audio thread replaced, to be freed off it.
    retired: Mailbox<MatchDesign>,
}

impl MatchDesigner {
    /// The design of `field`'s curve at `rate` (flat without one), made now. For activation
    /// and the renderer (allocates; a few milliseconds).
    pub fn design_now(&self, field: &MatchField, rate: f32) -> MatchDesign {
        self.rate.store(rate.to_bits(), Ordering::Release);
        let epoch = field.epoch();
        let d = match field.get() {
            Some(c) => MatchDesign::new(&c, rate),
            None => MatchDesign::flat(rate),
        };
        self.made.store(epoch, Ordering::Release);
        d
    }

    /// Worker: designs the field's curve at the session rate and hands it over, unless that
    /// epoch was already designed. Frees retired designs.
    pub fn run(&self, field: &MatchField) {
        drop(self.retired.take());
        let rate = f32::from_bits(self.rate.load(Ordering::Acquire));
        let epoch = field.epoch();
        if rate <= 0.0 || self.made.load(Ordering::Acquire) == epoch {
            return;
        }
        let d = self.design_now(field, rate);
        drop(self.inbox.put(Box::new(d)));
    }

    /// Worker: frees the designs the audio thread retired.
    pub fn collect(&self) {
        drop(self.retired.take());
    }

    /// Audio thread: whether the field changed since the last design (then ask the worker).
    pub fn wants_design(&self, field: &MatchField) -> bool {
        self.made.load(Ordering::Acquire) != field.epoch()
    }

    /// Audio thread: a new design, if one is ready and the last retired one was freed (so
    /// nothing is ever freed here). Call [`Self::retire`] with it after loading it.
    pub fn take(&self) -> Option<Box<MatchDesign>> {
        if !self.retired.is_empty() {
            return None;
        }
        self.inbox.take()
    }

    /// Audio thread: hands a design back to be freed on the worker.
    pub fn retire(&self, design: Box<MatchDesign>) {
        // `take` only returns a design when the retired slot is empty, so nothing comes back
        // (were something to, leaking it beats freeing it here).
        if let Some(old) = self.retired.put(design) {
            std::mem::forget(old);
        }
    }

    /// Inactive: forget the rate (a design waiting is freed here, off the audio thread).
    pub fn deactivate(&self) {
        self.rate.store(0, Ordering::Release);
        self.made.store(u64::MAX, Ordering::Release);
        drop(self.inbox.take());
        drop(self.retired.take());
    }
}

/// The two long-term spectra a learn gathers: the plugin's input and the sidechain.
#[derive(Clone, Copy, Debug)]
pub struct Learned {
    /// The learn these belong to (see [`LearnFeed::start`]).
    pub session: u32,
    /// Input level per grid point, dB.
    pub input_db: [f32; POINTS],
    /// Frames of input heard.
    pub input_frames: u64,
    /// Sidechain level per grid point, dB.
    pub key_db: [f32; POINTS],
    /// Frames of sidechain heard (0: no sidechain).
    pub key_frames: u64,
}

impl Default for Learned {
    fn default() -> Self {
        Self {
            session: 0,
            input_db: [crate::dsp::long_term_spectrum::FLOOR_DB; POINTS],
            input_frames: 0,
            key_db: [crate::dsp::long_term_spectrum::FLOOR_DB; POINTS],
            key_frames: 0,
        }
    }
}

/// The editor's end of a learn: asks for one (a session number the audio thread follows)
/// and reads the spectra (a triple buffer; the lock is the editor's only).
pub struct LearnFeed {
    session: AtomicU32,
    output: std::sync::Mutex<triple_buffer::Output<Learned>>,
}

impl Default for LearnFeed {
    fn default() -> Self {
        Self {
            session: AtomicU32::new(0),
            output: std::sync::Mutex::new(triple_buffer::triple_buffer(&Learned::default()).1),
        }
    }
}

impl LearnFeed {
    /// Starts a new learn (the audio thread forgets what it heard) and returns its number
    /// (odd; an even number means no learn). The editor's thread only.
    pub fn start(&self) -> u32 {
        let s = self.session.load(Ordering::Acquire);
        let next = s.wrapping_add(if s & 1 == 1 { 2 } else { 1 });
        self.session.store(next, Ordering::Release);
        next
    }

    /// Stops learning.
    pub fn stop(&self) {
        let s = self.session.load(Ordering::Acquire);
        if s & 1 == 1 {
            self.session.store(s.wrapping_add(1), Ordering::Release);
        }
    }

    /// Whether a learn is on.
    pub fn learning(&self) -> bool {
        self.session.load(Ordering::Acquire) & 1 == 1
    }

    /// The newest spectra of the current learn.
    pub fn latest(&self) -> Option<Learned> {
        let mut out = self.output.lock().unwrap_or_else(|e| e.into_inner());
        out.update();
        let l = *out.output_buffer();
        (l.session == self.session.load(Ordering::Acquire)).then_some(l)
    }
}

/// The audio thread's end: the two spectra, fed while a learn is on.
pub struct MatchLearner {
    feed: std::sync::Arc<LearnFeed>,
    input: triple_buffer::Input<Learned>,
    /// The learn being followed (even: none).
    session: u32,
    signal: LongTermSpectrum,
    key: LongTermSpectrum,
}

/// A learner at `rate` Hz (for the audio thread) connected to `feed` (the editor's, which
/// outlives activations). Allocates.
pub fn learner(rate: f32, feed: std::sync::Arc<LearnFeed>) -> MatchLearner {
    let (input, output) = triple_buffer::triple_buffer(&Learned::default());
    if let Ok(mut o) = feed.output.lock() {
        *o = output;
    }
    MatchLearner {
        feed,
        input,
        session: 0,
        signal: LongTermSpectrum::new(rate),
        key: LongTermSpectrum::new(rate),
    }
}

impl MatchLearner {
    /// Audio thread: feeds the input and the sidechain (if any) while a learn is on, and
    /// publishes the spectra after each new frame. No allocation, no lock.
    pub fn push(&mut self, input: [&[f32]; 2], key: Option<[&[f32]; 2]>) {
        let session = self.feed.session.load(Ordering::Acquire);
        if session & 1 == 0 {
            self.session = session;
            return;
        }
        if session != self.session {
            self.session = session;
            self.signal.reset();
            self.key.reset();
        }
        let frames = (self.signal.frames(), self.key.frames());
        self.signal.push(input);
        if let Some(k) = key {
            self.key.push(k);
        }
        if (self.signal.frames(), self.key.frames()) != frames {
            let b = self.input.input_buffer_mut();
            b.session = session;
            b.input_db = self.signal.points_db();
            b.input_frames = self.signal.frames();
            b.key_db = self.key.points_db();
            b.key_frames = self.key.frames();
            self.input.publish();
        }
    }
}

/// The long-term spectrum of an audio file (WAV, AIFF or FLAC, mono or stereo, up to an
/// hour), as a learn would hear it played. Allocates; for the editor's file thread and the
/// renderer.
pub fn file_spectrum(path: &std::path::Path) -> Result<[f32; POINTS], String> {
    let audio = crate::ir_file::load_audio(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let [l, r] = match audio.channels.as_slice() {
        [m] => [m, m],
        [l, r, ..] => [l, r],
        [] => return Err(format!("{}: no audio", path.display())),
    };
    let mut s = LongTermSpectrum::new(audio.sample_rate as f32);
    s.push([l, r]);
    if s.frames() == 0 {
        return Err(format!(
            "{}: too short to learn from (at least {:.2} s)",
            path.display(),
            crate::dsp::long_term_spectrum::FFT_LEN as f32 / audio.sample_rate as f32
        ));
    }
    Ok(s.points_db())
}
