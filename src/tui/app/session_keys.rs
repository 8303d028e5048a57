//! Keys on the session screen: chat scrolling, previews, approval, scene edits and clip
//! retries; and the one way a change reaches a session (`session_change`).

use ratatui_textarea::TextArea;

use super::{idle_gate, App, EditField, Focus, Popup, RunState, Undo};
use crate::domain::{CameraMove, Command, Scene, ScenePatch, Transition, TransitionKind};
use crate::pipeline::{Decision, Gate};
use crate::tui::action::Effect;
use crate::tui::keymap::Cmd;

impl App {
    /// A change to the open session (a scene edit, a budget), through the one writer that
    /// may record it: the waiting run (at a gate), or the store directly when nothing runs
    /// (then run on, if asked). Refused while rendering.
    pub(super) fn session_change(&mut self, cmd: Command, then_run: bool) -> Vec<Effect> {
        let Some(v) = self.session.as_mut() else { return vec![] };
        match &v.run {
            RunState::AtGate(_) => {
                v.run = RunState::Running;
                vec![Effect::Decide(Decision::Commands(vec![cmd]))]
            }
            RunState::Idle => {
                if then_run {
                    v.begin_run(crate::domain::now_ms());
                }
                vec![Effect::Command { session: v.id.clone(), cmd, then_run }]
            }
            _ => {
                let doing = v.state.current_stage().map_or("working".to_string(), |s| format!("busy with {s}"));
                self.status = format!("{doing}: wait for it, or Ctrl-S to stop, then edit");
                vec![]
            }
        }
    }

    /// A scene change the user can take back: sent like any change, and remembered with
    /// the command that undoes it.
    pub(super) fn undoable(&mut self, label: String, cmd: Command, inverse: Command) -> Vec<Effect> {
        let effects = self.session_change(cmd.clone(), true);
        if let (false, Some(v)) = (effects.is_empty(), self.session.as_mut()) {
            v.undo.push(Undo { label: label.clone(), undo: inverse, redo: cmd });
            v.redo.clear();
            self.status = format!("{label} — u undoes");
            self.status_is_error = false;
        }
        effects
    }

    /// An edit of one scene's fields, undoable.
    pub(super) fn edit_scene(&mut self, label: String, scene: &Scene, patch: ScenePatch) -> Vec<Effect> {
        let inverse = Command::EditScene { scene_id: scene.id, patch: patch.undoing(scene) };
        self.undoable(label, Command::EditScene { scene_id: scene.id, patch }, inverse)
    }

    /// `u` and Ctrl-R: take the last scene change back, or make it again.
    pub(super) fn undo_redo(&mut self, redo: bool) -> Vec<Effect> {
        let Some(v) = self.session.as_mut() else { return vec![] };
        let Some(step) = (if redo { v.redo.pop() } else { v.undo.pop() }) else {
            self.status = if redo { "nothing to redo".into() } else { "nothing to undo".into() };
            return vec![];
        };
        let cmd = if redo { step.redo.clone() } else { step.undo.clone() };
        let effects = self.session_change(cmd, true);
        let Some(v) = self.session.as_mut() else { return effects };
        if effects.is_empty() {
            // Refused (busy): it stays where it was.
            if redo { v.redo.push(step) } else { v.undo.push(step) }
            return effects;
        }
        self.status = if redo { format!("redone: {} — u undoes", step.label) } else { format!("undone: {} — Ctrl-R redoes", step.label) };
        self.status_is_error = false;
        if redo { v.undo.push(step) } else { v.redo.push(step) }
        effects
    }

