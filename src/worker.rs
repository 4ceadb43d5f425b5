//! The instance's own background thread: IR renders, file loads and freeing retired kernels.
//!
//! The framework's background executor is one thread shared by every instance, and a task it
//! runs holds a strong reference to the instance's wrapper. When a host destroyed an instance
//! while one of its renders ran, that task dropped the last reference on the worker thread,
//! whose shutdown then joined itself ("failed to join thread: Resource deadlock avoided"),
//! panicked and leaked the instance; in a host that unloads the library after its last
//! instance, plugin code could run after the release.
//!
//! A [`Worker`] belongs to one plugin instance and holds only what its tasks need (the
//! [`Loader`] and the parameters), never the instance. Dropping it (when the instance is
//! destroyed) asks the thread to stop and joins it: the thread finishes the task in hand (one
//! render or file decode at most, [`Worker::drop`]) and runs nothing after that, so when the
//! host's `destroy` returns, no code of that instance runs any more.
//!
//! The audio thread asks for work through [`WorkerHandle::send`] with atomics only: a render
//! and a collect are flags (at most one of each is ever pending, as the loader coalesces
//! them), plus an unpark of the thread (one futex wake when it sleeps, what the framework's
//! channel did too). No allocation, no lock. File loads come from the editor (main thread)
//! through a short queue under a mutex, which the audio thread never touches.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{JoinHandle, Thread};
use std::time::{Duration, Instant};

use crate::loader::{Loader, Task};
use crate::params::FluxForgeParams;

/// Name of every instance's worker thread (tests count them).
pub const THREAD_NAME: &str = "fluxforge-ir";

/// Renders start at most this often. Fast automation or modulation of an IR edit (Decay,
/// Stretch, Length, Pre-delay...) asks for a render on nearly every block; they coalesce into
/// one render per interval, the newest value winning (a render reads the parameters when it
/// starts), and the last render is of the final value. Each render crossfades in 50 ms, so
/// the sound follows the modulation in steps of at most this long, without gaps.
pub const MIN_RENDER_INTERVAL: Duration = Duration::from_millis(30);

/// What the thread is asked to do, shared by it, the plugin, the audio thread and the editor.
struct Inbox {
    render: AtomicBool,
    collect: AtomicBool,
    /// An EQ match design is wanted.
    design: AtomicBool,
    /// File loads (main thread only).
    loads: Mutex<VecDeque<Task>>,
    stop: AtomicBool,
    /// Set by the thread when it starts; unparked to wake it.
    thread: std::sync::OnceLock<Thread>,
}

/// Sends tasks to an instance's worker. Cheap to clone; a task sent after the worker stopped
/// is dropped.
#[derive(Clone)]
pub struct WorkerHandle {
    inbox: Arc<Inbox>,
}

impl WorkerHandle {
    /// Asks for `task`. [`Task::Render`] and [`Task::Collect`] may be sent from the audio
    /// thread (atomics and an unpark); [`Task::Load`] only from another thread (it queues).
    pub fn send(&self, task: Task) {
        match task {
            Task::Render => self.inbox.render.store(true, Ordering::Release),
            Task::Collect => self.inbox.collect.store(true, Ordering::Release),
            Task::Match => self.inbox.design.store(true, Ordering::Release),
            load @ Task::Load { .. } => {
                if let Ok(mut q) = self.inbox.loads.lock() {
                    q.push_back(load);
                }
            }
        }
        // Pairs with the fence after the thread publishes itself: either it sees the flag, or
        // this sees the thread.
        std::sync::atomic::fence(Ordering::SeqCst);
        if let Some(t) = self.inbox.thread.get() {
            t.unpark();
        }
    }
}

/// An instance's background thread; stops and is joined when dropped.
pub struct Worker {
    handle: WorkerHandle,
    join: Option<JoinHandle<()>>,
}

impl Worker {
    /// Starts the thread for one instance's loader and parameters. If the thread cannot be
    /// started, tasks run nowhere: the instance keeps playing what it has (the IR built at
    /// activation) and the error is logged.
    pub fn start(loader: Arc<Loader>, params: Arc<FluxForgeParams>) -> Self {
        let inbox = Arc::new(Inbox {
            render: AtomicBool::new(false),
            collect: AtomicBool::new(false),
            design: AtomicBool::new(false),
            loads: Mutex::new(VecDeque::new()),
            stop: AtomicBool::new(false),
            thread: std::sync::OnceLock::new(),
        });
        let theirs = inbox.clone();
        let join = std::thread::Builder::new()
            .name(THREAD_NAME.into())
            .spawn(move || run(&theirs, &loader, &params));
        let join = match join {
            Ok(j) => Some(j),
            Err(e) => {
                nice_plug::nice_error!("cannot start the IR worker thread: {e}");
                None
            }
        };
        Self {
            handle: WorkerHandle { inbox },
            join,
        }
    }

    /// A handle for the audio thread and the editor.
    pub fn handle(&self) -> WorkerHandle {
        self.handle.clone()
    }
}

impl Drop for Worker {
    /// Stops the thread and waits for it: at most the task in hand (a render of the longest
    /// IR the plugin accepts, or one file decode) is finished first.
    fn drop(&mut self) {
        self.handle.inbox.stop.store(true, Ordering::SeqCst);
        if let Some(j) = self.join.take() {
            j.thread().unpark();
            if j.join().is_err() {
                nice_plug::nice_error!("the IR worker thread panicked");
            }
        }
    }
}

