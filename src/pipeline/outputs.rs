//! What a finished run leaves in the output folder: `final.mp4`, `manifest.json`,
//! `storyboard.md`, the captions (`captions.srt`, `captions.vtt`) and, on request, the
//! stems.

use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::cut::compose_spec;
use super::{Pipeline, PipelineError};
use crate::domain::{CaptionMode, Event, EventEnvelope, ScoreTarget, SessionState, EVENT_VERSION};
use crate::media::{caption_cues, render_stems, srt, vtt};

/// Seconds each stage took, from its StageStarted to its last StageCompleted.
fn stage_timings(events: &[EventEnvelope]) -> BTreeMap<String, f64> {
    let mut start = BTreeMap::new();
    let mut out = BTreeMap::new();
    for e in events {
        match &e.event {
            Event::StageStarted { stage } => {
                start.insert(*stage, e.at_ms);
            }
            Event::StageCompleted { stage } => {
                if let Some(s) = start.get(stage) {
                    out.insert(stage.id().to_string(), (e.at_ms.saturating_sub(*s)) as f64 / 1000.0);
                }
            }
            _ => {}
        }
    }
    out
}

pub fn manifest(state: &SessionState, events: &[EventEnvelope], ffmpeg_version: &str) -> Value {
    let scenes: Vec<Value> = state
        .scenes
        .iter()
        .enumerate()
        .map(|(i, s)| json!({ "number": i + 1, "scene": s }))
        .collect();
    let clips: Vec<Value> = state
        .scenes
        .iter()
        .filter_map(|s| state.clips.get(&s.id))
        .map(|c| json!({ "clip": c, "score": state.scores.get(&ScoreTarget::Clip(c.scene_id)).map(|r| &r.score) }))
        .collect();
    json!({
        "session_id": state.id,
        "brief": state.brief,
        "render": state.render,
        "story": state.story,
        "story_critique": state.story.as_ref().and_then(|s| state.story_critiques.get(&s.revision)),
        "references": state.references.values().collect::<Vec<_>>(),
        "scenes": scenes,
        "scene_critique": state.scenes_critiques.get(&state.scenes_revision),
        "cohesion_notes": state.cohesion_notes,
        "written_by": state.written_by,
        "clips": clips,
        "failed_clips": state.clip_failures,
        "final": state.final_video,
        "final_score": state.scores.get(&ScoreTarget::Final).map(|r| &r.score),
        "cost": { "ledger": state.costs, "total_usd": state.total_cost(), "budget_usd": state.brief.as_ref().and_then(|b| b.budget_usd) },
        "timings": { "created_at_ms": state.created_at_ms, "updated_at_ms": state.updated_at_ms, "stages_s": stage_timings(events) },
        "versions": { "admint": env!("CARGO_PKG_VERSION"), "event_schema": EVENT_VERSION, "ffmpeg": ffmpeg_version },
    })
}

pub fn storyboard(state: &SessionState) -> String {
    let mut md = String::new();
    let b = state.brief();
    let _ = writeln!(md, "# {} — storyboard\n", b.product_name);
    let _ = writeln!(md, "- Session: `{}`", state.id);
    let _ = writeln!(md, "- Brief: {}", b.prompt);
    let _ = writeln!(md, "- Call to action: {}", b.call_to_action);
    if let Some(u) = &b.url {
        let _ = writeln!(md, "- URL: {u}");
    }
    if let Some(p) = &b.price {
        let _ = writeln!(md, "- Price: {p}");
    }
    let _ = writeln!(md, "- Framework / template: {} / {}", b.framework, b.template);
    let look = b.look.as_deref().unwrap_or("natural");
    match crate::domain::followed_look(state).filter(|c| c.name == look) {
        Some(c) => _ = writeln!(md, "- Look: {look} — {}", c.why),
        None => _ = writeln!(md, "- Look: {look}"),
    }
    if let Some(t) = &b.typeface {
        let _ = writeln!(md, "- Typeface: {t}");
    }
    let scenes = state.scenes_duration();
    match &state.render {
        Some(r) => _ = writeln!(md, "- Aspect: {}, length: {:.1} s (scenes {scenes:.1} s, title card {:.1} s, end card {:.1} s)", b.aspect, r.total_s(scenes), r.intro_s, r.outro_s),
        None => _ = writeln!(md, "- Aspect: {}, scenes: {scenes:.1} s", b.aspect),
    }
    for (what, model) in &state.written_by {
        let _ = writeln!(md, "- {} by: {model}", crate::text::capitalised(what));
    }
    md.push('\n');
    if let Some(story) = &state.story {
        let _ = writeln!(md, "## Story: {}\n\n{}\n", story.title, story.logline);
        for beat in &story.beats {
            let _ = writeln!(md, "- **{}**: {}", beat.stage, beat.text);
        }
        md.push('\n');
    }
    let _ = writeln!(md, "## Scenes\n");
    let mut t = state.render.as_ref().map_or(0.0, |r| r.intro_s);
    for (i, s) in state.scenes.iter().enumerate() {
        let _ = writeln!(md, "### Scene {} ({:.1}s–{:.1}s, {:.1} s)\n", i + 1, t, t + s.duration_s, s.duration_s);
        let _ = writeln!(md, "- Shot: {}, camera: {}, motion: {:.2}, in: {}", s.shot_type, s.camera, s.motion_intensity, s.transition);
        let _ = writeln!(md, "- Description: {}", s.description);
        if !s.on_screen_text.is_empty() {
            let _ = writeln!(md, "- On screen: {}", s.on_screen_text);
        }
        if !s.voiceover.is_empty() {
            let _ = writeln!(md, "- Voiceover: {}", s.voiceover);
        }
        md.push('\n');
        t += s.duration_s;
    }
    md
}

