//! Request templates with named placeholders: model inputs for Replicate and fal, and
//! ComfyUI workflows. A string that is exactly `"{name}"` becomes the value itself
//! (a number stays a number); `"{name}"` inside a longer string is written into it. A
//! key whose exact placeholder has no value (no image for a text-to-image call) is dropped.

use serde_json::{Map, Value};
use std::collections::BTreeMap;

pub type Vars = BTreeMap<&'static str, Value>;

fn as_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Fill `template` with `vars`. An unknown placeholder is an error naming it.
pub fn fill(template: &Value, vars: &Vars) -> Result<Value, String> {
    match template {
        Value::String(s) => {
            if let Some(name) = s.strip_prefix('{').and_then(|r| r.strip_suffix('}')).filter(|n| is_name(n)) {
                return lookup(name, vars).cloned();
            }
            let mut out = String::new();
            let mut rest = s.as_str();
            while let Some(start) = rest.find('{') {
                let after = &rest[start + 1..];
                match after.find('}').map(|end| &after[..end]).filter(|n| is_name(n)) {
                    Some(name) => {
                        out.push_str(&rest[..start]);
                        out.push_str(&as_text(lookup(name, vars)?));
                        rest = &after[name.len() + 1..];
                    }
                    None => {
                        out.push_str(&rest[..start + 1]);
                        rest = after;
                    }
                }
            }
            out.push_str(rest);
            Ok(Value::String(out))
        }
        Value::Array(items) => Ok(Value::Array(items.iter().map(|v| fill(v, vars)).collect::<Result<_, _>>()?)),
        Value::Object(map) => {
            let mut out = Map::new();
            for (k, v) in map {
                let filled = fill(v, vars)?;
                if !filled.is_null() || v.is_null() {
                    out.insert(k.clone(), filled);
                }
            }
            Ok(Value::Object(out))
        }
        other => Ok(other.clone()),
    }
}

fn is_name(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn lookup<'a>(name: &str, vars: &'a Vars) -> Result<&'a Value, String> {
    vars.get(name).ok_or_else(|| {
        format!("unknown placeholder {{{name}}}; known: {}", vars.keys().map(|k| format!("{{{k}}}")).collect::<Vec<_>>().join(", "))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn placeholders_keep_types_interpolate_and_drop_missing_images() {
        let mut vars = Vars::new();
        vars.insert("prompt", json!("say \"hi\": 100% {not a placeholder}"));
        vars.insert("seed", json!(42));
        vars.insert("image", Value::Null);
        let t = json!({"prompt": "{prompt}", "seed": "{seed}", "image": "{image}", "name": "run-{seed}.mp4", "keep": null, "n": [1, "{seed}"]});
        let v = fill(&t, &vars).unwrap();
        assert_eq!(v, json!({"prompt": "say \"hi\": 100% {not a placeholder}", "seed": 42, "name": "run-42.mp4", "keep": null, "n": [1, 42]}));
        assert!(fill(&json!({"x": "{frames}"}), &vars).unwrap_err().contains("{frames}"));
    }
}
