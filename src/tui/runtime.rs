//! Carries out the App's effects: pipeline runs on tokio tasks, store access off the UI
//! thread, image decoding in `spawn_blocking`. Results come back as Actions.

use async_trait::async_trait;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tokio::sync::{mpsc, Mutex};

use super::action::{Action, Effect, SessionRow};
use crate::domain::{Approver, Command, ScoreTarget, SessionState};
use crate::pipeline::intent::{decision, IntentParser};
use crate::pipeline::narrate::status;
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
    parser: IntentParser,
}

pub fn session_rows(p: &Pipeline) -> Result<Vec<SessionRow>, String> {
    let rules = p.rules();
    let rows = p.store.sessions().map_err(|e| e.to_string())?;
    Ok(rows
        .into_iter()
        .map(|r| match r.state {
            Ok(s) => {
                let st = status(&s, &rules);
                SessionRow {
                    title: s.brief.as_ref().map(|b| b.title()).unwrap_or_default(),
                    created_at_ms: s.created_at_ms,
                    cost_usd: s.total_cost(),
                    score: s.scores.get(&ScoreTarget::Final).and_then(|r| r.score.quality()),
                    resumable: st != "done",
                    status: st,
                    error: None,
                    id: r.id,
                }
            }
            Err(e) => SessionRow { id: r.id, title: String::new(), created_at_ms: 0, cost_usd: 0.0, score: None, status: String::new(), resumable: false, error: Some(e.to_string()) },
        })
        .collect())
}

/// Run a session to its end or a gate; the pipeline announces the end (`Update::Finished`).
async fn run_and_report(p: Pipeline, session: String, answers: mpsc::Receiver<Decision>, ui: mpsc::Sender<Action>) {
    let mut decider = TuiDecider { ui, answers: Arc::new(Mutex::new(answers)) };
    let out = std::path::PathBuf::from("admint-out").join(&session);
    let _ = p.run(&session, &mut decider, Some(&out)).await;
}

impl Runtime {
    pub fn new(pipeline: Pipeline, ui: mpsc::Sender<Action>) -> Runtime {
        let llm = pipeline.providers.chat.clone().map(|chat| crate::providers::llm::LlmRoles { chat, resources: pipeline.resources.clone() });
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
        Runtime { pipeline, ui, decisions: None, cancel: None, parser: IntentParser { llm } }
    }

    pub fn is_running(&self) -> bool {
        self.decisions.is_some()
    }

    fn send(&self, a: Action) {
        let ui = self.ui.clone();
        tokio::spawn(async move {
            let _ = ui.send(a).await;
        });
    }

