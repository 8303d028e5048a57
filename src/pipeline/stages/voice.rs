//! A scene's voiceover line: spoken by the speech role as soon as the scenes are approved
//! (beside the keyframes, before any clip is paid for), measured, given word timings for
//! the captions, and fitted to its scene. A line that overruns is fixed in a stated
//! order, and the user is told which: played up to 15 % faster; else (in `--auto`)
//! rewritten shorter by the writer; else its scene is lengthened.

use std::sync::Arc;

use super::super::keys::voice_key;
use super::super::{Pipeline, PipelineError, Recorder, Task};
use super::{blob_path, check_budget, ingest, job_ctx, job_id, record_cost, record_job_cost};
use crate::domain::{
    fit_tempo, scene_length_for, speech_room_s, word_count, Approver, Cue, CueSource, Event, Scene, ScenePatch, SessionState, VoiceTake, MAX_TEMPO,
};
use crate::providers::{ProviderError, SpeechModel, SpeechRequest, Spoken, TranscriptionRequest};

pub async fn voice(p: &Pipeline, rec: &Arc<Recorder>, st: &SessionState, scene_id: u32) -> Result<(), PipelineError> {
    let task = Task::Voice(scene_id);
    let Some(speech) = p.speech_for(st.brief()) else { return Ok(()) };
    let scene = st.scene(scene_id).ok_or_else(|| PipelineError::Internal(format!("{task}: no scene {scene_id}")))?.clone();
    let Some(key) = voice_key(st, &scene, &p.provider_ids().speech) else { return Ok(()) };
    let cancelled = |e: ProviderError| match e {
        ProviderError::Cancelled => PipelineError::Cancelled(st.id.clone()),
        e => PipelineError::provider(task, e),
    };
    let take = match p.store.cache_get::<VoiceTake>(&key)?.filter(|t| p.store.blobs.contains(&t.audio)) {
        Some(t) => VoiceTake { scene_id, ..t },
        None => {
            rec.progress(task, 0.0);
            let voice = st.brief().voice_name();
            let req = SpeechRequest { text: scene.voiceover.trim().to_string(), voice: voice.clone() };
            let est = speech.estimate_usd(&req);
            check_budget(&rec.state().await, est, &task.label(), &speech.id())?;
            let ctx = job_ctx(p, rec, &st.id, task, &key);
            let (spoken, who) = crate::providers::attribution::attributed(speak_once(rec, task, &key, speech.as_ref(), &req, &ctx)).await;
            let spoken = spoken.map_err(cancelled)?;
            let by = who.model(|| speech.id());
            if let Some(note) = who.fallback_note(&task.to_string(), "spoken") {
                rec.note(note);
            }
            // Booked once per job: a line recovered from the history was charged by the
            // cut-off run, which may or may not have booked it.
            record_job_cost(rec, &task.label(), &by, spoken.produced.cost_usd, est, &job_id(task, &key)).await?;
            let audio = ingest(p, spoken.produced.media, "wav").await.map_err(|e| PipelineError::provider(task, e))?;
            let path = blob_path(p, &audio)?;
            let (ff, text, words, path2) = (p.ffmpeg.clone(), req.text.clone(), spoken.words, path.clone());
            let (duration_s, pauses) = tokio::task::spawn_blocking(move || crate::media::silences(&ff, &path2).map(|(p, d)| (d, p)))
                .await
                .map_err(|e| PipelineError::Internal(e.to_string()))??;
            let (cues, cue_source) = match words {
                Some(w) if !w.is_empty() => (w, CueSource::Speech),
                _ => match transcribed(p, rec, st, task, &path, &text, duration_s).await? {
                    Some(w) => (w, CueSource::Transcription),
                    None => (crate::media::align(&text, &pauses, duration_s), CueSource::Aligned),
                },
            };
            let t = VoiceTake { scene_id, audio, text: req.text, voice, duration_s, cues, cue_source, provider: by, key: key.clone() };
            // Cached at once: a crash after this point never pays for the line again.
            p.store.cache_put(&key, &t)?;
            t
        }
    };
    rec.record(Event::VoiceReady { take: take.clone() }).await?;
    rec.progress(task, 1.0);
    fit(p, rec, st, &scene, &take).await
}

