//! The plugin: the struct the host instantiates, its `Plugin`, `ClapPlugin` and `Vst3Plugin`
//! implementations. Host glue only: audio flows through [`crate::dsp::chain::Engine`], IRs
//! come from [`crate::loader`], the editor is [`crate::editor`]; the exported entry points
//! are in [`crate::host`].

use std::num::NonZeroU32;
use std::sync::Arc;

use nice_plug::prelude::*;

use crate::dsp::chain::Engine;
use crate::dsp::convolver::CrossfadeShape;
use crate::ir_source::{default_ir, kernel_for};
use crate::loader::{Loader, RenderKey, Task};
use crate::match_state::{LearnFeed, MatchLearner};
use crate::params::FluxForgeParams;
use crate::shared::{Meters, SpectrumFeed, SpectrumWriter};
use crate::worker::{Worker, WorkerHandle};
use crate::{demo, dsp, editor, factory_presets, shared};

/// Port names of both layouts: the second input is the sidechain.
const SIDECHAIN_NAMES: PortNames = PortNames {
    layout: None,
    main_input: None,
    main_output: None,
    aux_inputs: &["Sidechain"],
    aux_outputs: &[],
};

/// Crossfade time when the IR changes (room, file or edit), seconds.
pub const ROOM_CROSSFADE_S: f32 = 0.05;

/// Longest wait of an offline process call for an IR render (a render that never finishes
/// must not hang a bounce).
const OFFLINE_WAIT_LIMIT: std::time::Duration = std::time::Duration::from_secs(30);

/// The plugin instance.
pub struct FluxForge {
    params: Arc<FluxForgeParams>,
    meters: Arc<Meters>,
    /// The editor window's size, scale and repaint requests (see [`editor::window`]).
    window: Arc<editor::window::WindowShared>,
    /// Built in `activate`; `None` while inactive.
    engine: Option<Engine>,
    /// True when the host gave us one input channel (mono in, stereo out).
    mono_input: bool,
    /// Background IR loading and kernel hand-over.
    loader: Arc<Loader>,
    /// This instance's background thread (renders, file loads, freeing kernels), and how the
    /// audio thread and the editor reach it. Joined when the instance is dropped.
    worker: Worker,
    tasks: WorkerHandle,
    /// The render inputs the audio thread last asked for (or activation built).
    requested: Option<RenderKey>,
    /// The host processes offline (a bounce): an IR change waits for its render (see
    /// [`Loader::wait_offline`]), so the bounce does not depend on the processing speed.
    offline: bool,
    /// The EQ match curve's epoch the audio thread last asked a design for.
    match_asked: u64,
    /// EQ match learning: the editor's end, and the audio thread's (built in `activate`).
    learn: Arc<LearnFeed>,
    learner: Option<MatchLearner>,
    /// Analyzer frames to the editor.
    spectrum: Arc<SpectrumFeed>,
    spectrum_in: SpectrumWriter,
    /// Session sample rate, Hz.
    rate: f32,
    /// Demo mode (see [`demo`]): asked for in the environment, and its player once active.
    /// The output spectrum for the editor (analysis only, run while the editor is open).
    out_analyzer: Option<dsp::spectral::SpectralDynamics>,
    demo_mode: bool,
    demo: Option<demo::Player>,
}

impl Default for FluxForge {
    fn default() -> Self {
        let (spectrum_in, spectrum) = shared::spectrum_feed();
        let params = Arc::new(FluxForgeParams::default());
        let loader = Arc::<Loader>::default();
        let worker = Worker::start(loader.clone(), params.clone());
        Self {
            params,
            meters: Arc::new(Meters {
                sidechain_port: shared::ports::adopt(),
                ..Meters::default()
            }),
            window: editor::window::WindowShared::new(
                (editor::EDITOR_SIZE.0 as f32, editor::EDITOR_SIZE.1 as f32),
                1.0,
            ),
            engine: None,
            mono_input: false,
            loader,
            tasks: worker.handle(),
            worker,
            requested: None,
            match_asked: u64::MAX,
            learn: Arc::default(),
            learner: None,
            offline: false,
            spectrum,
            spectrum_in,
            rate: 48_000.0,
            demo: None,
            out_analyzer: None,
            demo_mode: demo::enabled(),
        }
        .with_demo_preset()
    }
}

impl FluxForge {
    /// In demo mode, the factory preset `FLUXFORGE_DEMO_PRESET` names (see [`demo`]).
    fn with_demo_preset(self) -> Self {
        if self.demo_mode {
            if let Some(p) = std::env::var("FLUXFORGE_DEMO_PRESET")
                .ok()
                .and_then(|n| factory_presets::find(&n))
            {
                p.apply(&self.params);
            }
        }
        self
    }
}

impl Plugin for FluxForge {
    const NAME: &'static str = "FluxForge";
    const VENDOR: &'static str = "FluxForge";
    const URL: &'static str = env!("CARGO_PKG_HOMEPAGE");
    const EMAIL: &'static str = "info@fluxforge.audio";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");

