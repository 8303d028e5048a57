//! The animatic player: the cheap preview of the whole advert, frame by frame, with its
//! scenes on a time bar. Scrub it, play it, and approve it (or close it and change the
//! timing) before any paid clip is rendered.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::{App, Popup, RunState};
use crate::domain::SessionState;
use crate::media::{SegmentKind, Timeline};
use crate::pipeline::cut::{animatic_identity, FinishRules};
use crate::tui::action::Effect;
use crate::tui::keymap::Cmd;

/// The animatic's timeline as the session now plans it: where each card and scene sits.
pub fn animatic_timeline(state: &SessionState, rules: &FinishRules) -> Option<Timeline> {
    animatic_identity(state, rules).map(|spec| Timeline::of(&spec))
}

/// "intro", "scene 2", "end card".
pub fn segment_name(kind: SegmentKind) -> String {
    match kind {
        SegmentKind::Intro => "intro card".into(),
        SegmentKind::Clip(k) => format!("scene {}", k + 1),
        SegmentKind::Outro => "end card".into(),
    }
}

impl App {
    /// Open the player on the session's animatic, loading its frames.
    pub(super) fn open_animatic(&mut self) -> Vec<Effect> {
        let Some(v) = &self.session else { return vec![] };
        let Some(a) = v.state.animatic.as_ref() else {
            self.status = if v.state.brief().animatic == Some(false) {
                "this advert has no animatic (its brief says animatic: false)".into()
            } else {
                "no animatic yet: it is made after the keyframes, before the clips".into()
            };
            return vec![];
        };
        self.popup = Some(Popup::Animatic { at_s: 0.0, playing: None });
        if !self.images || self.animatic.as_ref().is_some_and(|f| f.asset == a.video) {
            return vec![];
        }
        vec![Effect::LoadAnimatic { session: v.id.clone(), asset: a.video.clone() }]
    }

    /// The animatic's length as made.
    fn animatic_length(&self) -> f64 {
        self.session.as_ref().and_then(|v| v.state.animatic.as_ref()).map_or(0.0, |a| a.duration_s)
    }

    /// Is the player playing (the event loop then ticks fast)?
    pub fn playing(&self) -> bool {
        matches!(self.popup, Some(Popup::Animatic { playing: Some(_), .. }))
    }

    /// A tick while playing: the time moves with the clock, and stops at the end.
    pub(super) fn player_tick(&mut self) {
        let end = self.animatic_length();
        if let Some(Popup::Animatic { at_s, playing }) = &mut self.popup {
            if let Some((since_ms, from_s)) = *playing {
                *at_s = (from_s + self.now_ms.saturating_sub(since_ms) as f64 / 1000.0).min(end);
                if *at_s >= end {
                    *playing = None;
                }
            }
        }
    }

    /// Keys in the player: Space plays, ←/→ step half a second (Shift: 2 s), [ / ]
    /// jump between scenes, Home / End, A approves, y copies the file's path, Esc closes.
    pub(super) fn on_player_key(&mut self, at_s: f64, playing: Option<(u64, f64)>, k: KeyEvent) -> Vec<Effect> {
        let end = self.animatic_length();
        let step = if k.modifiers.contains(KeyModifiers::SHIFT) { 2.0 } else { 0.5 };
        let starts: Vec<f64> = self
            .session
            .as_ref()
            .and_then(|v| animatic_timeline(&v.state, &self.rules.finish))
            .map(|t| t.segments.iter().map(|s| s.slot_start_s).collect())
            .unwrap_or_default();
        let now = crate::domain::now_ms();
        let seek = |t: f64| (t.clamp(0.0, end), None);
        let (at_s, playing) = match k.code {
            KeyCode::Esc | KeyCode::Char('q') | KeyCode::Char('P') => return vec![],
            KeyCode::Char(' ') if playing.is_some() => (at_s, None),
            // Playing from the end starts again.
            KeyCode::Char(' ') => {
                let from = if at_s >= end - 0.05 { 0.0 } else { at_s };
                (from, Some((now, from)))
            }
            KeyCode::Left | KeyCode::Char('h') | KeyCode::Char('H') => seek(at_s - step),
            KeyCode::Right | KeyCode::Char('l') | KeyCode::Char('L') => seek(at_s + step),
            KeyCode::Char(']') | KeyCode::Char('j') | KeyCode::Down => seek(starts.iter().copied().find(|s| *s > at_s + 0.01).unwrap_or(end)),
            // Within the first half second of a scene, [ goes to the one before.
            KeyCode::Char('[') | KeyCode::Char('k') | KeyCode::Up => seek(starts.iter().copied().rev().find(|s| *s < at_s - 0.5).unwrap_or(0.0)),
            KeyCode::Home | KeyCode::Char('g') | KeyCode::Char('0') => seek(0.0),
            KeyCode::End | KeyCode::Char('G') | KeyCode::Char('$') => seek(end),
            KeyCode::Char('y') => {
                let Some(f) = &self.animatic else { return self.keep_player(at_s, playing) };
                let path = f.path.display().to_string();
                self.status = format!("copied to the clipboard: {path}");
                self.status_is_error = false;
                self.popup = Some(Popup::Animatic { at_s, playing });
                return vec![Effect::Copy(path)];
            }
            KeyCode::Char('A') | KeyCode::Char('a') => {
                let at_gate = self.session.as_ref().is_some_and(|v| matches!(v.run, RunState::AtGate(crate::pipeline::Gate::Animatic(_))) || (v.run == RunState::Idle && v.state.animatic_approved.is_none()));
                if !at_gate {
                    self.status = "the animatic is already approved".into();
                    return self.keep_player(at_s, playing);
                }
                return self.session_command(Cmd::Approve);
            }
            _ => (at_s, playing),
        };
        self.keep_player(at_s, playing)
    }

    fn keep_player(&mut self, at_s: f64, playing: Option<(u64, f64)>) -> Vec<Effect> {
        self.popup = Some(Popup::Animatic { at_s, playing });
        vec![]
    }
}
