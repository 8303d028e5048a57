//! What the pipeline and the runtime report: events, progress, gates, the end of a run,
//! opened and created sessions, and interpreted answers.

use super::{idle_gate, App, ChatLine, Focus, RunState, Screen, SessionView, Who};
use crate::domain::{Command, Event, EventEnvelope, SessionState};
use crate::pipeline::{Decision, Gate, Task, Update};
use crate::tui::action::{Action, Effect};

/// A gate's question is repeated only when it is more than this many messages up.
const ASK_AGAIN_AFTER: usize = 8;

impl App {
    pub(super) fn start_run(&mut self, id: String) -> Vec<Effect> {
        if let Some(v) = self.session.as_mut() {
            v.begin_run(crate::domain::now_ms());
        }
        vec![Effect::StartRun(id)]
    }

    /// Make the open advert's variants (a run of their own: busy, stoppable).
    pub(super) fn make_variants(&mut self) -> Vec<Effect> {
        let Some(v) = self.session.as_mut() else {
            self.status = "open a session first".into();
            return vec![];
        };
        if v.state.brief().variants.is_none() {
            self.status = "this advert has no variants: start one with a brief line like 'variants: hooks=2,aspects=16:9,9:16'".into();
            return vec![];
        }
        if !v.state.is_done() || v.run != RunState::Idle {
            self.status = "variants are made from the finished advert: let it finish first".into();
            return vec![];
        }
        v.begin_run(crate::domain::now_ms());
        vec![Effect::MakeVariants(v.id.clone())]
    }

    pub(super) fn on_update(&mut self, u: Update) -> Vec<Effect> {
        let Some(v) = self.session.as_mut() else {
            if matches!(u, Update::Event { .. }) {
                return vec![Effect::LoadSessions];
            }
            return vec![];
        };
        match u {
            Update::Event { session, envelope } if session == v.id => {
                if envelope.seq <= v.state.last_seq {
                    return vec![];
                }
                v.apply(&envelope);
                let wants_thumb = self.images && !self.theme.no_color;
                if let (true, Event::ReferenceReady { reference: crate::domain::Reference { image, .. }, .. } | Event::KeyframeReady { keyframe: crate::domain::Keyframe { image, .. } }) = (wants_thumb, &envelope.event) {
                    if !self.thumbs.contains_key(image) {
                        return vec![Effect::Thumbnail(image.clone())];
                    }
                }
                if let Event::ClipRendered { clip } = &envelope.event {
                    v.live.remove(&Task::Clip(clip.scene_id));
                }
                // A new animatic (after a timing edit) replaces the one in an open player.
                if let (Event::AnimaticMade { animatic }, Some(super::Popup::Animatic { .. })) = (&envelope.event, &self.popup) {
                    if self.images {
                        return vec![Effect::LoadAnimatic { session: v.id.clone(), asset: animatic.video.clone() }];
                    }
                }
                v.scene_sel = v.scene_sel.min(v.state.scenes.len().saturating_sub(1));
            }
            Update::Progress { session, task, fraction } if session == v.id => {
                v.live.insert(task, fraction);
            }
            Update::Waiting { session, gate } => return self.update(Action::GateReached { session, gate }),
            // Another session's end (a variant being made) is not this one's.
            Update::Finished { session, result } if session == v.id => {
                // A finished advert with variants in its brief makes them next.
                let variants = matches!(result, Ok(crate::pipeline::RunOutcome::Done { .. })) && v.state.brief().variants.is_some();
                let result = match result {
                    Ok(crate::pipeline::RunOutcome::Done { final_path, .. }) => {
                        let abs = std::fs::canonicalize(&final_path).unwrap_or(final_path);
                        v.output_path = Some(abs.display().to_string());
                        Ok(format!("advert ready: {} (manifest.json and storyboard.md beside it)", abs.display()))
                    }
                    Ok(crate::pipeline::RunOutcome::Paused { .. }) => Ok("paused — the session is saved and resumable".into()),
                    Err(e) => Err(e),
                };
                let mut effects = self.update(Action::RunFinished { session: session.clone(), result });
                if variants && !self.quitting {
                    effects.extend(self.make_variants());
                }
                return effects;
            }
            Update::Note { session, text } if session == v.id => {
                v.chat.push(ChatLine { who: Who::System, text, badge: None, image: None });
            }
            _ => {}
        }
        vec![]
    }


