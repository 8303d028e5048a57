//! Clips: every scene's keyframe animated into a video, then scored as it lands.

use std::sync::Arc;

use super::super::keys::clip_key;
use super::super::{Pipeline, PipelineError, Recorder, Task};
use super::{blob_path, produce};
use crate::domain::{Clip, Event, Scene, ScoreRecord, ScoreTarget, SessionState};
use crate::providers::VideoRequest;
use crate::quality::{GateContext, ScoreRequest};

/// What the video model is asked for a scene's current take.
fn video_request(p: &Pipeline, st: &SessionState, scene: &Scene) -> Result<VideoRequest, PipelineError> {
    let render = st.render.clone().expect("render spec is set at creation");
    let keyframe = st.keyframes.get(&scene.id).ok_or_else(|| PipelineError::Internal(format!("scene {} has no keyframe", scene.id)))?;
    let take = st.take(scene.id);
    Ok(VideoRequest {
        image: blob_path(p, &keyframe.image)?,
        prompt: scene.description.clone(),
        negative_prompt: p.resources.render_prompt("negative", serde_json::json!({ "what": "video" }))?,
        camera: scene.camera,
        motion_intensity: scene.motion_intensity,
        duration_s: scene.duration_s,
        fps: render.fps,
        width: render.width,
        height: render.height,
        seed: st.brief().seed.wrapping_add(take as u64),
        take,
    })
}

pub async fn clip(p: &Pipeline, rec: &Arc<Recorder>, st: &SessionState, scene_id: u32) -> Result<(), PipelineError> {
    let scene = st.scene(scene_id).ok_or_else(|| PipelineError::Internal(format!("scene {scene_id} is gone")))?.clone();
    let key = clip_key(st, &scene, &p.provider_ids()).ok_or_else(|| PipelineError::Internal(format!("scene {scene_id} has no keyframe")))?;
    let task = Task::Clip(scene_id);
    if let Some(c) = p.store.cache_get::<Clip>(&key)?.filter(|c| p.store.blobs.contains(&c.video)) {
        rec.progress(task, 1.0);
        rec.record(Event::ClipRendered { clip: Clip { scene_id, key, cached: true, ..c } }).await?;
        return Ok(());
    }
    let render = st.render.clone().expect("render spec is set at creation");
    let req = video_request(p, st, &scene)?;
    rec.record(Event::ClipStarted { scene_id, key: key.clone() }).await?;
    match produce(p, rec, task, &key, &p.providers.video, &req, "mp4", p.settings.pipeline.clip_attempts).await {
        Ok(made) => {
            let has_audio = p.ffmpeg.probe(&blob_path(p, &made.asset)?).map(|pr| pr.has_audio).unwrap_or(false);
            let clip = Clip {
                scene_id,
                video: made.asset,
                duration_s: scene.duration_s,
                width: render.width,
                height: render.height,
                fps: render.fps,
                provider: made.model,
                key: key.clone(),
                cached: false,
                has_audio,
            };
            p.store.cache_put(&key, &clip)?;
            rec.record(Event::ClipRendered { clip }).await?;
            Ok(())
        }
        Err(e @ (PipelineError::Cancelled(_) | PipelineError::Budget(_))) => Err(e),
        Err(e) => {
            // One failed clip never stops the others: record it and let the rest finish.
            rec.record(Event::ClipFailed { scene_id, key, error: e.to_string() }).await?;
            Ok(())
        }
    }
}

/// Score a rendered clip; with the quality gate on, ask for another take when it scores
/// under the threshold (or go back to the best take once the attempts are spent).
pub async fn score_clip(p: &Pipeline, rec: &Arc<Recorder>, st: &SessionState, scene_id: u32) -> Result<(), PipelineError> {
    let clip = st.clips.get(&scene_id).ok_or_else(|| PipelineError::Internal(format!("clip {scene_id} is gone")))?;
    let scene = st.scene(scene_id).ok_or_else(|| PipelineError::Internal(format!("scene {scene_id} is gone")))?.clone();
    let task = Task::ScoreClip(scene_id);
    rec.progress(task, 0.0);
    let req = ScoreRequest {
        video: blob_path(p, &clip.video)?,
        gates: GateContext { expected_duration_s: Some(scene.duration_s), longer_ok: true, ..GateContext::default() },
    };
    let score = p.scorer.score(&req).await;
    rec.record(Event::ScoreRecorded { record: ScoreRecord { target: ScoreTarget::Clip(scene_id), video: clip.video.clone(), score } }).await?;
    rec.progress(task, 1.0);
    let s = &p.settings.scoring;
    let now = rec.state().await;
    if let Some((take, why)) = super::super::plan::quality_retake(&now, scene_id, s.regenerate_below, s.max_attempts) {
        let mut next = now.clone();
        next.clip_takes.insert(scene_id, take);
        let est = p.providers.video.estimate_usd(&video_request(p, &next, &scene)?);
        let reason = match est {
            _ if now.take_quality.get(&scene_id).is_some_and(|t| t.contains_key(&take)) => why,
            Some(usd) => format!("{why}; estimated ${usd:.2}"),
            None => format!("{why}; price unknown"),
        };
        rec.record(Event::ClipRetakeRequested { scene_id, take, reason }).await?;
    }
    Ok(())
}