    const AUDIO_IO_LAYOUTS: &'static [AudioIOLayout] = &[
        AudioIOLayout {
            main_input_channels: NonZeroU32::new(2),
            main_output_channels: NonZeroU32::new(2),
            aux_input_ports: &[new_nonzero_u32(2)],
            names: SIDECHAIN_NAMES,
            ..AudioIOLayout::const_default()
        },
        AudioIOLayout {
            main_input_channels: NonZeroU32::new(1),
            main_output_channels: NonZeroU32::new(2),
            aux_input_ports: &[new_nonzero_u32(2)],
            names: SIDECHAIN_NAMES,
            ..AudioIOLayout::const_default()
        },
    ];

    const SAMPLE_ACCURATE_AUTOMATION: bool = true;

    type Editor = editor::window::FluxEditor;
    type SysExMessage = ();
    /// Unused: background work runs on the instance's own [`Worker`], never on the
    /// framework's shared executor (whose tasks keep the instance alive).
    type BackgroundTask = ();

    fn params(&self) -> Arc<dyn Params> {
        self.params.clone()
    }

    fn editor(&mut self, _async_executor: AsyncExecutor<Self>) -> Option<Self::Editor> {
        let tasks = self.worker.handle();
        Some(editor::window::FluxEditor::new(
            editor::EditorApp::new(
                self.params.clone(),
                self.meters.clone(),
                self.loader.clone(),
                self.spectrum.clone(),
                self.learn.clone(),
                Some(Box::new(move |t| tasks.send(t))),
            ),
            self.window.clone(),
        ))
    }

    fn activate(
        &mut self,
        layout: &AudioIOLayout,
        config: &BufferConfig,
        context: &mut impl ActivateContext<Self>,
    ) -> bool {
        self.mono_input = layout.main_input_channels.map(NonZeroU32::get) == Some(1);
        let rate = config.sample_rate;
        self.rate = rate;
        self.offline = config.process_mode == ProcessMode::Offline;
        // Kernels from a previous activation were built at its rate: dropped in set_target.
        let block = config.max_buffer_size as usize;
        self.loader.set_target(rate, block);
        self.requested = Some(RenderKey::of(&self.params));
        // The IR is rendered here, at the session rate (a rate change re-resamples the file).
        let kernel = self
            .loader
            .build_for(&self.params, rate, block)
            .unwrap_or_else(|| {
                let [l, r] = default_ir(rate);
                kernel_for(&[&l, &r], block)
            });
        let mut engine = Engine::new(rate, Some(Box::new(kernel)), &self.params.settings());
        engine.convolver_mut().set_crossfade(
            (ROOM_CROSSFADE_S * config.sample_rate) as usize,
            CrossfadeShape::EqualPower,
        );
        engine.set_offline(self.offline);
        // The session's EQ match, designed here at the session rate and playing at once.
        self.match_asked = self.params.match_curve.epoch();
        let design = self
            .loader
            .match_eq
            .design_now(&self.params.match_curve, rate);
        engine.set_match(&design);
        engine.reset();
        self.engine = Some(engine);
        self.learner = Some(crate::match_state::learner(rate, self.learn.clone()));
        self.demo = self
            .demo_mode
            .then(|| demo::Player::new(config.sample_rate as u32));
        let mut out = dsp::spectral::SpectralDynamics::new(
            config.sample_rate,
            &dsp::spectral::SpectralSettings::default(),
        );
        out.set_analyzer(true);
        self.out_analyzer = Some(out);
        context.set_latency_samples(0);
        true
    }

    fn reset(&mut self) {
        if let Some(e) = self.engine.as_mut() {
            e.set_settings(&self.params.settings());
            e.reset();
        }
    }

    fn deactivate(&mut self) {
        self.engine = None;
        self.learner = None;
        self.loader.match_eq.deactivate();
        drop(self.loader.kernel_out.take());
    }

    fn process(
        &mut self,
        buffer: &mut Buffer,
        aux: &mut AuxiliaryBuffers,
        context: &mut impl ProcessContext<Self>,
    ) -> ProcessStatus {
        let Some(engine) = self.engine.as_mut() else {
            return ProcessStatus::Error("not activated");
        };
        // A synced pre-delay follows the host's tempo (a change re-renders, as an edit does).
        self.params.set_host_tempo(context.transport().tempo);
        // A changed room, file or edit is rendered in the background (no allocation here: the
        // task is a value, and at most one is queued).
        let key = RenderKey::of(&self.params);
        if self.requested != Some(key) {
            self.requested = Some(key);
            if self.loader.request_render() {
                self.tasks.send(Task::Render);
            }
        }
        if self.offline {
            // An offline host allows waiting: the new IR is handed over in this call, at the
            // sample where it changed, however fast the host processes.
            self.loader.wait_offline(OFFLINE_WAIT_LIMIT);
        }
        if self.loader.hand_over(engine.convolver_mut()) {
            self.tasks.send(Task::Collect);
        }
        // A changed EQ match curve (the editor's Match, a state load) is designed in the
        // background and crossfaded in; offline, the bounce waits for it.
        let match_epoch = self.params.match_curve.epoch();
        if match_epoch != self.match_asked {
            self.match_asked = match_epoch;
            self.tasks.send(Task::Match);
        }
        if self.offline {
            let t0 = std::time::Instant::now();
            while self.loader.match_eq.wants_design(&self.params.match_curve)
                && t0.elapsed() < OFFLINE_WAIT_LIMIT
            {
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
        }
        if let Some(design) = self.loader.match_eq.take() {
            engine.set_match(&design);
            self.loader.match_eq.retire(design);
            self.tasks.send(Task::Collect);
        }
        engine.set_settings(&self.params.settings());
        let channels = buffer.as_slice();
        if channels.len() < 2 {
            return ProcessStatus::Error("needs two output channels");
        }
        if let Some(d) = self.demo.as_mut() {
            d.fill(&mut channels[..2]);
        }
        if self.mono_input {
            let (l, r) = channels.split_at_mut(1);
            r[0].copy_from_slice(l[0]);
        }
        // The analyzer runs while the editor beats (it stops 1 s after the last frame).
        let editor_open = self.spectrum_in.editor_open(self.rate);
        engine.set_analyzer(editor_open);
        let solo = match self.meters.solo.load(std::sync::atomic::Ordering::Relaxed) {
            k @ 1.. if editor_open => Some(k as usize - 1),
            _ => None,
        };
        engine.set_solo(solo);
        // The sidechain port (stereo; a mono one feeds both channels).
        let n = channels[0].len();
        let key = aux.inputs.first().and_then(|b| {
            let s = b.as_slice_immutable();
            (!s.is_empty() && s[0].len() == n).then(|| [&*s[0], &*s[s.len().min(2) - 1]])
        });
        engine.set_key_connected(self.meters.sidechain_port.get());
        if let (Some(l), [a, b, ..]) = (self.learner.as_mut(), &*channels) {
            // EQ match learning (while the editor asks): the input and the sidechain.
            l.push([&**a, &**b], key.filter(|_| engine.sidechain_live()));
        }
        let peaks = engine.process_keyed(&mut channels[..2], key);
        if editor_open {
            if let (Some(out), [l, r, ..]) = (self.out_analyzer.as_mut(), &mut *channels) {
                // Analysis only: the output is read, not changed.
                out.process(&mut [&mut **l, &mut **r]);
            }
        }
        self.spectrum_in.played(channels[0].len());
        if editor_open {
            self.spectrum_in.publish_new(
                engine.spectral(),
                engine.spectral_bands(),
                self.out_analyzer.as_ref(),
                self.rate,
            );
        }
        for c in 0..2 {
            self.meters.input[c].raise(peaks.input[c]);
            self.meters.output[c].raise(peaks.output[c]);
            self.meters.squares[c]
                .fetch_add(peaks.input_sq[c], std::sync::atomic::Ordering::Relaxed);
            self.meters.squares[2 + c]
                .fetch_add(peaks.output_sq[c], std::sync::atomic::Ordering::Relaxed);
        }
        self.meters.frames.fetch_add(
            channels[0].len() as u32,
            std::sync::atomic::Ordering::Relaxed,
        );
        self.meters.ducking.raise(engine.ducking_db());
        for (m, g) in self.meters.band_gain_db.iter().zip(engine.band_gain_db()) {
            m.store(g, std::sync::atomic::Ordering::Relaxed);
        }
        self.meters
            .sidechain
            .raise(if engine.sidechain_live() { 1.0 } else { 0.0 });
        ProcessStatus::Tail(engine.convolver().ir_len() as u32)
    }
}

