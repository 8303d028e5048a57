//! The external VBench adapter: runs a configured VBench command (on this machine or, via
//! a wrapper such as `ssh gpu-box vbench …`, on a GPU box), one dimension per call as
//! VBench requires, each in a fresh output folder, and reads its results JSON.
//!
//! VBench's quirks handled here: it writes `NaN` literals into JSON; dynamic degree is a
//! boolean and imaging quality is on 0..100; a video it could not find gives
//! `[NaN, []]`; it exits 0 even when it failed; it crashes on upper-case `.MP4`.

use async_trait::async_trait;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use super::native::NATIVE_VERSION;
use super::{aggregate, NativeOptions, NativeScorer, QualityError, ScoreRequest, Scorer};
use crate::config::ScoringSettings;
use crate::domain::{DimensionScore, Method, Score};
use crate::text::last_lines;

/// VBench's version of a dimension, as the native scorer's label.
const VBENCH_VERSION: &str = "vbench-cli";

pub struct VbenchScorer {
    command: Vec<String>,
    timeout: Duration,
    dimensions: Vec<String>,
    fallback: bool,
    /// Runs the gates (VBench has none) and stands in when VBench fails and fallback is on.
    native: NativeScorer,
}

impl VbenchScorer {
    pub fn new(s: &ScoringSettings, dimensions: Vec<String>, native: NativeScorer) -> VbenchScorer {
        VbenchScorer {
            command: s.vbench_command.clone(),
            timeout: Duration::from_secs(s.vbench_timeout_s.max(1)),
            dimensions,
            fallback: s.fallback_to_native,
            native,
        }
    }

    /// Run VBench on one dimension of one video.
    async fn run_dimension(&self, video: &Path, dim: &str) -> Result<DimensionScore, QualityError> {
        let err = |m: String| QualityError::Vbench(m);
        let Some(program) = self.command.first() else {
            return Err(err("scoring.vbench_command is empty".into()));
        };
        let dir = tempfile::tempdir().map_err(|e| err(e.to_string()))?;
        let videos = dir.path().join("videos");
        let output = dir.path().join("output");
        std::fs::create_dir_all(&videos).and_then(|_| std::fs::create_dir_all(&output)).map_err(|e| err(e.to_string()))?;
        // VBench only accepts a lower-case `.mp4` extension.
        let stem: String = video
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("video")
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c.to_ascii_lowercase() } else { '_' })
            .collect();
        let copy = videos.join(format!("{stem}.mp4"));
        std::fs::copy(video, &copy).map_err(|e| err(format!("cannot stage {}: {e}", video.display())))?;
        let fill = |a: &String| {
            a.replace("{videos}", &videos.display().to_string())
                .replace("{video}", &copy.display().to_string())
                .replace("{dimension}", dim)
                .replace("{output}", &output.display().to_string())
        };
        let mut cmd = tokio::process::Command::new(fill(program));
        cmd.args(self.command[1..].iter().map(fill)).stdin(std::process::Stdio::null()).kill_on_drop(true);
        let child = cmd.output();
        let out = match tokio::time::timeout(self.timeout, child).await {
            Err(_) => return Err(err(format!("{dim}: no answer after {}s (scoring.vbench_timeout_s)", self.timeout.as_secs()))),
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(err(format!("`{program}` is not installed or not on PATH (pip install vbench on a CUDA machine, or set scoring.vbench_command)")))
            }
            Ok(Err(e)) => return Err(err(format!("cannot run `{program}`: {e}"))),
            Ok(Ok(o)) => o,
        };
        let tail = |b: &[u8]| last_lines(&String::from_utf8_lossy(b), 3);
        if !out.status.success() {
            return Err(err(format!("{dim}: `{program}` exited with {}: {}", out.status, tail(&out.stderr))));
        }
        let results = std::fs::read_dir(&output)
            .map_err(|e| err(e.to_string()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .find(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.ends_with("_eval_results.json")));
        let Some(results) = results else {
            // VBench exits 0 when it failed: the missing file is the only sign.
            return Err(err(format!("{dim}: VBench wrote no results file (its log: {})", tail(&out.stderr))));
        };
        let text = std::fs::read_to_string(&results).map_err(|e| err(e.to_string()))?;
        parse_results(&text, dim, &copy)
    }
}

/// Replace the bare `NaN` / `Infinity` tokens Python's json writes with `null`.
fn python_json(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_str = false;
    let mut escaped = false;
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if in_str {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_str = false;
            }
            rest = &rest[c.len_utf8()..];
            continue;
        }
        if c == '"' {
            in_str = true;
        }
        let token = ["-Infinity", "Infinity", "NaN"].into_iter().find(|t| rest.starts_with(t));
        if let Some(t) = token {
            out.push_str("null");
            rest = &rest[t.len()..];
        } else {
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    out
}

