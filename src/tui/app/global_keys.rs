//! Commands that work on every screen (quit, help, the command line, focus, back, stop)
//! and the keys of the sessions screen.

use ratatui_textarea::TextArea;

use super::command_line::verb_summary;
use super::{App, Focus, Popup, RunState, Screen};
use crate::tui::action::Effect;
use crate::tui::keymap::Cmd;

impl App {
    pub(super) fn command(&mut self, c: Cmd) -> Vec<Effect> {
        match c {
            Cmd::Quit => {
                // Any run in progress (clips, compose, scoring) asks first.
                if self.session.as_ref().is_some_and(|v| v.run == RunState::Running) {
                    self.popup = Some(Popup::ConfirmQuit);
                    return vec![];
                }
                if self.is_running() {
                    self.quitting = true;
                    self.status = "stopping: waiting for the running work to end…".into();
                    self.status_is_error = false;
                    return vec![Effect::Stop];
                }
                vec![Effect::Quit]
            }
            Cmd::Help => {
                self.popup = Some(Popup::Help { scroll: 0 });
                vec![]
            }
            Cmd::Suspend => vec![Effect::Suspend],
            Cmd::Narrower | Cmd::Wider if self.screen == Screen::Session => {
                let now = self.chat_pct.unwrap_or(if self.size.0 >= 120 { 58 } else { 52 });
                let step: i32 = if c == Cmd::Wider { 5 } else { -5 };
                let next = (now as i32 + step).clamp(super::CHAT_PCT.0 as i32, super::CHAT_PCT.1 as i32) as u16;
                self.chat_pct = Some(next);
                self.status = format!("chat {next}% of the width (remembered)");
                self.status_is_error = false;
                vec![self.remember_view()]
            }
            Cmd::CommandLine => {
                let mut t = TextArea::default();
                t.set_placeholder_text(verb_summary(" · "));
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
                if self.search.take().is_some() {
                    if let Some(v) = self.session.as_mut() {
                        v.chat_mark = None;
                    }
                    self.status = "search left".into();
                    self.status_is_error = false;
                    return vec![];
                }
                if self.screen == Screen::Session && self.focus != Focus::Input {
                    self.focus = Focus::Input;
                    return vec![];
                }
                if self.screen == Screen::Session && !self.is_running() {
                    self.leave_session();
                    return vec![Effect::LoadSessions];
                }
                vec![]
            }
            Cmd::Search => self.start_search(),
            Cmd::SearchNext | Cmd::SearchPrev => {
                if !self.search_step(c == Cmd::SearchNext) {
                    self.status = "no search yet: / finds text".into();
                }
                vec![]
            }
            Cmd::Undo => self.undo_redo(false),
            Cmd::Redo => self.undo_redo(true),
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

    pub(super) fn sessions_command(&mut self, c: Cmd) -> Vec<Effect> {
        let n = self.sessions.len();
        match c {
            Cmd::Up => self.sessions_sel = self.sessions_sel.saturating_sub(1),
            Cmd::Down => self.sessions_sel = (self.sessions_sel + 1).min(n.saturating_sub(1)),
            Cmd::Refresh => return vec![Effect::LoadSessions],
            Cmd::Sort => {
                self.sessions_sort = self.sessions_sort.next();
                self.resort_sessions();
                self.status = format!("sorted by {}", self.sessions_sort.name());
                self.status_is_error = false;
            }
            // While a search is set here, n and N step through it (Esc leaves it).
            Cmd::NewSession if self.search_step(true) => {}
            Cmd::NewSession => {
                self.session = None;
                self.restore_draft("");
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
}
