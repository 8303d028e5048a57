//! `SessionState`: the fold of a session's events, and what the plan reads from it.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

use super::{
    Approver, Brief, Clip, CostEntry, Critique, Event, EventEnvelope, FinalVideo, Keyframe, MusicBed,
    Reference, ReferenceKind, RenderSpec, Scene, ScoreRecord, ScoreTarget, Stage, Story, VoiceTake,
};

/// A clip that failed for a given content key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClipFailure {
    pub key: String,
    pub error: String,
}

/// A remote job as far as the log knows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobRecord {
    pub provider: String,
    /// `None` while only `JobSubmitting` was recorded (a crash may have hit mid-request).
    pub remote_id: Option<String>,
    /// When the submission was recorded (ms since the epoch).
    #[serde(default)]
    pub at_ms: u64,
}

/// Everything known about a session: `events.fold(apply)`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SessionState {
    pub id: String,
    pub brief: Option<Brief>,
    pub render: Option<RenderSpec>,
    pub created_at_ms: u64,
    pub updated_at_ms: u64,
    pub last_seq: u64,

    pub story: Option<Story>,
    /// The model that really made each written piece: `story`, `story critique`,
    /// `scenes`, `scene critique`, `cohesion` (the latest of each).
    pub written_by: BTreeMap<String, String>,
    pub story_critiques: BTreeMap<u32, Critique>,
    pub story_feedback: Option<String>,
    pub story_regenerate: bool,
    pub story_approved: Option<Approver>,

    pub references: BTreeMap<ReferenceKind, Reference>,

    pub scenes: Vec<Scene>,
    pub scenes_revision: u32,
    pub scenes_critiques: BTreeMap<u32, Critique>,
    pub scenes_cohered: Option<u32>,
    pub cohesion_notes: Vec<String>,
    pub scenes_feedback: Option<(Option<u32>, String)>,
    pub scenes_regenerate: bool,
    pub scenes_approved: Option<Approver>,
    max_scene_id: u32,

    pub keyframes: BTreeMap<u32, Keyframe>,
    /// The mood board: each slot's candidates (its key, the images) and the pick.
    pub candidates: BTreeMap<super::Slot, (String, Vec<super::AssetId>)>,
    pub picks: BTreeMap<super::Slot, (usize, Approver)>,
    pub clips: BTreeMap<u32, Clip>,
    pub clip_failures: BTreeMap<u32, ClipFailure>,
    /// The take each scene's clip should be (absent = 0, the first render).
    pub clip_takes: BTreeMap<u32, u32>,
    /// Quality (0..100) of every scored take of each scene's clip.
    pub take_quality: BTreeMap<u32, BTreeMap<u32, f64>>,
    /// Clips whose render started (scene id → key), for progress displays and audits.
    pub clips_started: BTreeMap<u32, String>,
    pub jobs: BTreeMap<String, JobRecord>,
    /// Remote jobs of each job id that ended without a result (a retry gets a new id).
    pub jobs_ended: BTreeMap<String, u32>,
    pub scores: BTreeMap<ScoreTarget, ScoreRecord>,
    pub final_video: Option<FinalVideo>,
    /// The latest animatic (the plan checks its key) and whether the animatic was approved.
    pub animatic: Option<FinalVideo>,
    pub animatic_approved: Option<Approver>,
    pub music: Option<MusicBed>,
    /// Each scene's recorded voiceover line (the latest; the plan checks its key).
    pub voices: BTreeMap<u32, VoiceTake>,
    pub costs: Vec<CostEntry>,
    /// Jobs whose cost is in the ledger.
    pub jobs_booked: BTreeSet<String>,

    pub stages_started: BTreeSet<Stage>,
    pub stages_completed: BTreeSet<Stage>,
    pub failure: Option<(Stage, String)>,
}