    /// A run waits at a gate: ask the user.
    pub(super) fn gate_reached(&mut self, session: String, gate: Gate) -> Vec<Effect> {
        if let Some(v) = self.session.as_mut().filter(|v| v.id == session) {
            let ask = match &gate {
                Gate::Story => "Approve the story? Type 'approve', 'regenerate' or what to change.".to_string(),
                Gate::Scenes => "Approve the scenes? Edit them in the Scenes panel (Tab), type feedback, or 'approve' (A in Scenes).".to_string(),
                Gate::Animatic(path) => format!(
                    "The animatic is ready: {} (P plays it here; or mpv / ffplay). Change timing in the Scenes panel{}, or approve it (A) to render the clips.",
                    path.display(),
                    if v.state.candidates.is_empty() { "" } else { ", pick other candidates (b on a scene, or 'keyframe 2: take b')" }
                ),
                Gate::FailedClips(f) => format!("{} clip(s) failed: type 'retry', or R on a scene to retry it alone.", f.len()),
                Gate::Budget(why) => format!("{why}. Raise the budget with :budget USD and the run goes on from here."),
            };
            v.run = RunState::AtGate(gate.clone());
            v.chat_scroll = 0;
            if v.approve_when_asked && matches!(gate, Gate::Story | Gate::Scenes | Gate::Animatic(_)) {
                v.approve_when_asked = false;
                return vec![Effect::Interpret { session, text: "approve".into(), gate }];
            }
            // Asked once: an edit at the gate does not ask again while the question is
            // still in sight.
            if !v.chat.iter().rev().take(ASK_AGAIN_AFTER).any(|l| l.who == Who::Good && l.text == ask) {
                v.chat.push(ChatLine { who: Who::Good, text: ask, badge: None, image: None });
            }
        }
        vec![]
    }

    /// A run ended: say how, and quit if quitting waited for it.
    pub(super) fn run_finished(&mut self, session: String, result: Result<String, String>) -> Vec<Effect> {
        let mut effects = vec![];
        if let Some(v) = self.session.as_mut().filter(|v| v.id == session) {
            let stopped = v.run == RunState::Stopping;
            v.end_run(crate::domain::now_ms());
            v.live.clear();
            // A stop the user asked for is not an error, and goes on from inside the app.
            let result = match result {
                Err(_) if stopped => Ok("stopped — finished work is kept; :resume goes on from here".to_string()),
                other => other,
            };
            match result {
                Ok(msg) => v.chat.push(ChatLine { who: Who::Good, text: msg, badge: None, image: None }),
                Err(e) => v.chat.push(ChatLine { who: Who::Error, text: e, badge: None, image: None }),
            }
        }
        if self.quitting {
            effects.push(Effect::Quit);
        }
        effects
    }

    /// A stored session was read: show it, and continue it when it is unfinished.
    pub(super) fn session_opened(&mut self, state: Box<SessionState>, events: Vec<EventEnvelope>) -> Vec<Effect> {
        let mut v = SessionView::new(state.id.clone());
        for e in &events {
            v.apply(e);
        }
        let mut effects: Vec<Effect> = if self.images && !self.theme.no_color {
            v.chat.iter().filter_map(|l| l.image.clone()).filter(|a| !self.thumbs.contains_key(a)).map(Effect::Thumbnail).collect()
        } else {
            vec![]
        };
        let status = crate::pipeline::narrate::status(&v.state, &self.rules);
        v.chat.push(ChatLine::system(format!("status: {status}")));
        let resumable = status != "done";
        let id = v.id.clone();
        if self.session.as_ref().is_some_and(|o| o.id != id) || self.screen == Screen::Sessions {
            self.restore_draft(&id);
        }
        self.session = Some(v);
        self.screen = Screen::Session;
        self.focus = Focus::Input;
        if resumable {
            // Continue where it stopped (or retry what failed): finished work is kept.
            effects.extend(self.start_run(id));
        }
        effects
    }

    /// The intent parser read the user's answer: answer the gate, or change the idle session.
    pub(super) fn interpreted(&mut self, session: String, result: Result<Decision, String>) -> Vec<Effect> {
        let Some(v) = self.session.as_mut().filter(|v| v.id == session) else { return vec![] };
        match result {
            Err(m) => {
                v.chat.push(ChatLine { who: Who::Error, text: m, badge: None, image: None });
                vec![]
            }
            Ok(decision) => match &v.run {
                RunState::AtGate(_) => {
                    v.run = RunState::Running;
                    vec![Effect::Decide(decision)]
                }
                _ => {
                    let gate = idle_gate(&v.state, &self.rules);
                    let cmds = match decision {
                        Decision::Approve => match gate {
                            Gate::Story => vec![Command::ApproveStory],
                            Gate::Animatic(_) => vec![Command::ApproveAnimatic],
                            _ => vec![Command::ApproveScenes],
                        },
                        Decision::Commands(c) => c,
                        Decision::Pause => vec![],
                    };
                    let id = v.id.clone();
                    let n = cmds.len();
                    if n > 0 {
                        // The last command runs the session on: busy from now.
                        v.begin_run(crate::domain::now_ms());
                    }
                    cmds.into_iter()
                        .enumerate()
                        .map(|(i, cmd)| Effect::Command { session: id.clone(), cmd, then_run: i + 1 == n })
                        .collect()
                }
            },
        }
    }

    /// A session typed in the prompt was created and runs.
    pub(super) fn created(&mut self, session: String) -> Vec<Effect> {
        let mut v = SessionView::new(session.clone());
        // The clock runs from when the brief was sent, not from when its session came back.
        let sent = if self.pending_since_ms > 0 { self.pending_since_ms } else { crate::domain::now_ms() };
        v.begin_run(sent);
        self.session = Some(v);
        self.pending_brief = None;
        self.screen = Screen::Session;
        vec![]
    }
}
