//! The final cut as compose will make it (`ComposeSpec`), built from the session state
//! and the finishing rules alone. The render builds it with blob paths and the
//! synthesised voice lines; the cache key builds it with content ids in their place —
//! one builder, so the key covers everything compose reads.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::keys::voice_key;
use crate::config::Resources;
use crate::domain::{fit_tempo, AssetId, Scene, CaptionMode, CaptionStyle, ReferenceKind, SessionState, TransitionStyle, MAX_TEMPO};
use crate::media::{ComposeAudio, ComposeClip, ComposeSpec, EndCard, VoiceLine};
use crate::providers::MusicRequest;

/// What compose reads besides the session: the render settings and each template's tone.
#[derive(Debug, Clone, Default)]
pub struct FinishRules {
    pub font: String,
    pub x264_preset: String,
    pub crf: u32,
    /// The final mix's integrated loudness (LUFS) and true-peak ceiling (dBTP).
    pub loudness_lufs: f64,
    pub true_peak_db: f64,
    /// Template id → its tone (the cut's pace when the brief names no tone).
    pub template_tones: BTreeMap<String, String>,
    /// The speech role's chain (`none`: no voiceover): a recorded line is used only when
    /// its key says this chain made it for the scene's current text and voice.
    pub speech: String,
    pub captions: CaptionMode,
    pub caption_style: CaptionStyle,
    /// Move cuts between clips onto the music's beats (by up to three frames).
    pub cut_on_beat: bool,
    /// The clips' own sound this many dB down on the ambience bus; `None`: left out.
    pub ambience_db: Option<f64>,
}

/// Two brand colours for the cards: the darkest of the palette (white text reads on it)
/// and an accent.
fn brand_colors(st: &SessionState) -> [String; 2] {
    let pal = st
        .references
        .get(&ReferenceKind::Product)
        .map(|r| r.analysis.palette.clone())
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| crate::domain::prompt_palette(&st.brief().prompt));
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

/// The tone the cut follows: the brief's, else its template's.
pub fn cut_tone<'a>(st: &'a SessionState, rules: &'a FinishRules) -> &'a str {
    let b = st.brief();
    if b.tone.trim().is_empty() {
        rules.template_tones.get(&b.template).map(String::as_str).unwrap_or("")
    } else {
        &b.tone
    }
}

/// What the music model is asked for: a bed the advert's length whose cadence lands on
/// the end card; `None` when the brief brings its own music.
pub fn music_request(st: &SessionState, rules: &FinishRules) -> Option<MusicRequest> {
    let b = st.brief();
    let render = st.render.as_ref()?;
    if b.assets.music.is_some() || st.scenes.is_empty() {
        return None;
    }
    let total = render.intro_s + st.scenes_duration() + render.outro_s;
    Some(bed_request(cut_tone(st, rules), total, total - render.outro_s, b.seed))
}

/// A bed `total_s` long for `tone`, its cadence at `cadence_s`: the mood and the tempo
/// admint chose, and the same described for a text-to-music model.
pub fn bed_request(tone: &str, total_s: f64, cadence_s: f64, seed: u64) -> MusicRequest {
    let mood = crate::media::Mood::for_tone(tone);
    let (bpm, _) = crate::media::bed_tempo(&crate::media::MusicSpec { mood, total_s, cadence_s, seed });
    let prompt = format!("{} instrumental music bed for a {:.0}-second advert, {bpm:.0} bpm, steady groove, no vocals, clean ending", mood.id(), total_s.round());
    MusicRequest { tone: tone.to_string(), mood: mood.id().into(), bpm, prompt, duration_s: total_s, cadence_s, seed }
}

/// The final cut of `st`, or `None` while a scene has no clip. `asset` gives a blob's
/// path (or its content id, for the key). A scene's voice line is its recorded take
/// when that was made for its current text, voice and speech chain, played at the tempo
/// that fits it into the scene.
pub fn compose_spec(st: &SessionState, rules: &FinishRules, asset: &dyn Fn(&AssetId) -> PathBuf) -> Option<ComposeSpec> {
    cut(st, rules, asset, &|s| st.clips.get(&s.id).map(|c| (asset(&c.video), c.has_audio)))
}

/// The animatic's canvas: the shorter side and the frame rate of a quick preview.
pub const ANIMATIC_SHORT_SIDE: u32 = 480;
pub const ANIMATIC_FPS: u32 = 15;

/// How a scene's keyframe moves in the animatic (its clip's size, rate and camera).
pub fn animatic_motion(st: &SessionState, scene: &Scene) -> Option<crate::media::AnimateSpec> {
    let render = st.render.as_ref()?;
    let short = render.width.min(render.height).max(1);
    // Never larger than the advert itself.
    let scale = ANIMATIC_SHORT_SIDE.min(short) as f64 / short as f64;
    let even = |v: u32| ((v as f64 * scale / 2.0).round() as u32 * 2).max(2);
    Some(crate::media::AnimateSpec {
        width: even(render.width),
        height: even(render.height),
        fps: render.fps.min(ANIMATIC_FPS),
        duration_s: scene.duration_s,
        camera: scene.camera,
        intensity: scene.motion_intensity,
        x264_preset: "ultrafast".into(),
        crf: 26,
    })
}

/// The animatic: the final cut's timeline, cards, text, voice, captions and music, with
/// each scene's keyframe moving as `animatic_motion` says in place of its clip (at
/// `clip(scene)`), at low resolution and a fast preset. `None` while a keyframe is missing.
pub fn animatic_spec(
    st: &SessionState,
    rules: &FinishRules,
    asset: &dyn Fn(&AssetId) -> PathBuf,
    clip: &dyn Fn(&Scene) -> PathBuf,
) -> Option<ComposeSpec> {
    let mut spec = cut(st, rules, asset, &|s| st.keyframes.get(&s.id).map(|_| (clip(s), false)))?;
    let motion = animatic_motion(st, st.scenes.first()?)?;
    (spec.width, spec.height, spec.fps) = (motion.width, motion.height, motion.fps);
    (spec.x264_preset, spec.crf) = (motion.x264_preset, motion.crf);
    Some(spec)
}

