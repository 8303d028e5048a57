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

/// The open session as the UI sees it: the folded state plus live, unpersisted progress.
pub struct SessionView {
    pub id: String,
    pub state: SessionState,
    pub chat: Vec<ChatLine>,
    /// Lines scrolled up from the newest; 0 follows new messages.
    pub chat_scroll: usize,
    pub scene_sel: usize,
    pub progress_sel: usize,
    /// Live progress per task (a clip, compose), 0..1.
    pub live: HashMap<Task, f32>,
    pub run: RunState,
    pub stage_started_ms: HashMap<Stage, u64>,
    pub run_started_ms: Option<u64>,
}

impl SessionView {
    pub fn new(id: String) -> SessionView {
        SessionView {
            id,
            state: SessionState::default(),
            chat: vec![],
            chat_scroll: 0,
            scene_sel: 0,
            progress_sel: 0,
            live: HashMap::new(),
            run: RunState::Idle,
            stage_started_ms: HashMap::new(),
            run_started_ms: None,
        }
    }

    /// Fold one event into the view and add its chat message.
    pub fn apply(&mut self, env: &EventEnvelope) {
        self.state.apply(env);
        if let Event::StageStarted { stage } = &env.event {
            self.stage_started_ms.insert(*stage, env.at_ms);
        }
        let Some(text) = describe_event(&env.event, &self.state) else { return };
        let mut line = ChatLine::system(text);
        match &env.event {
            Event::PipelineFailed { .. } | Event::ClipFailed { .. } => line.who = Who::Error,
            Event::StoryFeedback { text } | Event::ScenesFeedback { text, .. } => {
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

