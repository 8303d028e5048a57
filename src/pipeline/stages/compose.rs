//! The final cut: clips, cards, overlays, captions, music and the recorded voice lines in
//! one ffmpeg run, on the timeline `cut::compose_spec` describes.

use std::sync::Arc;

use super::super::cut::compose_spec;
use super::super::keys::compose_key;
use super::super::{Pipeline, PipelineError, Recorder, Task};
use super::{blob_path, ingest};
use crate::domain::{AssetId, Event, FinalVideo, ScoreRecord, ScoreTarget, SessionState};
use crate::media::{overlay_boxes, ComposeSpec};
use crate::providers::MediaRef;
use crate::quality::{GateContext, ScoreRequest};

/// The final cut with blob paths, every blob it reads checked to exist.
async fn spec(p: &Pipeline, st: &SessionState) -> Result<ComposeSpec, PipelineError> {
    let clips = st.scenes.iter().filter_map(|s| st.clips.get(&s.id)).map(|c| &c.video);
    check_sound_and_assets(p, st, clips)?;
    let spec = compose_spec(st, &p.finish_rules(), &|a| p.store.blobs.path(a)).ok_or_else(|| PipelineError::Internal("a clip is missing".into()))?;
    Ok(with_beat(p, spec).await)
}

/// Check that `media` and every blob a cut reads besides its pictures (voice lines, the
/// brief's logo, music and look, the music bed) exist.
pub(super) fn check_sound_and_assets<'a>(p: &Pipeline, st: &'a SessionState, media: impl Iterator<Item = &'a AssetId>) -> Result<(), PipelineError> {
    let assets = &st.brief().assets;
    let voices = st.voices.values().map(|t| &t.audio);
    for a in media.chain(voices).chain(&assets.logo).chain(&assets.music).chain(&assets.look).chain(st.music.as_ref().map(|m| &m.audio)) {
        p.store.blobs.existing(a)?;
    }
    Ok(())
}

/// The spec with the music's beat detected when cutting on it asks for that.
pub(super) async fn with_beat(p: &Pipeline, spec: ComposeSpec) -> ComposeSpec {
    let (ff, on_beat) = (p.ffmpeg.clone(), p.finish_rules().cut_on_beat);
    let fallback = spec.clone();
    tokio::task::spawn_blocking(move || with_detected_beat(&ff, on_beat, spec)).await.unwrap_or_else(|e| {
        tracing::warn!("beat detection: {e}");
        fallback
    })
}

/// Cutting on the beat of music whose tempo admint was not told (the user's track, a
/// remote model's bed): its beat is detected from the file. A deterministic function of
/// the file, so the final's key (which has the file's content id) still covers it. A
/// track without a clear pulse, or one that cannot be read, keeps the planned cuts.
fn with_detected_beat(ff: &crate::media::Ffmpeg, cut_on_beat: bool, mut spec: ComposeSpec) -> ComposeSpec {
    if !cut_on_beat || spec.beat.is_some() {
        return spec;
    }
    if let Some(music) = &spec.audio.music {
        match crate::media::detect_beat(ff, music) {
            Ok(beat) => spec.beat = beat,
            Err(e) => tracing::warn!("the music's beat could not be detected: {e}"),
        }
    }
    spec
}

pub async fn compose(p: &Pipeline, rec: &Arc<Recorder>, st: &SessionState) -> Result<(), PipelineError> {
    let key = compose_key(st, &p.finish_rules()).ok_or_else(|| PipelineError::Internal("a clip is missing".into()))?;
    if let Some(v) = p.store.cache_get::<FinalVideo>(&key)?.filter(|v| p.store.blobs.contains(&v.video)) {
        rec.record(Event::Composed { video: FinalVideo { key, ..v } }).await?;
        return Ok(());
    }
    let spec = spec(p, st).await?;
    let work = p.work_dir(&st.id).join(format!("compose-{}", &key[..12]));
    let rec2 = rec.clone();
    let fv = render_cut(p, rec, spec, &work, key.clone(), Task::Compose, move |f| rec2.progress(Task::Compose, f)).await?;
    p.store.cache_put(&key, &fv)?;
    rec.record(Event::Composed { video: fv }).await?;
    Ok(())
}

/// Compose `spec` in `work` (removed after), the result moved into the blob store: the
/// video under `key`. Characters the fonts cannot draw are left out, with a warning.
pub(super) async fn render_cut(
    p: &Pipeline,
    rec: &Arc<Recorder>,
    mut spec: ComposeSpec,
    work: &std::path::Path,
    key: String,
    task: Task,
    progress: impl FnMut(f32) + Send + 'static,
) -> Result<FinalVideo, PipelineError> {
    for warning in crate::media::leave_out_unprintable(&mut spec) {
        rec.note(format!("warning: {warning}"));
    }
    let out = work.join("cut.mp4");
    let (ff, cancel) = (p.ffmpeg.clone(), p.cancel.clone());
    let (work2, out2) = (work.to_path_buf(), out.clone());
    let probe = tokio::task::spawn_blocking(move || crate::media::compose(&ff, &spec, &work2, &out2, Some(&cancel), progress))
        .await
        .map_err(|e| PipelineError::Io(std::io::Error::other(e.to_string())))?
        .map_err(|e| match e {
            crate::media::MediaError::Cancelled => PipelineError::Cancelled(rec.session().to_string()),
            e => PipelineError::Media(e),
        })?;
    let video = ingest(p, MediaRef::Local(out), "mp4").await.map_err(|e| PipelineError::provider(task, e))?;
    let _ = std::fs::remove_dir_all(work);
    Ok(FinalVideo { video, duration_s: probe.duration_s, width: probe.width, height: probe.height, key })
}

/// Score the advert: dimensions, and the gates with what the timeline knows — the planned
/// length, the title cards (meant to be still), the overlays (safe area) and the audio.
pub async fn score_final(p: &Pipeline, rec: &Arc<Recorder>, st: &SessionState) -> Result<(), PipelineError> {
    let fv = st.final_video.as_ref().ok_or_else(|| PipelineError::Internal("nothing composed to score".into()))?;
    let spec = spec(p, st).await?;
    let timeline = spec.timeline();
    rec.progress(Task::ScoreFinal, 0.0);
    let req = ScoreRequest {
        video: blob_path(p, &fv.video)?,
        gates: GateContext {
            expected_duration_s: Some(timeline.total_s),
            // The end card runs to the last frame: a margin past it keeps the gate off it.
            exempt: timeline.card_spans().into_iter().map(|(a, b)| (a, if b >= timeline.total_s { b + 1.0 } else { b })).collect(),
            overlays: Some(overlay_boxes(&spec)),
            audio: true,
            longer_ok: false,
        },
    };
    let score = p.scorer.score(&req).await;
    rec.record(Event::ScoreRecorded { record: ScoreRecord { target: ScoreTarget::Final, video: fv.video.clone(), score } }).await?;
    rec.progress(Task::ScoreFinal, 1.0);
    Ok(())
}
