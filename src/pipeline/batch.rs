//! Batches: one advert per row of a CSV or JSONL catalogue. Rows are read and checked
//! here (pure apart from reading the file); each row's session carries a `BatchTag`
//! whose key is the row's content, so a batch run again — after a crash, a kill or on
//! another shard — finds its sessions in the store and resumes them. `--shard K/N`
//! takes a deterministic share of the rows; each shard writes its own summary, and
//! `merge` joins them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::brief_fields::{brief_input_from, field_name};
use super::{BriefInput, PipelineError};
use crate::domain::BatchTag;

fn bad(m: String) -> PipelineError {
    PipelineError::BadInput(m)
}

/// One row of a batch: its 1-based number in the file, the brief it asks for, and its key.
#[derive(Debug, Clone)]
pub struct BatchRow {
    pub row: usize,
    pub input: BriefInput,
    /// The row's content (what makes its advert), hashed: its session's tag.
    pub key: String,
}

/// A row's fields (name → value) as a `BatchRow`; paths are relative to `base`.
fn row_from(row: usize, fields: Vec<(String, Value)>, base: &Path) -> Result<BatchRow, PipelineError> {
    let at = |m: String| bad(format!("row {row}: {m}"));
    let path = |p: &str| Ok(if Path::new(p).is_absolute() { p.to_string() } else { base.join(p).display().to_string() });
    let mut checked = Vec::new();
    for (column, value) in fields {
        checked.push((field_name(&column).map_err(at)?.to_string(), value));
    }
    let (input, brief) = brief_input_from(checked, &path).map_err(at)?;
    if input.prompt.as_deref().is_none_or(|p| p.trim().is_empty()) {
        return Err(at("the prompt is empty (every row needs a prompt column)".into()));
    }
    Ok(BatchRow { row, input, key: super::keys::key_of("batch-row", &brief) })
}

/// Read a catalogue: `.jsonl` (one JSON object per line) or CSV (a header row, then one
/// advert per row). Blank lines are skipped; a row that cannot be read is an error
/// naming it. Paths in cells are relative to the file.
pub fn read_rows(path: &Path) -> Result<Vec<Result<BatchRow, PipelineError>>, PipelineError> {
    let text = std::fs::read_to_string(path).map_err(|e| bad(format!("batch file {}: {}", path.display(), crate::text::io_words(&e))))?;
    let base = path.parent().unwrap_or(Path::new(".")).to_path_buf();
    let jsonl = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("jsonl") || e.eq_ignore_ascii_case("ndjson"));
    let mut rows = Vec::new();
    if jsonl {
        for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
            let row = i + 1;
            rows.push(match serde_json::from_str::<Map<String, Value>>(line) {
                Ok(obj) => row_from(row, obj.into_iter().collect(), &base),
                Err(e) => Err(bad(format!("row {row}: not a JSON object ({e})"))),
            });
        }
    } else {
        let mut reader = csv::ReaderBuilder::new().flexible(false).trim(csv::Trim::All).from_reader(text.as_bytes());
        let headers = reader.headers().map_err(|e| bad(format!("batch file {}: {e}", path.display())))?.clone();
        for column in headers.iter() {
            field_name(column).map_err(|m| bad(format!("batch file {}: {m}", path.display())))?;
        }
        for (i, record) in reader.records().enumerate() {
            let row = i + 1;
            rows.push(match record {
                Ok(r) if r.iter().all(|c| c.trim().is_empty()) => continue,
                Ok(r) => row_from(row, headers.iter().zip(r.iter()).map(|(h, c)| (h.to_string(), Value::String(c.to_string()))).collect(), &base),
                Err(e) => Err(bad(format!("row {row}: {e}"))),
            });
        }
    }
    if rows.is_empty() {
        return Err(bad(format!("batch file {} has no rows", path.display())));
    }
    Ok(rows)
}

