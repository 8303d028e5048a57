//! UI state and `update`: every change to the App goes through `update(action)`, which
//! returns the effects (pipeline runs, store access) for the runtime to carry out.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui_textarea::TextArea;
use std::collections::HashMap;

use super::action::{Action, Effect, SessionRow};
use super::keymap::{Cmd, Ctx, Keymap};
use super::theme::Theme;
use crate::domain::{
    AssetId, CameraMove, Command, Event, EventEnvelope, ScenePatch, SessionState, Stage,
};
use crate::pipeline::narrate::describe_event;
use crate::pipeline::{plan, Blocked, Decision, Gate, PlanRules, Task, Update};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    Sessions,
    Session,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    Input,
    Chat,
    Scenes,
    Progress,
    Quality,
}

impl Focus {
    const ORDER: [Focus; 5] = [Focus::Input, Focus::Chat, Focus::Scenes, Focus::Progress, Focus::Quality];
    pub fn ctx(self) -> Ctx {
        match self {
            Focus::Input => Ctx::Input,
            Focus::Chat => Ctx::Chat,
            Focus::Scenes => Ctx::Scenes,
            Focus::Progress => Ctx::Progress,
            Focus::Quality => Ctx::Quality,
        }
    }
    fn step(self, d: isize) -> Focus {
        let i = Focus::ORDER.iter().position(|f| *f == self).unwrap_or(0) as isize;
        Focus::ORDER[(i + d).rem_euclid(Focus::ORDER.len() as isize) as usize]
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    System,
    User,
    Error,
    Good,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ChatLine {
    pub who: Who,
    pub text: String,
    /// A score badge shown before the text (e.g. the critic's 8.5/10).
    pub badge: Option<String>,
    /// An image this message is about (a reference or keyframe): previewable.
    pub image: Option<AssetId>,
}

impl ChatLine {
    fn system(text: impl Into<String>) -> ChatLine {
        ChatLine { who: Who::System, text: text.into(), badge: None, image: None }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum RunState {
    Idle,
    Running,
    AtGate(Gate),
    Stopping,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EditField {
    Text,
    Description,
}

pub enum Popup {
    Help,
    ConfirmQuit,
    ConfirmDelete(String),
    CommandLine(TextArea<'static>),
    EditScene { scene_id: u32, field: EditField, editor: TextArea<'static> },
}

/// The open session as the UI sees it: the folded state plus live, unpersisted progress.
pub struct SessionView {
    pub id: String,
    pub state: SessionState,
    pub chat: Vec<ChatLine>,
    /// Lines scrolled up from the newest; 0 follows new messages.
    pub chat_scroll: usize,
    pub scene_sel: usize,
    pub progress_sel: usize,
    /// Live progress per task (`clip:3`, `compose`), 0..1.
    pub live: HashMap<String, f32>,
    pub run: RunState,
    pub stage_started_ms: HashMap<Stage, u64>,
    pub run_started_ms: Option<u64>,
}

impl SessionView {
    pub fn new(id: String) -> SessionView {
        SessionView {
            id,
            state: SessionState::default(),
            chat: vec![],
            chat_scroll: 0,
            scene_sel: 0,
            progress_sel: 0,
            live: HashMap::new(),
            run: RunState::Idle,
            stage_started_ms: HashMap::new(),
            run_started_ms: None,
        }
    }

    /// Fold one event into the view and add its chat message.
    pub fn apply(&mut self, env: &EventEnvelope) {
        self.state.apply(env);
        if let Event::StageStarted { stage } = &env.event {
            self.stage_started_ms.insert(*stage, env.at_ms);
        }
        let Some(text) = describe_event(&env.event, &self.state) else { return };
        let mut line = ChatLine::system(text);
        match &env.event {
            Event::PipelineFailed { .. } | Event::ClipFailed { .. } => line.who = Who::Error,
            Event::StoryFeedback { text } | Event::ScenesFeedback { text, .. } => {
                line = ChatLine { who: Who::User, text: text.clone(), badge: None, image: None }
            }
            Event::Composed { .. } => line.who = Who::Good,
            Event::StoryDrafted { story, .. } => {
                let beats: Vec<String> = story.beats.iter().map(|b| format!("  {}: {}", b.stage, b.text)).collect();
                line.text = format!("{}\n{}", line.text, beats.join("\n"));
            }
            Event::StoryCritiqued { critique, .. } | Event::ScenesCritiqued { critique, .. } => {
                line.badge = Some(format!("★ {:.1}", critique.score));
            }
            Event::ReferenceReady { reference } => line.image = Some(reference.image.clone()),
            Event::KeyframeReady { keyframe } => line.image = Some(keyframe.image.clone()),
            // Started/completed and progress-like lines are not worth a chat message each.
            Event::StageCompleted { .. } | Event::ClipStarted { .. } | Event::Resumed | Event::SessionCreated { .. } => return,
            _ => {}
        }
        self.chat.push(line);
    }

    pub fn selected_scene_id(&self) -> Option<u32> {
        self.state.scenes.get(self.scene_sel).map(|s| s.id)
    }
}

pub struct App {
    pub screen: Screen,
    pub focus: Focus,
    pub popup: Option<Popup>,
    pub sessions: Vec<SessionRow>,
    pub sessions_sel: usize,
    pub session: Option<SessionView>,
    pub input: TextArea<'static>,
    pub history: Vec<String>,
    pub history_pos: Option<usize>,
    pub theme: Theme,
    pub keymap: Keymap,
    pub rules: PlanRules,
    /// Quality colour thresholds on the 0..100 scale: (good, acceptable).
    pub thresholds: (f64, f64),
    pub size: (u16, u16),
    pub status: String,
    pub now_ms: u64,
    pub images: bool,
    /// Preview shown instead of the chat (scene keyframe or chat image).
    pub preview: Option<AssetId>,
    /// Chat thumbnails (half-block text), by image.
    pub thumbs: HashMap<AssetId, Vec<ratatui::text::Line<'static>>>,
    pub dirty: bool,
    pub quitting: bool,
}

pub fn new_input() -> TextArea<'static> {
    let mut t = TextArea::default();
    t.set_placeholder_text("Describe the advert, or answer: approve · regenerate · make scene 2 more dramatic · edit scene 3: …");
    t.set_cursor_line_style(ratatui::style::Style::default());
    t
}

/// What a typed answer is answered against when no run waits at a gate.
fn idle_gate(state: &SessionState, rules: &PlanRules) -> Gate {
    let p = plan(state, rules);
    match (p.blocked, p.tasks.first()) {
        (Some(Blocked::ClipsFailed(f)), _) => Gate::FailedClips(f),
        (_, Some(Task::AwaitStoryApproval)) => Gate::Story,
        (_, Some(Task::DraftStory | Task::CritiqueStory)) => Gate::Story,
        _ => Gate::Scenes,
    }
}

/// Brief fields the user may put on their own lines: `name: …`, `cta: …`, `aspect: …`,
/// `duration: …`, `framework: …`, `template: …`; the rest is the prompt.
pub fn brief_from_text(text: &str) -> crate::pipeline::BriefInput {
    let mut b = crate::pipeline::BriefInput::default();
    let mut prompt = Vec::new();
    for line in text.lines() {
        let (k, v) = line.split_once(':').map(|(k, v)| (k.trim().to_lowercase(), v.trim().to_string())).unwrap_or_default();
        match k.as_str() {
            "name" | "product" | "product name" => b.product_name = Some(v),
            "cta" | "call to action" => b.call_to_action = Some(v),
            "aspect" => b.aspect = Some(v),
            "duration" => b.duration_s = v.trim_end_matches(['s', ' ']).parse().ok(),
            "framework" => b.framework = Some(v),
            "template" => b.template = Some(v),
            "tone" => b.tone = Some(v),
            "audience" => b.audience = Some(v),
            _ => prompt.push(line),
        }
    }
    b.prompt = Some(prompt.join(" ").trim().to_string());
    b
}

impl App {
    pub fn new(theme: Theme, keymap: Keymap, rules: PlanRules, images: bool) -> App {
        App {
            screen: Screen::Sessions,
            focus: Focus::Input,
            popup: None,
            sessions: vec![],
            sessions_sel: 0,
            session: None,
            input: new_input(),
            history: vec![],
            history_pos: None,
            theme,
            keymap,
            rules,
            thresholds: (80.0, 60.0),
            size: (80, 24),
            status: String::new(),
            now_ms: 0,
            images,
            preview: None,
            thumbs: HashMap::new(),
            dirty: true,
            quitting: false,
        }
    }

    pub fn ctx(&self) -> Ctx {
        match self.screen {
            Screen::Sessions => Ctx::Sessions,
            Screen::Session => self.focus.ctx(),
        }
    }

    pub fn is_running(&self) -> bool {
        self.session.as_ref().is_some_and(|s| matches!(s.run, RunState::Running | RunState::Stopping))
    }

    fn rendering_clips(&self) -> bool {
        self.session.as_ref().is_some_and(|s| {
            matches!(s.run, RunState::Running) && s.state.current_stage() == Some(Stage::Clips) && !s.state.stages_completed.contains(&Stage::Clips)
        })
    }

    pub fn update(&mut self, action: Action) -> Vec<Effect> {
        self.dirty = true;
        match action {
            Action::Key(k) => self.on_key(k),
            Action::Paste(text) => {
                match &mut self.popup {
                    Some(Popup::EditScene { editor, .. }) | Some(Popup::CommandLine(editor)) => {
                        editor.insert_str(text);
                    }
                    _ => {
                        self.focus = Focus::Input;
                        self.input.insert_str(text);
                    }
                }
                vec![]
            }
            Action::Resize(w, h) => {
                self.size = (w, h);
                vec![]
            }
            Action::Tick => {
                self.now_ms = crate::store::now_ms();
                vec![]
            }
            Action::Pipeline(u) => self.on_update(u),
            Action::GateReached { session, gate } => {
                if let Some(v) = self.session.as_mut().filter(|v| v.id == session) {
                    let ask = match &gate {
                        Gate::Story => "Approve the story? Type 'approve', 'regenerate' or what to change.".to_string(),
                        Gate::Scenes => "Approve the scenes? Edit them in the Scenes panel (Tab), type feedback, or 'approve' (A in Scenes).".to_string(),
                        Gate::FailedClips(f) => format!("{} clip(s) failed: type 'retry', or R on a scene to retry it alone.", f.len()),
                    };
                    v.chat.push(ChatLine { who: Who::Good, text: ask, badge: None, image: None });
                    v.run = RunState::AtGate(gate);
                    v.chat_scroll = 0;
                }
                vec![]
            }
            Action::RunFinished { session, result } => {
                let mut effects = vec![];
                if let Some(v) = self.session.as_mut().filter(|v| v.id == session) {
                    v.run = RunState::Idle;
                    v.live.clear();
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
            Action::SessionsLoaded(rows) => {
                self.sessions = rows;
                self.sessions_sel = self.sessions_sel.min(self.sessions.len().saturating_sub(1));
                vec![]
            }
            Action::SessionOpened { state, events } => {
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
                self.session = Some(v);
                self.screen = Screen::Session;
                self.focus = Focus::Input;
                if resumable {
                    // Continue where it stopped (or retry what failed): finished work is kept.
                    effects.extend(self.start_run(id));
                }
                effects
            }
            Action::Interpreted { session, result } => {
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
                                    _ => vec![Command::ApproveScenes],
                                },
                                Decision::Commands(c) => c,
                                Decision::Pause => vec![],
                            };
                            let id = v.id.clone();
                            let n = cmds.len();
                            cmds.into_iter()
                                .enumerate()
                                .map(|(i, cmd)| Effect::Command { session: id.clone(), cmd, then_run: i + 1 == n })
                                .collect()
                        }
                    },
                }
            }
            Action::Created { session } => {
                let mut v = SessionView::new(session.clone());
                v.run = RunState::Running;
                self.session = Some(v);
                self.screen = Screen::Session;
                vec![]
            }
            Action::Error(m) => {
                match self.session.as_mut().filter(|_| self.screen == Screen::Session) {
                    Some(v) => v.chat.push(ChatLine { who: Who::Error, text: m, badge: None, image: None }),
                    None => self.status = m,
                }
                vec![]
            }
            Action::Info(m) => {
                self.status = m;
                vec![]
            }
            Action::PreviewReady => vec![],
            Action::Thumbnail { asset, lines } => {
                self.thumbs.insert(asset, lines);
                vec![]
            }
        }
    }

    fn start_run(&mut self, id: String) -> Vec<Effect> {
        if let Some(v) = self.session.as_mut() {
            v.run = RunState::Running;
            v.run_started_ms = Some(crate::store::now_ms());
        }
        vec![Effect::StartRun(id)]
    }

    fn on_update(&mut self, u: Update) -> Vec<Effect> {
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
                    v.live.remove(&format!("clip:{}", clip.scene_id));
                }
                v.scene_sel = v.scene_sel.min(v.state.scenes.len().saturating_sub(1));
            }
            Update::Progress { session, task, fraction } if session == v.id => {
                v.live.insert(task, fraction);
            }
            Update::Waiting { session, gate } => return self.update(Action::GateReached { session, gate }),
            Update::Finished { session, result } => {
                let result = match result {
                    Ok(crate::pipeline::RunOutcome::Done { final_path, .. }) => {
                        let abs = std::fs::canonicalize(&final_path).unwrap_or(final_path);
                        Ok(format!("advert ready: {} (manifest.json and storyboard.md beside it)", abs.display()))
                    }
                    Ok(crate::pipeline::RunOutcome::Paused { .. }) => Ok("paused — the session is saved and resumable".into()),
                    Err(e) => Err(e),
                };
                return self.update(Action::RunFinished { session, result });
            }
            Update::Note { session, text } if session == v.id => {
                v.chat.push(ChatLine { who: Who::System, text, badge: None, image: None });
            }
            _ => {}
        }
        vec![]
    }

