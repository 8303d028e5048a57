//! UI state and `update`: every change to the App goes through `update(action)`, which
//! returns the effects (pipeline runs, store access) for the runtime to carry out.
//!
//! `update` only dispatches; the work is in the submodules: `input` (the prompt),
//! `global_keys` and `session_keys` (commands from the keymap), `popups`, `command_line`
//! (the `:` verbs), `pipeline_updates` (what runs report) and `session_view` (the open
//! session and its chat).

mod board;
mod command_line;
mod global_keys;
mod input;
mod pipeline_updates;
mod player;
mod popups;
mod search;
mod session_keys;
mod session_view;
mod sort;

pub use board::board_grid;
pub use command_line::{verb_summary, Verb, VerbSpec, VERBS};
pub use player::{animatic_timeline, segment_name};
pub use input::{brief_from_text, new_input};
pub use popups::{EditField, Popup};
pub use search::{Search, Within};
pub use session_view::{ChatLine, RunState, SessionView, Undo, Who};
pub use sort::SortBy;

use ratatui_textarea::TextArea;
use std::collections::HashMap;

use super::action::{Action, Effect, SessionRow};
use super::keymap::{Ctx, Keymap};
use super::theme::Theme;
use crate::domain::{AssetId, SessionState};
use crate::pipeline::{plan, Blocked, Gate, PlanRules, Task};

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

/// What is where on the screen, as last drawn: the view records it, clicks read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hit {
    Panel(Focus),
    Scene(usize),
    Session(usize),
    /// A candidate on the open mood board.
    Candidate(usize),
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
    /// The one-line message in the hint bar, until the next key; an error or not.
    pub status: String,
    pub status_is_error: bool,
    pub now_ms: u64,
    pub images: bool,
    /// Preview shown instead of the chat (scene keyframe or chat image).
    pub preview: Option<AssetId>,
    /// Chat thumbnails (half-block text), by image.
    pub thumbs: HashMap<AssetId, Vec<ratatui::text::Line<'static>>>,
    /// Chat images shown as one line each (`f`), remembered between runs.
    pub thumbs_folded: bool,
    /// The chat's share of the width in percent, when the user changed it (`<` / `>`).
    pub chat_pct: Option<u16>,
    /// The selected scene's whole description in the Scenes panel (`i`), not two lines.
    pub full_description: bool,
    /// Pictures decoded small for the mood board, by image.
    pub small_images: HashMap<AssetId, std::sync::Arc<image::RgbImage>>,
    /// The animatic's frames, once loaded for the player.
    pub animatic: Option<super::action::AnimaticFrames>,
    pub dirty: bool,
    pub quitting: bool,
    /// A brief sent to be created (and when): put back in the prompt if it is refused;
    /// its run's clock starts when it was sent.
    pub pending_brief: Option<String>,
    pub pending_since_ms: u64,
    /// Unsent prompt text, by session id ("" for a new advert): it stays with its session.
    pub drafts: HashMap<String, String>,
    /// Screen areas of the last frame, most specific last (filled by the view).
    pub hits: std::cell::RefCell<Vec<(ratatui::layout::Rect, Hit)>>,
    /// The last click (where, when) to tell a double click.
    last_click: Option<(Hit, u64)>,
    /// The search `n` / `N` step through, once set with `/`.
    pub search: Option<Search>,
    /// The sessions list's order (`s`); the store's rows are kept as loaded.
    pub sessions_sort: SortBy,
    sessions_loaded: Vec<SessionRow>,
    /// Lines run in the `:` command line (oldest first) and where ↑/↓ is in them.
    pub command_lines: Vec<String>,
    command_pos: Option<usize>,
}

/// The chat's share of the width, in percent, as `<` / `>` may set it.
pub const CHAT_PCT: (u16, u16) = (30, 75);

