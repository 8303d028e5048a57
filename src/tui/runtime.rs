//! Carries out the App's effects: pipeline runs on tokio tasks, store access off the UI
//! thread, image decoding in `spawn_blocking`. Results come back as Actions.

use async_trait::async_trait;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tokio::sync::{mpsc, Mutex};

use super::action::{Action, Effect, SessionRow};
use crate::domain::{Approver, Command, SessionState};
use crate::pipeline::intent::{decision, IntentParser};
use crate::pipeline::{Decider, Decision, Gate, Pipeline, Update};

/// Answers gates with what the user decides in the TUI.
pub struct TuiDecider {
    ui: mpsc::Sender<Action>,
    answers: Arc<Mutex<mpsc::Receiver<Decision>>>,
}

#[async_trait]
impl Decider for TuiDecider {
    fn approver(&self) -> Approver {
        Approver::User
    }
    async fn decide(&mut self, _state: &SessionState, _gate: &Gate) -> Decision {
        // The UI hears of the gate through the pipeline's `Update::Waiting`, in order.
        self.answers.lock().await.recv().await.unwrap_or(Decision::Pause)
    }
    fn rejected(&mut self, message: &str) {
        let _ = self.ui.try_send(Action::Error(format!("not done: {message}")));
    }
}

/// The pipeline and the channels of the run in progress.
pub struct Runtime {
    pub pipeline: Pipeline,
    pub ui: mpsc::Sender<Action>,
    decisions: Option<mpsc::Sender<Decision>>,
    cancel: Option<Arc<AtomicBool>>,
    /// The session the run in progress ends with, when it is not the one it runs (making
    /// variants runs other sessions; their ends are not its end).
    run_for: Option<String>,
    parser: IntentParser,
}

/// Pictures for the mood board and the animatic player are decoded this small (longer
/// side, pixels): enough for half-blocks on any terminal.
const SMALL_SIDE: u32 = 192;
/// Frames a second the animatic player steps through.
const PLAYER_FPS: f64 = 4.0;

/// The session list, off the UI thread.
async fn session_rows(p: Pipeline) -> Result<Vec<SessionRow>, String> {
    tokio::task::spawn_blocking(move || p.session_summaries().map_err(|e| e.to_string())).await.map_err(|e| e.to_string())?
}

/// Run a session to its end or a gate; the pipeline announces the end (`Update::Finished`).
async fn run_and_report(p: Pipeline, session: String, answers: mpsc::Receiver<Decision>, ui: mpsc::Sender<Action>) {
    let mut decider = TuiDecider { ui, answers: Arc::new(Mutex::new(answers)) };
    let out = Pipeline::default_output(&session);
    let _ = p.run(&session, &mut decider, Some(&out)).await;
}

