//! The command line: clap's definitions of every command, flag and output format.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(name = "admint", version, about = "Make video adverts from a terminal: brief → story → scenes → clips → scored, composed MP4.")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Commands>,
    /// Full-screen UI without image previews.
    #[arg(long, global = true)]
    pub no_images: bool,
}

#[derive(Debug, Subcommand)]
pub enum Commands {
    /// Make an advert from a brief.
    Generate(Box<GenerateArgs>),
    /// Continue a session (after a stop, a crash, or to answer a gate).
    Resume(ResumeArgs),
    /// List, inspect, delete and export sessions.
    Sessions(SessionsArgs),
    /// Check ffmpeg, the data dir, the config and the providers.
    Doctor(DoctorArgs),
    /// Print an image to the terminal: a file, a frame of a video, or a session's keyframe
    /// or final video (outside the full-screen UI).
    Show(ShowArgs),
    /// Score any video: VBench-style dimensions and QC gates.
    Score(ScoreArgs),
    /// Check the session store for damage, or repair it from its journals.
    Store(StoreArgs),
    /// Make one advert per row of a catalogue (CSV or JSONL); run again to resume;
    /// `--shard K/N` for a share of the rows; `batch merge` joins the shards' summaries.
    Batch(BatchArgs),
}

#[derive(Debug, Clone, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct BatchArgs {
    #[command(subcommand)]
    pub command: Option<BatchCommand>,
    /// The catalogue: CSV with a header row (prompt, name, cta, duration, images, look,
    /// aspect, voice, url, price… — any brief field) or JSONL, one advert per row.
    #[arg(required = true)]
    pub file: Option<PathBuf>,
    /// Make only share K of N of the rows (0-based: 0/4 … 3/4), e.g. a Kubernetes Indexed
    /// Job's completion index or a Slurm array task id.
    #[arg(long)]
    pub shard: Option<String>,
    /// Adverts made at once; their clips share the render and per-backend limits.
    #[arg(long, default_value_t = 1)]
    pub jobs: usize,
    /// Folder for the adverts (one folder per row) and the summary [default:
    /// ./admint-batch/FILE-NAME]
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
}

#[derive(Debug, Clone, Subcommand)]
pub enum BatchCommand {
    /// Join the summaries of a batch's shards (every summary*.csv in the folders given)
    /// into one summary.csv, one line per row.
    Merge(BatchMergeArgs),
}

#[derive(Debug, Clone, Args)]
pub struct BatchMergeArgs {
    /// Folders with shards' summaries, or summary files.
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    /// The merged file [default: summary.csv in the first folder]
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum OutputFormat {
    /// Progress bars and sentences.
    #[default]
    Text,
    /// The manifest as one JSON document at the end.
    Json,
    /// One JSON event per line as it happens.
    Jsonl,
}

#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// Run straight through, approving the story and scenes.
    #[arg(long, conflicts_with = "interactive")]
    pub auto: bool,
    /// Stop at the story and the scenes and read your answer from stdin.
    #[arg(long)]
    pub interactive: bool,
    /// Folder for final.mp4, manifest.json and storyboard.md [default: ./admint-out/SESSION]
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
    /// Also write the mix's stems beside final.mp4: stems/voice.wav, stems/music.wav
    /// (ducked, as mixed) and stems/mix.wav.
    #[arg(long)]
    pub stems: bool,
}

