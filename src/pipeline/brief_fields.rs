//! A brief written as `name: value` pairs — a catalogue's columns, the lines of a brief
//! typed in the TUI — read into a `BriefInput`: the names people use for each field,
//! lists, numbers and paths. One reader, so a column and a typed line mean the same.

use serde_json::{Map, Value};

use super::BriefInput;

/// Names for fields besides their own (spaces and dashes read as underscores).
const ALIASES: &[(&str, &str)] = &[
    ("name", "product_name"),
    ("product", "product_name"),
    ("title", "product_name"),
    ("cta", "call_to_action"),
    ("duration", "duration_s"),
    ("image", "product_images"),
    ("images", "product_images"),
    ("product_image", "product_images"),
    ("photo", "product_images"),
    ("character_image", "character_images"),
    ("budget", "budget_usd"),
    ("wps", "words_per_second"),
    ("font", "typeface"),
    ("grade", "look"),
    ("link", "url"),
    ("transitions", "transition"),
];
const FIELDS: &[&str] = &[
    "prompt", "product_name", "call_to_action", "audience", "tone", "language", "framework", "template", "aspect",
    "duration_s", "product_images", "logo", "character_images", "music", "budget_usd", "seed", "transition", "look",
    "voice", "words_per_second", "captions", "caption_style", "url", "price", "typeface", "animatic", "variants", "candidates",
];
const LISTS: &[&str] = &["product_images", "character_images"];
const NUMBERS: &[&str] = &["duration_s", "budget_usd", "words_per_second"];
const WHOLE: &[&str] = &["seed", "candidates"];
const PATHS: &[&str] = &["product_images", "character_images", "logo", "music"];

/// The field a name means: lower case, spaces and dashes as underscores, aliases.
pub fn brief_field(name: &str) -> Option<&'static str> {
    let c = name.trim().to_lowercase().replace([' ', '-'], "_");
    let c = ALIASES.iter().find(|(a, _)| *a == c).map_or(c.as_str(), |(_, f)| f).to_string();
    FIELDS.iter().find(|f| **f == c).copied()
}

/// As `brief_field`, or an error listing the names there are.
pub fn field_name(name: &str) -> Result<&'static str, String> {
    brief_field(name).ok_or_else(|| format!("unknown column \"{}\": use {} (or name, cta, duration, images, budget)", name.trim(), FIELDS.join(", ")))
}

/// A value as the JSON the brief reads: lists split on `;` or `|`, numbers parsed (as
/// floats, so `8` and `8s` are the same), paths through `path`.
fn cell(field: &str, value: Value, path: &dyn Fn(&str) -> Result<String, String>) -> Result<Option<Value>, String> {
    let text = |v: &Value| v.as_str().map(str::trim).map(str::to_string);
    if value.is_null() || text(&value).is_some_and(|t| t.is_empty()) {
        return Ok(None);
    }
    let word = field.trim_end_matches("_s").trim_end_matches("_usd").replace('_', " ");
    Ok(Some(match field {
        f if LISTS.contains(&f) => {
            let items: Vec<String> = match &value {
                Value::Array(a) => a.iter().filter_map(text).collect(),
                _ => text(&value).unwrap_or_default().split([';', '|']).map(|s| s.trim().to_string()).collect(),
            };
            Value::Array(items.iter().filter(|s| !s.is_empty()).map(|s| path(s).map(Value::String)).collect::<Result<_, _>>()?)
        }
        f if PATHS.contains(&f) => Value::String(path(&text(&value).ok_or_else(|| format!("{word} must be a file path"))?)?),
        f if NUMBERS.contains(&f) => match &value {
            Value::Number(n) => serde_json::json!(n.as_f64().unwrap_or_default()),
            _ => {
                let t = text(&value).unwrap_or_default();
                let n: f64 = t
                    .trim_end_matches("seconds")
                    .trim_end_matches("second")
                    .trim_end_matches('s')
                    .trim_start_matches('$')
                    .trim()
                    .parse()
                    .map_err(|_| if f == "duration_s" { format!("duration '{t}' is not a number of seconds: write e.g. duration: 15") } else { format!("{word} '{t}' is not a number") })?;
                serde_json::json!(n)
            }
        },
        f if WHOLE.contains(&f) => match &value {
            Value::Number(_) => value,
            _ => {
                let t = text(&value).unwrap_or_default();
                serde_json::json!(t.parse::<u64>().map_err(|_| format!("{word} '{t}' is not a whole number"))?)
            }
        },
        "animatic" => match &value {
            Value::Bool(_) => value,
            _ => match text(&value).unwrap_or_default().to_lowercase().as_str() {
                "yes" | "true" | "1" | "on" => Value::Bool(true),
                "no" | "false" | "0" | "off" => Value::Bool(false),
                t => return Err(format!("animatic '{t}' is not yes or no")),
            },
        },
        _ => match value {
            Value::String(s) => Value::String(s.trim().to_string()),
            other => Value::String(other.to_string()),
        },
    }))
}

/// Fields (already named as `brief_field` names them) into a `BriefInput`, and the
/// canonical JSON it was read from (what identifies the brief).
pub fn brief_input_from(fields: Vec<(String, Value)>, path: &dyn Fn(&str) -> Result<String, String>) -> Result<(BriefInput, Map<String, Value>), String> {
    let mut brief = Map::new();
    for (field, value) in fields {
        if let Some(v) = cell(&field, value, path)? {
            match (brief.get_mut(&field), v) {
                // A list given on several lines (`image: a.png`, `image: b.png`) adds up.
                (Some(Value::Array(have)), Value::Array(more)) => have.extend(more),
                (_, v) => {
                    brief.insert(field, v);
                }
            }
        }
    }
    let input: BriefInput = serde_json::from_value(Value::Object(brief.clone())).map_err(|e| e.to_string())?;
    Ok((input, brief))
}
