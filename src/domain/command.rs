//! User commands and `decide`: a command checked against the state becomes the events
//! that record it (or an error that says why not).

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::{AssetId, Event, Scene, ScenePatch, SessionState};

/// A user decision. `decide` checks it against the state and turns it into events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum Command {
    ApproveStory,
    RegenerateStory,
    RefineStory { feedback: String },
    ApproveScenes,
    RegenerateScenes,
    RefineScenes { feedback: String, scene_id: Option<u32> },
    /// Approve the animatic: the clips may be rendered (paid for).
    ApproveAnimatic,
    /// Use candidate `index` (0-based) of a mood-board slot: what depends on it re-renders.
    PickCandidate { slot: super::Slot, index: usize },
    /// Put back a scene that was removed, as it was and where it was (an undo): its
    /// content key is the same, so its clip comes back from the cache.
    RestoreScene { scene: Scene, index: usize },
    EditScene { scene_id: u32, patch: ScenePatch },
    AddScene { after: Option<u32>, description: String, duration_s: f64 },
    RemoveScene { scene_id: u32 },
    MoveScene { scene_id: u32, index: usize },
    RetryClip { scene_id: u32 },
    /// Set or clear the session's spending limit (US dollars).
    SetBudget { usd: Option<f64> },
    /// Grade the clips with another look: its name and its `.cube` file, already in the
    /// blob store (`None` for the natural look).
    SetLook { name: String, cube: Option<AssetId> },
}

/// How the scenes are numbered, in words: "there are no scenes yet", "there is only
/// scene 1", "scenes are numbered 1 to 4".
fn scene_range(n: usize) -> String {
    match n {
        0 => "there are no scenes yet".into(),
        1 => "there is only scene 1".into(),
        n => format!("scenes are numbered 1 to {n}"),
    }
}

