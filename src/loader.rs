//! Getting an impulse response from its source (a factory room or a file stored in the
//! session) to a convolution kernel, off the audio thread, and reporting what happened to the
//! editor.
//!
//! ```text
//!  editor "Load"  ──Task::Load(path)──▶ decode + validate ──▶ IrField (samples, compressed)
//!                                                                 │ epoch
//!  audio thread: room / edits / epoch changed? ──Task::Render──▶ source ─▶ resample (cached)
//!     ▲                                                          ─▶ auto-gain ─▶ edits
//!     └──────────── Mailbox<Kernel> (lock-free) ◀── kernel ◀─────────────────────┘
//! ```
//!
//! The audio thread only reads atomics, sends value tasks (no allocation) and swaps boxed
//! kernels through [`Mailbox`]es; it never waits for this module. Renders are coalesced: at
//! most one is queued, and a render whose inputs changed while it ran is discarded.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::Instant;

use crate::dsp::convolver::{Convolver, Kernel};
use crate::dsp::ir_edit::{self, EditedIr, IrEdits};
use crate::ir_file::{self, IrData};
use crate::ir_source::{prepare, Source};
use crate::ir_state::StoredIr;
use crate::match_state::MatchDesigner;
use crate::params::{FluxForgeParams, Room};
use crate::shared::Mailbox;
use nice_plug::prelude::Enum;

/// Work for the background executor.
#[derive(Debug)]
pub enum Task {
    /// Render the IR the parameters describe and hand its kernel over.
    Render,
    /// Decode this file; on success store it in the session and select it, unless the
    /// session's IR changed since `epoch` (a state loaded meanwhile wins over the file).
    Load {
        /// The file.
        path: PathBuf,
        /// [`IrField::epoch`](crate::ir_state::IrField::epoch) when the load was asked for.
        epoch: u64,
    },
    /// Free the kernels the audio thread has returned (every task does this first).
    Collect,
    /// Design the session's EQ match curve at the session rate and hand it over.
    Match,
}

impl Task {
    /// A file load as asked for now.
    pub fn load(path: PathBuf, params: &FluxForgeParams) -> Self {
        Task::Load {
            path,
            epoch: params.ir.epoch(),
        }
    }
}

/// Columns of the editor's waveform overview.
pub const OVERVIEW_COLUMNS: usize = 480;

/// What the editor shows about the IR.
#[derive(Clone, Debug, Default)]
pub struct IrStatus {
    /// Display name of the source.
    pub name: String,
    /// Where it came from (a path, or "factory").
    pub origin: String,
    /// Source channel count (1, 2 or 4).
    pub channels: usize,
    /// Source sample rate, Hz.
    pub source_rate: u32,
    /// Source length, seconds.
    pub source_seconds: f32,
    /// Session rate, Hz.
    pub rate: f32,
    /// Edited IR length (what plays), seconds.
    pub seconds: f32,
    /// Pre-delay, seconds.
    pub predelay_seconds: f32,
    /// Kept part of the (stretched, reversed) source, fractions.
    pub kept: (f32, f32),
    /// The capacity limit cut the IR.
    pub truncated: bool,
    /// Min/max of the edited IR (all channels) per column, [`OVERVIEW_COLUMNS`] columns.
    pub overview: Vec<[f32; 2]>,
    /// The edited IR's energy decay curve and its T30 / T60.
    pub decay: ir_edit::DecayMeasures,
    /// Where the early/late split lies, seconds from the IR's start (pre-delay included).
    pub split_seconds: f32,
    /// The envelope's attack and hold, seconds (from the edits).
    pub attack_seconds: f32,
    pub hold_seconds: f32,
    /// Background time of the last render (resample + edits + kernel), ms.
    pub render_ms: f32,
    /// The last error, shown until the next successful load.
    pub error: Option<String>,
    /// A file was just loaded: the editor should select [`Room::File`].
    pub select_file: bool,
    /// Counts renders, so the editor can tell when something changed.
    pub serial: u64,
}

