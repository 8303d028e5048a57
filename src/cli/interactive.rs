//! `--interactive`: gates answered on stdin through the shared intent parser.

use async_trait::async_trait;
use std::io::Write;

use crate::domain::{Approver, SessionState};
use crate::pipeline::intent::{decision, IntentParser};
use crate::pipeline::{Decider, Decision, Gate};

pub struct StdinDecider {
    pub parser: IntentParser,
}

fn show(state: &SessionState, gate: &Gate) -> String {
    let mut s = String::new();
    match gate {
        Gate::Story => {
            if let Some(story) = &state.story {
                s.push_str(&format!("\nStory (draft {}): {}\n{}\n", story.revision, story.title, story.logline));
                for b in &story.beats {
                    s.push_str(&format!("  {:<11} {}\n", b.stage, b.text));
                }
                if let Some(c) = state.story_critiques.get(&story.revision) {
                    s.push_str(&format!("  critic: {:.1}/10\n", c.score));
                }
            }
            s.push_str("\nApprove the story? ('approve', 'regenerate', or say what to change)\n");
        }
        Gate::Scenes => {
            s.push_str("\nScenes:\n");
            for (i, sc) in state.scenes.iter().enumerate() {
                s.push_str(&format!("  {}. [{:.1}s {} {}] {}\n", i + 1, sc.duration_s, sc.shot_type, sc.camera, sc.description));
                if !sc.on_screen_text.is_empty() {
                    s.push_str(&format!("     text: {}\n", sc.on_screen_text));
                }
            }
            s.push_str("\nApprove the scenes? ('approve', 'regenerate', 'make scene 2 more dramatic', 'edit scene 3: …', 'edit scene 3 text: …')\n");
        }
        Gate::Animatic(path) => {
            let a = state.animatic.as_ref();
            s.push_str(&format!(
                "\nAnimatic ({:.1} s, {}x{}): {}\n  play it: mpv {} (or ffplay)\n",
                a.map_or(0.0, |a| a.duration_s),
                a.map_or(0, |a| a.width),
                a.map_or(0, |a| a.height),
                path.display(),
                crate::text::shell_quote(&path.display().to_string())
            ));
            for (i, sc) in state.scenes.iter().enumerate() {
                s.push_str(&format!("  {}. {:.1}s {} → {}\n", i + 1, sc.duration_s, sc.camera, sc.transition.kind));
            }
            if !state.candidates.is_empty() {
                s.push_str(&format!("  mood board: `admint show {} --board` — pick another with 'keyframe 2: take b' or 'use b for the product'\n", state.id));
            }
            s.push_str("\nApprove the animatic before the clips are rendered? ('approve', 'edit scene 2 duration: 4', 'dissolve into scene 3', 'edit scene 3 text: …')\n");
        }
        Gate::FailedClips(f) => {
            for (id, e) in f {
                s.push_str(&format!("  clip {} failed: {e}\n", state.scene_number(*id).unwrap_or(0)));
            }
            s.push_str("\n'retry', 'retry clip N', or 'edit scene N: …'\n");
        }
        Gate::Budget(why) => s.push_str(&format!("\n{why}\nRaise the budget with `admint resume {} --budget USD`.\n", state.id)),
    }
    s
}

#[async_trait]
impl Decider for StdinDecider {
    fn approver(&self) -> Approver {
        Approver::User
    }

    async fn decide(&mut self, state: &SessionState, gate: &Gate) -> Decision {
        eprint!("{}", show(state, gate));
        loop {
            eprint!("> ");
            let _ = std::io::stderr().flush();
            let line = tokio::task::spawn_blocking(|| {
                let mut l = String::new();
                std::io::stdin().read_line(&mut l).map(|n| (n, l))
            })
            .await;
            let text = match line {
                Ok(Ok((0, _))) | Ok(Err(_)) | Err(_) => {
                    eprintln!("(no more input: the session waits; continue with `admint resume {}`)", state.id);
                    return Decision::Pause;
                }
                Ok(Ok((_, l))) => l,
            };
            match self.parser.parse(&text, state, gate).await.and_then(|i| decision(i, state, gate)) {
                Ok(d) => return d,
                Err(m) => eprintln!("{m}"),
            }
        }
    }

    fn rejected(&mut self, message: &str) {
        eprintln!("not done: {message}");
    }
}
