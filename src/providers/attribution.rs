//! Which model really answered. A role is a chain (`llamacpp:tiny > offline`) and its
//! id names every member; what a user needs to know is the one that wrote the story,
//! and whether the first choice failed. `attributed(f)` runs `f` and collects what the
//! chains inside it noted: the innermost model that answered, and whether any chain had
//! to fall back.

use std::cell::RefCell;
use std::future::Future;

/// Who answered inside one `attributed` scope.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Answered {
    /// The model that gave the last answer (innermost: the chat model inside a writing
    /// role, not the role's chain).
    pub by: Option<String>,
    /// The models that failed before a later one in their chain answered.
    pub failed: Vec<String>,
}

impl Answered {
    pub fn fell_back(&self) -> bool {
        !self.failed.is_empty()
    }

    /// The model that answered; `chain()` when nothing was noted (a lone model).
    pub fn model(&self, chain: impl FnOnce() -> String) -> String {
        self.by.clone().unwrap_or_else(chain)
    }

    /// When a fallback answered, the line that says so: "story: a failed; written by b
    /// instead (see the log)".
    pub fn fallback_note(&self, what: &str, done: &str) -> Option<String> {
        let by = self.by.as_deref().unwrap_or("the next model");
        self.fell_back().then(|| format!("{what}: {} failed; {done} by {by} instead (see the log)", self.failed.join(", ")))
    }
}

#[derive(Default)]
struct Notes {
    answers: Vec<String>,
    failed: Vec<String>,
}

tokio::task_local! {
    static NOTES: RefCell<Notes>;
}

/// Run `f`, noting which models answered inside it.
pub async fn attributed<F: Future>(f: F) -> (F::Output, Answered) {
    NOTES
        .scope(RefCell::new(Notes::default()), async move {
            let out = f.await;
            let notes = NOTES.with(|n| std::mem::take(&mut *n.borrow_mut()));
            (out, Answered { by: notes.answers.last().cloned(), failed: notes.failed })
        })
        .await
}

/// How many answers were noted so far (0 outside a scope).
pub(super) fn answers_so_far() -> usize {
    NOTES.try_with(|n| n.borrow().answers.len()).unwrap_or(0)
}

/// A chain member answered; `inner_answers_before` is `answers_so_far()` from before the
/// call: when a chain inside it already noted a model, that one is the more precise.
pub(super) fn answered(id: String, inner_answers_before: usize) {
    let _ = NOTES.try_with(|n| {
        let mut n = n.borrow_mut();
        if n.answers.len() == inner_answers_before {
            n.answers.push(id);
        }
    });
}

/// A chain member failed and the chain went on to the next.
pub(super) fn failed(id: String) {
    let _ = NOTES.try_with(|n| n.borrow_mut().failed.push(id));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_innermost_answer_and_the_fallbacks_are_noted() {
        let ((), a) = attributed(async {
            failed("llamacpp:tiny".into());
            let before = answers_so_far();
            // An inner chain answers first, then the outer member returns.
            answered("openai:gpt".into(), answers_so_far());
            answered("llm-director/llamacpp:tiny > openai:gpt".into(), before);
        })
        .await;
        assert_eq!(a.by.as_deref(), Some("openai:gpt"));
        assert_eq!(a.failed, vec!["llamacpp:tiny".to_string()]);
        assert!(a.fell_back());
        // Outside a scope nothing is noted and nothing breaks.
        answered("x".into(), 0);
        assert_eq!(answers_so_far(), 0);
    }
}