/// The animatic with content ids: what its cache key hashes (each scene's clip named by
/// its keyframe and its motion).
pub fn animatic_identity(st: &SessionState, rules: &FinishRules) -> Option<ComposeSpec> {
    let asset = |a: &AssetId| PathBuf::from(format!("{}.{}", a.sha256, a.ext));
    let clip = |s: &Scene| {
        let kf = st.keyframes.get(&s.id).map(|k| k.image.sha256.as_str()).unwrap_or("");
        PathBuf::from(format!("{kf}#{:?}", animatic_motion(st, s)))
    };
    animatic_spec(st, rules, &asset, &clip)
}

/// The cut with each scene's clip from `clip` (its path and whether it has sound).
fn cut(st: &SessionState, rules: &FinishRules, asset: &dyn Fn(&AssetId) -> PathBuf, clip: &dyn Fn(&Scene) -> Option<(PathBuf, bool)>) -> Option<ComposeSpec> {
    let brief = st.brief();
    let render = st.render.clone()?;
    let mut clips = Vec::new();
    for s in &st.scenes {
        let (path, has_audio) = clip(s)?;
        let voice = voice_key(st, s, &rules.speech).and_then(|key| st.voices.get(&s.id).filter(|t| t.key == key)).map(|t| VoiceLine {
            path: asset(&t.audio),
            duration_s: t.duration_s,
            tempo: fit_tempo(t.duration_s, s.duration_s).unwrap_or(MAX_TEMPO),
            cues: t.cues.clone(),
        });
        let ambience = has_audio && rules.ambience_db.is_some();
        clips.push(ComposeClip { path, duration_s: s.duration_s, text: s.on_screen_text.clone(), transition: s.transition, voice, ambience });
    }
    Some(ComposeSpec {
        width: render.width,
        height: render.height,
        fps: render.fps,
        intro_s: render.intro_s,
        outro_s: render.outro_s,
        product_name: brief.product_name.clone(),
        call_to_action: brief.call_to_action.clone(),
        end_card: EndCard { url: brief.url.clone(), price: brief.price.clone() },
        typeface: brief.typeface.clone().unwrap_or_default(),
        colors: brand_colors(st),
        logo: brief.assets.logo.as_ref().map(asset),
        clips,
        outro_transition: TransitionStyle::for_tone(cut_tone(st, rules)).closing.paced(st.scenes.last().map(|s| s.duration_s), render.outro_s),
        // The brief's music, else the bed made for it.
        audio: ComposeAudio { music: brief.assets.music.as_ref().or(st.music.as_ref().map(|m| &m.audio)).map(asset) },
        look: brief.assets.look.as_ref().map(asset),
        loudness_lufs: rules.loudness_lufs,
        true_peak_db: rules.true_peak_db,
        font: rules.font.clone(),
        x264_preset: rules.x264_preset.clone(),
        crf: rules.crf,
        captions: brief.captions.unwrap_or(rules.captions),
        caption_style: brief.caption_style.unwrap_or(rules.caption_style),
        // The composed bed's tempo is known; a brought or remote track's is not.
        ambience_db: rules.ambience_db.unwrap_or(0.0),
        beat: st
            .music
            .as_ref()
            .filter(|_| rules.cut_on_beat && brief.assets.music.is_none())
            .and_then(|m| m.bpm)
            .filter(|b| *b > 0.0)
            .map(|b| crate::media::BeatGrid { period_s: 60.0 / b, offset_s: 0.0 }),
    })
}

/// The spec with content ids for blobs: what the final's cache key hashes.
pub fn spec_identity(st: &SessionState, rules: &FinishRules) -> Option<ComposeSpec> {
    let asset = |a: &AssetId| PathBuf::from(format!("{}.{}", a.sha256, a.ext));
    compose_spec(st, rules, &asset)
}

/// A chosen look: its name and its `.cube` text (checked). The natural look is no LUT.
#[derive(Debug, Clone, PartialEq)]
pub struct Look {
    pub name: String,
    pub cube: Option<String>,
}

/// Find a look by name (`warm`, or the user's `looks/NAME.cube`) or as a `.cube` file
/// path, and check it parses. The message of an error says what exists.
pub fn resolve_look(resources: &Resources, value: &str) -> Result<Look, String> {
    let value = value.trim();
    if value.is_empty() || value.eq_ignore_ascii_case("natural") || value.eq_ignore_ascii_case("none") {
        return Ok(Look { name: "natural".into(), cube: None });
    }
    let path = std::path::Path::new(value);
    let (name, text, origin) = if value.ends_with(".cube") && path.is_file() {
        let text = std::fs::read_to_string(path).map_err(|e| format!("look {}: {e}", path.display()))?;
        let name = path.file_stem().and_then(|s| s.to_str()).unwrap_or("custom").to_string();
        (name, text, path.display().to_string())
    } else {
        match resources.look_source(value).map_err(|e| e.to_string())? {
            Some((text, origin)) => (value.to_string(), text, origin),
            None => return Err(format!("no look named \"{value}\": choose one of {}, or give a .cube file", resources.look_names().join(", "))),
        }
    };
    let cube = crate::media::parse_cube(&text, &origin)?;
    // An identity LUT is the natural look: grading with it would change nothing but time.
    Ok(Look { name, cube: (!cube.is_identity()).then_some(text) })
}
