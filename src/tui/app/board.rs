//! The mood board popup: one slot's candidates side by side, picked with keys or the
//! mouse. A pick is a command like any scene change (undoable) and re-renders only what
//! depends on it.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::Rect;

use super::{App, Popup};
use crate::domain::{candidate_letter, Command, ReferenceKind, Slot};
use crate::pipeline::narrate::slot_word;
use crate::tui::action::Effect;

/// Where the board and its cells go in `area`: the popup, then one rectangle per
/// candidate, in as many rows as fit the pictures largest (`aspect` = width / height).
pub fn board_grid(area: Rect, n: usize, aspect: f64) -> (Rect, Vec<Rect>) {
    let w = area.width.saturating_sub(4).min(160);
    let h = area.height.saturating_sub(2).min(50);
    let popup = Rect { x: area.x + (area.width - w) / 2, y: area.y + (area.height - h) / 2, width: w, height: h };
    // Inside the border, above the line of keys.
    let inner = Rect { x: popup.x + 1, y: popup.y + 1, width: w.saturating_sub(2), height: h.saturating_sub(3) };
    let n = n.max(1);
    let fitted = |per_row: usize| {
        let rows = n.div_ceil(per_row);
        let cw = (inner.width as usize / per_row).saturating_sub(2) as f64;
        let ch = (inner.height as usize / rows).saturating_sub(2) as f64;
        cw.min(ch * 2.0 * aspect)
    };
    let per_row = (1..=n).max_by(|a, b| fitted(*a).total_cmp(&fitted(*b)).then(b.cmp(a))).unwrap_or(1);
    let rows = n.div_ceil(per_row);
    let (cw, ch) = (inner.width / per_row as u16, inner.height / rows as u16);
    let cells = (0..n).map(|i| Rect { x: inner.x + (i % per_row) as u16 * cw, y: inner.y + (i / per_row) as u16 * ch, width: cw, height: ch }).collect();
    (popup, cells)
}

impl App {
    /// The aspect (width / height) of the open advert's pictures.
    pub fn picture_aspect(&self) -> f64 {
        self.session.as_ref().and_then(|v| v.state.render.as_ref()).map_or(16.0 / 9.0, |r| r.width.max(1) as f64 / r.height.max(1) as f64)
    }

    /// Open the mood board of `slot` at its current pick, loading its pictures.
    pub(super) fn open_board(&mut self, slot: Slot) -> Vec<Effect> {
        let Some(v) = &self.session else { return vec![] };
        let Some((_, images)) = v.state.candidates.get(&slot) else {
            self.status = if v.state.candidates.is_empty() {
                "this advert has no mood board: start one with 'candidates: 3' in its brief (or --candidates 3)".into()
            } else {
                format!("{} has no candidates yet (they come when it is made)", slot_word(&slot, &v.state))
            };
            return vec![];
        };
        let sel = v.state.picks.get(&slot).map_or(0, |(i, _)| *i);
        let missing: Vec<_> = images.iter().filter(|a| !self.small_images.contains_key(*a)).cloned().collect();
        self.popup = Some(Popup::Board { slot, sel });
        if missing.is_empty() || !self.images {
            return vec![];
        }
        vec![Effect::LoadImages(missing)]
    }

    /// `:board` (the selected scene's keyframe), `:board 3` (scene 3's), `:board product`.
    pub(super) fn board_command(&mut self, arg: &str) -> Vec<Effect> {
        let Some(v) = &self.session else {
            self.status = "open a session first".into();
            return vec![];
        };
        let slot = if arg.is_empty() {
            v.selected_scene_id().map(Slot::Keyframe)
        } else if let Ok(n) = arg.parse::<usize>() {
            v.state.scenes.get(n.wrapping_sub(1)).map(|s| Slot::Keyframe(s.id))
        } else {
            ReferenceKind::ALL.iter().find(|k| k.id() == arg.to_lowercase()).map(|k| Slot::Reference(*k))
        };
        match slot {
            Some(slot) => self.open_board(slot),
            None => {
                let kinds: Vec<&str> = ReferenceKind::ALL.iter().map(|k| k.id()).collect();
                self.status = format!(":board takes a scene number (1 to {}) or a reference: {}", v.state.scenes.len(), kinds.join(", "));
                vec![]
            }
        }
    }