impl SessionState {
    pub fn fold<'a>(events: impl IntoIterator<Item = &'a EventEnvelope>) -> SessionState {
        let mut s = SessionState::default();
        for e in events {
            s.apply(e);
        }
        s
    }

    pub fn brief(&self) -> &Brief {
        self.brief.as_ref().expect("SessionCreated is always the first event of a session")
    }

    /// Id for the next new scene: never reuses an id seen in this session.
    pub fn next_scene_id(&self) -> u32 {
        self.max_scene_id + 1
    }

    pub fn total_cost(&self) -> f64 {
        // Start from +0.0: an empty f64 sum is -0.0, which prints as "-0.00".
        self.costs.iter().fold(0.0, |a, c| a + c.usd)
    }

    pub fn scenes_duration(&self) -> f64 {
        self.scenes.iter().map(|s| s.duration_s).sum()
    }

    /// The seconds the scenes should fill: the brief's length less its cards (all of it
    /// in sessions recorded with the cards on top, or before the render is known).
    pub fn scenes_target_s(&self) -> f64 {
        let spot = self.brief.as_ref().map_or(0.0, |b| b.duration_s);
        self.render.as_ref().map_or(spot, |r| r.scenes_s(spot))
    }

    pub fn scene(&self, id: u32) -> Option<&Scene> {
        self.scenes.iter().find(|s| s.id == id)
    }

    /// 1-based position of a scene, as users count.
    pub fn scene_number(&self, id: u32) -> Option<usize> {
        self.scenes.iter().position(|s| s.id == id).map(|p| p + 1)
    }

    /// The latest stage that has started and not completed, else the latest completed.
    pub fn current_stage(&self) -> Option<Stage> {
        Stage::ALL
            .into_iter()
            .rev()
            .find(|s| self.stages_started.contains(s))
    }

    pub fn is_done(&self) -> bool {
        self.final_video.is_some() && self.stages_completed.contains(&Stage::Scoring)
    }

    pub fn apply(&mut self, env: &EventEnvelope) {
        self.last_seq = env.seq;
        if self.created_at_ms == 0 {
            self.created_at_ms = env.at_ms;
        }
        self.updated_at_ms = env.at_ms;
        match &env.event {
            Event::SessionCreated { .. }
            | Event::StageStarted { .. }
            | Event::StageCompleted { .. }
            | Event::Resumed
            | Event::CostRecorded { .. }
            | Event::BudgetSet { .. }
            | Event::LookSet { .. }
            | Event::LookFollowed { .. }
            | Event::PipelineFailed { .. } => self.apply_run(&env.event),
            Event::StoryDrafted { .. }
            | Event::StoryCritiqued { .. }
            | Event::StoryFeedback { .. }
            | Event::StoryRegenerationRequested
            | Event::StoryApproved { .. }
            | Event::ReferenceReady { .. } => self.apply_story(&env.event),
            Event::ScenesDrafted { .. }
            | Event::ScenesCritiqued { .. }
            | Event::ScenesCohered { .. }
            | Event::ScenesFeedback { .. }
            | Event::ScenesRegenerationRequested
            | Event::ScenesApproved { .. }
            | Event::SceneEdited { .. }
            | Event::SceneAdded { .. }
            | Event::SceneRemoved { .. }
            | Event::SceneMoved { .. } => self.apply_scenes(&env.event),
            Event::KeyframeReady { .. }
            | Event::CandidatesReady { .. }
            | Event::CandidatePicked { .. }
            | Event::ClipStarted { .. }
            | Event::JobSubmitting { .. }
            | Event::JobSubmitted { .. }
            | Event::JobEnded { .. }
            | Event::ClipRendered { .. }
            | Event::ClipFailed { .. }
            | Event::ClipRetryRequested { .. }
            | Event::ClipRetakeRequested { .. }
            | Event::ScoreRecorded { .. }
            | Event::MusicReady { .. }
            | Event::VoiceReady { .. }
            | Event::Composed { .. }
            | Event::AnimaticMade { .. }
            | Event::AnimaticApproved { .. } => self.apply_media(&env.event),
        }
    }

    /// The session's life: creation, stages, failures, costs and budget.
    fn apply_run(&mut self, event: &Event) {
        match event {
            Event::SessionCreated { id, brief, render } => {
                self.id = id.clone();
                self.brief = Some(brief.as_ref().clone());
                self.render = Some(render.clone());
            }
            Event::StageStarted { stage } => {
                self.stages_started.insert(*stage);
                self.stages_completed.remove(stage);
                if self.failure.as_ref().is_some_and(|(s, _)| s == stage) {
                    self.failure = None;
                }
            }
            Event::StageCompleted { stage } => {
                self.stages_completed.insert(*stage);
            }
            Event::Resumed => self.failure = None,
            Event::CostRecorded { entry } => {
                if let Some(j) = &entry.job {
                    self.jobs_booked.insert(j.clone());
                }
                self.costs.push(entry.clone());
            }
            Event::BudgetSet { usd } => {
                if let Some(b) = self.brief.as_mut() {
                    b.budget_usd = *usd;
                }
            }
            Event::LookSet { name, cube } | Event::LookFollowed { name, cube, .. } => {
                if let Some(b) = self.brief.as_mut() {
                    b.look = Some(name.clone());
                    b.assets.look = cube.clone();
                    // The user's choice: the look no longer follows the references.
                    if matches!(event, Event::LookSet { .. }) {
                        b.look_base = None;
                    }
                }
            }
            Event::PipelineFailed { stage, error } => self.failure = Some((*stage, error.clone())),
            _ => {}
        }
    }

    /// Remember which model wrote a piece (events from before this was recorded say "").
    fn note_author(&mut self, what: &str, provider: &str) {
        if !provider.is_empty() {
            self.written_by.insert(what.into(), provider.into());
        }
    }

    /// The story, its critiques and approval, and the references.
    fn apply_story(&mut self, event: &Event) {
        match event {
            Event::StoryDrafted { story, provider } => {
                self.story = Some(story.clone());
                self.note_author("story", provider);
                self.story_feedback = None;
                self.story_regenerate = false;
                self.story_approved = None;
                self.reset_from(Stage::Scenes);
                self.scenes.clear();
                self.scenes_revision = 0;
                self.scenes_critiques.clear();
                self.scenes_cohered = None;
            }
            Event::StoryCritiqued { revision, critique, provider } => {
                self.note_author("story critique", provider);
                self.story_critiques.insert(*revision, critique.clone());
            }
            Event::StoryFeedback { text } => {
                self.story_feedback = Some(text.clone());
                self.story_approved = None;
                self.reset_from(Stage::Story);
            }
            Event::StoryRegenerationRequested => {
                self.story_regenerate = true;
                self.story_approved = None;
                self.reset_from(Stage::Story);
            }
            Event::StoryApproved { by } => self.story_approved = Some(*by),
            Event::ReferenceReady { reference } => {
                self.references.insert(reference.kind, reference.clone());
            }
            _ => {}
        }
    }

    /// The scenes and the user's edits of them.
    fn apply_scenes(&mut self, event: &Event) {
        match event {
            Event::ScenesDrafted { scenes, revision, provider } => {
                self.note_author("scenes", provider);
                self.scenes = scenes.clone();
                self.note_scene_ids();
                self.scenes_revision = *revision;
                self.scenes_feedback = None;
                self.scenes_regenerate = false;
                self.scenes_approved = None;
                self.animatic_approved = None;
                self.scenes_cohered = None;
            }
            Event::ScenesCritiqued { revision, critique, provider } => {
                self.note_author("scene critique", provider);
                self.scenes_critiques.insert(*revision, critique.clone());
            }
            Event::ScenesCohered { revision, notes, scenes, provider } => {
                self.note_author("cohesion", provider);
                self.scenes = scenes.clone();
                self.note_scene_ids();
                self.scenes_cohered = Some(*revision);
                self.cohesion_notes = notes.clone();
            }
            Event::ScenesFeedback { text, scene_id } => {
                self.scenes_feedback = Some((*scene_id, text.clone()));
                self.scenes_approved = None;
                self.animatic_approved = None;
                self.reset_from(Stage::Scenes);
            }
            Event::ScenesRegenerationRequested => {
                self.scenes_regenerate = true;
                self.scenes_approved = None;
                self.animatic_approved = None;
                self.reset_from(Stage::Scenes);
            }
            Event::ScenesApproved { by } => self.scenes_approved = Some(*by),
            Event::SceneEdited { scene_id, patch } => {
                if let Some(s) = self.scenes.iter_mut().find(|s| s.id == *scene_id) {
                    patch.apply(s);
                }
                self.after_scene_change();
            }
            Event::SceneAdded { scene, index } => {
                let i = (*index).min(self.scenes.len());
                self.scenes.insert(i, scene.clone());
                self.note_scene_ids();
                self.after_scene_change();
            }
            Event::SceneRemoved { scene_id } => {
                self.scenes.retain(|s| s.id != *scene_id);
                self.keyframes.remove(scene_id);
                self.clips.remove(scene_id);
                self.clip_failures.remove(scene_id);
                self.clip_takes.remove(scene_id);
                self.take_quality.remove(scene_id);
                self.scores.remove(&ScoreTarget::Clip(*scene_id));
                self.after_scene_change();
            }
            Event::SceneMoved { scene_id, index } => {
                if let Some(p) = self.scenes.iter().position(|s| s.id == *scene_id) {
                    let s = self.scenes.remove(p);
                    let i = (*index).min(self.scenes.len());
                    self.scenes.insert(i, s);
                }
                self.after_scene_change();
            }
            _ => {}
        }
    }

    /// Keyframes, clips, remote jobs, scores and the final cut.
    fn apply_media(&mut self, event: &Event) {
        match event {
            Event::KeyframeReady { keyframe } => {
                self.keyframes.insert(keyframe.scene_id, keyframe.clone());
            }
            Event::ClipStarted { scene_id, key } => {
                self.clips_started.insert(*scene_id, key.clone());
            }
            Event::JobSubmitting { task, provider } => {
                self.jobs.insert(task.clone(), JobRecord { provider: provider.clone(), remote_id: None, at_ms: self.updated_at_ms });
            }
            Event::JobSubmitted { task, provider, remote_id } => {
                self.jobs.insert(
                    task.clone(),
                    JobRecord { provider: provider.clone(), remote_id: Some(remote_id.clone()), at_ms: self.updated_at_ms },
                );
            }
            Event::JobEnded { task, remote_id, .. } => {
                *self.jobs_ended.entry(task.clone()).or_default() += 1;
                if self.jobs.get(task).is_some_and(|j| j.remote_id.as_ref() == Some(remote_id)) {
                    self.jobs.remove(task);
                }
            }
            Event::ClipRendered { clip } => {
                self.clip_failures.remove(&clip.scene_id);
                self.clips.insert(clip.scene_id, clip.clone());
            }
            Event::ClipFailed { scene_id, key, error } => {
                self.clip_failures
                    .insert(*scene_id, ClipFailure { key: key.clone(), error: error.clone() });
            }
            Event::ClipRetryRequested { scene_id } => {
                self.clip_failures.remove(scene_id);
                self.stages_completed.remove(&Stage::Clips);
            }
            Event::ClipRetakeRequested { scene_id, take, .. } => {
                self.clip_takes.insert(*scene_id, *take);
                self.clip_failures.remove(scene_id);
                self.stages_completed.remove(&Stage::Clips);
            }
            Event::ScoreRecorded { record } => {
                if let (ScoreTarget::Clip(id), Some(q)) = (&record.target, record.score.quality()) {
                    let take = self.take(*id);
                    self.take_quality.entry(*id).or_default().insert(take, q);
                }
                self.scores.insert(record.target.clone(), record.clone());
            }
            Event::Composed { video } => self.final_video = Some(video.clone()),
            Event::AnimaticMade { animatic } => self.animatic = Some(animatic.clone()),
            Event::CandidatesReady { slot, key, images } => {
                self.candidates.insert(*slot, (key.clone(), images.clone()));
            }
            Event::CandidatePicked { slot, index, by, .. } => {
                self.picks.insert(*slot, (*index, *by));
            }
            Event::AnimaticApproved { by } => self.animatic_approved = Some(*by),
            Event::MusicReady { music } => self.music = Some(music.clone()),
            Event::VoiceReady { take } => {
                self.voices.insert(take.scene_id, take.clone());
            }
            _ => {}
        }
    }

    /// The candidate the user chose for `slot`, if any (auto picks are not choices:
    /// they follow from the candidates).
    pub fn user_pick(&self, slot: super::Slot) -> Option<usize> {
        self.picks.get(&slot).filter(|(_, by)| *by == Approver::User).map(|(i, _)| *i)
    }

    /// The take a scene's clip should be.
    pub fn take(&self, scene_id: u32) -> u32 {
        self.clip_takes.get(&scene_id).copied().unwrap_or(0)
    }

    fn note_scene_ids(&mut self) {
        if let Some(m) = self.scenes.iter().map(|s| s.id).max() {
            self.max_scene_id = self.max_scene_id.max(m);
        }
    }

    /// The scene list changed after the fact: later stages must be re-checked.
    fn after_scene_change(&mut self) {
        for s in [Stage::Keyframes, Stage::Animatic, Stage::Clips, Stage::Compose, Stage::Scoring] {
            self.stages_completed.remove(&s);
        }
    }

    /// A decision re-opened `stage`: it and everything after it are no longer complete.
    fn reset_from(&mut self, stage: Stage) {
        self.stages_completed.retain(|s| *s < stage);
    }
}
