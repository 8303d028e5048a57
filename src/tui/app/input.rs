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
/// `duration: …`, `image: ~/shoe.png`, `candidates: 3`, `variants: hooks=2` … — any field
/// a batch column may be (`pipeline::brief_fields`); the rest is the prompt. A field
/// whose value cannot be read is an error, never silently dropped.
pub fn brief_from_text(text: &str) -> Result<crate::pipeline::BriefInput, String> {
    let mut fields = Vec::new();
    let mut prompt = Vec::new();
    for line in text.lines() {
        match line.split_once(':').and_then(|(k, v)| crate::pipeline::brief_fields::brief_field(k).filter(|f| *f != "prompt").map(|f| (f, v))) {
            Some((field, value)) => fields.push((field.to_string(), serde_json::Value::String(value.trim().to_string()))),
            None => prompt.push(line),
        }
    }
    let path = |v: &str| crate::config::expand_user(v).map(|p| p.display().to_string());
    let (mut b, _) = crate::pipeline::brief_fields::brief_input_from(fields, &path)?;
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

#[cfg(test)]
mod tests {
    use super::brief_from_text;

    #[test]
    fn typed_field_lines_read_as_a_batch_column_would() {
        let b = brief_from_text("pink running shoes: light, fast\nName: AirRun\ncandidates: 3\nvariants: hooks=2,aspects=16:9,9:16\nanimatic: no\nimage: /tmp/a.png\nimage: /tmp/b.png\nfont: DejaVu Serif").unwrap();
        assert_eq!(b.prompt.as_deref(), Some("pink running shoes: light, fast"), "a colon in the prompt is not a field");
        assert_eq!(b.product_name.as_deref(), Some("AirRun"));
        assert_eq!((b.candidates, b.animatic), (Some(3), Some(false)));
        assert_eq!(b.variants.as_deref(), Some("hooks=2,aspects=16:9,9:16"));
        assert_eq!(b.product_images.len(), 2, "an image on each line adds up");
        assert_eq!(b.typeface.as_deref(), Some("DejaVu Serif"));
        assert!(brief_from_text("shoes\ncandidates: three").unwrap_err().contains("not a whole number"));
        assert!(brief_from_text("shoes\nduration: fifteen").unwrap_err().contains("'fifteen' is not a number of seconds"));
    }
}
