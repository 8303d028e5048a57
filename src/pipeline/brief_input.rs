//! Turning what the user typed (flags, a brief TOML file) into a valid `Brief`.
//! Everything is checked before anything is written.

use serde::Deserialize;
use std::path::{Path, PathBuf};

use super::PipelineError;
use crate::config::Resources;
use super::cut::resolve_look;
use crate::domain::{Aspect, BrandAssets, Brief, Framework, Transition};
use crate::store::BlobStore;

/// Input limits, in one place.
pub struct Limits {
    pub prompt_chars: usize,
    pub image_bytes: u64,
    pub image_side: u32,
    pub min_duration_s: f64,
    pub max_duration_s: f64,
    pub music_bytes: u64,
}

pub const LIMITS: Limits = Limits {
    prompt_chars: 5000,
    image_bytes: 20 * 1024 * 1024,
    image_side: 16_384,
    min_duration_s: 3.0,
    max_duration_s: 180.0,
    music_bytes: 200 * 1024 * 1024,
};

/// A brief as given: every field optional, from a TOML file and/or flags.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BriefInput {
    pub prompt: Option<String>,
    pub product_name: Option<String>,
    pub call_to_action: Option<String>,
    pub audience: Option<String>,
    pub tone: Option<String>,
    pub language: Option<String>,
    pub framework: Option<String>,
    pub template: Option<String>,
    pub aspect: Option<String>,
    pub duration_s: Option<f64>,
    #[serde(default)]
    pub product_images: Vec<PathBuf>,
    pub logo: Option<PathBuf>,
    #[serde(default)]
    pub character_images: Vec<PathBuf>,
    pub music: Option<PathBuf>,
    pub budget_usd: Option<f64>,
    pub seed: Option<u64>,
    /// One transition between every scene (`dissolve`, `cut`, `wipe-left 0.4`…).
    pub transition: Option<String>,
    /// The clips' colour look: a shipped look's name, the user's `looks/NAME.cube`, or a
    /// `.cube` file.
    pub look: Option<String>,
    /// The voiceover's voice (`offline`, an offline voice such as `kal` or
    /// `espeak:en-gb`, a backend's voice name or id), or `none`.
    pub voice: Option<String>,
    /// The voiceover's pace (words per second).
    pub words_per_second: Option<f64>,
    /// `burn`, `sidecar` or `off`.
    pub captions: Option<String>,
    /// `plain` or `karaoke`.
    pub caption_style: Option<String>,
    /// A web address or handle for the end card.
    pub url: Option<String>,
    /// A price for the end card's badge.
    pub price: Option<String>,
    /// The display face, a fontconfig pattern (`DejaVu Serif:bold`); default: the template's.
    pub typeface: Option<String>,
    /// Make an animatic before the clips (default: the config's `pipeline.animatic`).
    pub animatic: Option<bool>,
    /// A/B variants to make after the advert: `hooks=2,ctas=2,aspects=16:9,9:16`.
    pub variants: Option<String>,
    /// Candidates per reference and keyframe to pick from (1–8).
    pub candidates: Option<u32>,
}

fn bad(m: String) -> PipelineError {
    PipelineError::BadInput(m)
}

/// Check an image file: exists, small enough, decodable, sane size.
pub fn check_image(path: &Path, what: &str) -> Result<(), PipelineError> {
    let meta = std::fs::metadata(path).map_err(|e| bad(format!("{what} {}: {e}", path.display())))?;
    if !meta.is_file() {
        return Err(bad(format!("{what} {} is not a file", path.display())));
    }
    if meta.len() > LIMITS.image_bytes {
        return Err(bad(format!("{what} {} is {:.1} MB; the limit is 20 MB", path.display(), meta.len() as f64 / 1048576.0)));
    }
    // Judge by content, not by the file name.
    let mut head = [0u8; 64];
    let n = std::io::Read::read(&mut std::fs::File::open(path).map_err(|e| bad(format!("{what} {}: {e}", path.display())))?, &mut head)
        .map_err(|e| bad(format!("{what} {}: {e}", path.display())))?;
    let format = image::guess_format(&head[..n])
        .map_err(|_| bad(format!("{what} {} is not an image (PNG, JPEG, WebP, BMP or GIF)", path.display())))?;
    let mut reader = image::ImageReader::open(path).map_err(|e| bad(format!("{what} {}: {e}", path.display())))?;
    reader.set_format(format);
    let (w, h) = reader.into_dimensions().map_err(|e| bad(format!("{what} {} is not a readable image: {e}", path.display())))?;
    if w > LIMITS.image_side || h > LIMITS.image_side {
        return Err(bad(format!("{what} {} is {w}x{h}; at most 16384 pixels a side", path.display())));
    }
    // Decode fully once: a truncated file must fail here, not mid-pipeline.
    image::open(path).map_err(|e| bad(format!("{what} {} is corrupt: {e}", path.display())))?;
    Ok(())
}