/// A prepared source: its key, rate, auto-gain and channels at that rate.
type Prepared = (SourceKey, u32, bool, Arc<Vec<Vec<f32>>>);

/// The identity of a prepared (resampled, normalised) source.
#[derive(Clone, Copy, Debug, PartialEq)]
enum SourceKey {
    Room(usize),
    File(u64),
}

/// A prepared source shared between the instances of this process: its key, rate and
/// auto-gain, and the samples while some instance holds them.
type SharedPrepared = (SourceKey, u32, bool, Weak<Vec<Vec<f32>>>);

/// Factory rooms prepared by any instance of the process: a session opens many instances on
/// the same few rooms, so each room is rendered once per rate and shared. Weak references:
/// a room's samples go with the last instance that holds them. Taken on the background and
/// main threads only, never by the audio thread.
static SHARED_ROOMS: Mutex<Vec<SharedPrepared>> = Mutex::new(Vec::new());

/// The shared samples of factory room `key` at `rate_hz` with `auto_gain`, if an instance
/// holds them; forgets rooms no instance holds any more.
fn shared_room(key: SourceKey, rate_hz: u32, auto_gain: bool) -> Option<Arc<Vec<Vec<f32>>>> {
    let mut rooms = SHARED_ROOMS.lock().ok()?;
    rooms.retain(|(_, _, _, w)| w.strong_count() > 0);
    rooms
        .iter()
        .find(|(k, r, a, _)| *k == key && *r == rate_hz && *a == auto_gain)
        .and_then(|(_, _, _, w)| w.upgrade())
}

/// Background-side caches (never touched by the audio thread).
#[derive(Default)]
struct Cache {
    /// The file IR decoded from the state, by field epoch, with its path.
    decoded: Option<(u64, Arc<IrData>, String)>,
    /// The last file IR that decoded, kept to restore when a newer one does not.
    last_good: Option<(StoredIr, Arc<IrData>)>,
    /// The prepared source: key, rate, auto-gain, channels at `rate`.
    prepared: Option<Prepared>,
}

/// Shared between the plugin, its background task and its editor.
#[derive(Default)]
pub struct Loader {
    /// Sample rate of the active engine (kernels must be built for exactly this) and the
    /// host's largest block (the kernels' plans are chosen for it).
    target: RwLock<Option<(f32, usize)>>,
    /// The render generation: advanced by every render request of the audio thread and by
    /// [`Loader::set_target`]. A render reads it before it reads the parameters and tags its
    /// kernel with it ([`Kernel::tag`]); the audio thread accepts only a kernel whose tag is
    /// the current generation, so a result that a later request (a parameter change, a state
    /// load, a re-activation) made stale is never heard, whatever order these came in.
    wanted: AtomicU64,
    /// A render task is queued and not started yet.
    queued: AtomicBool,
    /// The generation of the audio thread's latest render request, and the latest generation
    /// a render finished for (delivered, or failed and reported): a request is pending while
    /// `finished < requested`. What an offline host's process call waits for.
    requested: AtomicU64,
    finished: AtomicU64,
    /// A collect task is queued and not started yet.
    collecting: AtomicBool,
    /// Kernels built in the background, to the audio thread.
    pub kernel_in: Mailbox<Kernel>,
    /// Kernels the audio thread is done with (retired or stale), to be dropped off it.
    pub kernel_out: Mailbox<Kernel>,
    /// For the editor.
    status: Mutex<IrStatus>,
    cache: Mutex<Cache>,
    /// EQ match designs, made on the same worker (see [`crate::match_state`]).
    pub match_eq: MatchDesigner,
}

/// What the audio thread compares to decide that a render is needed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RenderKey {
    room: usize,
    epoch: u64,
    edits: IrEdits,
}

impl RenderKey {
    /// The render inputs the parameters describe now. Lock-free.
    pub fn of(params: &FluxForgeParams) -> Self {
        Self::new(params.room.value(), params.ir.epoch(), params.ir_edits())
    }

    /// The render inputs: the room, the epoch of the session's IR field (which stored file)
    /// and the edits.
    pub fn new(room: Room, epoch: u64, edits: IrEdits) -> Self {
        Self {
            room: room.to_index(),
            epoch,
            edits,
        }
    }

