//! Colour words: the nearest plain name of a colour, a palette in words, and the colours
//! a prompt names. Shared by the offline writer and painter and the pipeline's palette
//! defaults.

const NAMED: [(&str, [u8; 3]); 31] = [
    ("black", [20, 20, 20]), ("white", [245, 245, 245]), ("grey", [128, 128, 128]), ("silver", [195, 197, 202]),
    ("red", [220, 40, 40]), ("crimson", [160, 20, 50]), ("maroon", [110, 25, 40]), ("coral", [250, 120, 100]),
    ("orange", [250, 140, 30]), ("gold", [230, 190, 60]), ("yellow", [250, 230, 60]), ("cream", [250, 240, 210]),
    ("beige", [220, 200, 165]), ("brown", [120, 80, 50]), ("olive", [120, 120, 40]), ("lime", [160, 220, 60]),
    ("green", [40, 160, 70]), ("mint", [160, 230, 190]), ("teal", [30, 140, 140]), ("cyan", [60, 210, 230]),
    ("sky blue", [120, 190, 240]), ("blue", [40, 90, 220]), ("navy", [25, 35, 90]), ("purple", [120, 60, 170]),
    ("plum", [95, 50, 100]), ("violet", [170, 120, 230]), ("lavender", [205, 185, 240]), ("pink", [255, 110, 180]),
    ("magenta", [220, 50, 170]), ("light pink", [250, 200, 215]), ("light blue", [175, 215, 240]),
];

fn srgb_to_linear(c: f32) -> f32 {
    let c = c / 255.0;
    if c <= 0.04045 {
        c / 12.92
    } else {
        ((c + 0.055) / 1.055).powf(2.4)
    }
}

/// CIE L*a*b* (D65) of an sRGB colour (channels 0..255): the scorer's colour grids, and
/// colour names (distances in it follow what the eye sees, so a dark plum is not brown).
pub fn lab(rgb: [f32; 3]) -> [f32; 3] {
    let [r, g, b] = rgb.map(srgb_to_linear);
    let x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047;
    let y = 0.2126 * r + 0.7152 * g + 0.0722 * b;
    let z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883;
    let f = |t: f32| if t > 0.008856 { t.cbrt() } else { 7.787 * t + 16.0 / 116.0 };
    let (fx, fy, fz) = (f(x), f(y), f(z));
    [116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)]
}

/// CIE94 colour difference (squared), with lightness weighing half (`k_L = 2`, as for
/// textiles): a colour is named by its hue and chroma first, so a pale or dusty pink is
/// still pink.
fn difference94(c: [f32; 3], named: [f32; 3]) -> f32 {
    let (c1, c2) = (c[1].hypot(c[2]), named[1].hypot(named[2]));
    let (dl, dc) = (c[0] - named[0], c1 - c2);
    let dh2 = ((c[1] - named[1]).powi(2) + (c[2] - named[2]).powi(2) - dc * dc).max(0.0);
    (dl / 2.0).powi(2) + (dc / (1.0 + 0.045 * c1)).powi(2) + dh2 / (1.0 + 0.015 * c1).powi(2)
}

/// The nearest plain colour name for `#rrggbb` (by CIE94 in L*a*b*); grey when it is not
/// a colour.
pub fn colour_name(hex: &str) -> &'static str {
    let Some(rgb) = hex_rgb(hex) else { return "grey" };
    let c = lab(rgb.map(f32::from));
    NAMED
        .iter()
        .map(|(n, named)| (n, difference94(c, lab(named.map(f32::from)))))
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(n, _)| *n)
        .unwrap_or("grey")
}

/// "pink, navy and white" from a palette.
pub fn palette_words(palette: &[String]) -> String {
    let mut names: Vec<&str> = Vec::new();
    for c in palette {
        let n = colour_name(c);
        if !names.contains(&n) {
            names.push(n);
        }
        if names.len() == 3 {
            break;
        }
    }
    match names.len() {
        0 => "brand-coloured".into(),
        1 => names[0].into(),
        n => format!("{} and {}", names[..n - 1].join(", "), names[n - 1]),
    }
}