    fn on_key(&mut self, k: KeyEvent) -> Vec<Effect> {
        if k.kind != crossterm::event::KeyEventKind::Press {
            return vec![];
        }
        if self.popup.is_some() {
            return self.on_popup_key(k);
        }
        let ctx = self.ctx();
        let cmd = self.keymap.lookup(ctx, &k);
        if ctx == Ctx::Input {
            match cmd {
                Some(Cmd::Send) => return self.send(),
                Some(Cmd::Newline) => {
                    self.input.insert_newline();
                    return vec![];
                }
                Some(Cmd::HistoryPrev) if self.input_is_empty() || self.history_pos.is_some() => return self.history_step(-1),
                Some(Cmd::HistoryNext) if self.history_pos.is_some() => return self.history_step(1),
                Some(Cmd::Quit | Cmd::FocusNext | Cmd::FocusPrev | Cmd::Help | Cmd::Suspend | Cmd::Back | Cmd::Stop) => {}
                _ => {
                    self.history_pos = None;
                    self.input.input(k);
                    return vec![];
                }
            }
        }
        match cmd {
            Some(c) => self.command(c),
            None => vec![],
        }
    }

    fn input_is_empty(&self) -> bool {
        self.input.lines().iter().all(|l| l.is_empty())
    }

    fn history_step(&mut self, d: isize) -> Vec<Effect> {
        if self.history.is_empty() {
            return vec![];
        }
        let n = self.history.len() as isize;
        let pos = match self.history_pos {
            None => n - 1,
            Some(p) => p as isize + d,
        };
        self.input = new_input();
        if pos >= n {
            self.history_pos = None;
        } else {
            let p = pos.clamp(0, n - 1) as usize;
            self.history_pos = Some(p);
            self.input.insert_str(self.history[p].clone());
        }
        vec![]
    }

