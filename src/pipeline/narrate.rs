//! Human sentences for events and session status: shared by the text CLI and the TUI.

use super::{plan, Blocked, PlanRules, Task};
use crate::domain::{Event, Score, ScoreTarget, SessionState, Stage, Verdict};

/// " (by MODEL)", or nothing for events from before the model was recorded.
fn by(provider: &str) -> String {
    if provider.is_empty() { String::new() } else { format!(" (by {provider})") }
}

/// One line describing an event, or `None` for events not worth a line. `state` is the
/// session as it was before the event: scenes are named by their positions then.
pub fn describe_event(event: &Event, state: &SessionState) -> Option<String> {
    let num = |id: u32| state.scene_number(id).map_or(format!("#{id}"), |n| n.to_string());
    Some(match event {
        Event::SessionCreated { id, brief, render } => format!(
            "session {id}: \"{}\" — {} {}, {:.0} s, {}x{}",
            brief.product_name, brief.framework, brief.template, brief.duration_s, render.width, render.height
        ),
        Event::StageStarted { stage } => format!("▶ {stage}"),
        Event::StageCompleted { stage } => format!("✓ {stage} done"),
        Event::Resumed => "resumed: finished work is kept, only what is missing runs".into(),
        Event::StoryDrafted { story, provider } => format!("story draft {}: {} — {}{}", story.revision, story.title, story.logline, by(provider)),
        Event::StoryCritiqued { critique, provider, .. } => format!("critic: {:.1}/10 — {}{}", critique.score, critique.reasons.join("; "), by(provider)),
        Event::StoryFeedback { text } => format!("you: {text}"),
        Event::StoryRegenerationRequested => "you asked for a new story".into(),
        Event::StoryApproved { by } => format!("story approved ({})", if *by == crate::domain::Approver::Auto { "auto" } else { "you" }),
        Event::ReferenceReady { reference } => format!(
            "{} reference ready ({}): palette {}",
            reference.kind.id(),
            reference.source,
            reference.analysis.palette.join(" ")
        ),
        Event::ScenesDrafted { scenes, revision, provider } => format!(
            "scenes draft {revision}: {} scenes, {:.1} s{}",
            scenes.len(),
            scenes.iter().map(|s| s.duration_s).sum::<f64>(),
            by(provider)
        ),
        Event::ScenesCritiqued { critique, provider, .. } => format!("scene critic: {:.1}/10 — {}{}", critique.score, critique.reasons.join("; "), by(provider)),
        Event::ScenesCohered { notes, .. } => {
            if notes.is_empty() { "cohesion check: consistent".into() } else { format!("cohesion check: {}", notes.join("; ")) }
        }
        Event::ScenesFeedback { text, .. } => format!("you: {text}"),
        Event::ScenesRegenerationRequested => "you asked for new scenes".into(),
        Event::ScenesApproved { .. } => "scenes approved".into(),
        Event::SceneEdited { scene_id, .. } => format!("scene {} edited", num(*scene_id)),
        Event::SceneAdded { index, .. } => format!("scene added at position {}", index + 1),
        Event::SceneRemoved { scene_id } => format!("scene {} removed", num(*scene_id)),
        Event::SceneMoved { scene_id, index } => format!("scene {} moved to position {}", num(*scene_id), index + 1),
        Event::KeyframeReady { keyframe } => format!("keyframe for scene {} ready", num(keyframe.scene_id)),
        Event::CandidatesReady { slot, images, .. } => format!(
            "{}: {} candidates (a–{}) — pick one with \"{} take b\"",
            slot_name(slot, state),
            images.len(),
            crate::domain::candidate_letter(images.len().saturating_sub(1)),
            slot_word(slot, state)
        ),
        Event::CandidatePicked { slot, index, by, reason } => format!(
            "{}: candidate {} ({})",
            slot_name(slot, state),
            crate::domain::candidate_letter(*index),
            if *by == crate::domain::Approver::Auto { format!("auto: {reason}") } else { "your pick".into() }
        ),
        Event::ClipStarted { scene_id, .. } => format!("clip {} rendering", num(*scene_id)),
        Event::JobSubmitting { task, provider } => format!("{}: submitting to {provider}", task_name(task)),
        Event::JobSubmitted { task, remote_id, provider } => format!("{}: {provider} accepted job {remote_id}", task_name(task)),
        Event::JobEnded { task, provider, error, .. } => format!("{}: the job on {provider} ended without a result: {error}", task_name(task)),
        Event::ClipRendered { clip } => format!("clip {} done{}", num(clip.scene_id), if clip.cached { " (from cache)" } else { "" }),
        Event::ClipFailed { scene_id, error, .. } => format!("clip {} failed: {error}", num(*scene_id)),
        Event::ClipRetryRequested { scene_id } => format!("retrying clip {}", num(*scene_id)),
        Event::ClipRetakeRequested { scene_id, take, reason } => format!("clip {}: take {} — {reason}", num(*scene_id), take + 1),
        Event::ScoreRecorded { record } => {
            let what = match record.target {
                ScoreTarget::Clip(id) => format!("clip {}", num(id)),
                ScoreTarget::Final => "final video".into(),
            };
            format!("{what}: {}", describe_score(&record.score))
        }
        Event::Composed { video } => format!("composed: {:.2} s, {}x{}", video.duration_s, video.width, video.height),
        Event::AnimaticMade { animatic } => format!("animatic ready: {:.2} s, {}x{} — timing, text, voice and music before any clip is rendered", animatic.duration_s, animatic.width, animatic.height),
        Event::AnimaticApproved { by } => format!("animatic approved ({}): rendering the clips", if *by == crate::domain::Approver::Auto { "auto" } else { "you" }),
        Event::BudgetSet { usd } => match usd {
            Some(u) => format!("budget set to ${u:.2}"),
            None => "budget removed".into(),
        },
        Event::MusicReady { music } => format!(
            "music: a {} bed{}, {:.1} s ({})",
            music.mood,
            music.bpm.map(|b| format!(" at {b:.0} bpm")).unwrap_or_default(),
            music.duration_s,
            music.provider
        ),
        Event::VoiceReady { take } => format!(
            "voice: scene line \"{}\", {:.2} s ({}, captions {})",
            crate::text::wrap_text(&take.text, 40, 1).join(""),
            take.duration_s,
            take.provider,
            match take.cue_source {
                crate::domain::CueSource::Speech => "timed by the voice",
                crate::domain::CueSource::Transcription => "timed by transcription",
                crate::domain::CueSource::Aligned => "aligned",
            }
        ),
        Event::LookSet { name, .. } => format!("look: {name} (the final is re-graded)"),
        Event::LookFollowed { name, why, .. } => format!("look: {name}, following the references: {why}"),
        Event::CostRecorded { entry } => format!("cost: ${:.3} ({}, {})", entry.usd, entry.stage, entry.model),
        Event::PipelineFailed { stage, error } => format!("✗ {stage} failed: {error}"),
    })
}