/// Word timings for a line from the transcription role, with the script's own words
/// (the recogniser's spelling may differ): `None` when no transcription model is
/// configured, or when what it heard cannot be matched word for word (admint's aligner
/// then times the line, and the user is told).
async fn transcribed(
    p: &Pipeline,
    rec: &Arc<Recorder>,
    st: &SessionState,
    task: Task,
    audio: &std::path::Path,
    script: &str,
    duration_s: f64,
) -> Result<Option<Vec<Cue>>, PipelineError> {
    let Some(model) = p.providers.transcription.clone() else { return Ok(None) };
    let req = TranscriptionRequest { audio: audio.to_path_buf(), script: script.to_string(), language: st.brief().language.clone(), duration_s };
    let est = model.estimate_usd(&req);
    check_budget(&rec.state().await, est, &task.label(), &model.id())?;
    let heard = match model.transcribe(&req).await {
        Ok(w) => w,
        Err(e) => {
            rec.note(format!("{task}: transcription by {} failed ({e}); the captions are timed by admint's aligner", model.id()));
            return Ok(None);
        }
    };
    record_cost(rec, &task.label(), &model.id(), None, est).await?;
    let words: Vec<&str> = script.split_whitespace().filter(|w| w.chars().any(char::is_alphanumeric)).collect();
    if heard.len() != words.len() {
        rec.note(format!("{task}: {} heard {} words where the line has {}; the captions are timed by admint's aligner", model.id(), heard.len(), words.len()));
        return Ok(None);
    }
    Ok(Some(heard.into_iter().zip(words).map(|(h, w)| Cue { text: w.to_string(), ..h }).collect()))
}

/// Speak a line with the crash-safe protocol of paid calls: `JobSubmitting` is recorded
/// before a remote request, and a resume that finds it without a result first asks the
/// backend for the line it may already have made (and charged for).
async fn speak_once(
    rec: &Arc<Recorder>,
    task: Task,
    key: &str,
    speech: &dyn SpeechModel,
    req: &SpeechRequest,
    ctx: &crate::providers::JobCtx,
) -> Result<Spoken, ProviderError> {
    let jid = job_id(task, key);
    let provider = speech.id();
    let state = rec.state().await;
    if let Some(job) = state.jobs.get(&jid).filter(|j| j.provider == provider && j.remote_id.is_none()) {
        if let Some(s) = speech.recover(req, job.at_ms, ctx).await? {
            rec.note(format!("{task}: the line cut off by the last run was found in {provider}'s history: not paid for twice"));
            return Ok(s);
        }
        rec.note(format!("{task}: the last request to {provider} was cut off and is not in its history; asking again"));
    }
    if speech.is_remote() {
        rec.record(Event::JobSubmitting { task: jid, provider }).await.map_err(|e| ProviderError::Protocol(e.to_string()))?;
    }
    speech.speak(req, ctx).await
}

/// Fit a recorded line to its scene, saying how.
async fn fit(p: &Pipeline, rec: &Arc<Recorder>, st: &SessionState, scene: &Scene, take: &VoiceTake) -> Result<(), PipelineError> {
    let n = st.scenes.iter().position(|s| s.id == scene.id).map_or(scene.id as usize, |i| i + 1);
    let room = speech_room_s(scene.duration_s);
    match fit_tempo(take.duration_s, scene.duration_s) {
        Some(t) if t > 1.001 => {
            rec.note(format!("scene {n}: the voice line runs {:.2}s in {room:.2}s of room: played {:.0}% faster", take.duration_s, (t - 1.0) * 100.0));
            Ok(())
        }
        Some(_) => Ok(()),
        None => {
            let words = word_count(&take.text);
            // What this voice says in the room at the fastest tempo, at its own pace.
            let max_words = (room * MAX_TEMPO * words as f64 / take.duration_s.max(0.1)).floor() as usize;
            let auto = st.scenes_approved == Some(Approver::Auto);
            if auto && max_words >= 1 && max_words < words {
                let shorter = p.providers.scene_writer.shorten_voiceover(st.brief(), scene, max_words).await.map_err(|e| PipelineError::provider(Task::Voice(scene.id), e))?;
                if !shorter.is_empty() && word_count(&shorter) < words {
                    rec.note(format!(
                        "scene {n}: the voice line ({:.2}s) overran the scene's {room:.2}s even {:.0}% faster: the writer shortened it to {} words",
                        take.duration_s,
                        (MAX_TEMPO - 1.0) * 100.0,
                        word_count(&shorter)
                    ));
                    let patch = ScenePatch { voiceover: Some(shorter), ..Default::default() };
                    rec.record(Event::SceneEdited { scene_id: scene.id, patch }).await?;
                    return Ok(());
                }
            }
            let longer = scene_length_for(take.duration_s);
            let total = st.scenes_duration() - scene.duration_s + longer;
            rec.note(format!(
                "scene {n}: the voice line ({:.2}s) overran the scene's {room:.2}s even {:.0}% faster: the scene is lengthened from {:.1}s to {longer:.1}s (scenes now {total:.1}s)",
                take.duration_s,
                (MAX_TEMPO - 1.0) * 100.0,
                scene.duration_s
            ));
            let patch = ScenePatch { duration_s: Some(longer), ..Default::default() };
            rec.record(Event::SceneEdited { scene_id: scene.id, patch }).await?;
            Ok(())
        }
    }
}