    fn send(&mut self) -> Vec<Effect> {
        let text = self.input.lines().join("\n").trim().to_string();
        if text.is_empty() {
            return vec![];
        }
        self.history.push(text.clone());
        self.history_pos = None;
        self.input = new_input();
        match self.session.as_mut() {
            None => {
                self.screen = Screen::Session;
                vec![Effect::CreateSession { text }]
            }
            Some(v) => {
                v.chat.push(ChatLine { who: Who::User, text: text.clone(), badge: None, image: None });
                v.chat_scroll = 0;
                match &v.run {
                    RunState::AtGate(g) => vec![Effect::Interpret { session: v.id.clone(), text, gate: g.clone() }],
                    RunState::Running | RunState::Stopping => {
                        v.chat.push(ChatLine { who: Who::Error, text: "busy rendering: wait for it, or Ctrl-S to stop and edit".into(), badge: None, image: None });
                        vec![]
                    }
                    RunState::Idle => {
                        let gate = idle_gate(&v.state, &self.rules);
                        vec![Effect::Interpret { session: v.id.clone(), text, gate }]
                    }
                }
            }
        }
    }

    /// A change to the open session (a scene edit, a budget), through the one writer that
    /// may record it: the waiting run (at a gate), or the store directly when nothing runs
    /// (then run on, if asked). Refused while rendering.
    fn session_change(&mut self, cmd: Command, then_run: bool) -> Vec<Effect> {
        let Some(v) = self.session.as_mut() else { return vec![] };
        match &v.run {
            RunState::AtGate(_) => {
                v.run = RunState::Running;
                vec![Effect::Decide(Decision::Commands(vec![cmd]))]
            }
            RunState::Idle => {
                if then_run {
                    v.run = RunState::Running;
                }
                vec![Effect::Command { session: v.id.clone(), cmd, then_run }]
            }
            _ => {
                self.status = "busy rendering: wait, or Ctrl-S to stop, then edit".into();
                vec![]
            }
        }
    }

