//! The music bed: made beside the clips by the music role (the offline composer unless
//! configured otherwise), cached by what it was asked for.

use std::sync::Arc;

use super::super::cut::music_request;
use super::super::keys::music_key;
use super::super::{Pipeline, PipelineError, Recorder, Task};
use super::produce;
use crate::domain::{Event, MusicBed, SessionState};
use crate::providers::offline::OFFLINE_COMPOSER;

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
    // A job like any other: recorded before it is sent, re-attached after a crash.
    let made = produce(p, rec, task, &key, &model, &req, "wav", 1).await?;
    // The offline composer plays exactly the asked tempo; a remote model was only asked.
    let bpm = (made.model == OFFLINE_COMPOSER).then_some(req.bpm);
    let bed = MusicBed { audio: made.asset, duration_s: req.duration_s, bpm, mood: req.mood.clone(), provider: made.model, key: key.clone() };
    p.store.cache_put(&key, &bed)?;
    rec.record(Event::MusicReady { music: bed }).await?;
    rec.progress(task, 1.0);
    Ok(())
}
