//! `plan(&state)`: what work is missing. Pure; resume is "load, fold, plan, run".

use serde::Serialize;

use super::keys::{animatic_key, clip_key, compose_key, keyframe_key, music_key, reference_key, voice_key, ProviderIds};
use super::cut::FinishRules;
use super::Task;
use crate::domain::{followed_look, ReferenceKind, ScoreTarget, SessionState, Stage};

/// Why the plan cannot go on without the user.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Blocked {
    /// These clips failed for their current inputs: retry them or edit their scenes.
    ClipsFailed(Vec<(u32, String)>),
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    /// The stage the tasks belong to; `None` when everything is done.
    pub stage: Option<Stage>,
    pub tasks: Vec<Task>,
    pub blocked: Option<Blocked>,
}

/// The knobs plan depends on.
#[derive(Debug, Clone)]
pub struct PlanRules {
    pub story_max_iterations: u32,
    pub scene_max_iterations: u32,
    pub critic_threshold: f64,
    pub providers: ProviderIds,
    /// What the final cut reads besides the session (its key depends on it).
    pub finish: FinishRules,
    /// Make an animatic before the clips unless the brief says otherwise.
    pub animatic: bool,
}

impl Plan {
    fn at(stage: Stage, tasks: Vec<Task>) -> Plan {
        Plan { stage: Some(stage), tasks, blocked: None }
    }
    pub fn is_done(&self) -> bool {
        self.stage.is_none()
    }
}

pub fn plan(state: &SessionState, rules: &PlanRules) -> Plan {
    if state.brief.is_none() {
        return Plan::at(Stage::Story, vec![]);
    }
    // Story: draft → critique → (refine while below threshold) → approval.
    let story_task = match &state.story {
        None => Some(Task::DraftStory),
        Some(_) if state.story_regenerate || state.story_feedback.is_some() => Some(Task::DraftStory),
        Some(story) => match state.story_critiques.get(&story.revision) {
            None => Some(Task::CritiqueStory),
            Some(c) if c.score < rules.critic_threshold && story.revision < rules.story_max_iterations => Some(Task::DraftStory),
            Some(_) if state.story_approved.is_none() => Some(Task::AwaitStoryApproval),
            Some(_) => None,
        },
    };
    if let Some(t) = story_task {
        return Plan::at(Stage::Story, vec![t]);
    }

    let refs: Vec<Task> = ReferenceKind::ALL
        .into_iter()
        .filter(|k| state.references.get(k).is_none_or(|r| r.key != reference_key(state, *k, &rules.providers)))
        .map(Task::Reference)
        .collect();
    if !refs.is_empty() {
        return Plan::at(Stage::References, refs);
    }
    // The look follows the analysed references when the brief chose none: settled before
    // the scenes, so the animatic and the mood board show it.
    if followed_look(state).is_some_and(|c| state.brief().look.as_deref() != Some(c.name.as_str())) {
        return Plan::at(Stage::References, vec![Task::FollowLook]);
    }

    let rev = state.scenes_revision;
    let scene_task = if state.scenes.is_empty() || state.scenes_regenerate || state.scenes_feedback.is_some() {
        Some(Task::WriteScenes)
    } else {
        match state.scenes_critiques.get(&rev) {
            None => Some(Task::CritiqueScenes),
            Some(c) if c.score < rules.critic_threshold && rev < rules.scene_max_iterations => Some(Task::WriteScenes),
            Some(_) if state.scenes_cohered != Some(rev) => Some(Task::CohereScenes),
            Some(_) if state.scenes_approved.is_none() => Some(Task::AwaitScenesApproval),
            Some(_) => None,
        }
    };
    if let Some(t) = scene_task {
        return Plan::at(Stage::Scenes, vec![t]);
    }

    // Keyframes, and beside them the voice lines (a line that overruns its scene may
    // change the scene, which must happen before its clip is paid for) and the music bed
    // (the animatic plays it).
    let music = music_key(state, &rules.providers, &rules.finish).filter(|want| state.music.as_ref().is_none_or(|m| m.key != *want)).map(|_| Task::Music);
    let kfs: Vec<Task> = state
        .scenes
        .iter()
        .filter(|s| state.keyframes.get(&s.id).is_none_or(|k| k.key != keyframe_key(state, s, &rules.providers)))
        .map(|s| Task::Keyframe(s.id))
        .chain(
            state
                .scenes
                .iter()
                .filter(|s| voice_key(state, s, &rules.providers.speech).is_some_and(|k| state.voices.get(&s.id).is_none_or(|t| t.key != k)))
                .map(|s| Task::Voice(s.id)),
        )
        .chain(music)
        .collect();
    if !kfs.is_empty() {
        return Plan::at(Stage::Keyframes, kfs);
    }

    let mut clip_tasks = Vec::new();
    let mut failed = Vec::new();
    for s in &state.scenes {
        let want = clip_key(state, s, &rules.providers);
        let have = state.clips.get(&s.id);
        if have.is_some_and(|c| Some(&c.key) == want.as_ref()) {
            let scored = state.scores.get(&ScoreTarget::Clip(s.id)).is_some_and(|r| Some(&r.video) == have.map(|c| &c.video));
            if !scored {
                clip_tasks.push(Task::ScoreClip(s.id));
            }
            continue;
        }
        match state.clip_failures.get(&s.id) {
            Some(f) if Some(&f.key) == want.as_ref() => failed.push((s.id, f.error.clone())),
            _ => clip_tasks.push(Task::Clip(s.id)),
        }
    }
    // Before a clip is rendered (paid for), the animatic: made for the current keyframes
    // and timing, and approved once.
    if clip_tasks.iter().any(|t| matches!(t, Task::Clip(_))) && state.brief().animatic.unwrap_or(rules.animatic) {
        if let Some(want) = animatic_key(state, &rules.finish) {
            if state.animatic.as_ref().is_none_or(|a| a.key != want) {
                return Plan::at(Stage::Animatic, vec![Task::Animatic]);
            }
            if state.animatic_approved.is_none() {
                return Plan::at(Stage::Animatic, vec![Task::AwaitAnimaticApproval]);
            }
        }
    }
    if !clip_tasks.is_empty() {
        return Plan::at(Stage::Clips, clip_tasks);
    }
    if !failed.is_empty() {
        return Plan { stage: Some(Stage::Clips), tasks: vec![], blocked: Some(Blocked::ClipsFailed(failed)) };
    }

    let want = compose_key(state, &rules.finish);
    if state.final_video.as_ref().is_none_or(|f| Some(&f.key) != want.as_ref()) {
        return Plan::at(Stage::Compose, vec![Task::Compose]);
    }
    let final_scored = state
        .scores
        .get(&ScoreTarget::Final)
        .is_some_and(|r| Some(&r.video) == state.final_video.as_ref().map(|f| &f.video));
    if !final_scored {
        return Plan::at(Stage::Scoring, vec![Task::ScoreFinal]);
    }
    Plan { stage: None, tasks: vec![], blocked: None }
}