    fn command(&mut self, c: Cmd) -> Vec<Effect> {
        match c {
            Cmd::Quit => {
                if self.rendering_clips() {
                    self.popup = Some(Popup::ConfirmQuit);
                    return vec![];
                }
                if self.is_running() {
                    self.quitting = true;
                    return vec![Effect::Stop];
                }
                vec![Effect::Quit]
            }
            Cmd::Help => {
                self.popup = Some(Popup::Help);
                vec![]
            }
            Cmd::Suspend => vec![Effect::Suspend],
            Cmd::CommandLine => {
                let mut t = TextArea::default();
                t.set_placeholder_text("resume ID · export DIR · theme NAME · budget USD · sessions · quit");
                self.popup = Some(Popup::CommandLine(t));
                vec![]
            }
            Cmd::FocusNext | Cmd::FocusPrev if self.screen == Screen::Session => {
                self.focus = self.focus.step(if c == Cmd::FocusNext { 1 } else { -1 });
                vec![]
            }
            Cmd::Back => {
                if self.preview.take().is_some() {
                    return vec![];
                }
                if self.screen == Screen::Session && self.focus != Focus::Input {
                    self.focus = Focus::Input;
                    return vec![];
                }
                if self.screen == Screen::Session && !self.is_running() {
                    self.screen = Screen::Sessions;
                    self.session = None;
                    return vec![Effect::LoadSessions];
                }
                vec![]
            }
            Cmd::Stop => {
                if let Some(v) = self.session.as_mut().filter(|v| v.run == RunState::Running) {
                    v.run = RunState::Stopping;
                    return vec![Effect::Stop];
                }
                vec![]
            }
            _ => match self.screen {
                Screen::Sessions => self.sessions_command(c),
                Screen::Session => self.session_command(c),
            },
        }
    }