    /// The room this key renders.
    pub fn room(&self) -> Room {
        Room::from_index(self.room)
    }
}

/// A render that could not be built: the session's stored file did not decode (reported).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Damaged;

impl Loader {
    /// Sets the rate and host block kernels are built for, and drops kernels built for the
    /// old ones.
    pub fn set_target(&self, rate: f32, block: usize) {
        if let Ok(mut t) = self.target.write() {
            *t = Some((rate, block));
        }
        self.wanted.fetch_add(1, Ordering::AcqRel);
        drop(self.kernel_in.take());
        drop(self.kernel_out.take());
    }

    /// Audio thread: note that the render inputs changed. Returns true when a
    /// [`Task::Render`] must be sent (none is queued yet). Lock-free, no allocation.
    pub fn request_render(&self) -> bool {
        let generation = self.wanted.fetch_add(1, Ordering::AcqRel) + 1;
        self.requested.fetch_max(generation, Ordering::AcqRel);
        !self.queued.swap(true, Ordering::AcqRel)
    }

    /// Offline processing only (an offline host allows the audio thread to wait): sleeps in
    /// short steps until the render the audio thread asked for last has finished and a kernel
    /// it retired has been freed, so that [`Loader::hand_over`] installs the new kernel in this
    /// very call, whatever the processing speed. Gives up after `limit` (a render that never
    /// ends must not hang the host's bounce); returns whether it finished in time.
    pub fn wait_offline(&self, limit: std::time::Duration) -> bool {
        let t0 = Instant::now();
        let busy = || {
            self.finished.load(Ordering::Acquire) < self.requested.load(Ordering::Acquire)
                || !self.kernel_out.is_empty()
        };
        while busy() {
            if t0.elapsed() > limit {
                return false;
            }
            std::thread::sleep(std::time::Duration::from_micros(200));
        }
        true
    }

    /// Audio thread: the kernel hand-over of one processing call. Returns a retired kernel,
    /// or a received one that is stale or does not fit, to the background through
    /// [`Loader::kernel_out`], and offers a current one to `conv`. Returns true when a
    /// [`Task::Collect`] must be sent so the returned kernel is freed (none is queued yet):
    /// the return slot is then emptied within milliseconds, so it never holds up the intake
    /// of the next kernel for longer. Lock-free, no allocation, nothing dropped here.
    pub fn hand_over(&self, conv: &mut Convolver) -> bool {
        if self.kernel_out.is_empty() {
            if let Some(old) = conv.take_retired() {
                let _none = self.kernel_out.put(old);
            } else if conv.ready_for_kernel() {
                if let Some(k) = self.kernel_in.take() {
                    if !self.is_current(&k) {
                        let _none = self.kernel_out.put(k);
                    } else if let Err(k) = conv.offer_kernel(k) {
                        let _none = self.kernel_out.put(k);
                    }
                }
            }
        }
        !self.kernel_out.is_empty() && !self.collecting.swap(true, Ordering::AcqRel)
    }

    /// Whether `kernel` was rendered for the latest request (the only kind the audio thread
    /// accepts).
    pub fn is_current(&self, kernel: &Kernel) -> bool {
        kernel.tag() == self.wanted.load(Ordering::Acquire)
    }

    /// A copy of the status for the editor (`None` if the background holds the lock).
    pub fn status(&self) -> Option<IrStatus> {
        self.status.try_lock().ok().map(|s| s.clone())
    }

    /// The editor acknowledges [`IrStatus::select_file`].
    pub fn clear_select_file(&self) {
        if let Ok(mut s) = self.status.lock() {
            s.select_file = false;
        }
    }

    fn set_error(&self, message: String) {
        nice_plug::nice_error!("{message}");
        if let Ok(mut s) = self.status.lock() {
            s.error = Some(message);
            s.serial += 1;
        }
    }

