//! The final cut: clips, cards, overlays, music and voiceover in one ffmpeg run.

use std::sync::Arc;

use super::super::keys::{compose_key, key_of};
use super::super::{Pipeline, PipelineError, Recorder, Task};
use super::{blob_path, check_budget, ingest, job_ctx, record_cost};
use crate::domain::{AssetId, Event, FinalVideo, ReferenceKind, ScoreRecord, ScoreTarget, SessionState};
use crate::media::{overlay_boxes, ComposeAudio, ComposeClip, ComposeSpec};
use crate::quality::{GateContext, ScoreRequest};
use crate::providers::{MediaRef, SpeechRequest};

fn brand_colors(st: &SessionState) -> [String; 2] {
    let pal = st
        .references
        .get(&ReferenceKind::Product)
        .map(|r| r.analysis.palette.clone())
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| crate::domain::prompt_palette(&st.brief().prompt));
    // The darkest colour behind the text keeps white text readable.
    let lum = |h: &str| {
        let t = h.trim_start_matches('#');
        let c = |i: usize| u8::from_str_radix(t.get(i..i + 2).unwrap_or("00"), 16).unwrap_or(0) as f32;
        0.2126 * c(0) + 0.7152 * c(2) + 0.0722 * c(4)
    };
    let mut sorted = pal.clone();
    sorted.sort_by(|a, b| lum(a).total_cmp(&lum(b)));
    let dark = sorted.first().filter(|c| lum(c) < 110.0).cloned().unwrap_or_else(|| "#1b1b2f".into());
    let accent = pal.first().filter(|c| **c != dark).cloned().unwrap_or_else(|| "#3a0ca3".into());
    [dark, accent]
}

/// Voiceover lines placed at the start of their scenes (cached by text and voice).
async fn voiceover(p: &Pipeline, rec: &Arc<Recorder>, st: &SessionState) -> Result<Vec<(f64, std::path::PathBuf)>, PipelineError> {
    let Some(speech) = p.providers.speech.clone() else { return Ok(vec![]) };
    let render = st.render.as_ref().expect("render spec is set at creation");
    let mut t = render.intro_s;
    let mut out = Vec::new();
    for s in &st.scenes {
        if !s.voiceover.trim().is_empty() {
            let key = key_of("voiceover", &(&s.voiceover, speech.id()));
            let asset = match p.store.cache_get::<AssetId>(&key)?.filter(|a| p.store.blobs.contains(a)) {
                Some(a) => a,
                None => {
                    let ctx = job_ctx(p, rec, &st.id, Task::Voiceover, &key);
                    let req = SpeechRequest { text: s.voiceover.clone(), voice: String::new() };
                    let est = speech.estimate_usd(&req);
                    check_budget(&rec.state().await, est, &Task::Voiceover.label(), &speech.id())?;
                    let made = speech.speak(&req, &ctx).await.map_err(|e| PipelineError::provider(Task::Voiceover, e))?;
                    let a = ingest(p, made.media, "wav").await.map_err(|e| PipelineError::provider(Task::Voiceover, e))?;
                    record_cost(rec, &Task::Voiceover.label(), &speech.id(), made.cost_usd, est).await?;
                    p.store.cache_put(&key, &a)?;
                    a
                }
            };
            out.push((t + 0.15, blob_path(p, &asset)?));
        }
        t += s.duration_s;
    }
    Ok(out)
}

/// The final cut as ffmpeg will make it (voiceover lines given).
fn compose_spec(p: &Pipeline, st: &SessionState, voiceover: Vec<(f64, std::path::PathBuf)>) -> Result<ComposeSpec, PipelineError> {
    let brief = st.brief();
    let render = st.render.clone().expect("render spec is set at creation");
    let mut clips = Vec::new();
    for s in &st.scenes {
        let c = st.clips.get(&s.id).ok_or_else(|| PipelineError::Internal(format!("clip {} is missing", s.id)))?;
        clips.push(ComposeClip { path: blob_path(p, &c.video)?, duration_s: s.duration_s, text: s.on_screen_text.clone() });
    }
    Ok(ComposeSpec {
        width: render.width,
        height: render.height,
        fps: render.fps,
        intro_s: render.intro_s,
        outro_s: render.outro_s,
        product_name: brief.product_name.clone(),
        call_to_action: brief.call_to_action.clone(),
        colors: brand_colors(st),
        logo: brief.assets.logo.as_ref().map(|a| blob_path(p, a)).transpose()?,
        clips,
        audio: ComposeAudio { music: brief.assets.music.as_ref().map(|a| blob_path(p, a)).transpose()?, voiceover },
        font: p.settings.render.font.clone(),
        x264_preset: p.settings.render.x264_preset.clone(),
        crf: p.settings.render.crf,
    })
}

pub async fn compose(p: &Pipeline, rec: &Arc<Recorder>, st: &SessionState) -> Result<(), PipelineError> {
    let key = compose_key(st, &p.provider_ids()).ok_or_else(|| PipelineError::Internal("a clip is missing".into()))?;
    if let Some(v) = p.store.cache_get::<FinalVideo>(&key)?.filter(|v| p.store.blobs.contains(&v.video)) {
        rec.record(Event::Composed { video: FinalVideo { key, ..v } }).await?;
        return Ok(());
    }
    let spec = compose_spec(p, st, voiceover(p, rec, st).await?)?;
    let work = p.work_dir(&st.id).join(format!("compose-{}", &key[..12]));
    let out = work.join("final.mp4");
    let (ff, cancel, rec2) = (p.ffmpeg.clone(), p.cancel.clone(), rec.clone());
    let (work2, out2) = (work.clone(), out.clone());
    let probe = tokio::task::spawn_blocking(move || {
        crate::media::compose(&ff, &spec, &work2, &out2, Some(&cancel), move |f| rec2.progress(Task::Compose, f))
    })
    .await
    .map_err(|e| PipelineError::Io(std::io::Error::other(e.to_string())))?
    .map_err(|e| match e {
        crate::media::MediaError::Cancelled => PipelineError::Cancelled(st.id.clone()),
        e => PipelineError::Media(e),
    })?;
    let video = ingest(p, MediaRef::Local(out), "mp4").await.map_err(|e| PipelineError::provider(Task::Compose, e))?;
    let _ = std::fs::remove_dir_all(&work);
    let fv = FinalVideo { video, duration_s: probe.duration_s, width: probe.width, height: probe.height, key: key.clone() };
    p.store.cache_put(&key, &fv)?;
    rec.record(Event::Composed { video: fv }).await?;
    Ok(())
}

/// Score the advert: dimensions, and the gates with what compose knows — the planned
/// length, the title cards (meant to be still), the overlays (safe area) and the audio.
pub async fn score_final(p: &Pipeline, rec: &Arc<Recorder>, st: &SessionState) -> Result<(), PipelineError> {
    let fv = st.final_video.as_ref().ok_or_else(|| PipelineError::Internal("nothing composed to score".into()))?;
    let spec = compose_spec(p, st, Vec::new())?;
    let total = spec.total_s();
    rec.progress(Task::ScoreFinal, 0.0);
    let req = ScoreRequest {
        video: blob_path(p, &fv.video)?,
        gates: GateContext {
            expected_duration_s: Some(total),
            exempt: vec![(0.0, spec.intro_s), (total - spec.outro_s, total + 1.0)],
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
