//! `admint score FILE...`: VBench-style dimensions and QC gates for any video.

use std::sync::Arc;

use super::args::{ScoreArgs, ScoreBackend, ScoreFormat};
use super::{AppEnv, CliError};
use crate::domain::{Score, Verdict};
use crate::media::Ffmpeg;
use crate::quality::{dimensions, GateContext, NativeOptions, NativeScorer, ScoreRequest, Scorer, VbenchScorer};

fn scorer(a: &ScoreArgs, env: &AppEnv, ff: &Ffmpeg) -> Result<Arc<dyn Scorer>, CliError> {
    let s = &env.settings.scoring;
    let dims = dimensions(if a.dimensions.is_empty() { &s.dimensions } else { &a.dimensions }).map_err(|e| CliError::usage(e.to_string()))?;
    let native = NativeScorer { ffmpeg: ff.clone(), options: NativeOptions { dimensions: dims.clone(), gates: !a.no_gates }, gates: s.gates.clone() };
    let backend = a.backend.unwrap_or(if s.backend == "vbench" { ScoreBackend::Vbench } else { ScoreBackend::Native });
    Ok(match backend {
        ScoreBackend::Native => Arc::new(native),
        ScoreBackend::Vbench => Arc::new(VbenchScorer::new(s, dims, native)),
    })
}

fn print_text(file: &str, score: &Score) {
    println!("{file}");
    match score {
        Score::Scored { dimensions, quality, gates, scorer, version } => {
            println!("  quality {quality:.1}/100  ({scorer}, {version})");
            for (name, d) in dimensions {
                let value = match (name.as_str(), d.fraction) {
                    ("dynamic_degree", Some(f)) => format!("{} ({:.0}% of pairs moving)", if d.value >= 0.5 { "dynamic" } else { "static" }, f * 100.0),
                    ("dynamic_degree", None) => (if d.value >= 0.5 { "dynamic" } else { "static" }).to_string(),
                    _ => format!("{:.4}", d.value),
                };
                println!("  {name:<24} {value:<30} {}", d.method.label());
            }
            for g in gates {
                println!("  gate {:<19} {:<5} {}", g.gate, g.verdict.label(), g.detail);
            }
        }
        Score::NotScored { reason } => println!("  not scored: {reason}"),
        Score::Unavailable { reason } => println!("  unavailable: {reason}"),
    }
}

pub async fn score(a: ScoreArgs) -> Result<(), CliError> {
    let env = AppEnv::open()?;
    let ff = Ffmpeg::locate().map_err(|e| CliError::usage(e.to_string()))?;
    let scorer = scorer(&a, &env, &ff)?;
    let mut results = Vec::new();
    let mut any_unavailable = false;
    let mut any_failed_gate = false;
    for file in &a.files {
        if !file.is_file() {
            return Err(CliError::usage(format!("{} is not a file", file.display())));
        }
        let has_audio = ff.probe(file).map(|p| p.has_audio).unwrap_or(false);
        let req = ScoreRequest { video: file.clone(), gates: GateContext { expected_duration_s: a.expect_duration, audio: has_audio, ..GateContext::default() } };
        let score = scorer.score(&req).await;
        any_unavailable |= matches!(score, Score::Unavailable { .. });
        any_failed_gate |= score.worst_gate() == Some(Verdict::Fail);
        if a.format == ScoreFormat::Text {
            print_text(&file.display().to_string(), &score);
        }
        results.push(serde_json::json!({ "file": file, "score": score }));
    }
    if a.format == ScoreFormat::Json {
        println!("{}", serde_json::to_string_pretty(&results).unwrap_or_default());
    }
    if any_unavailable {
        return Err(CliError::failed("some videos could not be scored"));
    }
    if any_failed_gate {
        return Err(CliError::failed("a QC gate failed"));
    }
    Ok(())
}