/// `K/N`: this process makes the rows whose 0-based position `i` has `i % N == K`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl Shard {
    pub const ALL: Shard = Shard { index: 0, count: 1 };

    pub fn parse(s: &str) -> Result<Shard, String> {
        let err = || format!("shard \"{s}\" must be K/N with 0 ≤ K < N, e.g. 0/4 … 3/4 (a Kubernetes completion index or a Slurm array task id)");
        let (k, n) = s.trim().split_once('/').ok_or_else(err)?;
        let (index, count) = (k.trim().parse::<usize>().map_err(|_| err())?, n.trim().parse::<usize>().map_err(|_| err())?);
        if count == 0 || index >= count {
            return Err(err());
        }
        Ok(Shard { index, count })
    }

    /// Whether the row at 0-based position `i` belongs to this shard.
    pub fn takes(&self, i: usize) -> bool {
        i % self.count == self.index
    }

    /// The summary file's name: `summary.csv`, or `summary-K-of-N.csv` for a shard.
    pub fn summary_name(&self) -> String {
        if self.count == 1 { "summary.csv".into() } else { format!("summary-{}-of-{}.csv", self.index, self.count) }
    }
}

/// The tag a row's session carries.
pub fn tag(batch: &str, row: &BatchRow) -> BatchTag {
    BatchTag { name: batch.to_string(), row: row.row, key: row.key.clone() }
}

/// A row's output folder: `OUT/007-airrun-pro`.
pub fn row_dir(out: &Path, row: usize, product: &str) -> PathBuf {
    let slug: String = product
        .to_lowercase()
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { '-' })
        .collect::<String>()
        .split('-')
        .filter(|s| !s.is_empty())
        .take(6)
        .collect::<Vec<_>>()
        .join("-");
    out.join(if slug.is_empty() { format!("{row:03}") } else { format!("{row:03}-{slug}") })
}

/// One line of a batch's summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SummaryRow {
    pub row: usize,
    pub product: String,
    /// `done`, `paused: …`, `failed: …`, `invalid: …`.
    pub status: String,
    pub session: String,
    pub file: String,
    pub duration_s: Option<f64>,
    pub cost_usd: f64,
    pub quality: Option<f64>,
}

impl SummaryRow {
    pub fn done(&self) -> bool {
        self.status == "done"
    }
}

pub fn write_summary(path: &Path, rows: &[SummaryRow]) -> Result<(), PipelineError> {
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in rows {
        w.serialize(r).map_err(|e| PipelineError::Internal(e.to_string()))?;
    }
    let bytes = w.into_inner().map_err(|e| PipelineError::Internal(e.to_string()))?;
    let tmp = path.with_extension("csv.part");
    std::fs::write(&tmp, bytes).and_then(|_| std::fs::rename(&tmp, path))?;
    Ok(())
}

pub fn read_summary(path: &Path) -> Result<Vec<SummaryRow>, PipelineError> {
    let mut r = csv::Reader::from_path(path).map_err(|e| bad(format!("summary {}: {e}", path.display())))?;
    r.deserialize().map(|row| row.map_err(|e| bad(format!("summary {}: {e}", path.display())))).collect()
}