    fn sessions_command(&mut self, c: Cmd) -> Vec<Effect> {
        let n = self.sessions.len();
        match c {
            Cmd::Up => self.sessions_sel = self.sessions_sel.saturating_sub(1),
            Cmd::Down => self.sessions_sel = (self.sessions_sel + 1).min(n.saturating_sub(1)),
            Cmd::Refresh => return vec![Effect::LoadSessions],
            Cmd::NewSession => {
                self.session = None;
                self.screen = Screen::Session;
                self.focus = Focus::Input;
            }
            Cmd::Open => {
                if let Some(row) = self.sessions.get(self.sessions_sel).filter(|r| r.error.is_none()) {
                    return vec![Effect::OpenSession(row.id.clone())];
                }
            }
            Cmd::DeleteSession => {
                if let Some(row) = self.sessions.get(self.sessions_sel) {
                    self.popup = Some(Popup::ConfirmDelete(row.id.clone()));
                }
            }
            _ => {}
        }
        vec![]
    }

    fn session_command(&mut self, c: Cmd) -> Vec<Effect> {
        let Some(v) = self.session.as_mut() else { return vec![] };
        let scenes = v.state.scenes.len();
        match (self.focus, c) {
            (Focus::Chat, Cmd::Up) => v.chat_scroll += 1,
            (Focus::Chat, Cmd::Down) => v.chat_scroll = v.chat_scroll.saturating_sub(1),
            (Focus::Chat, Cmd::PageUp) => v.chat_scroll += 10,
            (Focus::Chat, Cmd::PageDown) => v.chat_scroll = v.chat_scroll.saturating_sub(10),
            (Focus::Chat, Cmd::Top) => v.chat_scroll = usize::MAX / 2,
            (Focus::Chat, Cmd::Bottom) => v.chat_scroll = 0,
            (Focus::Chat, Cmd::Preview) => {
                self.preview = v.chat.iter().rev().find_map(|l| l.image.clone());
                if self.preview.is_none() {
                    self.status = "no image in the chat yet".into();
                }
            }
            (_, Cmd::Approve) => {
                let text = "approve".to_string();
                return match &v.run {
                    RunState::AtGate(g) => vec![Effect::Interpret { session: v.id.clone(), text, gate: g.clone() }],
                    RunState::Idle => vec![Effect::Interpret { session: v.id.clone(), gate: idle_gate(&v.state, &self.rules), text }],
                    _ => vec![],
                };
            }
            (Focus::Scenes, Cmd::Up) => v.scene_sel = v.scene_sel.saturating_sub(1),
            (Focus::Scenes, Cmd::Down) => v.scene_sel = (v.scene_sel + 1).min(scenes.saturating_sub(1)),
            (Focus::Progress, Cmd::Up) => v.progress_sel = v.progress_sel.saturating_sub(1),
            (Focus::Progress, Cmd::Down) => v.progress_sel = (v.progress_sel + 1).min(scenes.saturating_sub(1)),
            (Focus::Scenes | Focus::Progress, Cmd::Preview) => {
                let idx = if self.focus == Focus::Scenes { v.scene_sel } else { v.progress_sel };
                self.preview = v.state.scenes.get(idx).and_then(|s| v.state.keyframes.get(&s.id)).map(|k| k.image.clone());
                if self.preview.is_none() {
                    self.status = "this scene has no keyframe yet".into();
                }
            }
            (Focus::Scenes, Cmd::EditText | Cmd::EditDescription) => {
                let Some(scene) = v.state.scenes.get(v.scene_sel).cloned() else { return vec![] };
                let field = if c == Cmd::EditText { EditField::Text } else { EditField::Description };
                let text = if field == EditField::Text { scene.on_screen_text } else { scene.description };
                let mut editor = TextArea::new(vec![text]);
                editor.move_cursor(ratatui_textarea::CursorMove::End);
                self.popup = Some(Popup::EditScene { scene_id: scene.id, field, editor });
            }
            (Focus::Scenes, Cmd::CycleCamera) => {
                let Some(scene) = v.state.scenes.get(v.scene_sel) else { return vec![] };
                let i = CameraMove::ALL.iter().position(|m| *m == scene.camera).unwrap_or(0);
                let next = CameraMove::ALL[(i + 1) % CameraMove::ALL.len()];
                let cmd = Command::EditScene { scene_id: scene.id, patch: ScenePatch { camera: Some(next), ..Default::default() } };
                return self.session_change(cmd, true);
            }
            (Focus::Scenes, Cmd::DurationUp | Cmd::DurationDown) => {
                let Some(scene) = v.state.scenes.get(v.scene_sel) else { return vec![] };
                let d = if c == Cmd::DurationUp { 0.5 } else { -0.5 };
                let cmd = Command::EditScene { scene_id: scene.id, patch: ScenePatch { duration_s: Some((scene.duration_s + d).clamp(0.5, 60.0)), ..Default::default() } };
                return self.session_change(cmd, true);
            }
            (Focus::Scenes, Cmd::MoveUp | Cmd::MoveDown) => {
                let Some(scene) = v.state.scenes.get(v.scene_sel) else { return vec![] };
                let to = if c == Cmd::MoveUp { v.scene_sel.saturating_sub(1) } else { (v.scene_sel + 1).min(scenes - 1) };
                let id = scene.id;
                v.scene_sel = to;
                return self.session_change(Command::MoveScene { scene_id: id, index: to }, true);
            }
            (Focus::Scenes, Cmd::AddScene) => {
                let after = v.selected_scene_id();
                v.scene_sel += 1;
                return self.session_change(Command::AddScene { after, description: "New scene: describe it (E)".into(), duration_s: 3.0 }, true);
            }
            (Focus::Scenes, Cmd::RemoveScene) => {
                let Some(id) = v.selected_scene_id() else { return vec![] };
                return self.session_change(Command::RemoveScene { scene_id: id }, true);
            }
            (Focus::Scenes, Cmd::RegenerateScene) => {
                let Some(id) = v.selected_scene_id() else { return vec![] };
                return self.session_change(Command::RefineScenes { feedback: "regenerate this scene".into(), scene_id: Some(id) }, true);
            }
            (Focus::Scenes | Focus::Progress, Cmd::RetryClip) => {
                let idx = if self.focus == Focus::Scenes { v.scene_sel } else { v.progress_sel };
                let Some(id) = v.state.scenes.get(idx).map(|s| s.id) else { return vec![] };
                if !v.state.clip_failures.contains_key(&id) {
                    self.status = format!("clip {} has not failed", idx + 1);
                    return vec![];
                }
                return self.session_change(Command::RetryClip { scene_id: id }, true);
            }
            _ => {}
        }
        vec![]
    }

