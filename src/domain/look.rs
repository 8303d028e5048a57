//! The clips' look when the brief chose none: the template's, changed only where the
//! references' colours and tones would fight it. Pure and recomputed from the state, so
//! `plan()` can ask whether the session's look is still the one its references call for.

use super::colour::hex_rgb;
use super::{Analysis, SessionState};

/// The look the references call for, and why (the run's narration and the storyboard say
/// it).
#[derive(Debug, Clone, PartialEq)]
pub struct LookChoice {
    pub name: String,
    pub why: String,
}

/// What a grade cares about in the references' analyses.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tonality {
    /// Colour temperature of the palettes' coloured parts: red minus blue over chroma,
    /// -1 (blues, greens) .. 1 (reds, oranges, yellows); greys do not count.
    pub warmth: f64,
    /// The most colourful palette colour's chroma (max − min of RGB), 0..1: under about
    /// 0.08 every reference is black and white.
    pub max_chroma: f64,
    /// Mean luma and its spread, 0..1, averaged over the references.
    pub brightness: f64,
    pub contrast: f64,
}

/// Warmth beyond which a palette reads as warm or cool.
const TEMPERATURE: f64 = 0.25;
/// Chroma under which no palette colour reads as a colour.
const GREY: f64 = 0.08;

impl Tonality {
    /// The references' tonality; `None` when there are none. A palette's first colours (the
    /// most common) weigh most: colour `i` counts `1 / (i + 1)`.
    pub fn of<'a>(analyses: impl IntoIterator<Item = &'a Analysis>) -> Option<Tonality> {
        let (mut n, mut brightness, mut contrast) = (0.0, 0.0, 0.0);
        let (mut red_minus_blue, mut chroma, mut max_chroma) = (0.0, 0.0, 0.0f64);
        for a in analyses {
            n += 1.0;
            brightness += f64::from(a.brightness);
            contrast += f64::from(a.contrast);
            for (i, rgb) in a.palette.iter().filter_map(|c| hex_rgb(c)).enumerate() {
                let [r, g, b] = rgb.map(|v| f64::from(v) / 255.0);
                let c = r.max(g).max(b) - r.min(g).min(b);
                let w = 1.0 / (i as f64 + 1.0);
                red_minus_blue += w * (r - b);
                chroma += w * c;
                max_chroma = max_chroma.max(c);
            }
        }
        (n > 0.0).then(|| Tonality {
            warmth: if chroma > 1e-9 { red_minus_blue / chroma } else { 0.0 },
            max_chroma,
            brightness: brightness / n,
            contrast: contrast / n,
        })
    }
}

/// The look for a template's `base` look and the references' tonality. The rules, in
/// order (`looks/README.md` says the same):
/// 1. a look that adds colour (`warm`, `cool`, `teal-orange`, `punchy`) on references
///    that are all black and white → `mono`;
/// 2. a `warm` template on cool references → `cool`, a `cool` one on warm references →
///    `warm` (a grade that fights the brand's colours shifts them);
/// 3. `punchy` on pale, low-contrast references (brightness over 0.6, contrast under 0.15)
///    → `soft` (an S-curve would harden a pastel brand);
/// 4. `soft` or `vintage` on low-key references (brightness under 0.3) → `natural`
///    (lifted blacks would grey them);
/// 5. otherwise the template's look (a user's own look is never second-guessed).
pub fn suggest_look(base: &str, tone: Option<Tonality>) -> LookChoice {
    let choice = |name: &str, why: String| LookChoice { name: name.into(), why };
    let Some(t) = tone else {
        return choice(base, "the template's look".into());
    };
    match base {
        "warm" | "cool" | "teal-orange" | "punchy" if t.max_chroma < GREY => {
            choice("mono", format!("the references are black and white: {base} would tint them"))
        }
        "warm" if t.warmth < -TEMPERATURE => {
            choice("cool", format!("the references are cool (warmth {:.2}): a warm grade would shift their blues and greens", t.warmth))
        }
        "cool" if t.warmth > TEMPERATURE => {
            choice("warm", format!("the references are warm (warmth {:.2}): a cool grade would muddy their reds and oranges", t.warmth))
        }
        "punchy" if t.brightness > 0.6 && t.contrast < 0.15 => choice(
            "soft",
            format!("the references are pale and soft (brightness {:.2}, contrast {:.2}): punchy would harden them", t.brightness, t.contrast),
        ),
        "soft" | "vintage" if t.brightness < 0.3 => {
            choice("natural", format!("the references are low-key (brightness {:.2}): lifted blacks would grey them", t.brightness))
        }
        _ => choice(base, "the template's look, which suits the references".into()),
    }
}

