//! Characters the advert's fonts cannot draw (emoji, scripts a Latin font lacks): found
//! before rendering, reported by where they are, and left out — never drawn as boxes.

use super::design::{display_font, text_font, Face};
use super::ComposeSpec;

/// The characters of `text` the scene-text font (`render.font`, else fontconfig's sans)
/// cannot draw: said before anything renders. Empty when no font file can be checked.
pub fn undrawable(font: &str, text: &str) -> Vec<char> {
    match text_font(font).and_then(|p| Face::load(&p).ok()) {
        Some(face) => face.missing(text),
        None => vec![],
    }
}

/// Leave out of `spec`'s text every character its font has no glyph for; one line per
/// text that lost some, naming it and them. Scene text is set in the text font, the
/// cards in the display font. Without a font file to check (no fontconfig), nothing is
/// changed.
pub fn leave_out_unprintable(spec: &mut ComposeSpec) -> Vec<String> {
    let load = |p: Option<std::path::PathBuf>| p.and_then(|p| Face::load(&p).ok());
    let (text, display) = (load(text_font(&spec.font)), load(display_font(&spec.font, &spec.typeface)));
    let mut report = Vec::new();
    let mut clean = |face: &Option<Face>, what: String, s: &mut String| {
        let Some(face) = face else { return };
        let missing = face.missing(s);
        if missing.is_empty() {
            return;
        }
        let shown: String = missing.iter().collect();
        report.push(format!("{what} has characters the font cannot draw ({shown}): they are left out (set render.font to a font that has them)"));
        *s = s.chars().filter(|c| !missing.contains(c)).collect::<String>().split(' ').filter(|w| !w.is_empty()).collect::<Vec<_>>().join(" ");
    };
    for (k, c) in spec.clips.iter_mut().enumerate() {
        clean(&text, format!("scene {}'s on-screen text", k + 1), &mut c.text);
    }
    clean(&display, "the product name".into(), &mut spec.product_name);
    clean(&display, "the call to action".into(), &mut spec.call_to_action);
    if let Some(u) = spec.end_card.url.as_mut() {
        clean(&display, "the URL".into(), u);
    }
    if let Some(p) = spec.end_card.price.as_mut() {
        clean(&display, "the price".into(), p);
    }
    report
}