impl ClapPlugin for FluxForge {
    const CLAP_ID: &'static str = "audio.fluxforge.fluxforge";
    const CLAP_DESCRIPTION: Option<&'static str> =
        Some("Zero-latency convolution reverb with dynamic EQ and character saturation");
    const CLAP_MANUAL_URL: Option<&'static str> = None;
    const CLAP_SUPPORT_URL: Option<&'static str> = None;
    const CLAP_FEATURES: &'static [ClapFeature] = &[
        ClapFeature::AudioEffect,
        ClapFeature::Reverb,
        ClapFeature::Equalizer,
        ClapFeature::Distortion,
        ClapFeature::Stereo,
        ClapFeature::Mono,
    ];

    fn remote_controls(&self, context: &mut impl RemoteControlsContext) {
        crate::params::remote::define(&self.params, context);
    }
}

impl Vst3Plugin for FluxForge {
    const VST3_CLASS_ID: [u8; 16] = *b"FluxForgeConvRev";
    const VST3_SUBCATEGORIES: &'static [Vst3SubCategory] = &[
        Vst3SubCategory::Fx,
        Vst3SubCategory::Reverb,
        Vst3SubCategory::Eq,
        Vst3SubCategory::Distortion,
        Vst3SubCategory::Stereo,
    ];
}
