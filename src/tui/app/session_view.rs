//! The open session as the UI sees it: the folded state, the chat built from its events,
//! selections, live progress and the run's state.

use std::collections::HashMap;

use crate::domain::{AssetId, Event, EventEnvelope, SessionState, Stage};
use crate::pipeline::narrate::describe_event;
use crate::pipeline::{Gate, Task};

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
    pub(super) fn system(text: impl Into<String>) -> ChatLine {
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

/// A scene change the user made, and the command that takes it back. An undo is a new
/// change recorded like any other (the log only grows).
#[derive(Debug, Clone, PartialEq)]
pub struct Undo {
    pub label: String,
    pub undo: crate::domain::Command,
    pub redo: crate::domain::Command,
}

/// The open session as the UI sees it: the folded state plus live, unpersisted progress.
pub struct SessionView {
    pub id: String,
    pub state: SessionState,
    pub chat: Vec<ChatLine>,
    /// Lines scrolled up from the newest; 0 follows new messages.
    pub chat_scroll: usize,
    /// A message the chat shows and marks (a search match), overriding the scroll.
    pub chat_mark: Option<usize>,
    pub scene_sel: usize,
    pub progress_sel: usize,
    /// Lines the Quality panel is scrolled down by.
    pub quality_scroll: usize,
    /// Where the last run put the advert (for `y`, copy).
    pub output_path: Option<String>,
    /// `A` pressed while the run was busy on its way to a gate: the approval is sent when
    /// the run asks.
    pub approve_when_asked: bool,
    /// Scene changes made here, newest last, and those undone (for redo).
    pub undo: Vec<Undo>,
    pub redo: Vec<Undo>,
    /// Live progress per task (a clip, compose), 0..1.
    pub live: HashMap<Task, f32>,
    pub run: RunState,
    pub stage_started_ms: HashMap<Stage, u64>,
    /// When this UI's current (or last) run began and ended: the elapsed clock.
    pub run_started_ms: Option<u64>,
    pub run_ended_ms: Option<u64>,
    /// When each clip of the current run finished (for the ETA: throughput, which
    /// already counts the clips rendered side by side).
    pub clips_done_ms: Vec<u64>,
}

impl SessionView {
    pub fn new(id: String) -> SessionView {
        SessionView {
            id,
            state: SessionState::default(),
            chat: vec![],
            chat_scroll: 0,
            chat_mark: None,
            scene_sel: 0,
            progress_sel: 0,
            quality_scroll: 0,
            output_path: None,
            approve_when_asked: false,
            undo: vec![],
            redo: vec![],
            live: HashMap::new(),
            run: RunState::Idle,
            stage_started_ms: HashMap::new(),
            run_started_ms: None,
            run_ended_ms: None,
            clips_done_ms: vec![],
        }
    }

    /// Every run, however started (keys, a typed intent, `:resume`, reopening), goes
    /// through here: busy, with its own clock.
    pub fn begin_run(&mut self, now_ms: u64) {
        self.run = RunState::Running;
        self.run_started_ms = Some(now_ms);
        self.run_ended_ms = None;
        self.clips_done_ms.clear();
    }

    /// The run ended: idle, the clock stops.
    pub fn end_run(&mut self, now_ms: u64) {
        self.run = RunState::Idle;
        self.approve_when_asked = false;
        if self.run_started_ms.is_some() {
            self.run_ended_ms = Some(now_ms);
        }
    }

    /// Seconds the current run has taken (frozen once it ended).
    pub fn elapsed_s(&self, now_ms: u64) -> Option<u64> {
        let start = self.run_started_ms?;
        Some(self.run_ended_ms.unwrap_or(now_ms).saturating_sub(start) / 1000)
    }

    /// Seconds until the clips are done, from this run's throughput: clips finished per
    /// second since the first clip of the run could start, with the partly rendered ones
    /// counted by their progress. `None` until a clip of this run has finished.
    pub fn clips_eta_s(&self, now_ms: u64) -> Option<u64> {
        if self.run != RunState::Running || self.clips_done_ms.is_empty() {
            return None;
        }
        let total = self.state.scenes.len();
        let done = self.state.scenes.iter().filter(|s| self.state.clips.contains_key(&s.id)).count();
        if done >= total {
            return None;
        }
        let since = self.run_started_ms?.max(self.stage_started_ms.get(&Stage::Clips).copied().unwrap_or(0));
        let secs = now_ms.saturating_sub(since) as f64 / 1000.0;
        let in_flight: f64 = self.live.iter().filter(|(t, _)| matches!(t, Task::Clip(_))).map(|(_, f)| *f as f64).sum();
        let finished = self.clips_done_ms.len() as f64 + in_flight;
        if secs <= 0.0 || finished <= 0.0 {
            return None;
        }
        let rate = finished / secs;
        let left = (total - done) as f64 - in_flight;
        Some((left.max(0.0) / rate).round() as u64)
    }

    /// Fold one event into the view and add its chat message.
    pub fn apply(&mut self, env: &EventEnvelope) {
        // Said in the words of the state before it: "scene 3 removed" names the scene
        // by the position it had.
        let said = describe_event(&env.event, &self.state);
        self.state.apply(env);
        if let Event::StageStarted { stage } = &env.event {
            self.stage_started_ms.insert(*stage, env.at_ms);
        }
        if let (Event::ClipRendered { .. }, RunState::Running) = (&env.event, &self.run) {
            self.clips_done_ms.push(env.at_ms);
        }
        let Some(text) = said else { return };
        let mut line = ChatLine::system(text);
        match &env.event {
            Event::PipelineFailed { .. } | Event::ClipFailed { .. } => line.who = Who::Error,
            Event::StoryFeedback { text } | Event::ScenesFeedback { text, .. } => {
                // Typed here, it is already in the chat as the user's message.
                let shown = self.chat.iter().rev().take(6).any(|l| l.who == Who::User && l.text.trim() == text.trim());
                if shown {
                    return;
                }
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


#[cfg(test)]
mod clock_tests {
    use super::*;
    use crate::domain::{Clip, Scene, EVENT_VERSION};

    fn scene(id: u32) -> Scene {
        Scene { id, description: "d".into(), duration_s: 3.0, shot_type: "wide".into(), camera: Default::default(), motion_intensity: 0.5, on_screen_text: String::new(), voiceover: String::new(), transition: Default::default() }
    }

    fn clip(id: u32) -> Event {
        Event::ClipRendered { clip: Clip { scene_id: id, video: crate::domain::AssetId { sha256: "0".repeat(64), ext: "mp4".into() }, duration_s: 3.0, width: 16, height: 16, fps: 30, provider: "p".into(), key: format!("k{id}"), cached: false, has_audio: false } }
    }

    fn feed(v: &mut SessionView, at_ms: u64, event: Event) {
        let seq = v.state.last_seq + 1;
        v.apply(&EventEnvelope { v: EVENT_VERSION, seq, at_ms, event });
    }

    #[test]
    fn the_eta_comes_from_this_runs_throughput_and_the_clock_stops_with_the_run() {
        let mut v = SessionView::new("s".into());
        feed(&mut v, 0, Event::ScenesDrafted { scenes: (1..=4).map(scene).collect(), revision: 1, provider: String::new() });
        feed(&mut v, 0, Event::StageStarted { stage: Stage::Clips });
        // An earlier run rendered two clips, slowly, and stopped.
        v.begin_run(0);
        feed(&mut v, 60_000, clip(1));
        feed(&mut v, 60_000, clip(2));
        v.end_run(61_000);
        assert_eq!(v.elapsed_s(500_000), Some(61), "an idle session's clock does not run");
        // The resumed run renders two at once: one is done after 10 s, the other half-way.
        v.begin_run(100_000);
        v.live.insert(Task::Clip(4), 0.5);
        feed(&mut v, 110_000, clip(3));
        // 1.5 clips in 10 s; 0.5 of a clip left: about 3 s, not counted from the first run.
        assert_eq!(v.clips_eta_s(110_000), Some(3));
        assert_eq!(v.elapsed_s(110_000), Some(10));
    }

    #[test]
    fn the_chat_names_scenes_by_position_and_says_a_typed_message_once() {
        let mut v = SessionView::new("s".into());
        feed(&mut v, 0, Event::ScenesDrafted { scenes: (5..=8).map(scene).collect(), revision: 1, provider: String::new() });
        feed(&mut v, 1, Event::SceneMoved { scene_id: 7, index: 1 });
        assert_eq!(v.chat.last().unwrap().text, "scene 3 moved to position 2");
        feed(&mut v, 2, Event::SceneRemoved { scene_id: 8 });
        assert_eq!(v.chat.last().unwrap().text, "scene 4 removed");
        // Typed in the prompt (the App shows it at once), then recorded as feedback.
        v.chat.push(ChatLine { who: Who::User, text: "more dramatic".into(), badge: None, image: None });
        feed(&mut v, 3, Event::ScenesFeedback { text: "more dramatic".into(), scene_id: None });
        assert_eq!(v.chat.iter().filter(|l| l.text == "more dramatic").count(), 1);
        // Read back from the log (reopening), it is shown once too.
        let mut reopened = SessionView::new("s".into());
        feed(&mut reopened, 3, Event::ScenesFeedback { text: "more dramatic".into(), scene_id: None });
        assert_eq!(reopened.chat.iter().filter(|l| l.text == "more dramatic" && l.who == Who::User).count(), 1);
    }
}