    fn on_popup_key(&mut self, k: KeyEvent) -> Vec<Effect> {
        let esc = k.code == KeyCode::Esc;
        let enter = k.code == KeyCode::Enter && !k.modifiers.intersects(KeyModifiers::ALT | KeyModifiers::SHIFT);
        let ctrl_c = k.code == KeyCode::Char('c') && k.modifiers.contains(KeyModifiers::CONTROL);
        let Some(popup) = self.popup.take() else { return vec![] };
        match popup {
            Popup::Help => {
                // Any key closes help.
                vec![]
            }
            Popup::ConfirmQuit => match k.code {
                KeyCode::Char('y') | KeyCode::Char('Y') | KeyCode::Enter => {
                    self.quitting = true;
                    if let Some(v) = self.session.as_mut() {
                        v.run = RunState::Stopping;
                    }
                    vec![Effect::Stop]
                }
                _ => vec![],
            },
            Popup::ConfirmDelete(id) => match k.code {
                KeyCode::Char('y') | KeyCode::Char('Y') => vec![Effect::DeleteSession(id)],
                _ => vec![],
            },
            Popup::CommandLine(mut t) => {
                if esc || ctrl_c {
                    return vec![];
                }
                if enter {
                    let line = t.lines().join(" ");
                    return self.run_command_line(line.trim().trim_start_matches(':'));
                }
                t.input(k);
                self.popup = Some(Popup::CommandLine(t));
                vec![]
            }
            Popup::EditScene { scene_id, field, mut editor } => {
                if esc || ctrl_c {
                    return vec![];
                }
                if enter {
                    let text = editor.lines().join(" ").trim().to_string();
                    let patch = match field {
                        EditField::Text => ScenePatch { on_screen_text: Some(text), ..Default::default() },
                        EditField::Description if text.is_empty() => {
                            self.status = "a scene needs a description".into();
                            return vec![];
                        }
                        EditField::Description => ScenePatch { description: Some(text), ..Default::default() },
                    };
                    return self.session_change(Command::EditScene { scene_id, patch }, true);
                }
                editor.input(k);
                self.popup = Some(Popup::EditScene { scene_id, field, editor });
                vec![]
            }
        }
    }