/// The default product name: the prompt's first three words that are words (not web
/// addresses), title-cased, without control characters, at most 60 characters — always
/// a valid name.
fn title_case(words: &str) -> String {
    // The first phrase names the product: "pink running shoes, Gen Z, energetic" gives
    // "Pink Running Shoes" (links and handles are left out).
    let mut ended = false;
    let name = words
        .split_whitespace()
        .filter(|w| !w.contains("://") && !w.starts_with("www.") && !w.contains('@'))
        .map(|w| w.chars().filter(|c| !c.is_control()).collect::<String>())
        .take_while(|w| {
            let go = !ended;
            ended |= w.ends_with([',', ';', ':', '.', '!', '?']) || w == "-" || w == "—";
            go
        })
        .map(|w| w.trim_matches(|c: char| c.is_ascii_punctuation() && c != '&' && c != '+').to_string())
        .filter(|w| !w.is_empty())
        .take(3)
        .map(|w| crate::text::capitalised(&w))
        .collect::<Vec<_>>()
        .join(" ");
    let name: String = name.chars().take(60).collect();
    if name.trim().is_empty() { "Your product".into() } else { name.trim().to_string() }
}

/// A short line (the end card's, a typeface): trimmed, at most `max` characters, no control characters;
/// empty is none.
fn short_text(v: Option<&str>, what: &str, max: usize) -> Result<Option<String>, PipelineError> {
    let Some(v) = v.map(str::trim).filter(|v| !v.is_empty()) else { return Ok(None) };
    if v.chars().count() > max || v.chars().any(char::is_control) {
        return Err(bad(format!("the {what} must be at most {max} characters, without control characters")));
    }
    Ok(Some(v.to_string()))
}

impl BriefInput {
    pub fn from_toml_file(path: &Path) -> Result<BriefInput, PipelineError> {
        let text = std::fs::read_to_string(path).map_err(|e| bad(format!("brief file {}: {e}", path.display())))?;
        let mut b: BriefInput = toml::from_str(&text).map_err(|e| bad(format!("brief file {} is not valid: {e}", path.display())))?;
        // Paths in the file are relative to the file.
        let base = path.parent().unwrap_or(Path::new("."));
        let fix = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        b.product_images.iter_mut().for_each(fix);
        b.character_images.iter_mut().for_each(fix);
        b.logo.as_mut().map(fix);
        b.music.as_mut().map(fix);
        Ok(b)
    }

    /// Flags win over the file.
    pub fn overlay(mut self, o: BriefInput) -> BriefInput {
        macro_rules! take {
            ($($f:ident),*) => { $( if o.$f.is_some() { self.$f = o.$f; } )* };
        }
        take!(prompt, product_name, call_to_action, audience, tone, language, framework, template, aspect, duration_s, logo, music, budget_usd, seed, transition, look, voice, words_per_second, captions, caption_style, url, price, typeface, animatic, variants, candidates);
        if !o.product_images.is_empty() {
            self.product_images = o.product_images;
        }
        if !o.character_images.is_empty() {
            self.character_images = o.character_images;
        }
        self
    }