#[derive(Debug, Clone, Args)]
pub struct GenerateArgs {
    /// What to advertise, in your words.
    #[arg(long, short)]
    pub prompt: Option<String>,
    /// A brief as TOML (fields as the flags, snake_case); flags override it.
    #[arg(long)]
    pub brief: Option<PathBuf>,
    #[arg(long)]
    pub product_name: Option<String>,
    /// Call to action shown at the end.
    #[arg(long)]
    pub cta: Option<String>,
    /// A web address or social handle for the end card (airrun.example, @airrun).
    #[arg(long)]
    pub url: Option<String>,
    /// A price for the end card's badge ("$49", "from 29 €").
    #[arg(long)]
    pub price: Option<String>,
    /// The display face of the cards and offline designs, a fontconfig pattern
    /// ("DejaVu Serif:bold"); default: the template's.
    #[arg(long)]
    pub typeface: Option<String>,
    #[arg(long)]
    pub audience: Option<String>,
    #[arg(long)]
    pub tone: Option<String>,
    #[arg(long)]
    pub language: Option<String>,
    /// aida, pas or fab.
    #[arg(long)]
    pub framework: Option<String>,
    /// product_showcase, lifestyle_ad, announcement, ugc_testimonial, or your own.
    #[arg(long)]
    pub template: Option<String>,
    /// 16:9, 9:16 or 1:1.
    #[arg(long)]
    pub aspect: Option<String>,
    /// Length of the advert in seconds, its title and end cards included.
    #[arg(long, allow_negative_numbers = true)]
    pub duration: Option<f64>,
    /// Your product photo (repeatable).
    #[arg(long = "product-image")]
    pub product_images: Vec<PathBuf>,
    #[arg(long = "character-image")]
    pub character_images: Vec<PathBuf>,
    #[arg(long)]
    pub logo: Option<PathBuf>,
    /// Music file, looped under the advert and faded out.
    #[arg(long)]
    pub music: Option<PathBuf>,
    /// Spending limit in US dollars for paid providers.
    #[arg(long, allow_negative_numbers = true)]
    pub budget: Option<f64>,
    #[arg(long)]
    pub seed: Option<u64>,
    /// One transition between every scene: cut, dissolve, fade, flash, wipe-left,
    /// wipe-right, wipe-up, slide-left, slide-right, slide-up, zoom, circle; optionally
    /// with seconds ("dissolve 0.8") [default: the template's, by tone and story beat]
    #[arg(long)]
    pub transition: Option<String>,
    /// Colour look of the clips: natural, warm, cool, teal-orange, punchy, soft, mono,
    /// vintage, your own looks/NAME.cube in the config folder, or a .cube file
    /// [default: the template's]
    #[arg(long)]
    pub look: Option<String>,
    /// The voiceover's voice: `offline` (flite, robotic), an offline voice (slt, kal, awb,
    /// rms, espeak:en-gb…), the speech backend's voice name or id, or `none` [default:
    /// the config's speech role; none unless configured]
    #[arg(long)]
    pub voice: Option<String>,
    /// The voiceover's pace in words per second (sizes every scene's line) [default: 2.6]
    #[arg(long)]
    pub wps: Option<f64>,
    /// Captions of the voiceover: burn (drawn, plus .srt/.vtt files), sidecar (files
    /// only) or off [default: the config's captions.mode, burn]
    #[arg(long)]
    pub captions: Option<String>,
    /// plain (phrases) or karaoke (each word lit as it is spoken) [default: plain]
    #[arg(long)]
    pub caption_style: Option<String>,
    /// Skip the animatic (the low-resolution preview of the keyframes, timing, text,
    /// voice and music made before any clip) [default: the config's pipeline.animatic]
    #[arg(long)]
    pub no_animatic: bool,
    /// A/B variants made after the advert, sharing its story and every clip they can:
    /// hooks=N, ctas=N (or the texts: ctas=Shop now|Get 20% off), aspects=16:9,9:16 —
    /// e.g. --variants hooks=2,ctas=2,aspects=16:9,9:16 → final-h1-c1-16x9.mp4 … and
    /// variants.csv
    #[arg(long)]
    pub variants: Option<String>,
    /// A mood board: N seeded candidates for each reference and keyframe (1–8); --auto
    /// picks the one closest to the product reference's palette, and you can pick
    /// another at any time ("keyframe 3: take b", "use b for the product")
    #[arg(long)]
    pub candidates: Option<u32>,
    /// Print the plan and the estimated cost, run nothing, write nothing.
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub run: RunArgs,
}

