//! The animatic: every keyframe moved as its clip will move, cut on the final's timeline
//! with its cards, text, voice, captions and music — at low resolution and a fast preset,
//! so timing and story are approved in seconds and for $0 before any clip is paid for.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use futures::stream::{self, StreamExt, TryStreamExt};

use super::super::cut::{animatic_motion, animatic_spec};
use super::super::keys::animatic_key;
use super::super::{Pipeline, PipelineError, Recorder, Task};
use super::compose::{check_sound_and_assets, render_cut, with_beat};
use crate::domain::{Event, FinalVideo, SessionState};

/// The share of the animatic's progress bar the keyframes' motion takes (compose the rest).
const MOTION_SHARE: f32 = 0.5;

pub async fn animatic(p: &Pipeline, rec: &Arc<Recorder>, st: &SessionState) -> Result<(), PipelineError> {
    let rules = p.finish_rules();
    let key = animatic_key(st, &rules).ok_or_else(|| PipelineError::Internal("a keyframe is missing".into()))?;
    if let Some(v) = p.store.cache_get::<FinalVideo>(&key)?.filter(|v| p.store.blobs.contains(&v.video)) {
        rec.record(Event::AnimaticMade { animatic: FinalVideo { key, ..v } }).await?;
        return Ok(());
    }
    check_sound_and_assets(p, st, st.scenes.iter().filter_map(|s| st.keyframes.get(&s.id)).map(|k| &k.image))?;
    let work = p.work_dir(&st.id).join(format!("animatic-{}", &key[..12]));
    std::fs::create_dir_all(&work)?;
    let clip_path = |id: u32| work.join(format!("scene-{id}.mp4"));

    // Each keyframe under its camera move, as many at once as clips render.
    rec.progress(Task::Animatic, 0.0);
    let done = Arc::new(AtomicUsize::new(0));
    let n = st.scenes.len().max(1);
    let jobs = st.scenes.iter().map(|s| {
        let image = p.store.blobs.existing(&st.keyframes.get(&s.id).ok_or_else(|| PipelineError::Internal(format!("scene {} has no keyframe", s.id)))?.image)?;
        let motion = animatic_motion(st, s).ok_or_else(|| PipelineError::Internal("the session has no render spec".into()))?;
        Ok::<_, PipelineError>((image, clip_path(s.id), motion))
    });
    let jobs: Vec<_> = jobs.collect::<Result<_, _>>()?;
    stream::iter(jobs)
        .map(|(image, out, motion)| {
            let (ff, cancel, rec, done, session) = (p.ffmpeg.clone(), p.cancel.clone(), rec.clone(), done.clone(), st.id.clone());
            async move {
                tokio::task::spawn_blocking(move || crate::media::animate_still(&ff, &image, &out, &motion, Some(&cancel), |_| {}))
                    .await
                    .map_err(|e| PipelineError::Internal(format!("animatic: {e}")))?
                    .map_err(|e| match e {
                        crate::media::MediaError::Cancelled => PipelineError::Cancelled(session),
                        e => PipelineError::Media(e),
                    })?;
                let k = done.fetch_add(1, Ordering::Relaxed) + 1;
                rec.progress(Task::Animatic, MOTION_SHARE * k as f32 / n as f32);
                Ok::<_, PipelineError>(())
            }
        })
        .buffer_unordered(p.settings.pipeline.clip_concurrency.max(1))
        .try_collect::<Vec<()>>()
        .await?;

    let spec = animatic_spec(st, &rules, &|a| p.store.blobs.path(a), &|s| clip_path(s.id))
        .ok_or_else(|| PipelineError::Internal("a keyframe is missing".into()))?;
    let spec = with_beat(p, spec).await;
    let rec2 = rec.clone();
    let made = render_cut(p, rec, spec, &work, key.clone(), Task::Animatic, move |f| {
        rec2.progress(Task::Animatic, MOTION_SHARE + (1.0 - MOTION_SHARE) * f)
    })
    .await?;
    p.store.cache_put(&key, &made)?;
    rec.record(Event::AnimaticMade { animatic: made }).await?;
    Ok(())
}