    /// Validate everything; return the brief without its assets and the asset files to import.
    pub fn validate(&self, resources: &Resources) -> Result<(Brief, BriefFiles), PipelineError> {
        let prompt = self.prompt.as_deref().unwrap_or("").trim().to_string();
        if prompt.is_empty() {
            return Err(bad("the prompt is empty: describe the product and the advert, e.g. \"pink running shoes for Gen Z runners\"".into()));
        }
        // A NUL byte would end up in storyboard.md and every tool reading it.
        for (what, v) in [("prompt", Some(&prompt)), ("product name", self.product_name.as_ref()), ("call to action", self.call_to_action.as_ref()), ("audience", self.audience.as_ref()), ("tone", self.tone.as_ref())] {
            if v.is_some_and(|v| v.contains('\0')) {
                return Err(bad(format!("the {what} contains a NUL byte; remove it")));
            }
        }
        let n = prompt.chars().count();
        if n > LIMITS.prompt_chars {
            return Err(bad(format!("the prompt has {n} characters; the limit is {}", LIMITS.prompt_chars)));
        }
        let framework: Framework = self.framework.as_deref().unwrap_or("aida").parse().map_err(bad)?;
        let aspect: Aspect = self.aspect.as_deref().unwrap_or("16:9").parse().map_err(bad)?;
        let template = self.template.clone().unwrap_or_else(|| "product_showcase".into());
        let tpl = resources.ad_template(&template).map_err(|e| bad(e.to_string()))?;
        let transition = self.transition.as_deref().map(str::parse::<Transition>).transpose().map_err(bad)?;
        let look = resolve_look(resources, self.look.as_deref().unwrap_or(&tpl.look)).map_err(bad)?;
        let duration_s = self.duration_s.unwrap_or(30.0);
        if !duration_s.is_finite() || !(LIMITS.min_duration_s..=LIMITS.max_duration_s).contains(&duration_s) {
            return Err(bad(format!("duration {duration_s} s is out of range: use {}–{} seconds", LIMITS.min_duration_s, LIMITS.max_duration_s)));
        }
        if let Some(b) = self.budget_usd {
            if !b.is_finite() || b < 0.0 {
                return Err(bad(format!("budget {b} is not a positive amount of US dollars")));
            }
        }
        for p in &self.product_images {
            check_image(p, "product image")?;
        }
        for p in &self.character_images {
            check_image(p, "character image")?;
        }
        if let Some(p) = &self.logo {
            check_image(p, "logo")?;
        }
        if let Some(m) = &self.music {
            let meta = std::fs::metadata(m).map_err(|e| bad(format!("music {}: {e}", m.display())))?;
            if !meta.is_file() || meta.len() == 0 || meta.len() > LIMITS.music_bytes {
                return Err(bad(format!("music {} must be an audio file of at most 200 MB", m.display())));
            }
        }
        let product_name = self
            .product_name
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .unwrap_or_else(|| title_case(&prompt));
        let call_to_action = self
            .call_to_action
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .unwrap_or("Shop now")
            .to_string();
        for (name, v) in [("product name", &product_name), ("call to action", &call_to_action)] {
            if v.chars().count() > 120 {
                return Err(bad(format!("the {name} is longer than 120 characters")));
            }
        }
        let url = short_text(self.url.as_deref(), "URL or handle", 80)?;
        if url.as_ref().is_some_and(|u| u.chars().any(char::is_whitespace)) {
            return Err(bad("the URL or handle must not contain spaces (e.g. airrun.example or @airrun)".into()));
        }
        let price = short_text(self.price.as_deref(), "price", 24)?;
        let typeface = short_text(self.typeface.as_deref().or(Some(&tpl.font)), "typeface", 80)?;
        let voice = self.voice.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_string);
        if let Some(v) = &voice {
            if v.chars().count() > 100 || v.chars().any(char::is_control) {
                return Err(bad("the voice must be a name or id of at most 100 characters, without control characters".into()));
            }
        }
        if let Some(w) = self.words_per_second {
            if !w.is_finite() || !(1.0..=5.0).contains(&w) {
                return Err(bad(format!("words per second {w} is out of range: use 1–5 (English adverts run at about 2.6)")));
            }
        }
        let captions = self.captions.as_deref().map(str::parse).transpose().map_err(bad)?;
        if let Some(n) = self.candidates {
            if !(1..=crate::domain::MAX_CANDIDATES).contains(&n) {
                return Err(bad(format!("candidates {n} is out of range: ask for 1 to {}", crate::domain::MAX_CANDIDATES)));
            }
        }
        let variants = self.variants.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_string);
        if let Some(v) = &variants {
            crate::domain::VariantAxes::parse(v).map_err(bad)?;
        }
        let caption_style = self.caption_style.as_deref().map(str::parse).transpose().map_err(bad)?;
        let brief = Brief {
            prompt,
            product_name,
            call_to_action,
            audience: self.audience.clone().unwrap_or_default(),
            tone: self.tone.clone().unwrap_or_default(),
            language: self.language.clone().unwrap_or_else(|| "en".into()),
            framework,
            template,
            aspect,
            duration_s,
            assets: BrandAssets::default(),
            budget_usd: self.budget_usd,
            seed: self.seed.unwrap_or(0),
            transition,
            // No look named: the template's, until the references are analysed.
            look_base: self.look.is_none().then(|| look.name.clone()),
            look: Some(look.name),
            voice,
            words_per_second: self.words_per_second,
            captions,
            caption_style,
            url,
            price,
            typeface,
            animatic: self.animatic,
            batch: None,
            variants,
            candidates: self.candidates,
            variant_of: None,
        };
        let files = BriefFiles {
            product_images: self.product_images.clone(),
            logo: self.logo.clone(),
            character_images: self.character_images.clone(),
            music: self.music.clone(),
            look: look.cube,
        };
        Ok((brief, files))
    }
}

/// The user's files, checked, waiting to be imported into the blob store.
#[derive(Debug, Clone, Default)]
pub struct BriefFiles {
    pub product_images: Vec<PathBuf>,
    pub logo: Option<PathBuf>,
    pub character_images: Vec<PathBuf>,
    pub music: Option<PathBuf>,
    /// The look's checked `.cube` text.
    pub look: Option<String>,
}

