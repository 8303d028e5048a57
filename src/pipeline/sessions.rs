//! Session services both front ends use, one implementation each: the list of sessions
//! with their status, the default output folder, replaying a new session's first events,
//! the intent parser, and export.

use std::path::{Path, PathBuf};

use super::intent::IntentParser;
use super::narrate::status;
use super::outputs::{manifest, place_final, storyboard, write_atomic, write_captions};
use super::{Pipeline, PipelineError, Update};
use crate::domain::{FinalVideo, ScoreTarget, SessionState};

/// One row of the session list.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SessionSummary {
    pub id: String,
    pub title: String,
    pub created_at_ms: u64,
    pub cost_usd: f64,
    /// The final cut's Quality (0..100), when it was scored.
    pub score: Option<f64>,
    /// The score is of an earlier cut (the advert changed since, or is being remade).
    pub score_stale: bool,
    /// `done`, `resumable: clips 2/6`, `failed at …` (see `narrate::status`).
    pub status: String,
    pub resumable: bool,
    pub final_video: Option<FinalVideo>,
    /// Why the session's log could not be read.
    pub error: Option<String>,
    /// The batch row (`lamps #3`) or the variant (`h1-c2-9x16 of ID`) it was made as;
    /// the list keeps a batch's rows, and an advert with its variants, together.
    pub group: Option<String>,
    /// What the list groups by: the batch name, or the parent advert's id.
    pub group_key: Option<(String, usize, String)>,
    /// What is wrong with a copy of its log (it was read from the other; `admint store
    /// repair` makes both whole), or which events are lost.
    pub damage: Option<String>,
}

/// What `export` wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct Exported {
    pub dir: PathBuf,
    /// Whether `final.mp4` is among the files (an unfinished session has none yet).
    pub with_final: bool,
}

impl Pipeline {
    /// Where a run writes `final.mp4` when no folder is given: `./admint-out/SESSION`.
    pub fn default_output(session: &str) -> PathBuf {
        PathBuf::from("admint-out").join(session)
    }

    /// Every stored session, newest first, with a status; unreadable ones say why. A
    /// batch's rows stand together (in row order) where its newest row would be, and
    /// an advert's variants right under it.
    pub fn session_summaries(&self) -> Result<Vec<SessionSummary>, PipelineError> {
        Ok(grouped(self.summaries()?))
    }

    fn summaries(&self) -> Result<Vec<SessionSummary>, PipelineError> {
        let rules = self.rules();
        Ok(self
            .store
            .sessions()?
            .into_iter()
            .map(|r| {
                let damage = r.findings.iter().filter(|f| f.is_damage()).map(|f| f.to_string()).reduce(|a, b| format!("{a}; {b}"));
                (r, damage)
            })
            .map(|(r, damage)| match r.state {
                Ok(s) => {
                    let st = status(&s, &rules);
                    SessionSummary {
                        title: s.brief.as_ref().map(|b| b.title()).unwrap_or_default(),
                        created_at_ms: s.created_at_ms,
                        cost_usd: s.total_cost(),
                        score: s.scores.get(&ScoreTarget::Final).and_then(|r| r.score.quality()),
                        score_stale: s.scores.get(&ScoreTarget::Final).is_some_and(|r| s.final_video.as_ref().map(|f| &f.video) != Some(&r.video)),
                        resumable: st != "done",
                        status: st,
                        final_video: s.final_video.clone(),
                        error: None,
                        damage,
                        group: s.brief.as_ref().and_then(|b| match (&b.batch, &b.variant_of) {
                            (Some(t), _) => Some(format!("{} #{}", t.name, t.row)),
                            (_, Some(v)) => Some(format!("{} of {}", v.variant.id, v.parent)),
                            _ => None,
                        }),
                        group_key: s.brief.as_ref().and_then(|b| match (&b.batch, &b.variant_of) {
                            (Some(t), _) => Some((format!("batch:{}", t.name), t.row, String::new())),
                            (_, Some(v)) => Some((v.parent.clone(), 1, v.variant.id.clone())),
                            _ => None,
                        }),
                        id: r.id,
                    }
                }
                Err(e) => SessionSummary {
                    id: r.id,
                    title: String::new(),
                    created_at_ms: 0,
                    cost_usd: 0.0,
                    score: None,
                    score_stale: false,
                    status: String::new(),
                    resumable: false,
                    final_video: None,
                    error: Some(e.to_string()),
                    damage,
                    group: None,
                    group_key: None,
                },
            })
            .collect())
    }

    /// A new session's first events were broadcast before any front end listened:
    /// broadcast them again (listeners skip what they have already folded).
    pub fn announce(&self, session: &str) -> Result<(), PipelineError> {
        for envelope in self.store.events(session)? {
            let _ = self.tx.send(Update::Event { session: session.to_string(), envelope });
        }
        Ok(())
    }

    /// The intent parser of this pipeline's providers (rules, plus the chat model when
    /// one is configured).
    pub fn intent_parser(&self) -> IntentParser {
        IntentParser { reader: self.providers.intent.clone() }
    }

    /// The command that grades a session with the look `value` (a name or a `.cube`
    /// file): the look is checked and its `.cube` copied into the blob store first.
    pub fn look_command(&self, value: &str) -> Result<crate::domain::Command, PipelineError> {
        let (name, cube) = self.stored_look(value)?;
        Ok(crate::domain::Command::SetLook { name, cube })
    }

