//! The prompt: typing, history, sending (a new brief or an answer), and the brief
//! fields a user may write on their own lines.

use crossterm::event::KeyEvent;
use ratatui_textarea::TextArea;

use super::{idle_gate, App, ChatLine, RunState, Screen, Who};
use crate::tui::action::Effect;
use crate::tui::keymap::{Cmd, Ctx};

pub fn new_input() -> TextArea<'static> {
    let mut t = TextArea::default();
    t.set_placeholder_text("Describe the advert, or answer: approve · regenerate · make scene 2 more dramatic · edit scene 3: …");
    t.set_cursor_line_style(ratatui::style::Style::default());
    t
}

/// Brief fields the user may put on their own lines: `name: …`, `cta: …`, `aspect: …`,
/// `duration: …`, `framework: …`, `template: …`, `image: ~/shoe.png`, …; the rest is the
/// prompt. A field whose value cannot be read is an error, never silently dropped.
pub fn brief_from_text(text: &str) -> Result<crate::pipeline::BriefInput, String> {
    let mut b = crate::pipeline::BriefInput::default();
    let mut prompt = Vec::new();
    let path = |v: &str| crate::config::expand_user(v);
    for line in text.lines() {
        let (k, v) = line.split_once(':').map(|(k, v)| (k.trim().to_lowercase(), v.trim().to_string())).unwrap_or_default();
        match k.as_str() {
            "name" | "product" | "product name" => b.product_name = Some(v),
            "cta" | "call to action" => b.call_to_action = Some(v),
            "aspect" => b.aspect = Some(v),
            "duration" => {
                let n = v.trim_end_matches(|c: char| c == 's' || c.is_whitespace()).trim_end_matches("second").trim();
                b.duration_s = Some(n.parse().map_err(|_| format!("duration '{v}' is not a number of seconds: write e.g. duration: 15"))?);
            }
            "image" | "product image" | "photo" => b.product_images.push(path(&v)?),
            "logo" => b.logo = Some(path(&v)?),
            "music" => b.music = Some(path(&v)?),
            "voice" => b.voice = Some(v),
            "captions" => b.captions = Some(v),
            "url" | "link" => b.url = Some(v),
            "price" => b.price = Some(v),
            "typeface" | "font" => b.typeface = Some(v),
            "framework" => b.framework = Some(v),
            "template" => b.template = Some(v),
            "tone" => b.tone = Some(v),
            "audience" => b.audience = Some(v),
            "transition" | "transitions" => b.transition = Some(v),
            "look" | "grade" => b.look = Some(v),
            _ => prompt.push(line),
        }
    }
    b.prompt = Some(prompt.join(" ").trim().to_string());
    Ok(b)
}

impl App {
    pub(super) fn on_key(&mut self, k: KeyEvent) -> Vec<Effect> {
        if k.kind != crossterm::event::KeyEventKind::Press {
            return vec![];
        }
        // A message lasts until the next key: it never outlives its cause.
        self.status.clear();
        self.status_is_error = true;
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

    pub(super) fn input_is_empty(&self) -> bool {
        self.input.lines().iter().all(|l| l.is_empty())
    }

    pub(super) fn history_step(&mut self, d: isize) -> Vec<Effect> {
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

    pub(super) fn send(&mut self) -> Vec<Effect> {
        let text = self.input.lines().join("\n").trim().to_string();
        if text.is_empty() {
            self.status = match self.session.as_ref().map(|v| &v.run) {
                None => "describe the advert first, e.g. pink running shoes for Gen Z runners (Alt-Enter for a new line: duration: 15)".into(),
                Some(RunState::AtGate(_)) => "type an answer: approve, regenerate, or what to change".into(),
                Some(_) => "type feedback or an edit, e.g. edit scene 2 camera: pan-right".into(),
            };
            return vec![];
        }
        if self.session.is_none() {
            // Fields that cannot be read are said now, and the text stays to be fixed.
            if let Err(e) = brief_from_text(&text) {
                self.status = e;
                return vec![];
            }
        }
        self.history.push(text.clone());
        self.history_pos = None;
        self.input = new_input();
        match self.session.as_mut() {
            None => {
                self.screen = Screen::Session;
                self.pending_brief = Some(text.clone());
                self.pending_since_ms = crate::domain::now_ms();
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
}
