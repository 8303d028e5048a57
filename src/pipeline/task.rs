//! `Task`: one piece of work `plan()` can ask for, and its one spelling. The label
//! (`clip:3`, `score:final`) names a task in progress updates, job records, the cost
//! ledger and messages; `parse` reads it back. No other module spells a task by hand.

use serde::Serialize;
use std::fmt;

use crate::domain::ReferenceKind;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "task", content = "id", rename_all = "snake_case")]
pub enum Task {
    DraftStory,
    CritiqueStory,
    AwaitStoryApproval,
    Reference(ReferenceKind),
    /// The clips' look follows the analysed references (the brief chose none).
    FollowLook,
    WriteScenes,
    CritiqueScenes,
    CohereScenes,
    AwaitScenesApproval,
    Keyframe(u32),
    /// The animatic: keyframes with their camera moves, text, voice and music, low-res.
    Animatic,
    AwaitAnimaticApproval,
    Clip(u32),
    ScoreClip(u32),
    /// The music bed (when the brief brings no music), made beside the clips.
    Music,
    /// A scene's voiceover line, recorded beside its keyframe.
    Voice(u32),
    Compose,
    ScoreFinal,
}

impl Task {
    /// How the task is named in progress, job records, the ledger and messages.
    pub fn label(&self) -> String {
        match self {
            Task::DraftStory => "story".into(),
            Task::CritiqueStory => "story critique".into(),
            Task::WriteScenes => "scenes".into(),
            Task::CritiqueScenes => "scene critique".into(),
            Task::CohereScenes => "scene cohesion".into(),
            Task::Reference(kind) => format!("reference:{}", kind.id()),
            Task::Keyframe(id) => format!("keyframe:{id}"),
            Task::Clip(id) => format!("clip:{id}"),
            Task::ScoreClip(id) => format!("score:{id}"),
            Task::Music => "music".into(),
            Task::FollowLook => "look".into(),
            Task::Animatic => "animatic".into(),
            Task::Voice(id) => format!("voice:{id}"),
            Task::Compose => "compose".into(),
            Task::ScoreFinal => "score:final".into(),
            Task::AwaitStoryApproval | Task::AwaitScenesApproval | Task::AwaitAnimaticApproval => "approval".into(),
        }
    }

    /// A label read back (a job record's task may carry a `#content-key` suffix, which is
    /// ignored). Approvals share one label and read back as the story's.
    pub fn parse(label: &str) -> Option<Task> {
        let label = label.split('#').next().unwrap_or(label);
        let id = |s: &str| s.parse::<u32>().ok();
        Some(match label.split_once(':') {
            None => match label {
                "story" => Task::DraftStory,
                "story critique" => Task::CritiqueStory,
                "scenes" => Task::WriteScenes,
                "scene critique" => Task::CritiqueScenes,
                "scene cohesion" => Task::CohereScenes,
                "music" => Task::Music,
                "look" => Task::FollowLook,
                "animatic" => Task::Animatic,
                "compose" => Task::Compose,
                "approval" => Task::AwaitStoryApproval,
                _ => return None,
            },
            Some(("reference", k)) => Task::Reference(ReferenceKind::ALL.into_iter().find(|r| r.id() == k)?),
            Some(("keyframe", n)) => Task::Keyframe(id(n)?),
            Some(("clip", n)) => Task::Clip(id(n)?),
            Some(("voice", n)) => Task::Voice(id(n)?),
            Some(("score", "final")) => Task::ScoreFinal,
            Some(("score", n)) => Task::ScoreClip(id(n)?),
            Some(_) => return None,
        })
    }

    /// The scene a per-scene task works on.
    pub fn scene(&self) -> Option<u32> {
        match self {
            Task::Keyframe(id) | Task::Clip(id) | Task::ScoreClip(id) | Task::Voice(id) => Some(*id),
            _ => None,
        }
    }
}

impl fmt::Display for Task {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_label_reads_back_as_its_task() {
        let tasks = [
            Task::DraftStory,
            Task::CritiqueStory,
            Task::AwaitStoryApproval,
            Task::Reference(ReferenceKind::Product),
            Task::WriteScenes,
            Task::CritiqueScenes,
            Task::CohereScenes,
            Task::Keyframe(2),
            Task::Clip(3),
            Task::ScoreClip(4),
            Task::Music,
            Task::FollowLook,
            Task::Animatic,
            Task::Voice(5),
            Task::Compose,
            Task::ScoreFinal,
        ];
        for t in tasks {
            assert_eq!(Task::parse(&t.label()), Some(t), "{t}");
        }
        assert_eq!(Task::parse("clip:3#ab12cd"), Some(Task::Clip(3)));
        assert_eq!(Task::parse("clip:x"), None);
        assert_eq!(Task::parse("painting"), None);
    }
}
