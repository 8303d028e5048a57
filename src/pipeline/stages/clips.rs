//! Clips: every scene's keyframe animated into a video, then scored as it lands.

use std::sync::Arc;

use super::super::keys::clip_key;
use super::super::{Pipeline, PipelineError, Recorder};
use super::{blob_path, check_budget, ingest, job_ctx, run_job};
use crate::domain::{Clip, CostEntry, Event, Scene, ScoreRecord, ScoreTarget, SessionState};
use crate::providers::VideoRequest;
use crate::quality::{GateContext, ScoreRequest};

/// What the video model is asked for a scene's current take.
fn video_request(p: &Pipeline, st: &SessionState, scene: &Scene) -> Result<VideoRequest, PipelineError> {
    let render = st.render.clone().expect("render spec is set at creation");
    let keyframe = st.keyframes.get(&scene.id).ok_or_else(|| PipelineError::Config(format!("scene {} has no keyframe", scene.id)))?;
    let take = st.take(scene.id);
    Ok(VideoRequest {
        image: blob_path(p, &keyframe.image)?,
        prompt: scene.description.clone(),
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
    let scene = st.scene(scene_id).ok_or_else(|| PipelineError::Config(format!("scene {scene_id} is gone")))?.clone();
    let key = clip_key(st, &scene, &p.provider_ids()).ok_or_else(|| PipelineError::Config(format!("scene {scene_id} has no keyframe")))?;
    let task = format!("clip:{scene_id}");
    if let Some(c) = p.store.cache_get::<Clip>(&key)?.filter(|c| p.store.blobs.contains(&c.video)) {
        rec.progress(&task, 1.0);
        rec.record(Event::ClipRendered { clip: Clip { scene_id, key, cached: true, ..c } }).await?;
        return Ok(());
    }
    let render = st.render.clone().expect("render spec is set at creation");
    let req = video_request(p, st, &scene)?;
    let model = p.providers.video.clone();
    let est = model.estimate_usd(&req);
    rec.record(Event::ClipStarted { scene_id, key: key.clone() }).await?;
    let attempts = p.settings.pipeline.clip_attempts.max(1);
    let mut last_err = None;
    for attempt in 1..=attempts {
        // Paid jobs are never resubmitted automatically.
        if attempt > 1 && model.is_remote() {
            break;
        }
        let state_now = rec.state().await;
        if let Err(e) = check_budget(&state_now, est, &task) {
            last_err = Some(e);
            break;
        }
        let ctx = job_ctx(p, rec, &st.id, &task, &key);
        let (m1, m2, m3) = (model.clone(), model.clone(), model.clone());
        let result = run_job(
            rec, &state_now, &task, &model.id(), model.is_remote(), model.poll_interval(), &ctx,
            async { m1.submit(&req, &ctx).await },
            move |j| { let m = m2.clone(); async move { m.status(&j).await } },
            move |j| async move { m3.cancel(&j).await },
        )
        .await;
        match result {
            Ok(media) => {
                let video = ingest(p, media, "mp4").await.map_err(|e| PipelineError::provider(&task, e))?;
                if est > 0.0 {
                    rec.record(Event::CostRecorded { entry: CostEntry { stage: task.clone(), provider: model.id(), model: model.id(), usd: est, note: String::new() } }).await?;
                }
                let clip = Clip {
                    scene_id,
                    video,
                    duration_s: scene.duration_s,
                    width: render.width,
                    height: render.height,
                    fps: render.fps,
                    provider: model.id(),
                    key: key.clone(),
                    cached: false,
                };
                p.store.cache_put(&key, &clip)?;
                rec.record(Event::ClipRendered { clip }).await?;
                return Ok(());
            }
            Err(PipelineError::Cancelled(s)) => return Err(PipelineError::Cancelled(s)),
            Err(e) => {
                tracing::warn!(scene_id, attempt, error = %e, "clip attempt failed");
                last_err = Some(e);
            }
        }
    }
    // One failed clip never stops the others: record it and let the rest finish.
    let error = last_err.map(|e| e.to_string()).unwrap_or_else(|| "unknown error".into());
    rec.record(Event::ClipFailed { scene_id, key, error }).await?;
    Ok(())
}

/// Score a rendered clip; with the quality gate on, ask for another take when it scores
/// under the threshold (or go back to the best take once the attempts are spent).
pub async fn score_clip(p: &Pipeline, rec: &Arc<Recorder>, st: &SessionState, scene_id: u32) -> Result<(), PipelineError> {
    let clip = st.clips.get(&scene_id).ok_or_else(|| PipelineError::Config(format!("clip {scene_id} is gone")))?;
    let scene = st.scene(scene_id).ok_or_else(|| PipelineError::Config(format!("scene {scene_id} is gone")))?.clone();
    let task = format!("score:{scene_id}");
    rec.progress(&task, 0.0);
    let req = ScoreRequest {
        video: blob_path(p, &clip.video)?,
        gates: GateContext { expected_duration_s: Some(scene.duration_s), ..GateContext::default() },
    };
    let score = p.scorer.score(&req).await;
    rec.record(Event::ScoreRecorded { record: ScoreRecord { target: ScoreTarget::Clip(scene_id), video: clip.video.clone(), score } }).await?;
    rec.progress(&task, 1.0);
    let s = &p.settings.scoring;
    let now = rec.state().await;
    if let Some((take, why)) = super::super::plan::quality_retake(&now, scene_id, s.regenerate_below, s.max_attempts) {
        let mut next = now.clone();
        next.clip_takes.insert(scene_id, take);
        let est = p.providers.video.estimate_usd(&video_request(p, &next, &scene)?);
        let reason = if now.take_quality.get(&scene_id).is_some_and(|t| t.contains_key(&take)) { why } else { format!("{why}; estimated ${est:.2}") };
        rec.record(Event::ClipRetakeRequested { scene_id, take, reason }).await?;
    }
    Ok(())
}
