//! `Pipeline`: everything a run needs, and `run` — load, fold, plan, run the tasks, record
//! the results — until the advert is done, a gate waits, or a task fails.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use futures::future::join_all;
use tokio::sync::{broadcast, Semaphore};

use super::cut::FinishRules;
use super::keys::ProviderIds;
use super::{plan, stages, write_outputs, Blocked, Decider, Decision, Gate, PipelineError, PlanRules, Recorder, Task, Update};
use crate::config::{Paths, Resources, Settings};
use crate::domain::{decide, Brief, Command, Event, RenderSpec, SessionState, Stage};
use crate::media::Ffmpeg;
use crate::providers::ProviderSet;
use crate::quality::Scorer;
use crate::store::{new_session_id, Store};

/// How a run ended (errors aside).
#[derive(Debug, Clone, PartialEq)]
pub enum RunOutcome {
    /// The advert is composed and scored.
    Done { session: String, final_path: PathBuf },
    /// Waiting for the user at a gate; `admint resume` continues.
    Paused { session: String, gate: Gate },
}

/// Everything a run needs. Cheap to clone: tasks run on tokio with a clone each.
#[derive(Clone)]
pub struct Pipeline {
    pub store: Arc<Store>,
    pub settings: Settings,
    pub resources: Resources,
    pub providers: ProviderSet,
    pub scorer: Arc<dyn Scorer>,
    pub ffmpeg: Ffmpeg,
    pub work_root: PathBuf,
    config_dir: PathBuf,
    pub tx: broadcast::Sender<Update>,
    pub cancel: Arc<AtomicBool>,
    /// Remote jobs in flight at once, across all backends (`limits.remote_jobs`).
    pub remote_jobs: Arc<Semaphore>,
    /// Each ad template's tone, read once (the final cut's pace depends on it).
    template_tones: std::collections::BTreeMap<String, String>,
}

impl Pipeline {
    pub fn new(
        paths: &Paths,
        settings: Settings,
        store: Arc<Store>,
        providers: ProviderSet,
        scorer: Arc<dyn Scorer>,
        ffmpeg: Ffmpeg,
    ) -> Pipeline {
        let (tx, _) = broadcast::channel(4096);
        let remote_jobs = Arc::new(Semaphore::new(settings.limits.remote_jobs.max(1)));
        let resources = Resources::new(&paths.config_dir);
        let template_tones = resources.template_ids().into_iter().filter_map(|id| resources.ad_template(&id).ok().map(|t| (id, t.tone))).collect();
        Pipeline {
            store,
            settings,
            resources,
            providers,
            scorer,
            ffmpeg,
            work_root: paths.data_dir.join("work"),
            config_dir: paths.config_dir.clone(),
            tx,
            cancel: Arc::new(AtomicBool::new(false)),
            remote_jobs,
            template_tones,
        }
    }