/// Read VBench's `{"dim": [overall, [{"video_path", "video_results"}]]}` for `video`.
pub fn parse_results(text: &str, dim: &str, video: &Path) -> Result<DimensionScore, QualityError> {
    let err = |m: String| QualityError::Vbench(format!("{dim}: {m}"));
    let v: serde_json::Value = serde_json::from_str(&python_json(text)).map_err(|e| err(format!("unreadable results JSON: {e}")))?;
    let entry = v.get(dim).ok_or_else(|| err("the results have no entry for this dimension".into()))?;
    let per_video = entry.get(1).and_then(|x| x.as_array()).ok_or_else(|| err("results are not [overall, [videos]]".into()))?;
    if per_video.is_empty() {
        return Err(err("VBench found no video to score (it was given an empty or unreadable folder)".into()));
    }
    let name = video.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let row = per_video
        .iter()
        .find(|r| r.get("video_path").and_then(|p| p.as_str()).is_some_and(|p| Path::new(p).file_name().and_then(|n| n.to_str()) == Some(name)))
        .or_else(|| per_video.first())
        .expect("non-empty");
    let raw = row.get("video_results").ok_or_else(|| err("a result row has no video_results".into()))?;
    let value = match raw {
        serde_json::Value::Bool(b) => {
            if *b {
                1.0
            } else {
                0.0
            }
        }
        serde_json::Value::Number(n) => n.as_f64().unwrap_or(f64::NAN),
        serde_json::Value::Null => return Err(err("VBench returned NaN for this video".into())),
        other => return Err(err(format!("unexpected result {other}"))),
    };
    // Imaging quality comes on MUSIQ's 0..100 scale.
    let value = if dim == "imaging_quality" && value > 1.0 { value / 100.0 } else { value };
    if !(0.0..=1.0).contains(&value) {
        return Err(err(format!("result {value} is outside 0..1")));
    }
    Ok(DimensionScore { value, method: Method::Vbench, fraction: None })
}

#[async_trait]
impl Scorer for VbenchScorer {
    fn id(&self) -> String {
        "vbench".into()
    }

    async fn score(&self, req: &ScoreRequest) -> Score {
        let mut dims = BTreeMap::new();
        let mut failure = None;
        for d in &self.dimensions {
            match self.run_dimension(&req.video, d).await {
                Ok(s) => {
                    dims.insert(d.clone(), s);
                }
                Err(e) => {
                    failure = Some(e.to_string());
                    break;
                }
            }
        }
        if let Some(reason) = failure {
            if !self.fallback {
                return Score::Unavailable { reason };
            }
            tracing::warn!(%reason, "VBench failed; scoring natively");
            return match self.native.score(req).await {
                Score::Scored { dimensions, quality, gates, .. } => Score::Scored {
                    dimensions,
                    quality,
                    gates,
                    scorer: format!("native (VBench unavailable: {reason})"),
                    version: NATIVE_VERSION.into(),
                },
                other => other,
            };
        }
        // The gates are admint's own: run them natively without the dimensions.
        let gates_only = NativeScorer { options: NativeOptions { dimensions: vec![], gates: true }, ..self.native.clone() };
        let gates = match gates_only.score(req).await {
            Score::Scored { gates, .. } => gates,
            _ => Vec::new(),
        };
        let quality = aggregate::quality(&dims).unwrap_or(0.0);
        Score::Scored { dimensions: dims, quality, gates, scorer: "vbench".into(), version: VBENCH_VERSION.into() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_nan_literals_become_null_outside_strings() {
        assert_eq!(python_json(r#"{"a": [NaN, []], "b": "NaN", "c": -Infinity}"#), r#"{"a": [null, []], "b": "NaN", "c": null}"#);
    }

    #[test]
    fn parses_the_documented_shapes() {
        let v = Path::new("/x/videos/clip.mp4");
        let ok = parse_results(r#"{"temporal_flickering": [0.97, [{"video_path": "/x/videos/clip.mp4", "video_results": 0.97}]]}"#, "temporal_flickering", v).unwrap();
        assert_eq!(ok.value, 0.97);
        let dynamic = parse_results(r#"{"dynamic_degree": [1.0, [{"video_path": "clip.mp4", "video_results": true}]]}"#, "dynamic_degree", v).unwrap();
        assert_eq!(dynamic.value, 1.0);
        let imaging = parse_results(r#"{"imaging_quality": [64.5, [{"video_path": "clip.mp4", "video_results": 64.5}]]}"#, "imaging_quality", v).unwrap();
        assert!((imaging.value - 0.645).abs() < 1e-12);
        let none = parse_results(r#"{"subject_consistency": [NaN, []]}"#, "subject_consistency", v).unwrap_err().to_string();
        assert!(none.contains("no video"), "{none}");
        let nan = parse_results(r#"{"motion_smoothness": [NaN, [{"video_path": "clip.mp4", "video_results": NaN}]]}"#, "motion_smoothness", v).unwrap_err().to_string();
        assert!(nan.contains("NaN"), "{nan}");
        assert!(parse_results("<html>", "motion_smoothness", v).is_err());
    }
}