    /// Runs a background task.
    pub fn run(&self, task: Task, params: &FluxForgeParams) {
        // Kernels the audio thread retired are freed here, never on the audio thread.
        if matches!(task, Task::Collect) {
            self.collecting.store(false, Ordering::Release);
        }
        drop(self.kernel_out.take());
        match task {
            Task::Collect => self.match_eq.collect(),
            Task::Match => self.match_eq.run(&params.match_curve),
            Task::Load { path, epoch } => self.load_file(&path, epoch, params),
            Task::Render => {
                self.queued.store(false, Ordering::Release);
                let generation = self.wanted.load(Ordering::Acquire);
                let Some((rate, block)) = self.target.read().ok().and_then(|t| *t) else {
                    self.finished.fetch_max(generation, Ordering::AcqRel);
                    return;
                };
                if let Some(kernel) = self.build_for(params, rate, block) {
                    // Inputs changed meanwhile: a newer render is queued; drop this one. (The
                    // tag makes the audio thread refuse it too if it changes after this check.)
                    if self.wanted.load(Ordering::Acquire) == generation {
                        drop(self.kernel_in.put(Box::new(kernel.with_tag(generation))));
                    }
                }
                // Delivered, stale or failed (reported): this generation is done.
                self.finished.fetch_max(generation, Ordering::AcqRel);
            }
        }
    }

    /// Decodes a file; on success stores it (samples embedded) and asks the editor to select
    /// it. On failure the error is shown and logged and nothing else changes. If the session's
    /// IR changed since `epoch` (a state was loaded while the file decoded), the file is not
    /// stored: the later state wins.
    fn load_file(&self, path: &std::path::Path, epoch: u64, params: &FluxForgeParams) {
        let t0 = Instant::now();
        match ir_file::load_ir(path) {
            Err(e) => self.set_error(format!("Could not load {}: {e}", path.display())),
            Ok(ir) => {
                let stored = StoredIr::encode(&ir, &path.to_string_lossy());
                let ir = Arc::new(ir);
                if !params.ir.put_if_epoch(Some(stored.clone()), epoch) {
                    nice_plug::nice_log!(
                        "Not storing {}: the session's IR changed while it loaded",
                        path.display()
                    );
                    return;
                }
                if let Ok(mut c) = self.cache.lock() {
                    c.decoded = Some((params.ir.epoch(), ir.clone(), stored.path.clone()));
                    c.last_good = Some((stored, ir));
                }
                nice_plug::nice_log!(
                    "Loaded {} in {:.1} ms",
                    path.display(),
                    t0.elapsed().as_secs_f64() * 1e3
                );
                if let Ok(mut s) = self.status.lock() {
                    s.error = None;
                    s.select_file = true;
                    s.serial += 1;
                }
            }
        }
    }

    /// Builds the kernel for the IR the parameters describe now (see [`Loader::build`]); if
    /// the session's stored file does not decode, puts the last good one back into the state
    /// and returns `None`.
    pub fn build_for(&self, params: &FluxForgeParams, rate: f32, block: usize) -> Option<Kernel> {
        let key = RenderKey::of(params);
        let stored = (key.room() == Room::File)
            .then(|| params.ir.get())
            .flatten();
        match self.build(&key, stored.as_ref(), rate, block) {
            Ok(kernel) => Some(kernel),
            Err(Damaged) => {
                self.restore_last_good(params);
                None
            }
        }
    }

    /// Builds the kernel for `key` (the room, or with [`Room::File`] the session's `stored`
    /// file, whose field epoch the key holds), at `rate` for host blocks of `block` samples,
    /// and updates the status. Reads no parameters. [`Damaged`] if the stored file cannot be
    /// decoded (the error is reported). Allocates; milliseconds.
    pub fn build(
        &self,
        key: &RenderKey,
        stored: Option<&StoredIr>,
        rate: f32,
        block: usize,
    ) -> Result<Kernel, Damaged> {
        let t0 = Instant::now();
        let edits = key.edits;
        let room = key.room();
        let (source_key, info) = if room == Room::File {
            match self.decoded_file(key.epoch, stored)? {
                Some((ir, path)) => (SourceKey::File(key.epoch), Source::File(ir, path)),
                None => (
                    SourceKey::Room(Room::MediumRoom.to_index()),
                    Source::Factory(Room::MediumRoom),
                ),
            }
        } else {
            (SourceKey::Room(room.to_index()), Source::Factory(room))
        };
        let prepared = self.prepared(source_key, &info, rate, edits.auto_gain);
        let edited = ir_edit::apply(&prepared, rate, &edits, crate::ir_source::ir_capacity(rate));
        let slices: Vec<&[f32]> = edited.channels.iter().map(Vec::as_slice).collect();
        let kernel = crate::ir_source::kernel_for(&slices, block);
        self.report(&info, &edited, &edits, rate, t0);
        Ok(kernel)
    }

