//! Events (everything that happens to a session, stored append-only), their envelope and
//! the pipeline stages.

use serde::{Deserialize, Serialize};
use std::fmt;

use super::{AssetId, Brief, Clip, CostEntry, Critique, FinalVideo, Keyframe, MusicBed, Reference, RenderSpec, Scene, ScenePatch, ScoreRecord, Story, VoiceTake};

/// Version of the event schema this build writes and reads.
pub const EVENT_VERSION: u32 = 1;

/// Pipeline stages, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    Story,
    References,
    Scenes,
    Keyframes,
    /// The animatic: a cheap low-resolution cut of the keyframes, approved before clips.
    Animatic,
    Clips,
    Compose,
    /// Scoring of the final video (clips are scored in the clips stage, as they land).
    Scoring,
}

impl Stage {
    pub const ALL: [Stage; 8] = [
        Stage::Story,
        Stage::References,
        Stage::Scenes,
        Stage::Keyframes,
        Stage::Animatic,
        Stage::Clips,
        Stage::Compose,
        Stage::Scoring,
    ];
    pub fn id(self) -> &'static str {
        match self {
            Stage::Story => "story",
            Stage::References => "references",
            Stage::Scenes => "scenes",
            Stage::Keyframes => "keyframes",
            Stage::Animatic => "animatic",
            Stage::Clips => "clips",
            Stage::Scoring => "scoring",
            Stage::Compose => "compose",
        }
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// Who made a decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Approver {
    Auto,
    User,
}

/// Something that happened to a session. Stored append-only; the state is their fold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    SessionCreated { id: String, brief: Box<Brief>, render: RenderSpec },
    StageStarted { stage: Stage },
    StageCompleted { stage: Stage },
    /// A run picked the session up again (after a stop, crash or approval).
    Resumed,
    /// `provider`: the model that really wrote it (not the chain it was asked through).
    StoryDrafted { story: Story, provider: String },
    StoryCritiqued {
        revision: u32,
        critique: Critique,
        #[serde(default)]
        provider: String,
    },
    StoryFeedback { text: String },
    StoryRegenerationRequested,
    StoryApproved { by: Approver },
    ReferenceReady { reference: Reference },
    ScenesDrafted { scenes: Vec<Scene>, revision: u32, provider: String },
    ScenesCritiqued {
        revision: u32,
        critique: Critique,
        #[serde(default)]
        provider: String,
    },
    ScenesCohered {
        revision: u32,
        notes: Vec<String>,
        scenes: Vec<Scene>,
        #[serde(default)]
        provider: String,
    },
    ScenesFeedback { text: String, scene_id: Option<u32> },
    ScenesRegenerationRequested,
    ScenesApproved { by: Approver },
    SceneEdited { scene_id: u32, patch: ScenePatch },
    SceneAdded { scene: Scene, index: usize },
    SceneRemoved { scene_id: u32 },
    SceneMoved { scene_id: u32, index: usize },
    KeyframeReady { keyframe: Keyframe },
    /// The candidates of a mood-board slot were made (`key`: the slot's content key).
    CandidatesReady { slot: super::Slot, key: String, images: Vec<AssetId> },
    /// A candidate was chosen for a slot (`--auto`: by `reason`; the user: by a command).
    CandidatePicked {
        slot: super::Slot,
        index: usize,
        by: Approver,
        #[serde(default)]
        reason: String,
    },
    ClipStarted { scene_id: u32, key: String },
    /// Recorded before a remote job is created, so a crash right after can be detected.
    JobSubmitting { task: String, provider: String },
    /// Recorded once the provider accepted the job: a resume re-attaches by `remote_id`.
    JobSubmitted { task: String, provider: String, remote_id: String },
    /// A remote job failed or was lost: a retry submits a new one instead of re-attaching.
    JobEnded { task: String, provider: String, remote_id: String, error: String },
    ClipRendered { clip: Clip },
    ClipFailed { scene_id: u32, key: String, error: String },
    ClipRetryRequested { scene_id: u32 },
    /// The quality gate asks for another take of a clip (or goes back to its best take).
    ClipRetakeRequested { scene_id: u32, take: u32, reason: String },
    ScoreRecorded { record: ScoreRecord },
    /// A music bed was made for the advert.
    MusicReady { music: MusicBed },
    /// A scene's voiceover line was recorded and measured.
    VoiceReady { take: VoiceTake },
    Composed { video: FinalVideo },
    /// The animatic of the current keyframes, timing, text, voice and music was made.
    AnimaticMade { animatic: FinalVideo },
    /// The user (or `--auto`) approved the animatic: paid clips may start.
    AnimaticApproved { by: Approver },
    CostRecorded { entry: CostEntry },
    BudgetSet { usd: Option<f64> },
    /// The clips' colour look changed (the final is re-graded; nothing else re-renders).
    LookSet { name: String, cube: Option<AssetId> },
    /// The look the references call for when the brief chose none, and why (it replaces
    /// the template's once the references are analysed; the user's choice ends it).
    LookFollowed { name: String, cube: Option<AssetId>, why: String },
    PipelineFailed { stage: Stage, error: String },
}

impl Event {
    /// The snake_case name of the variant, as stored in the `type` field.
    pub fn kind(&self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|v| v.get("type").and_then(|t| t.as_str()).map(str::to_string))
            .unwrap_or_default()
    }
}

/// An event as stored: with its schema version, sequence number and time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventEnvelope {
    pub v: u32,
    pub seq: u64,
    /// Unix time in milliseconds.
    pub at_ms: u64,
    pub event: Event,
}