impl Runtime {
    pub fn new(pipeline: Pipeline, ui: mpsc::Sender<Action>) -> Runtime {
        let parser = pipeline.intent_parser();
        // Forward pipeline updates into the UI channel (bounded; progress is sampled by the view).
        let mut rx = pipeline.subscribe();
        let tx = ui.clone();
        tokio::spawn(async move {
            loop {
                match rx.recv().await {
                    Ok(u @ Update::Progress { .. }) => {
                        // Progress may be dropped when the UI is behind: the next sample replaces it.
                        let _ = tx.try_send(Action::Pipeline(u));
                    }
                    Ok(u) => {
                        if tx.send(Action::Pipeline(u)).await.is_err() {
                            break;
                        }
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(_) => break,
                }
            }
        });
        Runtime { pipeline, ui, decisions: None, cancel: None, run_for: None, parser }
    }

    pub fn is_running(&self) -> bool {
        self.decisions.is_some()
    }

    /// A run's task exists (it may be stopping): its `RunFinished` is still to come.
    pub fn has_run(&self) -> bool {
        self.cancel.is_some()
    }

    fn send(&self, a: Action) {
        let ui = self.ui.clone();
        tokio::spawn(async move {
            let _ = ui.send(a).await;
        });
    }

    /// A pipeline with a fresh cancel flag, and the channel the run's gates read from.
    fn new_run(&mut self) -> (Pipeline, mpsc::Receiver<Decision>) {
        self.run_for = None;
        let (dtx, drx) = mpsc::channel(8);
        self.decisions = Some(dtx);
        let cancel = Arc::new(AtomicBool::new(false));
        self.cancel = Some(cancel.clone());
        let mut p = self.pipeline.clone();
        p.cancel = cancel;
        (p, drx)
    }

    fn start_run(&mut self, session: String) {
        if self.decisions.is_some() {
            self.send(Action::Error("a run is already in progress".into()));
            return;
        }
        let (p, drx) = self.new_run();
        tokio::spawn(run_and_report(p, session, drx, self.ui.clone()));
    }

    /// Called for every end of a run (`RunFinished`, `Update::Finished`) with its session:
    /// the run's channels are gone, unless the run in progress ends with another session.
    pub fn run_ended(&mut self, session: &str) {
        if self.run_for.as_deref().is_some_and(|s| s != session) {
            return;
        }
        self.decisions = None;
        self.cancel = None;
        self.run_for = None;
    }

    /// Make the variants of a finished advert (a run of its own, stopped like any other;
    /// each variant is said in the chat as it is done).
    fn make_variants(&mut self, parent: String) {
        if self.decisions.is_some() {
            self.send(Action::Error("a run is already in progress".into()));
            return;
        }
        let (p, _drx) = self.new_run();
        self.run_for = Some(parent.clone());
        let ui = self.ui.clone();
        tokio::spawn(async move {
            let note = |text: String| Action::Pipeline(Update::Note { session: parent.clone(), text });
            let out = Pipeline::default_output(&parent);
            let _ = ui.send(note("making the variants (each shares the work its content allows)…".into())).await;
            let made = p.make_variants(&parent, &out, |row| {
                let _ = ui.try_send(note(row.describe()));
            });
            let result = match made.await {
                Ok(rows) if rows.iter().all(|r| r.status == "done") => {
                    let abs = std::fs::canonicalize(&out).unwrap_or(out);
                    Ok(format!("{} variants ready in {} (variants.csv lists them for an ad manager)", rows.len(), abs.display()))
                }
                Ok(rows) => Err(format!("{} of {} variants done; :variants goes on", rows.iter().filter(|r| r.status == "done").count(), rows.len())),
                Err(e) => Err(e.to_string()),
            };
            let _ = ui.send(Action::RunFinished { session: parent, result }).await;
        });
    }

    /// Carry out one effect; each has its own method.
    pub fn execute(&mut self, effect: Effect) {
        match effect {
            Effect::LoadSessions => self.load_sessions(),
            Effect::OpenSession(id) => self.open_session(id),
            Effect::CreateSession { text } => self.create_session(text),
            Effect::StartRun(id) => self.start_run(id),
            Effect::Decide(d) => self.decide(d),
            Effect::Interpret { session, text, gate } => self.interpret(session, text, gate),
            Effect::Command { session, cmd, then_run } => self.command(session, cmd, then_run),
            Effect::DeleteSession(id) => self.delete_session(id),
            Effect::Export { session, dir } => self.export(session, dir),
            Effect::Stop => self.stop(),
            Effect::Thumbnail(asset) => self.thumbnail(asset),
            Effect::ResolveLook { session, name } => self.resolve_look(session, name),
            Effect::MakeVariants(session) => self.make_variants(session),
            Effect::LoadImages(assets) => self.load_images(assets),
            Effect::LoadAnimatic { session, asset } => self.load_animatic(session, asset),
            // The event loop carries these out itself (they touch the terminal).
            Effect::Suspend | Effect::Quit | Effect::SetTheme(_) | Effect::SetImages(_) | Effect::Copy(_) | Effect::RememberView { .. } => {}
        }
    }

    /// Read the session list off the UI thread.
    fn load_sessions(&mut self) {
        let p = self.pipeline.clone();
        let ui = self.ui.clone();
        tokio::spawn(async move {
            let _ = ui.send(match session_rows(p).await {
                Ok(r) => Action::SessionsLoaded(r),
                Err(e) => Action::Error(e),
            }).await;
        });
    }

    /// Read a stored session, unless a run is in progress.
    fn open_session(&mut self, id: String) {
        if self.is_running() {
            self.send(Action::Error("stop the current run first (Ctrl-S)".into()));
            return;
        }
        let p = self.pipeline.clone();
        let ui = self.ui.clone();
        tokio::spawn(async move {
            let store = p.store.clone();
            let r = tokio::task::spawn_blocking(move || store.events(&id)).await;
            let _ = ui.send(match r {
                Ok(Ok(events)) => Action::SessionOpened { state: Box::new(SessionState::fold(&events)), events },
                Ok(Err(e)) => Action::Error(e.to_string()),
                Err(e) => Action::Error(e.to_string()),
            }).await;
        });
    }

    /// Create a session from a brief typed in the prompt, then run it.
    fn create_session(&mut self, text: String) {
        let ui = self.ui.clone();
        let input = match super::app::brief_from_text(&text) {
            Ok(input) => input,
            Err(e) => return self.send(Action::Error(e)),
        };
        match input.validate(&self.pipeline.resources).and_then(|v| v.1.probe(&self.pipeline.ffmpeg).map(|()| v)) {
            Err(e) => self.send(Action::Error(e.to_string())),
            Ok((mut brief, files)) => {
                let (p, drx) = self.new_run();
                tokio::spawn(async move {
                    let imported = files.import(&p.store.blobs).map(|assets| brief.assets = assets);
                    let created = match imported {
                        Ok(()) => p.create_session(brief).await,
                        Err(e) => Err(e),
                    };
                    let session = match created {
                        Ok(s) => s,
                        Err(e) => {
                            let _ = ui.send(Action::Error(e.to_string())).await;
                            let _ = ui.send(Action::RunFinished { session: String::new(), result: Err("not started".into()) }).await;
                            return;
                        }
                    };
                    let _ = ui.send(Action::Created { session: session.clone() }).await;
                    if let Err(e) = p.announce(&session) {
                        let _ = ui.send(Action::Error(e.to_string())).await;
                    }
                    run_and_report(p, session, drx, ui).await;
                });
            }
        }
    }

    /// Answer the gate the running pipeline waits at.
    fn decide(&mut self, d: Decision) {
        match &self.decisions {
            Some(tx) => {
                let tx = tx.clone();
                tokio::spawn(async move {
                    let _ = tx.send(d).await;
                });
            }
            None => self.send(Action::Error("no run is waiting for an answer".into())),
        }
    }

    /// Read free text against a gate with the shared intent parser.
    fn interpret(&mut self, session: String, text: String, gate: Gate) {
        let p = self.pipeline.clone();
        let ui = self.ui.clone();
        let parser = self.parser.clone();
        tokio::spawn(async move {
            let state = p.load(&session).await.unwrap_or_default();
            let result = match parser.parse(&text, &state, &gate).await {
                Ok(intent) => decision(intent, &state, &gate),
                Err(e) => Err(e),
            };
            let _ = ui.send(Action::Interpreted { session, result }).await;
        });
    }

    /// Apply a command to a session that is not running; run it afterwards if asked.
    fn command(&mut self, session: String, cmd: Command, then_run: bool) {
        if self.is_running() {
            self.send(Action::Error("busy: wait for the run to pause or finish".into()));
            return;
        }
        let p = self.pipeline.clone();
        let ui = self.ui.clone();
        let run = then_run.then(|| self.new_run());
        tokio::spawn(async move {
            if let Err(e) = p.command(&session, &cmd).await {
                let _ = ui.send(Action::Error(e.to_string())).await;
                if then_run {
                    let _ = ui.send(Action::RunFinished { session, result: Err("nothing changed".into()) }).await;
                }
                return;
            }
            if let Command::SetBudget { .. } = cmd {
                let _ = ui.send(Action::Info("budget saved".into())).await;
            }
            if let Some((p, drx)) = run {
                run_and_report(p, session, drx, ui).await;
            }
        });
    }

    /// Delete a session, then reload the list.
    fn delete_session(&mut self, id: String) {
        let p = self.pipeline.clone();
        let ui = self.ui.clone();
        tokio::spawn(async move {
            let store = p.store.clone();
            let r = tokio::task::spawn_blocking(move || store.remove_session(&id)).await;
            if let Ok(Err(e)) = r {
                let _ = ui.send(Action::Error(e.to_string())).await;
            }
            if let Ok(rows) = session_rows(p).await {
                let _ = ui.send(Action::SessionsLoaded(rows)).await;
            }
        });
    }

    /// Export a session to a folder.
    fn export(&mut self, session: String, dir: String) {
        let p = self.pipeline.clone();
        let ui = self.ui.clone();
        tokio::spawn(async move {
            let _ = ui.send(match p.export(&session, std::path::Path::new(&dir)).await {
                Ok(x) => Action::Info(format!("exported to {}{}", x.dir.display(), if x.with_final { "" } else { " (no final video yet)" })),
                Err(e) => Action::Error(e.to_string()),
            }).await;
        });
    }

    /// Ask the run to stop; a run waiting at a gate stops by pausing.
    fn stop(&mut self) {
        if let Some(c) = &self.cancel {
            c.store(true, Ordering::Relaxed);
        }
        self.decisions = None;
    }

    /// Find a look and copy its `.cube` into the blob store, off the UI thread.
    fn resolve_look(&mut self, session: String, name: String) {
        let p = self.pipeline.clone();
        let ui = self.ui.clone();
        tokio::task::spawn_blocking(move || {
            let result = p.look_command(&name).map_err(|e| e.to_string());
            let _ = ui.blocking_send(Action::LookResolved { session, result });
        });
    }

    /// Decode pictures small (192 pixels on their longer side) for the mood board.
    fn load_images(&mut self, assets: Vec<crate::domain::AssetId>) {
        let ui = self.ui.clone();
        let blobs = self.pipeline.store.blobs.clone();
        tokio::task::spawn_blocking(move || {
            let loaded = assets
                .into_iter()
                .filter_map(|a| image::open(blobs.path(&a)).ok().map(|img| (a, std::sync::Arc::new(img.thumbnail(SMALL_SIDE, SMALL_SIDE).to_rgb8()))))
                .collect();
            let _ = ui.blocking_send(Action::ImagesLoaded(loaded));
        });
    }

    /// Decode the animatic small, 4 frames a second, for its player; the file named is the
    /// copy in the output folder when there is one.
    fn load_animatic(&mut self, session: String, asset: crate::domain::AssetId) {
        let ui = self.ui.clone();
        let p = self.pipeline.clone();
        tokio::task::spawn_blocking(move || {
            let blob = p.store.blobs.path(&asset);
            let placed = Pipeline::default_output(&session).join("animatic.mp4");
            let path = std::fs::canonicalize(&placed).ok().filter(|_| placed.is_file()).unwrap_or_else(|| blob.clone());
            let result = p.ffmpeg.probe(&blob).and_then(|probe| {
                let (w, h) = (probe.width.max(1) as f64, probe.height.max(1) as f64);
                let s = SMALL_SIDE as f64 / w.max(h);
                let even = |v: f64| ((v * s / 2.0).round() as u32 * 2).max(2);
                let (w, h) = (even(w), even(h));
                crate::media::thumbnails(&p.ffmpeg, &blob, w, h, PLAYER_FPS).map(|frames| {
                    frames.into_iter().filter_map(|f| image::RgbImage::from_raw(w, h, f)).collect::<Vec<_>>()
                })
            });
            let _ = ui.blocking_send(match result {
                Ok(frames) => Action::AnimaticLoaded(super::action::AnimaticFrames { asset, path, fps: PLAYER_FPS, frames: std::sync::Arc::new(frames) }),
                Err(e) => Action::Error(format!("the animatic could not be read: {e}")),
            });
        });
    }

    /// Make a half-block thumbnail of an image for the chat.
    fn thumbnail(&mut self, asset: crate::domain::AssetId) {
        let ui = self.ui.clone();
        let path = self.pipeline.store.blobs.path(&asset);
        tokio::task::spawn_blocking(move || {
            if let Ok(img) = image::open(&path) {
                let lines = super::halfblock::thumbnail(&img.to_rgb8(), 24);
                let _ = ui.blocking_send(Action::Thumbnail { asset, lines });
            }
        });
    }
}
