//! Colour words: the nearest plain name of a colour, a palette in words, and the colours
//! a prompt names. Shared by the offline writer and painter and the pipeline's palette
//! defaults.

const NAMED: [(&str, [u8; 3]); 20] = [
    ("black", [20, 20, 20]), ("white", [245, 245, 245]), ("grey", [128, 128, 128]),
    ("red", [220, 40, 40]), ("crimson", [160, 20, 50]), ("orange", [250, 140, 30]),
    ("gold", [230, 190, 60]), ("yellow", [250, 230, 60]), ("lime", [160, 220, 60]),
    ("green", [40, 160, 70]), ("teal", [30, 140, 140]), ("cyan", [60, 210, 230]),
    ("sky blue", [120, 190, 240]), ("blue", [40, 90, 220]), ("navy", [25, 35, 90]),
    ("purple", [120, 60, 170]), ("violet", [170, 120, 230]), ("pink", [255, 110, 180]),
    ("magenta", [220, 50, 170]), ("brown", [120, 80, 50]),
];

/// The nearest plain colour name for `#rrggbb`.
pub fn colour_name(hex: &str) -> &'static str {
    let t = hex.trim_start_matches('#');
    let p = |i: usize| u8::from_str_radix(t.get(i..i + 2).unwrap_or("80"), 16).unwrap_or(128) as i32;
    let (r, g, b) = (p(0), p(2), p(4));
    NAMED
        .iter()
        .min_by_key(|(_, c)| {
            let (dr, dg, db) = (r - c[0] as i32, g - c[1] as i32, b - c[2] as i32);
            2 * dr * dr + 4 * dg * dg + 3 * db * db
        })
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
    let mut found: Vec<(usize, String)> = NAMED
        .iter()
        .filter_map(|(name, c)| {
            lower
                .match_indices(name)
                .find(|(i, _)| {
                    let before = lower[..*i].chars().last();
                    let after = lower[i + name.len()..].chars().next();
                    !before.is_some_and(|c| c.is_alphanumeric()) && !after.is_some_and(|c| c.is_alphanumeric())
                })
                .map(|(i, _)| (i, format!("#{:02x}{:02x}{:02x}", c[0], c[1], c[2])))
        })
        .collect();
    found.sort();
    found.dedup_by(|a, b| a.1 == b.1);
    found.into_iter().map(|(_, h)| h).take(4).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn names_colours() {
        assert_eq!(colour_name("#ff6eb4"), "pink");
        assert_eq!(colour_name("#1a2259"), "navy");
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