    /// The decoded stored file of field epoch `epoch`: `Ok(None)` when there is none, `Err`
    /// when it is damaged (reported).
    fn decoded_file(
        &self,
        epoch: u64,
        stored: Option<&StoredIr>,
    ) -> Result<Option<(Arc<IrData>, String)>, Damaged> {
        let mut cache = self.cache.lock().map_err(|_| Damaged)?;
        if let Some((e, ir, path)) = &cache.decoded {
            if *e == epoch {
                return Ok(Some((ir.clone(), path.clone())));
            }
        }
        let Some(stored) = stored else {
            return Ok(None);
        };
        match stored.decode() {
            Ok(ir) => {
                let ir = Arc::new(ir);
                let path = stored.path.clone();
                cache.decoded = Some((epoch, ir.clone(), path.clone()));
                cache.last_good = Some((stored.clone(), ir.clone()));
                Ok(Some((ir, path)))
            }
            Err(e) => {
                drop(cache);
                let what = if stored.name.is_empty() {
                    "the session's impulse response".to_string()
                } else {
                    format!("\"{}\"", stored.name)
                };
                self.set_error(format!(
                    "Could not restore {what}: {e}; the previous impulse response stays loaded"
                ));
                Err(Damaged)
            }
        }
    }

    /// Puts the last file that decoded (if any) back into the session's IR field, after a
    /// stored file that did not.
    fn restore_last_good(&self, params: &FluxForgeParams) {
        let restore = self.cache.lock().ok().and_then(|c| c.last_good.clone());
        if let Some((s, ir)) = restore {
            let path = s.path.clone();
            params.ir.put(Some(s));
            if let Ok(mut c) = self.cache.lock() {
                c.decoded = Some((params.ir.epoch(), ir, path));
            }
        }
    }

    /// The source at `rate`, energy-normalised if `auto_gain` (cached; factory rooms shared
    /// with the process's other instances).
    fn prepared(
        &self,
        key: SourceKey,
        source: &Source,
        rate: f32,
        auto_gain: bool,
    ) -> Arc<Vec<Vec<f32>>> {
        let rate_hz = rate.round() as u32;
        if let Ok(c) = self.cache.lock() {
            if let Some((k, r, a, ch)) = &c.prepared {
                if *k == key && *r == rate_hz && *a == auto_gain {
                    return ch.clone();
                }
            }
        }
        let room = matches!(key, SourceKey::Room(_));
        let ch = match room.then(|| shared_room(key, rate_hz, auto_gain)).flatten() {
            Some(ch) => ch,
            None => {
                let ch = Arc::new(prepare(source, rate, auto_gain));
                if room {
                    if let Ok(mut rooms) = SHARED_ROOMS.lock() {
                        rooms.push((key, rate_hz, auto_gain, Arc::downgrade(&ch)));
                    }
                }
                ch
            }
        };
        if let Ok(mut c) = self.cache.lock() {
            c.prepared = Some((key, rate_hz, auto_gain, ch.clone()));
        }
        ch
    }