/// Colours named in the prompt as a palette (`"pink shoes with white laces"` → pink, white).
pub fn prompt_palette(prompt: &str) -> Vec<String> {
    let lower = prompt.to_lowercase();
    let found: Vec<(usize, usize, String)> = NAMED
        .iter()
        .filter_map(|(name, c)| {
            lower
                .match_indices(name)
                .find(|(i, _)| {
                    let before = lower[..*i].chars().last();
                    let after = lower[i + name.len()..].chars().next();
                    !before.is_some_and(|c| c.is_alphanumeric()) && !after.is_some_and(|c| c.is_alphanumeric())
                })
                .map(|(i, _)| (i, i + name.len(), format!("#{:02x}{:02x}{:02x}", c[0], c[1], c[2])))
        })
        .collect();
    // "sky blue" is one colour, not sky blue and blue.
    let mut kept: Vec<(usize, usize, String)> =
        found.iter().filter(|(a, b, _)| !found.iter().any(|(x, y, _)| x <= a && b <= y && y - x > b - a)).cloned().collect();
    kept.sort();
    kept.dedup_by(|a, b| a.2 == b.2);
    kept.into_iter().map(|(_, _, h)| h).take(4).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lab_of_reference_colours() {
        let w = lab([255.0, 255.0, 255.0]);
        assert!((w[0] - 100.0).abs() < 0.1 && w[1].abs() < 0.5 && w[2].abs() < 0.5, "{w:?}");
        let r = lab([255.0, 0.0, 0.0]);
        assert!((r[0] - 53.2).abs() < 0.5 && (r[1] - 80.1).abs() < 1.0, "{r:?}");
    }

    #[test]
    fn names_colours() {
        assert_eq!(colour_name("#ff6eb4"), "pink");
        assert_eq!(colour_name("#1a2259"), "navy");
        // The demo's analysed palettes: a dark plum and a dusty pink are not brown or navy.
        assert_eq!(colour_name("#553a59"), "plum");
        assert_eq!(colour_name("#aa5486"), "pink");
        assert_eq!(colour_name("#cd8cb0"), "light pink");
        assert_eq!(colour_name("#facee2"), "light pink");
        assert_eq!(colour_name("#f9f0f1"), "white");
        assert_eq!(colour_name("#7b4a2a"), "brown");
        assert_eq!(colour_name("#d2b48c"), "beige");
        assert_eq!(colour_name("#000000"), "black");
        assert_eq!(colour_name("#777777"), "grey");
        assert_eq!(colour_name("#1e3a8a"), "navy");
        assert_eq!(colour_name("#3b82f6"), "blue");
        assert_eq!(colour_name("not a colour"), "grey");
        assert_eq!(prompt_palette("an olive and cream linen shirt"), vec!["#787828", "#faf0d2"]);
        assert_eq!(prompt_palette("sky blue and light pink"), vec!["#78bef0", "#fac8d7"], "one colour each, not blue and pink too");
        assert_eq!(palette_words(&["#ff6eb4".into(), "#f5f5f5".into()]), "pink and white");
        assert_eq!(prompt_palette("pink running shoes with white laces"), vec!["#ff6eb4", "#f5f5f5"]);
    }
}

/// `#rrggbb` (or `rrggbb`) as RGB bytes; `None` when it is not one.
pub fn hex_rgb(c: &str) -> Option<[u8; 3]> {
    let t = c.trim().trim_start_matches('#');
    if t.len() != 6 || !t.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let v = u32::from_str_radix(t, 16).ok()?;
    Some([(v >> 16) as u8, (v >> 8) as u8, v as u8])
}

/// WCAG 2 relative luminance of an sRGB colour (channels 0..1).
pub fn relative_luminance(c: [f64; 3]) -> f64 {
    let lin = |v: f64| if v <= 0.04045 { v / 12.92 } else { ((v + 0.055) / 1.055).powf(2.4) };
    0.2126 * lin(c[0]) + 0.7152 * lin(c[1]) + 0.0722 * lin(c[2])
}

/// The sRGB grey (0..1) whose relative luminance is `l`.
pub fn grey_of_luminance(l: f64) -> f64 {
    let l = l.clamp(0.0, 1.0);
    if l <= 0.0031308 { l * 12.92 } else { 1.055 * l.powf(1.0 / 2.4) - 0.055 }
}

/// WCAG 2 contrast ratio of two relative luminances (1 to 21).
pub fn contrast_ratio(a: f64, b: f64) -> f64 {
    (a.max(b) + 0.05) / (a.min(b) + 0.05)
}

#[cfg(test)]
mod wcag_tests {
    use super::*;

    #[test]
    fn contrast_matches_wcag_examples() {
        assert!((contrast_ratio(relative_luminance([1.0; 3]), relative_luminance([0.0; 3])) - 21.0).abs() < 1e-9);
        // #767676 on white is the classic 4.54:1.
        let g = 0x76 as f64 / 255.0;
        assert!((contrast_ratio(relative_luminance([g; 3]), 1.0) - 4.54).abs() < 0.01);
        for l in [0.0, 0.001, 0.2, 0.5, 1.0] {
            assert!((relative_luminance([grey_of_luminance(l); 3]) - l).abs() < 1e-9);
        }
    }
}