/// Join shards' summaries: every `summary*.csv` in `dirs` (or the files given), one line
/// per row — a finished line wins over an unfinished one — sorted by row.
pub fn merge_summaries(inputs: &[PathBuf]) -> Result<Vec<SummaryRow>, PipelineError> {
    let mut files = Vec::new();
    for p in inputs {
        if p.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(p)?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| f.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("summary") && n.ends_with(".csv")))
                .collect();
            found.sort();
            files.extend(found);
        } else {
            files.push(p.clone());
        }
    }
    if files.is_empty() {
        return Err(bad(format!("no summary*.csv in {}", inputs.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "))));
    }
    let mut rows: BTreeMap<usize, SummaryRow> = BTreeMap::new();
    for f in &files {
        for r in read_summary(f)? {
            match rows.get(&r.row) {
                Some(have) if have.done() && !r.done() => {}
                _ => {
                    rows.insert(r.row, r);
                }
            }
        }
    }
    Ok(rows.into_values().collect())
}

/// Every row folder's `variants.csv` under `dirs`, joined into one CSV with the row
/// number first (from the folder's name, `007-airrun-pro`); `None` when there are none.
pub fn merge_variants(dirs: &[PathBuf]) -> Result<Option<Vec<u8>>, PipelineError> {
    let mut found: Vec<(usize, PathBuf)> = Vec::new();
    for d in dirs.iter().filter(|d| d.is_dir()) {
        for e in std::fs::read_dir(d)?.flatten() {
            let f = e.path().join("variants.csv");
            let row = e.file_name().to_str().and_then(|n| n.split('-').next()).and_then(|n| n.parse::<usize>().ok());
            if let (Some(row), true) = (row, f.is_file()) {
                found.push((row, f));
            }
        }
    }
    if found.is_empty() {
        return Ok(None);
    }
    found.sort();
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header_written = false;
    for (row, f) in found {
        let mut r = csv::Reader::from_path(&f).map_err(|e| bad(format!("{}: {e}", f.display())))?;
        if !header_written {
            let h = r.headers().map_err(|e| bad(format!("{}: {e}", f.display())))?.clone();
            w.write_record(std::iter::once("row").chain(h.iter())).map_err(|e| PipelineError::Internal(e.to_string()))?;
            header_written = true;
        }
        for rec in r.records() {
            let rec = rec.map_err(|e| bad(format!("{}: {e}", f.display())))?;
            w.write_record(std::iter::once(row.to_string().as_str()).chain(rec.iter())).map_err(|e| PipelineError::Internal(e.to_string()))?;
        }
    }
    Ok(Some(w.into_inner().map_err(|e| PipelineError::Internal(e.to_string()))?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn csv_and_jsonl_rows_become_briefs_with_stable_keys() {
        let d = tempfile::tempdir().unwrap();
        let csv = write(d.path(), "cat.csv", "Name,Prompt,CTA,Duration,Images\nAirRun,\"pink shoes, for Gen Z\",Shop now,8s,a.png; b.png\n,,,,\nGlow,\"a serum: 100% \"\"pure\"\"\",,6,\n");
        let rows: Vec<BatchRow> = read_rows(&csv).unwrap().into_iter().map(Result::unwrap).collect();
        assert_eq!(rows.len(), 2, "the blank row is skipped");
        assert_eq!((rows[0].row, rows[1].row), (1, 3), "rows keep their numbers");
        let a = &rows[0].input;
        assert_eq!(a.product_name.as_deref(), Some("AirRun"));
        assert_eq!(a.prompt.as_deref(), Some("pink shoes, for Gen Z"));
        assert_eq!(a.duration_s, Some(8.0));
        assert_eq!(a.product_images, vec![d.path().join("a.png"), d.path().join("b.png")], "paths are relative to the file");
        assert_eq!(rows[1].input.prompt.as_deref(), Some("a serum: 100% \"pure\""));
        let again: Vec<String> = read_rows(&csv).unwrap().into_iter().map(|r| r.unwrap().key).collect();
        assert_eq!(again, vec![rows[0].key.clone(), rows[1].key.clone()]);
        assert_ne!(rows[0].key, rows[1].key);

        let jsonl = write(d.path(), "cat.jsonl", "{\"prompt\": \"pink shoes, for Gen Z\", \"name\": \"AirRun\", \"cta\": \"Shop now\", \"duration\": 8, \"images\": [\"a.png\", \"b.png\"]}\n\n{\"prompt\": 3}\nnot json\n");
        let rows = read_rows(&jsonl).unwrap();
        let first = rows[0].as_ref().unwrap();
        assert_eq!(first.input.product_images.len(), 2);
        assert_eq!(first.key, read_rows(&csv).unwrap()[0].as_ref().unwrap().key, "the same row in either format is the same advert");
        assert_eq!(rows[1].as_ref().unwrap().input.prompt.as_deref(), Some("3"));
        assert!(rows[2].as_ref().unwrap_err().to_string().contains("row 4: not a JSON object"));
    }

    #[test]
    fn bad_catalogues_say_which_row_and_column() {
        let d = tempfile::tempdir().unwrap();
        let e = read_rows(&write(d.path(), "a.csv", "prompt,colour\nshoes,red\n")).unwrap_err().to_string();
        assert!(e.contains("unknown column \"colour\""), "{e}");
        let rows = read_rows(&write(d.path(), "b.csv", "prompt,duration\nshoes,fifteen\n,8\n")).unwrap();
        assert!(rows[0].as_ref().unwrap_err().to_string().contains("row 1: duration 'fifteen' is not a number of seconds"));
        assert!(rows[1].as_ref().unwrap_err().to_string().contains("row 2: the prompt is empty"));
        assert!(read_rows(&write(d.path(), "c.csv", "prompt\n")).unwrap_err().to_string().contains("has no rows"));
        assert!(read_rows(&d.path().join("missing.csv")).unwrap_err().to_string().contains("missing.csv"));
    }

    #[test]
    fn shards_split_the_rows_between_them_exactly_once() {
        let shards: Vec<Shard> = (0..3).map(|k| Shard::parse(&format!("{k}/3")).unwrap()).collect();
        for i in 0..20 {
            assert_eq!(shards.iter().filter(|s| s.takes(i)).count(), 1);
        }
        for bad in ["3/3", "1", "a/2", "0/0", "-1/2"] {
            assert!(Shard::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(Shard::parse(" 2 / 4 ").unwrap().summary_name(), "summary-2-of-4.csv");
        assert_eq!(Shard::ALL.summary_name(), "summary.csv");
    }

    #[test]
    fn merging_keeps_one_line_per_row_and_prefers_finished_ones() {
        let d = tempfile::tempdir().unwrap();
        let line = |row: usize, status: &str| SummaryRow {
            row,
            product: format!("P{row}"),
            status: status.into(),
            session: format!("s{row}"),
            file: format!("{row:03}/final.mp4"),
            duration_s: Some(12.5),
            cost_usd: 0.0,
            quality: (status == "done").then_some(88.0),
        };
        write_summary(&d.path().join("summary-0-of-2.csv"), &[line(1, "done"), line(3, "failed: the disk is full")]).unwrap();
        write_summary(&d.path().join("summary-1-of-2.csv"), &[line(2, "done"), line(3, "done")]).unwrap();
        write(d.path(), "other.csv", "not,a,summary\n");
        let merged = merge_summaries(&[d.path().to_path_buf()]).unwrap();
        assert_eq!(merged.iter().map(|r| (r.row, r.status.as_str())).collect::<Vec<_>>(), vec![(1, "done"), (2, "done"), (3, "done")]);
        assert_eq!(read_summary(&d.path().join("summary-0-of-2.csv")).unwrap()[0], line(1, "done"), "a summary reads back as written");
        assert!(merge_summaries(&[d.path().join("nothing-here")]).is_err());

        // Rows' variants.csv files are joined with their row numbers.
        assert_eq!(merge_variants(&[d.path().to_path_buf()]).unwrap(), None);
        for (dir, lines) in [("003-lamp-3", "variant,file\nh1-c1-16x9,a.mp4\nh2-c1-16x9,b.mp4\n"), ("001-lamp-1", "variant,file\nh1-c1-16x9,c.mp4\n")] {
            std::fs::create_dir_all(d.path().join(dir)).unwrap();
            write(&d.path().join(dir), "variants.csv", lines);
        }
        let joined = String::from_utf8(merge_variants(&[d.path().to_path_buf()]).unwrap().unwrap()).unwrap();
        assert_eq!(joined, "row,variant,file\n1,h1-c1-16x9,c.mp4\n3,h1-c1-16x9,a.mp4\n3,h2-c1-16x9,b.mp4\n");
    }

    #[test]
    fn row_folders_are_numbered_and_readable() {
        assert_eq!(row_dir(Path::new("out"), 7, "AirRun Pro: 20% off!"), PathBuf::from("out/007-airrun-pro-20-off"));
        assert_eq!(row_dir(Path::new("out"), 12, "🔥"), PathBuf::from("out/012"));
    }
}
