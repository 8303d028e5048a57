//! The JSON object in a chat model's answer, found among code fences and prose.

use serde::de::DeserializeOwned;

use crate::providers::ProviderError;

/// The JSON object in a model's answer: tolerates code fences and prose around it.
pub fn extract_json<T: DeserializeOwned>(text: &str) -> Result<T, ProviderError> {
    let t = text.trim();
    let start = t.find('{');
    let end = t.rfind('}');
    let candidate = match (start, end) {
        (Some(s), Some(e)) if e > s => &t[s..=e],
        _ => return Err(ProviderError::Protocol(format!("no JSON object in the answer: {}", preview(t)))),
    };
    serde_json::from_str(candidate).map_err(|e| ProviderError::Protocol(format!("malformed JSON ({e}) in: {}", preview(candidate))))
}

fn preview(s: &str) -> String {
    let p: String = s.chars().take(160).collect();
    if s.chars().count() > 160 { format!("{p}…") } else { p }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[derive(serde::Deserialize, Debug, PartialEq)]
    struct A {
        a: u32,
    }
    #[test]
    fn finds_json_in_fences_and_prose() {
        assert_eq!(extract_json::<A>("```json\n{\"a\": 1}\n```").unwrap(), A { a: 1 });
        assert_eq!(extract_json::<A>("Sure! {\"a\": 2} Hope it helps").unwrap(), A { a: 2 });
        assert!(extract_json::<A>("no json here").is_err());
        assert!(extract_json::<A>("{\"a\": }").unwrap_err().to_string().contains("malformed JSON"));
    }
}