impl BriefFiles {
    /// Ask ffprobe about the media only ffmpeg reads (the pictures were decoded by
    /// `validate`): the music must hold an audio stream with a length. Run before
    /// anything is written, so a text file named `song.mp3` is refused at intake, not
    /// at compose.
    pub fn probe(&self, ffmpeg: &crate::media::Ffmpeg) -> Result<(), PipelineError> {
        if let Some(m) = &self.music {
            let p = match ffmpeg.probe(m) {
                Ok(p) => p,
                Err(crate::media::MediaError::BadMedia { message, .. }) => {
                    let why = message.lines().last().unwrap_or("unreadable").to_string();
                    return Err(bad(format!("music {} is not audio ffmpeg can read ({why})", m.display())));
                }
                Err(e) => return Err(bad(format!("music {}: {e}", m.display()))),
            };
            if !p.has_audio || p.duration_s <= 0.0 {
                return Err(bad(format!("music {} has no audio stream", m.display())));
            }
        }
        Ok(())
    }

    pub fn import(&self, blobs: &BlobStore) -> Result<BrandAssets, PipelineError> {
        let imp = |p: &PathBuf| blobs.import(p).map_err(PipelineError::from);
        Ok(BrandAssets {
            product_images: self.product_images.iter().map(imp).collect::<Result<_, _>>()?,
            logo: self.logo.as_ref().map(imp).transpose()?,
            character_images: self.character_images.iter().map(imp).collect::<Result<_, _>>()?,
            music: self.music.as_ref().map(imp).transpose()?,
            look: self.look.as_ref().map(|t| blobs.put_bytes(t.as_bytes(), "cube")).transpose()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn validate(url: Option<&str>, price: Option<&str>) -> Result<Brief, PipelineError> {
        let dir = tempfile::tempdir().unwrap();
        let input = BriefInput { prompt: Some("pink running shoes".into()), url: url.map(Into::into), price: price.map(Into::into), ..Default::default() };
        input.validate(&Resources::new(dir.path())).map(|(b, _)| b)
    }

    #[test]
    fn the_display_face_comes_from_the_template_unless_the_brief_names_one() {
        let dir = tempfile::tempdir().unwrap();
        let res = Resources::new(dir.path());
        let brief = |template: &str, typeface: Option<&str>| {
            let input = BriefInput { prompt: Some("a candle".into()), template: Some(template.into()), typeface: typeface.map(Into::into), ..Default::default() };
            input.validate(&res).unwrap().0.typeface
        };
        assert_eq!(brief("lifestyle_ad", None).as_deref(), Some("DejaVu Serif:bold"));
        assert_eq!(brief("product_showcase", None).as_deref(), Some("DejaVu Sans:bold"));
        assert_eq!(brief("lifestyle_ad", Some("Liberation Sans:bold")).as_deref(), Some("Liberation Sans:bold"));
    }

    #[test]
    fn a_derived_product_name_is_always_valid_and_nul_bytes_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let res = Resources::new(dir.path());
        let name = |prompt: &str| BriefInput { prompt: Some(prompt.into()), ..Default::default() }.validate(&res).map(|(b, _)| b.product_name);
        let url = format!("https://example.com/{}", "very-long-path/".repeat(20));
        assert_eq!(name(&format!("{url} pink running shoes")).unwrap(), "Pink Running Shoes");
        assert_eq!(name(&"x".repeat(400)).unwrap().chars().count(), 60);
        assert_eq!(name("https://example.com/only-a-link").unwrap(), "Your product");
        assert_eq!(name("pink running shoes, Gen Z, energetic").unwrap(), "Pink Running Shoes");
        assert_eq!(name("oat milk. creamy, barista grade").unwrap(), "Oat Milk");
        assert_eq!(name("\"Glow\" serum - for dry skin").unwrap(), "Glow Serum");
        let e = BriefInput { prompt: Some("pink\0shoes".into()), ..Default::default() }.validate(&res).unwrap_err().to_string();
        assert!(e.contains("NUL"), "{e}");
    }

    #[test]
    fn the_end_cards_url_and_price_are_checked() {
        let b = validate(Some("  airrun.example/shop "), Some("$49")).unwrap();
        assert_eq!((b.url.as_deref(), b.price.as_deref()), (Some("airrun.example/shop"), Some("$49")));
        let b = validate(Some(" "), None).unwrap();
        assert_eq!(b.url, None, "blank is none");
        for (u, p, want) in [
            (Some("airrun example"), None, "spaces"),
            (Some("@air\u{1b}[2J"), None, "control characters"),
            (None, Some("a price far too long for a badge"), "at most 24"),
        ] {
            let e = validate(u, p).unwrap_err().to_string();
            assert!(e.contains(want), "{e}");
        }
    }
}