    /// A pipeline with a fresh cancel flag, and the channel the run's gates read from.
    fn new_run(&mut self) -> (Pipeline, mpsc::Receiver<Decision>) {
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

    /// Called for RunFinished: the run's channels are gone.
    pub fn run_ended(&mut self) {
        self.decisions = None;
        self.cancel = None;
    }

    pub fn execute(&mut self, effect: Effect) {
        let p = self.pipeline.clone();
        let ui = self.ui.clone();
        match effect {
            Effect::LoadSessions => {
                tokio::spawn(async move {
                    let rows = tokio::task::spawn_blocking(move || session_rows(&p)).await.map_err(|e| e.to_string()).and_then(|r| r);
                    let _ = ui.send(match rows {
                        Ok(r) => Action::SessionsLoaded(r),
                        Err(e) => Action::Error(e),
                    }).await;
                });
            }
            Effect::OpenSession(id) => {
                if self.is_running() {
                    self.send(Action::Error("stop the current run first (Ctrl-S)".into()));
                    return;
                }
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
            Effect::CreateSession { text } => {
                let input = super::app::brief_from_text(&text);
                match input.validate(&p.resources) {
                    Err(e) => self.send(Action::Error(e.to_string())),
                    Ok((brief, _files)) => {
                        let (p, drx) = self.new_run();
                        tokio::spawn(async move {
                            let session = match p.create_session(brief).await {
                                Ok(s) => s,
                                Err(e) => {
                                    let _ = ui.send(Action::Error(e.to_string())).await;
                                    let _ = ui.send(Action::RunFinished { session: String::new(), result: Err("not started".into()) }).await;
                                    return;
                                }
                            };
                            let _ = ui.send(Action::Created { session: session.clone() }).await;
                            // Replay the first event, which was broadcast before the view existed.
                            if let Ok(events) = p.store.events(&session) {
                                for envelope in events {
                                    let _ = ui.send(Action::Pipeline(Update::Event { session: session.clone(), envelope })).await;
                                }
                            }
                            run_and_report(p, session, drx, ui).await;
                        });
                    }
                }
            }
            Effect::StartRun(id) => self.start_run(id),
            Effect::Decide(d) => match &self.decisions {
                Some(tx) => {
                    let tx = tx.clone();
                    tokio::spawn(async move {
                        let _ = tx.send(d).await;
                    });
                }
                None => self.send(Action::Error("no run is waiting for an answer".into())),
            },
            Effect::Interpret { session, text, gate } => {
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
            Effect::Command { session, cmd, then_run } => {
                if self.is_running() {
                    self.send(Action::Error("busy: wait for the run to pause or finish".into()));
                    return;
                }
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
            Effect::DeleteSession(id) => {
                tokio::spawn(async move {
                    let store = p.store.clone();
                    let r = tokio::task::spawn_blocking(move || store.remove_session(&id)).await;
                    if let Ok(Err(e)) = r {
                        let _ = ui.send(Action::Error(e.to_string())).await;
                    }
                    let rows = tokio::task::spawn_blocking(move || session_rows(&p)).await;
                    if let Ok(Ok(rows)) = rows {
                        let _ = ui.send(Action::SessionsLoaded(rows)).await;
                    }
                });
            }
            Effect::Export { session, dir } => {
                tokio::spawn(async move {
                    let r = async {
                        let state = p.load(&session).await.map_err(|e| e.to_string())?;
                        if state.final_video.is_none() {
                            return Err("nothing composed yet: finish the advert first".to_string());
                        }
                        crate::pipeline::write_outputs(&p, &state, std::path::Path::new(&dir)).map_err(|e| e.to_string())
                    }
                    .await;
                    let _ = ui.send(match r {
                        Ok(path) => Action::Info(format!("exported to {}", path.display())),
                        Err(e) => Action::Error(e),
                    }).await;
                });
            }
            Effect::Stop => {
                if let Some(c) = &self.cancel {
                    c.store(true, Ordering::Relaxed);
                }
                // A run waiting at a gate stops by pausing.
                self.decisions = None;
            }
            Effect::Thumbnail(asset) => {
                let path = p.store.blobs.path(&asset);
                tokio::task::spawn_blocking(move || {
                    if let Ok(img) = image::open(&path) {
                        let lines = halfblock_thumbnail(&img.to_rgb8(), 24);
                        let _ = ui.blocking_send(Action::Thumbnail { asset, lines });
                    }
                });
            }
            Effect::Suspend | Effect::Quit | Effect::SetTheme(_) => {}
        }
    }
}

/// An image as text: each cell is `▀` with the upper pixel as foreground and the lower as
/// background, `cols` wide. Text scrolls with the chat and never tears.
pub fn halfblock_thumbnail(img: &image::RgbImage, cols: u32) -> Vec<ratatui::text::Line<'static>> {
    use ratatui::style::{Color, Style};
    use ratatui::text::{Line, Span};
    let rows2 = ((cols as f64 * img.height() as f64 / img.width().max(1) as f64).round() as u32).max(2) & !1;
    let small = image::imageops::thumbnail(img, cols, rows2);
    let (w, h) = small.dimensions();
    (0..h / 2)
        .map(|r| {
            Line::from(
                (0..w)
                    .map(|x| {
                        let top = small.get_pixel(x, 2 * r);
                        let bot = small.get_pixel(x, (2 * r + 1).min(h - 1));
                        Span::styled("▀", Style::default().fg(Color::Rgb(top[0], top[1], top[2])).bg(Color::Rgb(bot[0], bot[1], bot[2])))
                    })
                    .collect::<Vec<_>>(),
            )
        })
        .collect()
}