/// "scene 3's keyframe", "the product reference".
fn slot_name(slot: &crate::domain::Slot, state: &SessionState) -> String {
    match slot {
        crate::domain::Slot::Reference(k) => format!("the {} reference", k.id()),
        crate::domain::Slot::Keyframe(id) => format!("scene {}'s keyframe", state.scene_number(*id).map_or(format!("#{id}"), |n| n.to_string())),
    }
}

/// How a pick names the slot: "keyframe 3", "product".
pub fn slot_word(slot: &crate::domain::Slot, state: &SessionState) -> String {
    match slot {
        crate::domain::Slot::Reference(k) => k.id().to_string(),
        crate::domain::Slot::Keyframe(id) => format!("keyframe {}", state.scene_number(*id).map_or(0, |n| n)),
    }
}

pub fn describe_score(score: &Score) -> String {
    match score {
        Score::Scored { quality, gates, .. } => {
            let flagged: Vec<String> = gates.iter().filter(|g| g.verdict != Verdict::Pass).map(|g| format!("{} {}", g.gate, g.verdict.label())).collect();
            if gates.is_empty() {
                format!("quality {quality:.1}/100")
            } else if flagged.is_empty() {
                format!("quality {quality:.1}/100, QC gates pass")
            } else {
                format!("quality {quality:.1}/100, QC: {}", flagged.join(", "))
            }
        }
        Score::NotScored { reason } => format!("not scored ({reason})"),
        Score::Unavailable { reason } => format!("scoring unavailable: {reason}"),
    }
}

/// Where a session stands, in a few words (for lists).
pub fn status(state: &SessionState, rules: &PlanRules) -> String {
    if let Some((stage, err)) = &state.failure {
        return format!("failed at {stage}: {err}");
    }
    let p = plan(state, rules);
    match (p.stage, p.blocked, p.tasks.first()) {
        (None, _, _) => "done".into(),
        (_, Some(Blocked::ClipsFailed(f)), _) => format!("{} clip(s) failed — resumable", f.len()),
        (_, _, Some(Task::AwaitStoryApproval)) => "waiting for story approval".into(),
        (_, _, Some(Task::AwaitScenesApproval)) => "waiting for scenes approval".into(),
        (_, _, Some(Task::AwaitAnimaticApproval)) => "waiting for animatic approval".into(),
        (Some(Stage::Clips), _, _) => format!("resumable: clips {}/{}", state.clips.len().min(state.scenes.len()), state.scenes.len()),
        (Some(stage), _, _) => format!("resumable: {stage}"),
    }
}

/// A Unix time in milliseconds as `YYYY-MM-DD HH:MM` (UTC), for lists.
pub fn format_time(ms: u64) -> String {
    time::OffsetDateTime::from_unix_timestamp((ms / 1000) as i64)
        .ok()
        .and_then(|t| t.format(&time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]")).ok())
        .unwrap_or_else(|| "?".into())
}

/// A job record's task without its content-key suffix (`clip:3#ab12…` → `clip:3`).
fn task_name(task: &str) -> &str {
    task.split('#').next().unwrap_or(task)
}