/// The quality gate's next step for a scene's clip, once its current take is scored:
/// another take while it scores under `threshold` (0..100) and fewer than `max_attempts`
/// takes were tried; when the attempts are spent, back to the best take if that is not
/// the current one; otherwise nothing.
pub fn quality_retake(state: &SessionState, scene_id: u32, threshold: f64, max_attempts: u32) -> Option<(u32, String)> {
    if threshold <= 0.0 {
        return None;
    }
    let tried = state.take_quality.get(&scene_id)?;
    let current = state.take(scene_id);
    let q = *tried.get(&current)?;
    if q >= threshold {
        return None;
    }
    if (tried.len() as u32) < max_attempts.max(1) {
        let next = tried.keys().max().map_or(0, |m| m + 1);
        return Some((next, format!("quality {q:.0} is under {threshold:.0}: rendering take {} of {max_attempts}", next + 1)));
    }
    let (best, bq) = tried.iter().max_by(|a, b| a.1.total_cmp(b.1)).map(|(t, q)| (*t, *q))?;
    (best != current).then(|| (best, format!("no take reached {threshold:.0}: keeping the best (take {}, quality {bq:.0})", best + 1)))
}

#[cfg(test)]
mod retake_tests {
    use super::*;

    fn with_takes(takes: &[(u32, f64)], current: u32) -> SessionState {
        let mut s = SessionState::default();
        s.take_quality.insert(1, takes.iter().copied().collect());
        s.clip_takes.insert(1, current);
        s
    }

    #[test]
    fn off_good_enough_retake_then_keep_the_best() {
        assert_eq!(quality_retake(&with_takes(&[(0, 40.0)], 0), 1, 0.0, 3), None, "off by default");
        assert_eq!(quality_retake(&with_takes(&[(0, 70.0)], 0), 1, 60.0, 3), None);
        assert_eq!(quality_retake(&with_takes(&[(0, 40.0)], 0), 1, 60.0, 3).map(|r| r.0), Some(1));
        assert_eq!(quality_retake(&with_takes(&[(0, 50.0), (1, 45.0)], 1), 1, 60.0, 2).map(|r| r.0), Some(0), "back to the best");
        assert_eq!(quality_retake(&with_takes(&[(0, 50.0), (1, 45.0)], 0), 1, 60.0, 2), None, "best already chosen: stop");
    }
}
