//! Turning a brief into the words templates are filled with.

use serde_json::{json, Value};

use crate::domain::{palette_words, Brief, ConsistencyContext};

fn first_words(s: &str, n: usize) -> String {
    s.split_whitespace().take(n).collect::<Vec<_>>().join(" ")
}

/// Product features named in the prompt: "pink running shoes with white laces" →
/// ["pink running shoes", "white laces"].
pub fn prompt_features(prompt: &str) -> Vec<String> {
    let lower = prompt.to_lowercase();
    let cut = lower.split(" for ").next().unwrap_or(&lower).to_string();
    cut.split([',', ';', '.'])
        .flat_map(|p| p.split(" with "))
        .flat_map(|p| p.split(" and "))
        .map(|p| p.trim().trim_start_matches("a ").trim_start_matches("an ").trim().to_string())
        .filter(|p| p.len() > 2)
        .take(4)
        .collect()
}

/// Template variables for a brief and its consistency context.
pub fn brief_vars(brief: &Brief, ctx: &ConsistencyContext) -> Value {
    let audience = if brief.audience.trim().is_empty() {
        guess_audience(&brief.prompt)
    } else {
        brief.audience.trim().to_string()
    };
    let tone = if brief.tone.trim().is_empty() { "bold".to_string() } else { brief.tone.trim().to_lowercase() };
    let mut cap = audience.clone();
    if let Some(f) = cap.get_mut(0..1) {
        f.make_ascii_uppercase();
    }
    let features = if ctx.product_features.is_empty() { prompt_features(&brief.prompt) } else { ctx.product_features.clone() };
    let hook = features.first().cloned().unwrap_or_else(|| first_words(&brief.prompt, 6));
    json!({
        "product": brief.product_name.trim(),
        "cta": brief.call_to_action.trim().trim_end_matches('.'),
        "audience": audience,
        "audience_short": first_words(&audience, 3),
        "audience_cap": cap,
        "audience_one": first_words(&audience, 2).trim_end_matches('s').to_string(),
        "tone": tone,
        "hook": hook,
        "problem": format!("finding {} that keeps up", first_words(&brief.prompt, 5)),
        "prompt": brief.prompt.trim(),
        "palette": palette_words(&ctx.palette),
        "features": if features.is_empty() { "its details".to_string() } else { features.join(", ") },
        "style": ctx.style,
    })
}

/// A reasonable audience from the prompt: the words after "for", else "everyone".
pub fn guess_audience(prompt: &str) -> String {
    let lower = prompt.to_ascii_lowercase();
    // ASCII lowercasing keeps byte offsets, so the user's own casing can be cut out.
    match lower.find(" for ") {
        Some(i) => {
            // The audience ends with its clause: "for Gen Z runners, energetic" is for Gen Z runners.
            let clause = prompt[i + 5..].split([',', ';', '.', ':', '!', '?', '(']).next().unwrap_or("");
            let a = first_words(clause, 5);
            if a.is_empty() { "everyone".into() } else { a }
        }
        None => "everyone".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn names_colours_and_features() {
        assert_eq!(prompt_features("pink running shoes with white laces for Gen Z runners"), vec!["pink running shoes", "white laces"]);
        assert_eq!(guess_audience("pink running shoes for Gen Z runners"), "Gen Z runners");
        assert_eq!(guess_audience("pink running shoes for Gen Z runners, energetic"), "Gen Z runners");
        assert_eq!(guess_audience("a lamp for: "), "everyone");
    }
}
