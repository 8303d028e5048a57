//! The music bed: made beside the clips by the music role (the offline composer unless
//! configured otherwise), cached by what it was asked for.

use std::sync::Arc;

use super::super::cut::music_request;
use super::super::keys::music_key;
use super::super::{Pipeline, PipelineError, Recorder, Task};
use super::{check_budget, ingest, job_ctx, record_cost};
use crate::domain::{Event, MusicBed, SessionState};

pub async fn music(p: &Pipeline, rec: &Arc<Recorder>, st: &SessionState) -> Result<(), PipelineError> {
    let Some(model) = p.providers.music.clone() else { return Ok(()) };
    let finish = p.finish_rules();
    let (Some(req), Some(key)) = (music_request(st, &finish), music_key(st, &p.provider_ids(), &finish)) else {
        return Err(PipelineError::Internal("music was planned for a session that needs none".into()));
    };
    if let Some(m) = p.store.cache_get::<MusicBed>(&key)?.filter(|m| p.store.blobs.contains(&m.audio)) {
        rec.record(Event::MusicReady { music: MusicBed { key, ..m } }).await?;
        return Ok(());
    }
    let task = Task::Music;
    rec.progress(task, 0.0);
    let est = model.estimate_usd(&req);
    check_budget(&rec.state().await, est, &task.label(), &model.id())?;
    let ctx = job_ctx(p, rec, &st.id, task, &key);
    let made = model.compose(&req, &ctx).await.map_err(|e| match e {
        crate::providers::ProviderError::Cancelled => PipelineError::Cancelled(st.id.clone()),
        e => PipelineError::provider(task, e),
    })?;
    let audio = ingest(p, made.produced.media, "wav").await.map_err(|e| PipelineError::provider(task, e))?;
    record_cost(rec, &task.label(), &model.id(), made.produced.cost_usd, est).await?;
    let bed = MusicBed { audio, duration_s: req.duration_s, bpm: made.bpm, mood: made.mood, provider: model.id(), key: key.clone() };
    p.store.cache_put(&key, &bed)?;
    rec.record(Event::MusicReady { music: bed }).await?;
    rec.progress(task, 1.0);
    Ok(())
}
