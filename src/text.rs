//! Plain text helpers every layer may use (it imports nothing from the crate): word
//! wrapping for overlays and panels, and the tail of a tool's output for messages.

/// Greedy word wrap to at most `max_chars` per line and `max_lines` lines (the last line
/// gets an ellipsis when text is cut). Words longer than a line are split.
pub fn wrap_text(text: &str, max_chars: usize, max_lines: usize) -> Vec<String> {
    let max_chars = max_chars.max(4);
    let mut lines: Vec<String> = Vec::new();
    for para in text.lines() {
        let mut cur = String::new();
        for word in para.split_whitespace() {
            let mut word: Vec<char> = word.chars().collect();
            while word.len() > max_chars {
                if !cur.is_empty() {
                    lines.push(std::mem::take(&mut cur));
                }
                lines.push(word.drain(..max_chars).collect());
            }
            let word: String = word.into_iter().collect();
            let needed = if cur.is_empty() { word.chars().count() } else { cur.chars().count() + 1 + word.chars().count() };
            if needed > max_chars && !cur.is_empty() {
                lines.push(std::mem::take(&mut cur));
            }
            if !cur.is_empty() {
                cur.push(' ');
            }
            cur.push_str(&word);
        }
        if !cur.is_empty() {
            lines.push(cur);
        }
    }
    if lines.len() > max_lines {
        lines.truncate(max_lines);
        if let Some(last) = lines.last_mut() {
            let mut chars: Vec<char> = last.chars().collect();
            chars.truncate(max_chars.saturating_sub(1));
            *last = chars.into_iter().collect::<String>() + "…";
        }
    }
    lines
}

/// The last `n` non-empty lines of a tool's output, joined with " | " (for error messages).
pub fn last_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    lines[lines.len().saturating_sub(n)..].join(" | ")
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn wraps_and_truncates() {
        assert_eq!(wrap_text("one two three four", 9, 5), vec!["one two", "three", "four"]);
        assert_eq!(wrap_text("abcdefghij", 4, 5), vec!["abcd", "efgh", "ij"]);
        let cut = wrap_text("a b c d e f g h", 3, 2);
        assert_eq!(cut.len(), 2);
        assert!(cut[1].ends_with('…'));
        assert!(wrap_text("   ", 10, 2).is_empty());
    }
}