/// The thread: runs whatever is pending, newest state first, then sleeps until woken.
fn run(inbox: &Inbox, loader: &Loader, params: &FluxForgeParams) {
    // A send before this finds no thread to wake, but its flag is seen by the first pass.
    let _ = inbox.thread.set(std::thread::current());
    std::sync::atomic::fence(Ordering::SeqCst);
    // For tests of offline bounces: a slower machine, simulated (`FLUXFORGE_TEST_RENDER_DELAY_MS`
    // delays every render and every EQ match design by that long).
    let delay = std::env::var("FLUXFORGE_TEST_RENDER_DELAY_MS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .map(Duration::from_millis);
    let mut last_render: Option<Instant> = None;
    while !inbox.stop.load(Ordering::SeqCst) {
        let load = inbox.loads.lock().ok().and_then(|mut q| q.pop_front());
        if let Some(task) = load {
            loader.run(task, params);
            continue;
        }
        // A render asked for within MIN_RENDER_INTERVAL of the last one waits for its turn.
        let mut render_in = None;
        if inbox.render.load(Ordering::Acquire) {
            let wait = last_render.map_or(Duration::ZERO, |t| {
                MIN_RENDER_INTERVAL.saturating_sub(t.elapsed())
            });
            if wait.is_zero() {
                inbox.render.store(false, Ordering::Release);
                if let Some(d) = delay {
                    std::thread::sleep(d);
                }
                last_render = Some(Instant::now());
                loader.run(Task::Render, params);
                continue;
            }
            render_in = Some(wait);
        }
        if inbox.collect.swap(false, Ordering::AcqRel) {
            loader.run(Task::Collect, params);
            continue;
        }
        if inbox.design.swap(false, Ordering::AcqRel) {
            if let Some(d) = delay {
                std::thread::sleep(d);
            }
            loader.run(Task::Match, params);
            continue;
        }
        // A send (or the stop) between the checks above and this park leaves the thread's
        // token set, so park returns at once; spurious wake-ups only cost one more pass.
        match render_in {
            Some(t) => std::thread::park_timeout(t),
            None => std::thread::park(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
        let t0 = Instant::now();
        while !done() {
            assert!(
                t0.elapsed() < Duration::from_secs(20),
                "{what} never happened"
            );
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// A worker for a loader with a 48 kHz target, its parameters and a handle.
    fn started() -> (Arc<Loader>, Arc<FluxForgeParams>, Worker, WorkerHandle) {
        let loader = Arc::new(Loader::default());
        let params = Arc::new(FluxForgeParams::default());
        loader.set_target(48_000.0, 512);
        let worker = Worker::start(loader.clone(), params.clone());
        let handle = worker.handle();
        (loader, params, worker, handle)
    }

    #[test]
    fn renders_sent_from_any_thread_arrive_and_the_thread_ends_with_its_worker() {
        let (loader, params, worker, handle) = started();
        assert!(loader.request_render());
        handle.send(Task::Render);
        wait_for("the render", || !loader.kernel_in.is_empty());
        // Dropping the worker while a render runs: it finishes that render and ends.
        assert!(loader.request_render());
        handle.send(Task::Render);
        let t0 = Instant::now();
        drop(worker);
        assert!(t0.elapsed() < Duration::from_secs(5));
        // A task sent afterwards goes nowhere and does not block.
        handle.send(Task::Render);
        assert_eq!(
            Arc::strong_count(&loader),
            1,
            "the thread let go of the loader"
        );
        assert_eq!(
            Arc::strong_count(&params),
            1,
            "the thread let go of the parameters"
        );
    }

    #[test]
    fn modulated_edits_coalesce_into_one_render_per_interval_and_end_on_the_final_value() {
        let (loader, params, worker, handle) = started();
        let serial = |l: &Loader| loop {
            if let Some(s) = l.status() {
                return s.serial;
            }
        };
        let before = serial(&loader);
        // Decay modulated at 2 Hz for 0.6 s, the audio thread asking for a render on every
        // 1.3 ms block (64 samples at 48 kHz).
        let t0 = Instant::now();
        let mut last = 0.0;
        while t0.elapsed() < Duration::from_millis(600) {
            let t = t0.elapsed().as_secs_f32();
            last = 100.0 + 50.0 * (std::f32::consts::TAU * 2.0 * t).sin();
            crate::preset::set(&params, "ir_decay", &serde_json::json!(last)).unwrap();
            if loader.request_render() {
                handle.send(Task::Render);
            }
            std::thread::sleep(Duration::from_micros(1333));
        }
        let asked = t0.elapsed();
        assert!(
            loader.wait_offline(Duration::from_secs(20)),
            "the last render finished"
        );
        let renders = serial(&loader) - before;
        let bound = (asked.as_millis() / MIN_RENDER_INTERVAL.as_millis()) as u64 + 2;
        assert!(
            renders <= bound,
            "{renders} renders for {asked:?} (bound {bound})"
        );
        // Renders kept coming during the modulation (not one at the end); how many depends on
        // how long one takes (a few under emulation, where a render outlasts the interval).
        assert!(renders >= 2, "only {renders} renders");
        // The kernel waiting for the audio thread was rendered after the last request, from
        // the final value (the audio thread accepts only such a kernel).
        let k = loader.kernel_in.take().expect("a kernel");
        assert!(loader.is_current(&k), "ends on the final value's IR");
        assert_eq!(params.ir_edits().decay_pct, last);
        drop(worker);
    }
}