    fn report(&self, source: &Source, edited: &EditedIr, edits: &IrEdits, rate: f32, t0: Instant) {
        let (name, origin, channels, source_rate, source_len) = match source {
            Source::Factory(room) => {
                let len = room.factory_spec().map_or(0.0, |r| r.length_s as f32);
                (
                    room.name().to_string(),
                    "factory".to_string(),
                    2,
                    rate as u32,
                    len,
                )
            }
            Source::File(ir, path) => (
                ir.name.clone(),
                path.clone(),
                ir.channels.len(),
                ir.sample_rate,
                ir.len() as f32 / ir.sample_rate as f32,
            ),
        };
        let len = edited.channels[0].len();
        let cols = OVERVIEW_COLUMNS;
        let overview = (0..cols)
            .map(|i| {
                let (a, b) = (
                    i * len / cols,
                    ((i + 1) * len / cols).max(i * len / cols + 1),
                );
                let mut mm = [f32::MAX, f32::MIN];
                for c in &edited.channels {
                    for v in &c[a.min(len - 1)..b.min(len)] {
                        mm[0] = mm[0].min(*v);
                        mm[1] = mm[1].max(*v);
                    }
                }
                mm
            })
            .collect();
        if let Ok(mut s) = self.status.lock() {
            *s = IrStatus {
                name,
                origin,
                channels,
                source_rate,
                source_seconds: source_len,
                rate,
                seconds: len as f32 / rate,
                predelay_seconds: edited.predelay as f32 / rate,
                kept: edited.kept,
                truncated: edited.truncated,
                overview,
                decay: ir_edit::decay_measures(&edited.channels, rate as f64, cols),
                split_seconds: (edited.predelay + edited.split) as f32 / rate,
                attack_seconds: edits.attack_ms * 1e-3,
                hold_seconds: edits.hold_ms * 1e-3,
                render_ms: t0.elapsed().as_secs_f32() * 1e3,
                error: s.error.clone(),
                select_file: s.select_file,
                serial: s.serial + 1,
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_wav(path: &std::path::Path, frames: usize) {
        let samples = (0..frames * 2)
            .map(|i| ((-(i as f64) / 3000.0).exp() * if i % 3 == 0 { 0.7 } else { -0.4 }) as f32);
        ir_file::write_wav_file(path, 2, 44_100, ir_file::WavEncoding::Int(24), samples).unwrap();
    }

    #[test]
    fn instances_share_a_factory_room_while_one_holds_it() {
        // A rate no other test uses, so the process-wide table holds only this test's room.
        let (rate, room) = (47_000.0, Room::Chamber);
        let key = SourceKey::Room(room.to_index());
        let a = Loader::default();
        let b = Loader::default();
        let pa = a.prepared(key, &Source::Factory(room), rate, true);
        let pb = b.prepared(key, &Source::Factory(room), rate, true);
        assert!(Arc::ptr_eq(&pa, &pb), "rendered once, shared");
        assert_eq!(
            *pa,
            prepare(&Source::Factory(room), rate, true),
            "the same samples"
        );
        // Another auto-gain setting is another preparation.
        let pc = b.prepared(key, &Source::Factory(room), rate, false);
        assert!(!Arc::ptr_eq(&pa, &pc));
        // Once no instance holds it, it is gone (nothing kept for the process's lifetime).
        let weak = Arc::downgrade(&pa);
        drop((a, b, pa, pb, pc));
        assert!(weak.upgrade().is_none());
        assert!(shared_room(key, 47_000, true).is_none());
    }

    #[test]
    fn a_render_is_built_from_its_key_and_the_stored_file_alone() {
        let dir = std::env::temp_dir().join(format!("fluxforge-key-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("Chapel.wav");
        write_wav(&path, 9000);
        let ir = ir_file::load_ir(&path).unwrap();
        let stored = StoredIr::encode(&ir, &path.to_string_lossy());
        let loader = Loader::default();
        let edits = crate::dsp::ir_edit::IrEdits::default();
        let build = |room, epoch, stored: Option<&StoredIr>| {
            loader.build(&RenderKey::new(room, epoch, edits), stored, 48_000.0, 256)
        };

        // A file key renders the stored file, resampled to the session rate.
        let k = build(Room::File, 7, Some(&stored)).unwrap();
        assert_eq!(loader.status().unwrap().name, "Chapel");
        let expected = (9000.0 * 48_000.0 / 44_100.0) as usize;
        assert!(
            k.ir_len().abs_diff(expected) < 64,
            "{} vs {expected}",
            k.ir_len()
        );

        // A factory room ignores the stored file; a file key without one plays the default.
        build(Room::Plate, 7, Some(&stored)).unwrap();
        assert_eq!(loader.status().unwrap().name, "Plate");
        build(Room::File, 8, None).unwrap();
        assert_eq!(loader.status().unwrap().name, "Medium Room");

        // A damaged stored file (another epoch, so not the cached one) is refused, reported.
        let mut damaged = stored.clone();
        damaged.data.truncate(damaged.data.len() / 2);
        assert_eq!(build(Room::File, 9, Some(&damaged)).err(), Some(Damaged));
        let e = loader.status().unwrap().error.expect("reported");
        assert!(e.contains("Chapel"), "{e}");

        // Through the parameters (what the worker and activate call): a session whose stored
        // file is damaged gets the last file that decoded back, and no kernel.
        let params = FluxForgeParams::default();
        params.ir.put(Some(stored.clone()));
        let room = crate::params::access::params_of(&params)
            .into_iter()
            .find(|(id, _)| id == "room")
            .unwrap()
            .1;
        let n = <Room as nice_plug::prelude::Enum>::variants().len();
        room.set_normalized(Room::File.to_index() as f32 / (n - 1) as f32);
        assert_eq!(params.room.value(), Room::File);
        assert!(loader.build_for(&params, 48_000.0, 256).is_some());
        params.ir.put(Some(damaged));
        let before = params.ir.epoch();
        assert!(loader.build_for(&params, 48_000.0, 256).is_none());
        assert!(params.ir.epoch() > before, "the state was repaired");
        assert_eq!(
            params.ir.get().unwrap().data,
            stored.data,
            "the last good file is back"
        );
        assert!(loader.build_for(&params, 48_000.0, 256).is_some());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn loading_a_file_stores_it_and_asks_for_it_a_bad_one_reports_and_changes_nothing() {
        let dir = std::env::temp_dir().join(format!("fluxforge-loader-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let good = dir.join("Hall A.wav");
        write_wav(&good, 9000);
        let params = FluxForgeParams::default();
        let loader = Loader::default();
        let epoch = params.ir.epoch();
        loader.run(Task::load(good.clone(), &params), &params);
        let st = loader.status().unwrap();
        assert!(st.error.is_none() && st.select_file, "{:?}", st.error);
        assert!(params.ir.epoch() > epoch, "the state field changed");
        let stored = params.ir.get().expect("stored in the state");
        assert_eq!(stored.name, "Hall A");
        assert_eq!(stored.path, good.to_string_lossy());
        assert_eq!(stored.decode().unwrap(), ir_file::load_ir(&good).unwrap());
        loader.clear_select_file();

        // A truncated file and a missing one: an error line, nothing else changes.
        let bad = dir.join("broken.wav");
        let bytes = std::fs::read(&good).unwrap();
        std::fs::write(&bad, &bytes[..bytes.len() / 2]).unwrap();
        for path in [bad, dir.join("missing.wav")] {
            let epoch = params.ir.epoch();
            loader.run(Task::load(path.clone(), &params), &params);
            let st = loader.status().unwrap();
            let e = st.error.expect("an error is shown");
            assert!(e.contains(&*path.to_string_lossy()), "{e}");
            assert!(!st.select_file);
            assert_eq!(params.ir.epoch(), epoch, "the state is untouched");
            assert_eq!(params.ir.get().unwrap().name, "Hall A");
        }

        // Rendering without a target (inactive plugin) does nothing; with one, the status
        // describes what plays.
        loader.run(Task::Render, &params);
        assert!(loader.kernel_in.is_empty());
        loader.set_target(48_000.0, 512);
        loader.run(Task::Render, &params);
        assert!(!loader.kernel_in.is_empty(), "a kernel was handed over");
        let st = loader.status().unwrap();
        assert_eq!(st.name, "Medium Room"); // Room is still a factory room
        assert_eq!(st.overview.len(), OVERVIEW_COLUMNS);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