/// What a typed answer is answered against when no run waits at a gate.
fn idle_gate(state: &SessionState, rules: &PlanRules) -> Gate {
    let p = plan(state, rules);
    match (p.blocked, p.tasks.first()) {
        (Some(Blocked::ClipsFailed(f)), _) => Gate::FailedClips(f),
        (_, Some(Task::AwaitStoryApproval)) => Gate::Story,
        (_, Some(Task::DraftStory | Task::CritiqueStory)) => Gate::Story,
        // The path is the run's to tell; answering only needs the gate.
        (_, Some(Task::AwaitAnimaticApproval)) => Gate::Animatic(Default::default()),
        _ => Gate::Scenes,
    }
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
            status_is_error: true,
            now_ms: 0,
            images,
            preview: None,
            thumbs: HashMap::new(),
            thumbs_folded: false,
            full_description: false,
            chat_pct: None,
            small_images: HashMap::new(),
            animatic: None,
            dirty: true,
            quitting: false,
            pending_brief: None,
            pending_since_ms: 0,
            drafts: HashMap::new(),
            hits: Default::default(),
            last_click: None,
            search: None,
            command_lines: vec![],
            sessions_sort: SortBy::Newest,
            sessions_loaded: vec![],
            command_pos: None,
        }
    }

    /// Leave the open session (or the new advert) for the sessions list; unsent text is
    /// kept as that session's draft.
    pub(super) fn leave_session(&mut self) {
        let id = self.session.as_ref().map(|v| v.id.clone()).unwrap_or_default();
        let text = self.input.lines().join("\n");
        if text.trim().is_empty() {
            self.drafts.remove(&id);
        } else {
            self.drafts.insert(id, text);
        }
        self.input = new_input();
        self.session = None;
        self.screen = Screen::Sessions;
    }

    /// Show session `id` (or the new advert, ""): its draft comes back to the prompt.
    pub(super) fn restore_draft(&mut self, id: &str) {
        self.input = match self.drafts.remove(id) {
            Some(text) => {
                let mut t = TextArea::new(text.lines().map(str::to_string).collect());
                t.set_placeholder_text(new_input().placeholder_text());
                t.move_cursor(ratatui_textarea::CursorMove::Bottom);
                t.move_cursor(ratatui_textarea::CursorMove::End);
                t
            }
            None => new_input(),
        };
    }

    /// A click focuses the panel under it and selects the scene or session; a double
    /// click opens a session; the wheel scrolls what is under the pointer.
    fn on_mouse(&mut self, m: crossterm::event::MouseEvent) -> Vec<Effect> {
        use crossterm::event::{MouseButton, MouseEventKind};
        if let Some(Popup::Board { slot, sel }) = self.popup {
            return self.on_board_mouse(slot, sel, m);
        }
        if self.popup.is_some() {
            return vec![];
        }
        let hit = {
            let hits = self.hits.borrow();
            let at = |r: &ratatui::layout::Rect| m.column >= r.x && m.column < r.x + r.width && m.row >= r.y && m.row < r.y + r.height;
            let specific = hits.iter().rev().find(|(r, h)| at(r) && !matches!(h, Hit::Panel(_))).map(|(_, h)| *h);
            let panel = hits.iter().rev().find(|(r, h)| at(r) && matches!(h, Hit::Panel(_))).map(|(_, h)| *h);
            (specific, panel)
        };
        match m.kind {
            MouseEventKind::Down(MouseButton::Left) => {
                let now = crate::domain::now_ms();
                let double = hit.0.is_some() && self.last_click.is_some_and(|(h, t)| Some(h) == hit.0 && now.saturating_sub(t) < 400);
                self.last_click = hit.0.map(|h| (h, now));
                if let Some(Hit::Panel(f)) = hit.1 {
                    self.focus = f;
                }
                match hit.0 {
                    Some(Hit::Scene(i)) => {
                        if let Some(v) = self.session.as_mut() {
                            v.scene_sel = i;
                        }
                    }
                    Some(Hit::Session(i)) => {
                        self.sessions_sel = i;
                        if double {
                            return self.sessions_command(crate::tui::keymap::Cmd::Open);
                        }
                    }
                    _ => {}
                }
            }
            MouseEventKind::ScrollUp | MouseEventKind::ScrollDown => {
                let up = m.kind == MouseEventKind::ScrollUp;
                if self.screen == Screen::Sessions {
                    let n = self.sessions.len();
                    self.sessions_sel = if up { self.sessions_sel.saturating_sub(1) } else { (self.sessions_sel + 1).min(n.saturating_sub(1)) };
                    return vec![];
                }
                let Some(v) = self.session.as_mut() else { return vec![] };
                match hit.1 {
                    Some(Hit::Panel(Focus::Chat)) => v.chat_scroll = if up { v.chat_scroll + 3 } else { v.chat_scroll.saturating_sub(3) },
                    Some(Hit::Panel(Focus::Scenes)) => {
                        let n = v.state.scenes.len();
                        v.scene_sel = if up { v.scene_sel.saturating_sub(1) } else { (v.scene_sel + 1).min(n.saturating_sub(1)) };
                    }
                    Some(Hit::Panel(Focus::Quality)) => v.quality_scroll = if up { v.quality_scroll.saturating_sub(1) } else { v.quality_scroll + 1 },
                    _ => {}
                }
            }
            _ => {}
        }
        vec![]
    }

    /// On the board, a click chooses a candidate; a click on the chosen one uses it.
    fn on_board_mouse(&mut self, slot: crate::domain::Slot, sel: usize, m: crossterm::event::MouseEvent) -> Vec<Effect> {
        use crossterm::event::{MouseButton, MouseEventKind};
        if m.kind != MouseEventKind::Down(MouseButton::Left) {
            return vec![];
        }
        let hit = self.hits.borrow().iter().rev().find_map(|(r, h)| match h {
            Hit::Candidate(i) if m.column >= r.x && m.column < r.x + r.width && m.row >= r.y && m.row < r.y + r.height => Some(*i),
            _ => None,
        });
        let Some(i) = hit else { return vec![] };
        if i == sel {
            self.popup = None;
            return self.use_candidate(slot, i);
        }
        self.popup = Some(Popup::Board { slot, sel: i });
        vec![]
    }

    /// The list in the chosen order, the same session still selected.
    pub(super) fn resort_sessions(&mut self) {
        let selected = self.sessions.get(self.sessions_sel).map(|r| r.id.clone());
        self.sessions = sort::sorted(self.sessions_loaded.clone(), self.sessions_sort);
        self.sessions_sel = selected.and_then(|id| self.sessions.iter().position(|r| r.id == id)).unwrap_or(self.sessions_sel).min(self.sessions.len().saturating_sub(1));
    }

    /// What the state folder keeps of the layout, as it now is.
    pub(super) fn remember_view(&self) -> Effect {
        Effect::RememberView { fold_images: self.thumbs_folded, chat_pct: self.chat_pct }
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

    pub fn update(&mut self, action: Action) -> Vec<Effect> {
        self.dirty = true;
        match action {
            Action::Key(k) => self.on_key(k),
            Action::Mouse(m) => self.on_mouse(m),
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
                self.now_ms = crate::domain::now_ms();
                self.player_tick();
                vec![]
            }
            Action::Pipeline(u) => self.on_update(u),
            Action::GateReached { session, gate } => self.gate_reached(session, gate),
            Action::RunFinished { session, result } => self.run_finished(session, result),
            Action::SessionsLoaded(rows) => {
                self.sessions_loaded = rows;
                self.resort_sessions();
                vec![]
            }
            Action::SessionOpened { state, events } => self.session_opened(state, events),
            Action::Interpreted { session, result } => self.interpreted(session, result),
            Action::Created { session } => self.created(session),
            Action::Error(m) => {
                if let (None, Some(text)) = (&self.session, self.pending_brief.take()) {
                    // The brief was refused: the text comes back to be fixed, not lost.
                    self.input = TextArea::new(text.lines().map(str::to_string).collect());
                    self.input.move_cursor(ratatui_textarea::CursorMove::Bottom);
                    self.input.move_cursor(ratatui_textarea::CursorMove::End);
                    self.focus = Focus::Input;
                }
                match self.session.as_mut().filter(|_| self.screen == Screen::Session) {
                    Some(v) => v.chat.push(ChatLine { who: Who::Error, text: m, badge: None, image: None }),
                    None => self.status = m,
                }
                vec![]
            }
            Action::Info(m) => {
                self.status = m;
                self.status_is_error = false;
                vec![]
            }
            Action::PreviewReady => vec![],
            Action::LookResolved { session, result } => match result {
                Ok(cmd) if self.session.as_ref().is_some_and(|v| v.id == session) => self.session_change(cmd, true),
                Ok(_) => vec![],
                Err(m) => {
                    self.status = m;
                    vec![]
                }
            },
            Action::Thumbnail { asset, lines } => {
                self.thumbs.insert(asset, lines);
                vec![]
            }
            Action::ImagesLoaded(images) => {
                self.small_images.extend(images);
                vec![]
            }
            Action::AnimaticLoaded(frames) => {
                self.animatic = Some(frames);
                vec![]
            }
        }
    }

}
