//! Popups and their keys: help, the quit and delete confirmations, the command line,
//! the scene text editor, the mood board (`board`) and the animatic player (`player`).

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui_textarea::TextArea;

use super::{App, RunState};
use crate::domain::ScenePatch;
use crate::tui::action::Effect;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EditField {
    Text,
    Description,
    Voiceover,
    /// Seconds, typed (`4`, `4.5`, `4.5s`).
    Duration,
}

pub enum Popup {
    /// The help overlay, scrolled down by this many lines.
    Help { scroll: usize },
    ConfirmQuit,
    ConfirmDelete(String),
    CommandLine(TextArea<'static>),
    EditScene { scene_id: u32, field: EditField, editor: TextArea<'static> },
    /// `/`: the search being typed (each key moves to the first match).
    Search { within: super::Within, editor: TextArea<'static> },
    /// The camera moves to choose from for one scene, `sel` the highlighted one.
    Camera { scene_id: u32, sel: usize },
    /// The mood board of one slot, `sel` the candidate chosen with the keys.
    Board { slot: crate::domain::Slot, sel: usize },
    /// The animatic player at `at_s`; while playing, since when (ms) and from where.
    Animatic { at_s: f64, playing: Option<(u64, f64)> },
}

/// A scene length typed by hand: `4`, `4.5`, `4.5s`, `4,5`, between half a second and a minute.
pub fn parse_seconds(text: &str) -> Result<f64, String> {
    let t = text.trim().trim_end_matches('s').trim().replace(',', ".");
    match t.parse::<f64>() {
        Ok(d) if (0.5..=60.0).contains(&d) => Ok((d * 10.0).round() / 10.0),
        Ok(d) => Err(format!("{d} s is out of range: a scene lasts 0.5 to 60 s")),
        Err(_) => Err(format!("'{}' is not a number of seconds (e.g. 4 or 4.5)", text.trim())),
    }
}

impl App {
    pub(super) fn on_popup_key(&mut self, k: KeyEvent) -> Vec<Effect> {
        let esc = k.code == KeyCode::Esc;
        let enter = k.code == KeyCode::Enter && !k.modifiers.intersects(KeyModifiers::ALT | KeyModifiers::SHIFT);
        let ctrl_c = k.code == KeyCode::Char('c') && k.modifiers.contains(KeyModifiers::CONTROL);
        let Some(popup) = self.popup.take() else { return vec![] };
        match popup {
            Popup::Board { slot, sel } => self.on_board_key(slot, sel, k),
            Popup::Camera { scene_id, sel } => {
                let n = crate::domain::CameraMove::ALL.len();
                let sel = match k.code {
                    KeyCode::Esc | KeyCode::Char('q') => return vec![],
                    KeyCode::Enter => {
                        let Some((position, scene)) = self.session.as_ref().and_then(|v| Some((v.state.scene_number(scene_id)?, v.state.scene(scene_id)?.clone()))) else { return vec![] };
                        let camera = crate::domain::CameraMove::ALL[sel];
                        if camera == scene.camera {
                            return vec![];
                        }
                        let label = format!("scene {position}: camera {camera}");
                        return self.edit_scene(label, &scene, ScenePatch { camera: Some(camera), ..Default::default() });
                    }
                    KeyCode::Up | KeyCode::Char('k') => sel.saturating_sub(1),
                    KeyCode::Down | KeyCode::Char('j') => (sel + 1).min(n - 1),
                    KeyCode::Char(c @ '1'..='9') if ((c as u8 - b'1') as usize) < n => (c as u8 - b'1') as usize,
                    _ => sel,
                };
                self.popup = Some(Popup::Camera { scene_id, sel });
                vec![]
            }
            Popup::Animatic { at_s, playing } => self.on_player_key(at_s, playing, k),
            Popup::Help { scroll } => {
                // Scroll keys scroll; any other key closes.
                let scroll = match k.code {
                    KeyCode::Char('j') | KeyCode::Down => Some(scroll + 1),
                    KeyCode::Char('k') | KeyCode::Up => Some(scroll.saturating_sub(1)),
                    KeyCode::PageDown | KeyCode::Char(' ') => Some(scroll + 10),
                    KeyCode::PageUp => Some(scroll.saturating_sub(10)),
                    KeyCode::Char('g') | KeyCode::Home => Some(0),
                    KeyCode::Char('G') | KeyCode::End => Some(200),
                    _ => None,
                };
                if let Some(scroll) = scroll {
                    self.popup = Some(Popup::Help { scroll: scroll.min(200) });
                }
                vec![]
            }
            Popup::ConfirmQuit => match k.code {
                KeyCode::Char('y') | KeyCode::Char('Y') | KeyCode::Enter => {
                    self.quitting = true;
                    self.status = "stopping: waiting for the running work to end, then quitting…".into();
                    self.status_is_error = false;
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
            Popup::Search { within, mut editor } => {
                if esc || ctrl_c {
                    self.search = None;
                    return vec![];
                }
                if !enter {
                    editor.input(k);
                }
                let query = editor.lines().join(" ");
                if !query.trim().is_empty() {
                    self.go_to_match(within, query.trim(), None);
                }
                if enter {
                    self.search = (!query.trim().is_empty()).then(|| super::Search { within, query: query.trim().to_string() });
                    return vec![];
                }
                self.popup = Some(Popup::Search { within, editor });
                vec![]
            }
            Popup::CommandLine(mut t) => {
                if esc || ctrl_c {
                    return vec![];
                }
                if enter {
                    let line = t.lines().join(" ");
                    return self.run_command_line(line.trim().trim_start_matches(':'));
                }
                let typed = t.lines().join(" ");
                let replace = match k.code {
                    KeyCode::Tab => self.complete_command_line(&typed),
                    KeyCode::Up => self.command_history(true),
                    KeyCode::Down => self.command_history(false),
                    _ => {
                        t.input(k);
                        None
                    }
                };
                if let Some(line) = replace {
                    t = TextArea::new(vec![line]);
                    t.set_placeholder_text(super::verb_summary(" · "));
                    t.move_cursor(ratatui_textarea::CursorMove::End);
                }
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
                        EditField::Voiceover => ScenePatch { voiceover: Some(text), ..Default::default() },
                        EditField::Duration => match parse_seconds(&text) {
                            Ok(d) => ScenePatch { duration_s: Some(d), ..Default::default() },
                            Err(e) => {
                                // Said, and the text stays to be fixed.
                                self.status = e;
                                self.popup = Some(Popup::EditScene { scene_id, field, editor });
                                return vec![];
                            }
                        },
                    };
                    let position = self.session.as_ref().and_then(|v| v.state.scene_number(scene_id));
                    let Some(scene) = self.session.as_ref().and_then(|v| v.state.scene(scene_id).cloned()) else { return vec![] };
                    let label = format!("scene {} edited", position.map_or(scene_id, |p| p as u32));
                    return self.edit_scene(label, &scene, patch);
                }
                editor.input(k);
                self.popup = Some(Popup::EditScene { scene_id, field, editor });
                vec![]
            }
        }
    }
}