/// The look a session follows when its brief chose none: `None` when the user chose one
/// (or the session predates following) or before any reference is analysed.
pub fn followed_look(state: &SessionState) -> Option<LookChoice> {
    let base = state.brief.as_ref()?.look_base.as_deref()?;
    let tone = Tonality::of(state.references.values().map(|r| &r.analysis))?;
    Some(suggest_look(base, Some(tone)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn analysis(palette: &[&str], brightness: f32, contrast: f32) -> Analysis {
        Analysis { palette: palette.iter().map(|s| s.to_string()).collect(), brightness, contrast, ..Analysis::default() }
    }

    fn tone(palette: &[&str], brightness: f32, contrast: f32) -> Option<Tonality> {
        Tonality::of([&analysis(palette, brightness, contrast)])
    }

    #[test]
    fn tonality_reads_temperature_from_the_coloured_part_of_a_palette() {
        // The demo's references: pinks on a white studio.
        let pink = tone(&["#f9f0f1", "#facee2", "#aa5486", "#553a59", "#cd8cb0"], 0.72, 0.27).unwrap();
        assert!(pink.warmth > TEMPERATURE, "{pink:?}");
        let navy = tone(&["#f4f6f8", "#1e3a8a", "#3b82f6", "#0f172a"], 0.5, 0.3).unwrap();
        assert!(navy.warmth < -TEMPERATURE, "{navy:?}");
        // A white backdrop does not dilute it: greys carry no temperature.
        let navy_on_white = tone(&["#ffffff", "#fefefe", "#1e3a8a"], 0.8, 0.2).unwrap();
        assert!((navy_on_white.warmth - tone(&["#1e3a8a"], 0.8, 0.2).unwrap().warmth).abs() < 0.02, "{navy_on_white:?}");
        let greys = tone(&["#000000", "#808080", "#f0f0f0"], 0.5, 0.3).unwrap();
        assert_eq!((greys.warmth, greys.max_chroma < GREY), (0.0, true));
        assert_eq!(Tonality::of([]), None);
        // Three references average their tones.
        let (a, b) = (analysis(&["#ff0000"], 0.2, 0.1), analysis(&["#ff0000"], 0.6, 0.3));
        let t = Tonality::of([&a, &b]).unwrap();
        assert!((t.brightness - 0.4).abs() < 1e-6 && (t.contrast - 0.2).abs() < 1e-6, "{t:?}");
    }

    #[test]
    fn the_template_s_look_stands_unless_the_references_fight_it() {
        let pink = tone(&["#f9f0f1", "#facee2", "#aa5486"], 0.72, 0.27);
        let navy = tone(&["#f4f6f8", "#1e3a8a", "#3b82f6"], 0.5, 0.3);
        let pastel = tone(&["#fdf2f8", "#fbcfe8", "#bae6fd"], 0.82, 0.09);
        let low_key = tone(&["#0b0b0b", "#1f2937", "#b45309"], 0.18, 0.25);
        let bw = tone(&["#111111", "#eeeeee", "#777777"], 0.5, 0.3);
        let name = |base: &str, t: Option<Tonality>| suggest_look(base, t).name;
        assert_eq!(name("punchy", pink), "punchy", "the demo keeps its template's look");
        assert_eq!(name("warm", navy), "cool");
        assert_eq!(name("warm", pink), "warm");
        assert_eq!(name("cool", pink), "warm");
        assert_eq!(name("cool", navy), "cool");
        assert_eq!(name("punchy", pastel), "soft");
        assert_eq!(name("soft", low_key), "natural");
        assert_eq!(name("vintage", low_key), "natural");
        assert_eq!(name("punchy", low_key), "punchy");
        assert_eq!(name("teal-orange", bw), "mono");
        assert_eq!(name("natural", bw), "natural");
        assert_eq!(name("my-grade", bw), "my-grade");
        assert_eq!(name("natural", navy), "natural", "UGC's natural look is left alone");
        assert_eq!(name("my-grade", navy), "my-grade", "a user's own look is never second-guessed");
        assert_eq!(name("warm", None), "warm");
        let why = suggest_look("warm", navy).why;
        assert!(why.contains("cool") && why.contains("warmth -"), "{why}");
    }
}