#[derive(Debug, Clone, Args)]
pub struct ResumeArgs {
    /// Session id (see `admint sessions list`).
    pub id: String,
    /// Retry every failed clip before continuing.
    #[arg(long)]
    pub retry_failed: bool,
    /// Set the session's spending limit in US dollars before continuing (a run the
    /// budget paused goes on from where it stopped); 0 removes the limit.
    #[arg(long, allow_negative_numbers = true)]
    pub budget: Option<f64>,
    #[command(flatten)]
    pub run: RunArgs,
}

#[derive(Debug, Args)]
pub struct SessionsArgs {
    #[command(subcommand)]
    pub command: SessionsCommand,
}

#[derive(Debug, Subcommand)]
pub enum SessionsCommand {
    /// Every session with its status.
    List {
        #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
        format: OutputFormat,
    },
    /// One session: story, scenes, clips, scores.
    Show {
        id: String,
        /// Print the raw event log.
        #[arg(long)]
        events: bool,
        #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
        format: OutputFormat,
    },
    /// Delete a session's log (blobs stay in the cache).
    Rm {
        id: String,
        /// Do not ask for confirmation.
        #[arg(long, short)]
        yes: bool,
    },
    /// Write manifest.json, storyboard.md, events.jsonl (and final.mp4 if done) to DIR.
    Export { id: String, dir: PathBuf },
}

#[derive(Debug, Args)]
pub struct StoreArgs {
    #[command(subcommand)]
    pub command: StoreCommand,
}

#[derive(Debug, Subcommand)]
pub enum StoreCommand {
    /// Read every session from both copies (the database and its journal) and say what is
    /// damaged. Exits 1 when something is.
    Check {
        #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
        format: OutputFormat,
    },
    /// Make both copies of every session whole again: a database that no longer opens is
    /// moved aside and rebuilt from the journals; a database log that is behind or damaged
    /// is rewritten from the journal, and a journal from the database.
    Repair,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// An image or video file, or a session id.
    pub target: String,
    /// With a session: that scene's keyframe instead of the final video.
    #[arg(long)]
    pub scene: Option<u32>,
    /// With a session: its mood board as a contact sheet (a row per reference and
    /// keyframe, the pick framed); --save FILE writes it as a PNG too.
    #[arg(long, conflicts_with = "scene")]
    pub board: bool,
    /// Also write what is shown as a PNG.
    #[arg(long)]
    pub save: Option<PathBuf>,
    /// Width in terminal columns [default: the terminal's width].
    #[arg(long)]
    pub width: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ScoreFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ScoreBackend {
    /// On this machine's CPU, no Python or GPU.
    Native,
    /// The external VBench command of the config (scoring.vbench_command).
    Vbench,
}

#[derive(Debug, Args)]
pub struct ScoreArgs {
    /// Video files.
    #[arg(required = true)]
    pub files: Vec<std::path::PathBuf>,
    #[arg(long, value_enum, default_value_t = ScoreFormat::Text)]
    pub format: ScoreFormat,
    /// [default: scoring.backend of the config, else native]
    #[arg(long, value_enum)]
    pub backend: Option<ScoreBackend>,
    /// Comma-separated dimensions (e.g. temporal_flickering,motion_smoothness) [default: all seven]
    #[arg(long, value_delimiter = ',')]
    pub dimensions: Vec<String>,
    /// The planned length in seconds, for the duration gate.
    #[arg(long)]
    pub expect_duration: Option<f64>,
    /// Skip the QC gates.
    #[arg(long)]
    pub no_gates: bool,
}

#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// Download a static ffmpeg (needs internet and a build with the `ffmpeg-download` feature).
    #[arg(long)]
    pub install_ffmpeg: bool,
}