    /// Where the user's overrides (prompts, templates, themes, keymap) live.
    pub fn paths_config_dir(&self) -> PathBuf {
        self.config_dir.clone()
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Update> {
        self.tx.subscribe()
    }

    pub fn provider_ids(&self) -> ProviderIds {
        ProviderIds {
            image: self.providers.image.id(),
            video: self.providers.video.id(),
            analyst: self.providers.analyst.id(),
            speech: self.providers.speech.as_ref().map(|s| s.id()).unwrap_or_else(|| "none".into()),
            music: self.providers.music.as_ref().map(|m| m.id()).unwrap_or_else(|| "none".into()),
        }
    }

    pub fn rules(&self) -> PlanRules {
        PlanRules {
            story_max_iterations: self.settings.pipeline.story_max_iterations.max(1),
            scene_max_iterations: self.settings.pipeline.scene_max_iterations.max(1),
            critic_threshold: self.settings.pipeline.critic_threshold,
            providers: self.provider_ids(),
            finish: self.finish_rules(),
            animatic: self.settings.pipeline.animatic,
        }
    }

    pub fn finish_rules(&self) -> FinishRules {
        let r = &self.settings.render;
        FinishRules {
            font: r.font.clone(),
            x264_preset: r.x264_preset.clone(),
            crf: r.crf,
            loudness_lufs: self.settings.scoring.gates.loudness_target_lufs,
            true_peak_db: -1.0,
            template_tones: self.template_tones.clone(),
            speech: self.provider_ids().speech,
            captions: self.settings.captions.mode,
            caption_style: self.settings.captions.style,
            cut_on_beat: r.cut_on_beat,
            ambience_db: (r.ambience_db > -60.0).then_some(r.ambience_db),
        }
    }

    /// The speech model that reads `brief`'s voiceover: the configured chain, or the
    /// offline voice when the brief names a voice and none is configured.
    pub fn speech_for(&self, brief: &Brief) -> Option<Arc<dyn crate::providers::SpeechModel>> {
        match brief.speech_chain(&self.provider_ids().speech)? {
            id if id == crate::domain::OFFLINE_VOICE && self.providers.speech.is_none() => {
                Some(Arc::new(crate::providers::offline::FliteVoice { ffmpeg: self.ffmpeg.clone() }))
            }
            _ => self.providers.speech.clone(),
        }
    }

    pub fn render_spec(&self, brief: &Brief) -> RenderSpec {
        render_spec(&self.settings.render, brief)
    }

    pub fn work_dir(&self, session: &str) -> PathBuf {
        self.work_root.join(session)
    }

    /// Record a new session. The brief must be valid (see `BriefInput::validate`).
    pub async fn create_session(&self, brief: Brief) -> Result<String, PipelineError> {
        let id = new_session_id();
        let render = self.render_spec(&brief);
        let store = self.store.clone();
        let ev = Event::SessionCreated { id: id.clone(), brief: Box::new(brief), render };
        let sid = id.clone();
        let env = tokio::task::spawn_blocking(move || store.append(&sid, ev))
            .await
            .map_err(|e| PipelineError::Io(std::io::Error::other(e.to_string())))??;
        let _ = self.tx.send(Update::Event { session: id.clone(), envelope: env });
        Ok(id)
    }

    pub async fn load(&self, session: &str) -> Result<SessionState, PipelineError> {
        let store = self.store.clone();
        let s = session.to_string();
        Ok(tokio::task::spawn_blocking(move || store.load(&s))
            .await
            .map_err(|e| PipelineError::Io(std::io::Error::other(e.to_string())))??)
    }

    /// Apply a user command to a stored session (outside a run).
    pub async fn command(&self, session: &str, cmd: &Command) -> Result<(), PipelineError> {
        let state = self.load(session).await?;
        let rec = Recorder::new(self.store.clone(), state.clone(), self.tx.clone());
        for ev in decide(&state, cmd)? {
            rec.record(ev).await?;
        }
        if matches!(cmd, Command::EditScene { patch, .. } if patch.on_screen_text.is_some()) {
            self.warn_undrawable(&rec, &rec.state().await);
        }
        Ok(())
    }

    /// Say, before anything renders, which scenes' on-screen text has characters the
    /// video's font cannot draw (emoji, scripts it lacks): compose leaves them out.
    fn warn_undrawable(&self, rec: &Recorder, state: &SessionState) {
        for (i, scene) in state.scenes.iter().enumerate() {
            let missing = crate::media::undrawable(&self.settings.render.font, &scene.on_screen_text);
            if !missing.is_empty() {
                let shown: String = missing.iter().collect();
                rec.note(format!("scene {}'s on-screen text has characters the video's font cannot draw ({shown}): they will be left out — change the text, or set render.font to a font that has them", i + 1));
            }
        }
    }

    /// Ask running tasks to stop (local renders stop; remote jobs keep running and are
    /// re-attached on resume).
    pub fn stop(&self) {
        self.cancel.store(true, Ordering::Relaxed);
    }

    /// Load, fold, plan, run — until done, paused at a gate, or failed. Listeners hear
    /// `Update::Finished` after the last event of the run.
    pub async fn run(&self, session: &str, decider: &mut dyn Decider, output: Option<&Path>) -> Result<RunOutcome, PipelineError> {
        let result = self.run_inner(session, decider, output).await;
        let _ = self.tx.send(Update::Finished {
            session: session.to_string(),
            result: result.as_ref().map(|o| o.clone()).map_err(|e| e.to_string()),
        });
        result
    }

    async fn run_inner(&self, session: &str, decider: &mut dyn Decider, output: Option<&Path>) -> Result<RunOutcome, PipelineError> {
        let state = self.load(session).await?;
        std::fs::create_dir_all(self.work_dir(session))?;
        let rec = Arc::new(Recorder::new(self.store.clone(), state.clone(), self.tx.clone()));
        if state.last_seq > 1 {
            rec.record(Event::Resumed).await?;
        }
        let rules = self.rules();
        loop {
            if self.cancel.load(Ordering::Relaxed) {
                return Err(PipelineError::Cancelled(session.to_string()));
            }
            let state = rec.state().await;
            let p = plan(&state, &rules);
            self.close_stages(&rec, &state, p.stage).await?;
            let Some(stage) = p.stage else {
                let state = rec.state().await;
                let final_path = match output {
                    Some(dir) => write_outputs(self, &state, dir)?,
                    None => self.store.blobs.existing(&state.final_video.as_ref().expect("done implies composed").video)?,
                };
                return Ok(RunOutcome::Done { session: session.to_string(), final_path });
            };
            if let Some(Blocked::ClipsFailed(failed)) = p.blocked {
                let gate = Gate::FailedClips(failed);
                if !self.gate(&rec, decider, &state, &gate).await? {
                    return Ok(RunOutcome::Paused { session: session.to_string(), gate });
                }
                continue;
            }
            // Over budget: a pause, not a failure; raising the budget goes on from here.
            if let Err(PipelineError::Budget(why)) = self.affordable(&state) {
                let gate = Gate::Budget(why);
                let _ = self.tx.send(Update::Waiting { session: session.to_string(), gate: gate.clone() });
                return Ok(RunOutcome::Paused { session: session.to_string(), gate });
            }
            if !state.stages_started.contains(&stage) {
                rec.record(Event::StageStarted { stage }).await?;
            }
            let result = self.run_tasks(&rec, decider, &state, stage, p.tasks, output).await;
            match result {
                Ok(Some(gate)) => return Ok(RunOutcome::Paused { session: session.to_string(), gate }),
                Ok(None) => {}
                Err(PipelineError::Cancelled(s)) => return Err(PipelineError::Cancelled(s)),
                Err(PipelineError::Budget(why)) => {
                    let gate = Gate::Budget(why);
                    let _ = self.tx.send(Update::Waiting { session: session.to_string(), gate: gate.clone() });
                    return Ok(RunOutcome::Paused { session: session.to_string(), gate });
                }
                Err(e) => {
                    rec.record(Event::PipelineFailed { stage, error: e.to_string() }).await?;
                    return Err(e);
                }
            }
        }
    }

    /// With a budget, refuse to go on when what is left is estimated to cost more than
    /// what is left of the budget (nothing more is submitted), or cannot be priced.
    fn affordable(&self, state: &SessionState) -> Result<(), PipelineError> {
        let Some(budget) = state.brief().budget_usd else { return Ok(()) };
        let est = super::estimate(&self.providers, &self.settings, state.brief(), Some(state));
        if let Some(model) = est.unpriced().first() {
            return Err(stages::unpriced("the run", model, budget));
        }
        let (spent, left) = (state.total_cost(), est.total());
        if left > 0.0 && spent + left > budget + 1e-9 {
            let parts: Vec<String> = est.lines.iter().map(|l| format!("{} × {} on {} ${:.2}", l.calls, l.what, l.model, l.usd.unwrap_or(0.0))).collect();
            return Err(PipelineError::Budget(format!(
                "the work left is estimated at ${left:.2} ({}); with ${spent:.2} spent that is over the ${budget:.2} budget, so nothing more was submitted",
                parts.join(", ")
            )));
        }
        Ok(())
    }

    /// Mark stages before `current` (or all, when done) as completed.
    async fn close_stages(&self, rec: &Recorder, state: &SessionState, current: Option<Stage>) -> Result<(), PipelineError> {
        for s in Stage::ALL {
            if current.is_some_and(|c| s >= c) {
                break;
            }
            if state.stages_started.contains(&s) && !state.stages_completed.contains(&s) {
                rec.record(Event::StageCompleted { stage: s }).await?;
            }
        }
        Ok(())
    }

    /// Ask the decider at a gate and record its answer. `false` means pause.
    async fn gate(&self, rec: &Recorder, decider: &mut dyn Decider, state: &SessionState, gate: &Gate) -> Result<bool, PipelineError> {
        if *gate == Gate::Scenes {
            self.warn_undrawable(rec, state);
        }
        let _ = self.tx.send(Update::Waiting { session: rec.session().to_string(), gate: gate.clone() });
        match decider.decide(state, gate).await {
            Decision::Pause => Ok(false),
            Decision::Approve => {
                let by = decider.approver();
                match gate {
                    Gate::Story => rec.record(Event::StoryApproved { by }).await?,
                    Gate::Scenes => rec.record(Event::ScenesApproved { by }).await?,
                    Gate::Animatic(_) => rec.record(Event::AnimaticApproved { by }).await?,
                    Gate::FailedClips(_) | Gate::Budget(_) => return Ok(false),
                };
                Ok(true)
            }
            Decision::Commands(cmds) => {
                for cmd in cmds {
                    let current = rec.state().await;
                    match decide(&current, &cmd) {
                        Ok(events) => {
                            for ev in events {
                                rec.record(ev).await?;
                            }
                        }
                        Err(e) => decider.rejected(&e.to_string()),
                    }
                }
                Ok(true)
            }
        }
    }

    /// Run one stage's tasks: gates ask the decider, media tasks run in parallel under the
    /// concurrency limit, the rest in order. Returns a gate when the run should pause.
    async fn run_tasks(
        &self,
        rec: &Arc<Recorder>,
        decider: &mut dyn Decider,
        state: &SessionState,
        stage: Stage,
        tasks: Vec<Task>,
        output: Option<&Path>,
    ) -> Result<Option<Gate>, PipelineError> {
        let parallel = matches!(stage, Stage::References | Stage::Keyframes | Stage::Clips);
        if parallel {
            // Renders and scoring have their own limits: a clip is scored as soon as it
            // lands, on the scoring pool, while the render pool moves on.
            let render_sem = Arc::new(Semaphore::new(self.settings.pipeline.clip_concurrency));
            let score_sem = Arc::new(Semaphore::new(self.settings.scoring.workers.max(1)));
            let futs = tasks.into_iter().map(|task| {
                let (me, rec, state) = (self.clone(), rec.clone(), state.clone());
                let (render_sem, score_sem) = (render_sem.clone(), score_sem.clone());
                tokio::spawn(async move {
                    let closed = |e: tokio::sync::AcquireError| PipelineError::Internal(e.to_string());
                    // The music bed takes a second and no render slot.
                    let permit = match task {
                        Task::Music => None,
                        Task::ScoreClip(_) => Some(score_sem.clone().acquire_owned().await.map_err(closed)?),
                        _ => Some(render_sem.acquire_owned().await.map_err(closed)?),
                    };
                    if me.cancel.load(Ordering::Relaxed) {
                        return Err(PipelineError::Cancelled(state.id.clone()));
                    }
                    stages::run_task(&me, &rec, &state, &task).await?;
                    drop(permit);
                    if let Task::Clip(id) = task {
                        let now = rec.state().await;
                        if now.clips.contains_key(&id) && !now.clip_failures.contains_key(&id) {
                            let _permit = score_sem.acquire_owned().await.map_err(closed)?;
                            stages::run_task(&me, &rec, &now, &Task::ScoreClip(id)).await?;
                        }
                    }
                    Ok(())
                })
            });
            let mut first_err = None;
            for r in join_all(futs).await {
                let r = r.map_err(|e| PipelineError::Io(std::io::Error::other(e.to_string()))).and_then(|x| x);
                if let Err(e) = r {
                    // A cancel wins over other errors: the run stops cleanly.
                    if matches!(e, PipelineError::Cancelled(_)) || first_err.is_none() {
                        first_err = Some(e);
                    }
                }
            }
            return first_err.map_or(Ok(None), Err);
        }
        for task in tasks {
            let gate = match task {
                Task::AwaitStoryApproval => Some(Gate::Story),
                Task::AwaitScenesApproval => Some(Gate::Scenes),
                Task::AwaitAnimaticApproval => Some(Gate::Animatic(super::outputs::place_animatic(self, state, output)?)),
                _ => None,
            };
            if let Some(gate) = gate {
                let current = rec.state().await;
                if !self.gate(rec, decider, &current, &gate).await? {
                    return Ok(Some(gate));
                }
                continue;
            }
            let current = rec.state().await;
            stages::run_task(self, rec, &current, &task).await?;
        }
        Ok(None)
    }
}

/// The render a new session of `brief` gets: the canvas for its aspect, and cards fitted
/// inside its length.
pub fn render_spec(r: &crate::config::RenderSettings, brief: &Brief) -> RenderSpec {
    let (width, height) = brief.aspect.canvas_with_short_side(r.short_side);
    RenderSpec::for_spot(width, height, r.fps, (r.intro_s, r.outro_s), brief.duration_s)
}