    /// Keys on the board: arrows / hjkl / a–h choose, Enter uses the chosen one, Esc closes.
    pub(super) fn on_board_key(&mut self, slot: Slot, sel: usize, k: KeyEvent) -> Vec<Effect> {
        let n = self.session.as_ref().and_then(|v| v.state.candidates.get(&slot)).map_or(0, |(_, imgs)| imgs.len());
        if n == 0 {
            return vec![];
        }
        let area = Rect { x: 0, y: 0, width: self.size.0, height: self.size.1 };
        let per_row = {
            let (_, cells) = board_grid(area, n, self.picture_aspect());
            cells.iter().filter(|c| c.y == cells[0].y).count().max(1)
        };
        let sel = match k.code {
            KeyCode::Esc | KeyCode::Char('q') => return vec![],
            KeyCode::Enter => return self.use_candidate(slot, sel),
            KeyCode::Left | KeyCode::Char('h') => sel.saturating_sub(1),
            KeyCode::Right | KeyCode::Char('l') => (sel + 1).min(n - 1),
            KeyCode::Up | KeyCode::Char('k') => sel.saturating_sub(per_row),
            KeyCode::Down | KeyCode::Char('j') => (sel + per_row).min(n - 1),
            KeyCode::Char(c @ 'a'..='z') if ((c as u8 - b'a') as usize) < n => (c as u8 - b'a') as usize,
            KeyCode::Char(c @ '1'..='9') if ((c as u8 - b'1') as usize) < n => (c as u8 - b'1') as usize,
            _ => sel,
        };
        self.popup = Some(Popup::Board { slot, sel });
        vec![]
    }

    /// Use candidate `index` for `slot` (undoable: `u` goes back to the one before).
    pub(super) fn use_candidate(&mut self, slot: Slot, index: usize) -> Vec<Effect> {
        let Some(v) = &self.session else { return vec![] };
        let word = slot_word(&slot, &v.state);
        let before = v.state.picks.get(&slot).map(|(i, _)| *i);
        if before == Some(index) {
            self.status = format!("{word}: {} is already the one in use", candidate_letter(index));
            return vec![];
        }
        let label = format!("{word}: candidate {}", candidate_letter(index));
        let cmd = Command::PickCandidate { slot, index };
        match before {
            Some(b) => self.undoable(label, cmd, Command::PickCandidate { slot, index: b }),
            None => self.session_change(cmd, true),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_grid_puts_pictures_where_they_are_largest() {
        // Wide and low: three wide pictures in one row.
        let (popup, cells) = board_grid(Rect { x: 0, y: 0, width: 200, height: 30 }, 3, 16.0 / 9.0);
        assert_eq!(cells.len(), 3);
        assert!(cells.iter().all(|c| c.y == cells[0].y), "{cells:?}");
        // Taller: two rows make them larger (64 columns each instead of 49).
        let (_, cells) = board_grid(Rect { x: 0, y: 0, width: 160, height: 45 }, 3, 16.0 / 9.0);
        assert_eq!((cells[1].y, cells[2].y > cells[0].y), (cells[0].y, true), "{cells:?}");
        assert!(cells.iter().all(|c| popup.x < c.x + c.width && c.x + c.width <= popup.x + popup.width));
        // Tall pictures on a narrow, tall screen: one column.
        let (_, cells) = board_grid(Rect { x: 0, y: 0, width: 60, height: 80 }, 2, 16.0 / 9.0);
        assert_eq!(cells[1].x, cells[0].x, "{cells:?}");
        // Six in 80x24: every cell inside the screen.
        let (_, cells) = board_grid(Rect { x: 0, y: 0, width: 80, height: 24 }, 6, 9.0 / 16.0);
        assert!(cells.iter().all(|c| c.x + c.width <= 80 && c.y + c.height <= 24 && c.width >= 4), "{cells:?}");
    }
}