#[derive(Debug, Error, PartialEq)]
pub enum CommandError {
    #[error("there is no story yet to {0}")]
    NoStory(&'static str),
    #[error("there are no scenes yet to {0}")]
    NoScenes(&'static str),
    #[error("scene {} does not exist ({})", .0, scene_range(*.1))]
    NoSuchScene(u32, usize),
    #[error("the {0} has no candidates to pick from (ask for them with --candidates N)")]
    NoCandidates(String),
    #[error("there is no candidate {0} for the {1}: the candidates are a to {2}")]
    NoSuchCandidate(char, String, char),
    #[error("there is no animatic yet to approve")]
    NoAnimatic,
    #[error("that scene is already there")]
    SceneExists,
    #[error("clip for scene {0} has not failed, nothing to retry")]
    ClipNotFailed(u32),
    #[error("a scene must last between 0.5 and 60 seconds, not {0}")]
    BadDuration(f64),
    #[error("feedback is empty: say what to change")]
    EmptyFeedback,
    #[error("a budget must be a positive amount of US dollars, not {0}")]
    BadBudget(f64),
    #[error("an advert needs at least one scene")]
    LastScene,
    #[error("name the look: natural, warm, cool, teal-orange, punchy, soft, mono, vintage or your own")]
    NoLook,
}

/// Scene numbers the user sees are 1-based positions; ids are stable. Map one to the other.
pub fn scene_at(state: &SessionState, number: u32) -> Result<&Scene, CommandError> {
    let n = state.scenes.len();
    if number == 0 || number as usize > n {
        return Err(CommandError::NoSuchScene(number, n));
    }
    Ok(&state.scenes[number as usize - 1])
}

/// Validate a command against the current state and produce the events that record it.
/// Scene references in commands are stable scene ids.
pub fn decide(state: &SessionState, cmd: &Command) -> Result<Vec<Event>, CommandError> {
    let by = super::Approver::User;
    Ok(vec![match cmd {
        Command::ApproveStory => {
            has_story(state, "approve")?;
            Event::StoryApproved { by }
        }
        Command::RegenerateStory => Event::StoryRegenerationRequested,
        Command::RefineStory { feedback } => {
            let text = feedback_text(feedback)?;
            has_story(state, "refine")?;
            Event::StoryFeedback { text }
        }
        Command::ApproveScenes => {
            has_scenes(state, "approve")?;
            Event::ScenesApproved { by }
        }
        Command::ApproveAnimatic => {
            if state.animatic.is_none() {
                return Err(CommandError::NoAnimatic);
            }
            Event::AnimaticApproved { by }
        }
        Command::PickCandidate { slot, index } => {
            let n = state.candidates.get(slot).map_or(0, |(_, imgs)| imgs.len());
            if n == 0 {
                return Err(CommandError::NoCandidates(slot.label()));
            }
            if *index >= n {
                return Err(CommandError::NoSuchCandidate(super::candidate_letter(*index), slot.label(), super::candidate_letter(n - 1)));
            }
            Event::CandidatePicked { slot: *slot, index: *index, by, reason: String::new() }
        }
        Command::RegenerateScenes => {
            has_scenes(state, "regenerate")?;
            Event::ScenesRegenerationRequested
        }
        Command::RefineScenes { feedback, scene_id } => {
            let text = feedback_text(feedback)?;
            has_scenes(state, "refine")?;
            if let Some(id) = scene_id {
                has_scene(state, *id)?;
            }
            Event::ScenesFeedback { text, scene_id: *scene_id }
        }
        Command::EditScene { scene_id, patch } => {
            has_scene(state, *scene_id)?;
            if let Some(d) = patch.duration_s {
                duration(d)?;
            }
            Event::SceneEdited { scene_id: *scene_id, patch: patch.clone() }
        }
        Command::AddScene { after, description, duration_s } => add_scene(state, *after, description, *duration_s)?,
        Command::RestoreScene { scene, index } => {
            if state.scene(scene.id).is_some() {
                return Err(CommandError::SceneExists);
            }
            duration(scene.duration_s)?;
            Event::SceneAdded { scene: scene.clone(), index: (*index).min(state.scenes.len()) }
        }
        Command::RemoveScene { scene_id } => {
            has_scene(state, *scene_id)?;
            if state.scenes.len() == 1 {
                return Err(CommandError::LastScene);
            }
            Event::SceneRemoved { scene_id: *scene_id }
        }
        Command::MoveScene { scene_id, index } => {
            has_scene(state, *scene_id)?;
            Event::SceneMoved { scene_id: *scene_id, index: (*index).min(state.scenes.len() - 1) }
        }
        Command::SetBudget { usd } => {
            if let Some(u) = usd.filter(|u| !u.is_finite() || *u < 0.0) {
                return Err(CommandError::BadBudget(u));
            }
            Event::BudgetSet { usd: *usd }
        }
        Command::SetLook { name, cube } => {
            if name.trim().is_empty() {
                return Err(CommandError::NoLook);
            }
            Event::LookSet { name: name.trim().to_string(), cube: cube.clone() }
        }
        Command::RetryClip { scene_id } => {
            has_scene(state, *scene_id)?;
            if !state.clip_failures.contains_key(scene_id) {
                return Err(CommandError::ClipNotFailed(*scene_id));
            }
            Event::ClipRetryRequested { scene_id: *scene_id }
        }
    }])
}

fn has_story(state: &SessionState, verb: &'static str) -> Result<(), CommandError> {
    state.story.as_ref().map(|_| ()).ok_or(CommandError::NoStory(verb))
}

fn has_scenes(state: &SessionState, verb: &'static str) -> Result<(), CommandError> {
    if state.scenes.is_empty() {
        Err(CommandError::NoScenes(verb))
    } else {
        Ok(())
    }
}

fn has_scene(state: &SessionState, id: u32) -> Result<(), CommandError> {
    if state.scenes.iter().any(|s| s.id == id) {
        Ok(())
    } else {
        Err(CommandError::NoSuchScene(id, state.scenes.len()))
    }
}

fn duration(d: f64) -> Result<(), CommandError> {
    if (0.5..=60.0).contains(&d) {
        Ok(())
    } else {
        Err(CommandError::BadDuration(d))
    }
}

fn feedback_text(feedback: &str) -> Result<String, CommandError> {
    match feedback.trim() {
        "" => Err(CommandError::EmptyFeedback),
        t => Ok(t.to_string()),
    }
}

/// A new scene after `after` (or at the end), with a fresh id and plain defaults.
fn add_scene(state: &SessionState, after: Option<u32>, description: &str, duration_s: f64) -> Result<Event, CommandError> {
    duration(duration_s)?;
    let index = match after {
        Some(id) => {
            has_scene(state, id)?;
            state.scenes.iter().position(|s| s.id == id).map_or(0, |p| p + 1)
        }
        None => state.scenes.len(),
    };
    let scene = Scene {
        id: state.next_scene_id(),
        description: description.to_string(),
        duration_s,
        shot_type: "medium".into(),
        camera: super::CameraMove::ZoomIn,
        motion_intensity: 0.5,
        on_screen_text: String::new(),
        voiceover: String::new(),
        transition: state.brief().transition.unwrap_or_else(|| super::Transition::of(super::TransitionKind::Dissolve)),
    };
    Ok(Event::SceneAdded { scene, index })
}

#[cfg(test)]
mod message_tests {
    use super::CommandError;

    #[test]
    fn scene_numbers_are_said_in_words() {
        assert_eq!(CommandError::NoSuchScene(3, 0).to_string(), "scene 3 does not exist (there are no scenes yet)");
        assert_eq!(CommandError::NoSuchScene(3, 1).to_string(), "scene 3 does not exist (there is only scene 1)");
        assert_eq!(CommandError::NoSuchScene(9, 4).to_string(), "scene 9 does not exist (scenes are numbered 1 to 4)");
    }
}