    /// The look `value`, checked, and its `.cube` in the blob store (`None`: natural).
    pub(crate) fn stored_look(&self, value: &str) -> Result<(String, Option<crate::domain::AssetId>), PipelineError> {
        let look = super::cut::resolve_look(&self.resources, value).map_err(PipelineError::BadInput)?;
        let cube = look.cube.map(|t| self.store.blobs.put_bytes(t.as_bytes(), "cube")).transpose()?;
        Ok((look.name, cube))
    }

    /// Export a session to `dir`: `events.jsonl`, `manifest.json`, `storyboard.md`, and
    /// `final.mp4` when it is composed. Everything is written to a temporary folder
    /// first, so a failure (a missing blob, a full disk) leaves nothing half-written.
    pub async fn export(&self, session: &str, dir: &Path) -> Result<Exported, PipelineError> {
        let events = self.store.events(session)?;
        let state = SessionState::fold(&events);
        let parent = match dir.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        std::fs::create_dir_all(&parent).map_err(|e| PipelineError::BadInput(format!("{}: {e}", parent.display())))?;
        let staging = tempfile::Builder::new()
            .prefix(".admint-export-")
            .tempdir_in(&parent)
            .map_err(|e| PipelineError::BadInput(format!("{}: {e}", parent.display())))?;
        let lines: Vec<String> = events.iter().map(|e| serde_json::to_string(e).unwrap_or_default()).collect();
        write_atomic(&staging.path().join("events.jsonl"), (lines.join("\n") + "\n").as_bytes())?;
        let version = self.ffmpeg.version().unwrap_or_default();
        let m = serde_json::to_string_pretty(&manifest(&state, &events, &version)).unwrap_or_default();
        write_atomic(&staging.path().join("manifest.json"), m.as_bytes())?;
        write_atomic(&staging.path().join("storyboard.md"), storyboard(&state).as_bytes())?;
        if let Some(f) = &state.final_video {
            place_final(&self.store.blobs.existing(&f.video)?, &staging.path().join("final.mp4"))?;
            write_captions(self, &state, staging.path())?;
        }
        if !dir.exists() {
            // One rename: the folder appears whole or not at all.
            std::fs::rename(staging.path(), dir)?;
        } else {
            std::fs::create_dir_all(dir)?;
            for entry in std::fs::read_dir(staging.path())? {
                let entry = entry?;
                std::fs::rename(entry.path(), dir.join(entry.file_name()))?;
            }
        }
        Ok(Exported { dir: dir.to_path_buf(), with_final: state.final_video.is_some() })
    }
}

impl SessionSummary {
    /// The group it stands in: its batch, or its advert's id (its own for an advert).
    pub fn group_id(&self) -> String {
        self.group_key.as_ref().map_or_else(|| self.id.clone(), |k| k.0.clone())
    }

    /// The title as lists show it: a batch row's with its batch and row, a variant's
    /// marked as one (it sits under its advert).
    pub fn label(&self) -> String {
        match (&self.group, &self.group_key) {
            (Some(g), Some((k, _, v))) if !v.is_empty() && !k.starts_with("batch:") => format!("↳ {} · {}", g.split(" of ").next().unwrap_or(g), self.title),
            (Some(g), _) => format!("{g} · {}", self.title),
            _ => self.title.clone(),
        }
    }
}

/// The list with each group together at its newest member's place: a batch's rows by row,
/// an advert first and then its variants.
fn grouped(list: Vec<SessionSummary>) -> Vec<SessionSummary> {
    let key = SessionSummary::group_id;
    let mut order: Vec<String> = Vec::new();
    for s in &list {
        let k = key(s);
        if !order.contains(&k) {
            order.push(k);
        }
    }
    let mut out = Vec::with_capacity(list.len());
    let mut rest = list;
    for k in order {
        let (mut group, others): (Vec<_>, Vec<_>) = rest.into_iter().partition(|s| key(s) == k);
        rest = others;
        group.sort_by(|a, b| {
            let rank = |s: &SessionSummary| s.group_key.as_ref().map_or((0, String::new()), |g| (g.1, g.2.clone()));
            rank(a).cmp(&rank(b))
        });
        out.extend(group);
    }
    out
}

#[cfg(test)]
mod grouping_tests {
    use super::*;

    fn row(id: &str, key: Option<(&str, usize, &str)>) -> SessionSummary {
        SessionSummary {
            id: id.into(),
            title: format!("T{id}"),
            status: "done".into(),
            group: key.map(|(k, r, v)| if v.is_empty() { format!("{} #{r}", k.trim_start_matches("batch:")) } else { format!("{v} of {k}") }),
            group_key: key.map(|(k, r, v)| (k.to_string(), r, v.to_string())),
            ..Default::default()
        }
    }

    #[test]
    fn batches_and_variants_stand_together_in_order() {
        // Newest first, as the store lists them.
        let list = vec![
            row("v2", Some(("p", 1, "h2-c1-16x9"))),
            row("b3", Some(("batch:lamps", 3, ""))),
            row("solo", None),
            row("v1", Some(("p", 1, "h1-c1-16x9"))),
            row("b1", Some(("batch:lamps", 1, ""))),
            row("p", None),
        ];
        let ids: Vec<String> = grouped(list).into_iter().map(|r| r.id).collect();
        assert_eq!(ids, ["p", "v1", "v2", "b1", "b3", "solo"]);
        assert_eq!(row("b3", Some(("batch:lamps", 3, ""))).label(), "lamps #3 · Tb3");
        assert_eq!(row("v1", Some(("p", 1, "h1-c1-16x9"))).label(), "↳ h1-c1-16x9 · Tv1");
        assert_eq!(row("solo", None).label(), "Tsolo");
    }
}