    fn run_command_line(&mut self, line: &str) -> Vec<Effect> {
        let (cmd, arg) = line.split_once(' ').map(|(a, b)| (a, b.trim())).unwrap_or((line, ""));
        match cmd {
            "q" | "quit" => self.command(Cmd::Quit),
            "resume" | "open" if !arg.is_empty() => vec![Effect::OpenSession(arg.to_string())],
            "sessions" | "ls" => {
                self.screen = Screen::Sessions;
                if !self.is_running() {
                    self.session = None;
                }
                vec![Effect::LoadSessions]
            }
            "export" if !arg.is_empty() => match &self.session {
                Some(v) => vec![Effect::Export { session: v.id.clone(), dir: arg.to_string() }],
                None => {
                    self.status = "open a session first".into();
                    vec![]
                }
            },
            "theme" if !arg.is_empty() => vec![Effect::SetTheme(arg.to_string())],
            "budget" => {
                let usd = if arg.is_empty() || arg == "none" { Ok(None) } else { arg.trim_start_matches('$').parse::<f64>().map(Some) };
                match (usd, &self.session) {
                    (Ok(usd), Some(_)) => self.session_change(Command::SetBudget { usd }, false),
                    (Err(_), _) => {
                        self.status = format!("'{arg}' is not an amount: :budget 5");
                        vec![]
                    }
                    (_, None) => {
                        self.status = "open a session first".into();
                        vec![]
                    }
                }
            }
            "help" => {
                self.popup = Some(Popup::Help);
                vec![]
            }
            _ => {
                self.status = format!("unknown command ':{line}': try resume ID, export DIR, theme NAME, budget USD, sessions, quit");
                vec![]
            }
        }
    }
}