/// Write a file under a temporary name, then rename it into place.
pub(super) fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension("part");
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}

/// Put a video at `dest`: a hard link to the blob where the file system allows, else a
/// copy, under a temporary name renamed into place.
pub(super) fn place_final(blob: &Path, dest: &Path) -> std::io::Result<()> {
    let name = dest.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "final.mp4".into());
    let tmp = dest.with_file_name(format!(".{name}.part"));
    let _ = std::fs::remove_file(&tmp);
    if std::fs::hard_link(blob, &tmp).is_err() {
        std::fs::copy(blob, &tmp)?;
    }
    std::fs::rename(&tmp, dest)?;
    // Renaming one name of a file onto another name of the same file does nothing
    // (rename(2)), so placing a blob where it already is would leave the spare name.
    if tmp.exists() {
        std::fs::remove_file(&tmp)?;
    }
    Ok(())
}

/// Where the user can play the animatic: `animatic.mp4` in the output folder when there
/// is one (placed there now), else its blob.
pub(super) fn place_animatic(p: &Pipeline, state: &SessionState, dir: Option<&Path>) -> Result<PathBuf, PipelineError> {
    let a = state.animatic.as_ref().ok_or_else(|| PipelineError::Internal("no animatic to show".into()))?;
    let blob = p.store.blobs.existing(&a.video)?;
    let Some(dir) = dir else { return Ok(blob) };
    std::fs::create_dir_all(dir).map_err(|e| PipelineError::BadInput(format!("output dir {}: {e}", dir.display())))?;
    let dest = dir.join("animatic.mp4");
    place_final(&blob, &dest)?;
    Ok(dest)
}

/// Write the output folder. Returns the path of `final.mp4`.
pub fn write_outputs(p: &Pipeline, state: &SessionState, dir: &Path) -> Result<PathBuf, PipelineError> {
    let fv = state.final_video.as_ref().ok_or_else(|| PipelineError::Internal("nothing composed yet".into()))?;
    std::fs::create_dir_all(dir).map_err(|e| PipelineError::BadInput(format!("output dir {}: {e}", dir.display())))?;
    let dest = dir.join("final.mp4");
    place_final(&p.store.blobs.existing(&fv.video)?, &dest)?;
    let events = p.store.events(&state.id)?;
    let version = p.ffmpeg.version().unwrap_or_default();
    let m = manifest(state, &events, &version);
    write_atomic(&dir.join("manifest.json"), serde_json::to_string_pretty(&m).unwrap_or_default().as_bytes())?;
    write_atomic(&dir.join("storyboard.md"), storyboard(state).as_bytes())?;
    write_captions(p, state, dir)?;
    if state.animatic.is_some() {
        place_animatic(p, state, Some(dir))?;
    }
    Ok(dest)
}

/// `captions.srt` and `captions.vtt` of the final cut, when it has voice lines and
/// captions are not off (burned or not, the files are what platforms upload).
pub(super) fn write_captions(p: &Pipeline, state: &SessionState, dir: &Path) -> Result<(), PipelineError> {
    let Some(spec) = compose_spec(state, &p.finish_rules(), &|a| p.store.blobs.path(a)) else { return Ok(()) };
    if spec.captions == CaptionMode::Off {
        return Ok(());
    }
    let cues = caption_cues(&spec, &spec.timeline());
    if !cues.is_empty() {
        write_atomic(&dir.join("captions.srt"), srt(&cues).as_bytes())?;
        write_atomic(&dir.join("captions.vtt"), vtt(&cues).as_bytes())?;
    }
    Ok(())
}

/// The mix's stems in `dir/stems/` (voice, music as mixed, the final mix).
pub fn write_stems(p: &Pipeline, state: &SessionState, dir: &Path) -> Result<Vec<PathBuf>, PipelineError> {
    let blobs = &p.store.blobs;
    for a in state.voices.values().map(|t| &t.audio).chain(state.music.as_ref().map(|m| &m.audio)).chain(&state.brief().assets.music) {
        blobs.existing(a)?;
    }
    let spec = compose_spec(state, &p.finish_rules(), &|a| blobs.path(a)).ok_or_else(|| PipelineError::Internal("a clip is missing".into()))?;
    let work = p.work_dir(&state.id).join("stems");
    let out = render_stems(&p.ffmpeg, &spec, &work, &dir.join("stems"))?;
    let _ = std::fs::remove_dir_all(&work);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placing_a_video_twice_leaves_one_file_and_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let blob = dir.path().join("blob.mp4");
        std::fs::write(&blob, b"video").unwrap();
        let out = dir.path().join("out");
        std::fs::create_dir(&out).unwrap();
        let dest = out.join("animatic.mp4");
        // The second time the destination is already a link to the same blob.
        for _ in 0..2 {
            place_final(&blob, &dest).unwrap();
        }
        let names: Vec<_> = std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        assert_eq!(names, ["animatic.mp4"]);
        assert_eq!(std::fs::read(&dest).unwrap(), b"video");
        // A different video replaces it.
        let other = dir.path().join("other.mp4");
        std::fs::write(&other, b"new cut").unwrap();
        place_final(&other, &dest).unwrap();
        assert_eq!(std::fs::read(&dest).unwrap(), b"new cut");
        assert_eq!(std::fs::read_dir(&out).unwrap().count(), 1);
    }
}
