//! `/` search in the chat, the scenes and the sessions list: incremental while typing,
//! `n` / `N` to the next and previous match once it is set, Esc to leave it.

use super::{App, Focus, Popup, Screen};
use crate::tui::action::Effect;

/// Where a search looks: the panel it was started in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Within {
    Chat,
    Scenes,
    Sessions,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Search {
    pub within: Within,
    pub query: String,
}

impl App {
    /// Where `/` searches from here, if anywhere.
    pub(super) fn search_scope(&self) -> Option<Within> {
        match (self.screen, self.focus) {
            (Screen::Sessions, _) => Some(Within::Sessions),
            (Screen::Session, Focus::Chat) => Some(Within::Chat),
            (Screen::Session, Focus::Scenes) => Some(Within::Scenes),
            _ => None,
        }
    }

    pub(super) fn start_search(&mut self) -> Vec<Effect> {
        match self.search_scope() {
            Some(within) => {
                let mut t = ratatui_textarea::TextArea::default();
                t.set_placeholder_text("text to find (Enter keeps it: n / N; Esc leaves)");
                self.popup = Some(Popup::Search { within, editor: t });
            }
            None => self.status = "/ searches the chat, the scenes and the sessions list: focus one of them (Tab)".into(),
        }
        vec![]
    }

    /// The items that match, in order (chat messages, scenes or sessions, by index).
    fn matches(&self, within: Within, query: &str) -> Vec<usize> {
        let q = query.to_lowercase();
        if q.is_empty() {
            return vec![];
        }
        let has = |s: &str| s.to_lowercase().contains(&q);
        match within {
            Within::Sessions => self.sessions.iter().enumerate().filter(|(_, r)| has(&r.title) || has(&r.id) || has(&r.status)).map(|(i, _)| i).collect(),
            Within::Chat => self.session.as_ref().map_or(vec![], |v| v.chat.iter().enumerate().filter(|(_, l)| has(&l.text)).map(|(i, _)| i).collect()),
            Within::Scenes => self.session.as_ref().map_or(vec![], |v| {
                v.state.scenes.iter().enumerate().filter(|(_, s)| has(&s.description) || has(&s.on_screen_text) || has(&s.voiceover)).map(|(i, _)| i).collect()
            }),
        }
    }

    fn current(&self, within: Within) -> usize {
        match within {
            Within::Sessions => self.sessions_sel,
            Within::Chat => self.session.as_ref().and_then(|v| v.chat_mark).unwrap_or(usize::MAX),
            Within::Scenes => self.session.as_ref().map_or(0, |v| v.scene_sel),
        }
    }

    fn select(&mut self, within: Within, i: usize) {
        match within {
            Within::Sessions => self.sessions_sel = i,
            Within::Chat => {
                if let Some(v) = self.session.as_mut() {
                    v.chat_mark = Some(i);
                }
            }
            Within::Scenes => {
                if let Some(v) = self.session.as_mut() {
                    v.scene_sel = i;
                }
            }
        }
    }

    /// Go to a match: the first from the current item on (`Some(true)` next, `Some(false)`
    /// previous, `None` the current one if it matches). Says when nothing matches.
    pub(super) fn go_to_match(&mut self, within: Within, query: &str, step: Option<bool>) {
        let found = self.matches(within, query);
        if found.is_empty() {
            self.status = format!("no match for '{query}'");
            return;
        }
        let cur = self.current(within);
        let pick = match step {
            None => found.iter().find(|i| **i >= cur.min(usize::MAX - 1)).or(found.first()),
            Some(true) => found.iter().find(|i| cur == usize::MAX || **i > cur).or(found.first()),
            Some(false) => found.iter().rev().find(|i| cur != usize::MAX && **i < cur).or(found.last()),
        };
        let at = *pick.expect("found is not empty");
        let n = found.iter().position(|i| *i == at).unwrap_or(0) + 1;
        self.select(within, at);
        self.status = format!("'{query}': match {n} of {} (n / N)", found.len());
        self.status_is_error = false;
    }

    /// `n` / `N` while a search is set in this panel.
    pub(super) fn search_step(&mut self, forward: bool) -> bool {
        let Some(s) = self.search.clone().filter(|s| Some(s.within) == self.search_scope()) else { return false };
        self.go_to_match(s.within, &s.query, Some(forward));
        true
    }
}