    pub(super) fn session_command(&mut self, c: Cmd) -> Vec<Effect> {
        let Some(v) = self.session.as_mut() else { return vec![] };
        let scenes = v.state.scenes.len();
        match (self.focus, c) {
            (Focus::Chat, Cmd::Up | Cmd::Down | Cmd::PageUp | Cmd::PageDown | Cmd::Top | Cmd::Bottom) => {
                // Scrolling by hand leaves a search's mark.
                v.chat_mark = None;
                v.chat_scroll = match c {
                    Cmd::Up => v.chat_scroll + 1,
                    Cmd::Down => v.chat_scroll.saturating_sub(1),
                    Cmd::PageUp => v.chat_scroll + 10,
                    Cmd::PageDown => v.chat_scroll.saturating_sub(10),
                    Cmd::Top => usize::MAX / 2,
                    _ => 0,
                };
            }
            (Focus::Chat, Cmd::CopyPath) => match v.output_path.clone() {
                Some(path) => {
                    self.status = format!("copied to the clipboard: {path}");
                    self.status_is_error = false;
                    return vec![Effect::Copy(path)];
                }
                None => self.status = "no advert path to copy yet".into(),
            },
            (Focus::Chat, Cmd::Preview) => {
                self.preview = v.chat.iter().rev().find_map(|l| l.image.clone());
                if self.preview.is_none() {
                    self.status = "no image in the chat yet".into();
                }
            }
            (_, Cmd::Approve) => {
                let text = "approve".to_string();
                let waiting = match &v.run {
                    RunState::AtGate(g) => Some(g.clone()),
                    // Idle: only what really waits for approval (an unapproved story or
                    // scenes), never a finished advert.
                    RunState::Idle if v.state.story.is_some() && v.state.story_approved.is_none() => Some(Gate::Story),
                    RunState::Idle if !v.state.scenes.is_empty() && v.state.scenes_approved.is_none() => Some(idle_gate(&v.state, &self.rules)),
                    RunState::Idle if v.state.animatic.is_some() && v.state.animatic_approved.is_none() => Some(idle_gate(&v.state, &self.rules)),
                    _ => None,
                };
                let unapproved = (v.state.story.is_some() && v.state.story_approved.is_none())
                    || (!v.state.scenes.is_empty() && v.state.scenes_approved.is_none())
                    || (v.state.animatic.is_some() && v.state.animatic_approved.is_none());
                return match waiting {
                    Some(gate) => vec![Effect::Interpret { session: v.id.clone(), text, gate }],
                    // Busy on the way to a gate (an edit being recorded): approve when asked.
                    None if v.run == RunState::Running && unapproved => {
                        v.approve_when_asked = true;
                        self.status = "approving as soon as the run asks".into();
                        self.status_is_error = false;
                        vec![]
                    }
                    None => {
                        self.status = if v.state.is_done() {
                            "nothing waits for approval: the advert is done (edit a scene or type feedback to change it)".into()
                        } else if v.state.scenes.is_empty() {
                            "nothing to approve yet: the scenes are not written".into()
                        } else {
                            "nothing waits for approval now".into()
                        };
                        vec![]
                    }
                };
            }
            (Focus::Scenes | Focus::Progress, Cmd::Up | Cmd::Down) => {
                let sel = if self.focus == Focus::Scenes { &mut v.scene_sel } else { &mut v.progress_sel };
                *sel = if c == Cmd::Up { sel.saturating_sub(1) } else { (*sel + 1).min(scenes.saturating_sub(1)) };
                // An open preview follows the selection.
                if self.preview.is_some() {
                    let idx = *sel;
                    self.preview = v.state.scenes.get(idx).and_then(|s| v.state.keyframes.get(&s.id)).map(|k| k.image.clone()).or(self.preview.take());
                }
            }
            (Focus::Quality, Cmd::Up) => v.quality_scroll = v.quality_scroll.saturating_sub(1),
            // The panel clamps it to what is there.
            (Focus::Quality, Cmd::Down) => v.quality_scroll = (v.quality_scroll + 1).min(scenes + 24),
            (Focus::Scenes | Focus::Progress, Cmd::Preview) => {
                let idx = if self.focus == Focus::Scenes { v.scene_sel } else { v.progress_sel };
                self.preview = v.state.scenes.get(idx).and_then(|s| v.state.keyframes.get(&s.id)).map(|k| k.image.clone());
                if self.preview.is_none() {
                    self.status = "this scene has no keyframe yet".into();
                }
            }
            (Focus::Scenes, Cmd::PickCamera) => {
                let Some(scene) = v.state.scenes.get(v.scene_sel) else { return vec![] };
                let sel = CameraMove::ALL.iter().position(|m| *m == scene.camera).unwrap_or(0);
                self.popup = Some(Popup::Camera { scene_id: scene.id, sel });
            }
            (Focus::Scenes, Cmd::EditText | Cmd::EditDescription | Cmd::EditVoiceover | Cmd::EditDuration) => {
                let Some(scene) = v.state.scenes.get(v.scene_sel).cloned() else { return vec![] };
                let (field, text) = match c {
                    Cmd::EditText => (EditField::Text, scene.on_screen_text),
                    Cmd::EditVoiceover => (EditField::Voiceover, scene.voiceover),
                    Cmd::EditDuration => (EditField::Duration, format!("{:.1}", scene.duration_s)),
                    _ => (EditField::Description, scene.description),
                };
                let mut editor = TextArea::new(vec![text]);
                editor.move_cursor(ratatui_textarea::CursorMove::End);
                self.popup = Some(Popup::EditScene { scene_id: scene.id, field, editor });
            }
            (Focus::Scenes, Cmd::CycleCamera) => {
                let Some(scene) = v.state.scenes.get(v.scene_sel).cloned() else { return vec![] };
                let i = CameraMove::ALL.iter().position(|m| *m == scene.camera).unwrap_or(0);
                let next = CameraMove::ALL[(i + 1) % CameraMove::ALL.len()];
                let label = format!("scene {}: camera {next}", v.scene_sel + 1);
                return self.edit_scene(label, &scene, ScenePatch { camera: Some(next), ..Default::default() });
            }
            (Focus::Scenes, Cmd::CycleTransition) => {
                let Some(scene) = v.state.scenes.get(v.scene_sel).cloned() else { return vec![] };
                let i = TransitionKind::ALL.iter().position(|k| *k == scene.transition.kind).unwrap_or(0);
                let next = Transition::of(TransitionKind::ALL[(i + 1) % TransitionKind::ALL.len()]);
                let label = format!("scene {}: in by {next}", v.scene_sel + 1);
                return self.edit_scene(label, &scene, ScenePatch { transition: Some(next), ..Default::default() });
            }
            (Focus::Scenes, Cmd::DurationUp | Cmd::DurationDown) => {
                let Some(scene) = v.state.scenes.get(v.scene_sel).cloned() else { return vec![] };
                let d = (scene.duration_s + if c == Cmd::DurationUp { 0.5 } else { -0.5 }).clamp(0.5, 60.0);
                let label = format!("scene {}: {d:.1} s", v.scene_sel + 1);
                return self.edit_scene(label, &scene, ScenePatch { duration_s: Some(d), ..Default::default() });
            }
            (Focus::Scenes, Cmd::MoveUp | Cmd::MoveDown) => {
                let Some(scene) = v.state.scenes.get(v.scene_sel) else { return vec![] };
                let from = v.scene_sel;
                let to = if c == Cmd::MoveUp { from.saturating_sub(1) } else { (from + 1).min(scenes - 1) };
                let id = scene.id;
                v.scene_sel = to;
                let label = format!("scene {} moved to position {}", from + 1, to + 1);
                return self.undoable(label, Command::MoveScene { scene_id: id, index: to }, Command::MoveScene { scene_id: id, index: from });
            }
            (Focus::Scenes, Cmd::AddScene) => {
                let after = v.selected_scene_id();
                let new_id = v.state.next_scene_id();
                v.scene_sel += 1;
                let label = format!("scene added at position {}", v.scene_sel + 1);
                let cmd = Command::AddScene { after, description: "New scene: describe it (E)".into(), duration_s: 3.0 };
                return self.undoable(label, cmd, Command::RemoveScene { scene_id: new_id });
            }
            (Focus::Scenes, Cmd::RemoveScene) => {
                let Some(scene) = v.state.scenes.get(v.scene_sel).cloned() else { return vec![] };
                let label = format!("scene {} deleted", v.scene_sel + 1);
                let restore = Command::RestoreScene { scene: scene.clone(), index: v.scene_sel };
                return self.undoable(label, Command::RemoveScene { scene_id: scene.id }, restore);
            }
            (Focus::Scenes, Cmd::RegenerateScene) => {
                let Some(scene) = v.state.scenes.get(v.scene_sel).cloned() else { return vec![] };
                let label = format!("scene {} rewritten", v.scene_sel + 1);
                let back = Command::EditScene { scene_id: scene.id, patch: ScenePatch::whole(&scene) };
                return self.undoable(label, Command::RefineScenes { feedback: "regenerate this scene".into(), scene_id: Some(scene.id) }, back);
            }
            (Focus::Scenes, Cmd::Board) => {
                let Some(id) = v.selected_scene_id() else {
                    self.status = "there are no scenes yet".into();
                    return vec![];
                };
                return self.open_board(crate::domain::Slot::Keyframe(id));
            }
            (_, Cmd::Animatic) => return self.open_animatic(),
            (Focus::Chat, Cmd::FoldImages) => {
                self.thumbs_folded = !self.thumbs_folded;
                self.status = if self.thumbs_folded { "images folded to a line each (f unfolds, p previews)" } else { "images shown" }.into();
                self.status_is_error = false;
                return vec![self.remember_view()];
            }
            (Focus::Scenes, Cmd::FullDescription) => self.full_description = !self.full_description,
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
}
