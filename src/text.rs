//! Plain text helpers every layer may use (it imports nothing from the crate): word
//! wrapping for overlays and panels, the tail of a tool's output for messages, text
//! made safe to print on a terminal, and I/O errors in words.

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

/// Word wrap for type set on a frame: as many lines as the greedy wrap needs, but with
/// the breaks balanced, as a designer sets a title ("Shop now: 20% / off" becomes "Shop
/// now: / 20% off"). Text that needs more than `max_lines` wraps as `wrap_text` does.
pub fn wrap_balanced(text: &str, max_chars: usize, max_lines: usize) -> Vec<String> {
    let greedy = wrap_text(text, max_chars, usize::MAX);
    if greedy.len() <= 1 || greedy.len() > max_lines || text.lines().count() > 1 {
        return wrap_text(text, max_chars, max_lines);
    }
    let chars = text.chars().count();
    let longest_word = text.split_whitespace().map(|w| w.chars().count()).max().unwrap_or(1);
    // The narrowest measure that still takes no more lines: every line as even as it gets.
    (chars.div_ceil(greedy.len()).max(longest_word).max(4)..max_chars.max(4))
        .map(|w| wrap_text(text, w, usize::MAX))
        .find(|lines| lines.len() == greedy.len())
        .unwrap_or(greedy)
}

/// `s` made safe to print on a terminal: every control character (ESC and so every escape
/// sequence, BEL, CR, backspace, NUL, DEL, the C1 controls) is shown as a visible escape
/// (`\e`, `\x07`, `\u{9b}`), so text from a prompt, a file or a model can never clear
/// the screen, move the cursor or retitle the window. Newlines and tabs are kept when
/// `multiline`.
pub fn for_terminal(s: &str, multiline: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\n' | '\t' if multiline => out.push(c),
            '\u{1b}' => out.push_str("\\e"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// At most `n` graphemes of `s`, made safe for a terminal first (so a cut never splits an
/// escape sequence or a letter with its accents).
pub fn clip_for_terminal(s: &str, n: usize) -> String {
    use unicode_segmentation::UnicodeSegmentation;
    for_terminal(s, false).graphemes(true).take(n).collect()
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
    fn nothing_that_reaches_a_terminal_can_drive_it() {
        let hostile = "Run\u{1b}[2J\u{1b}]0;pwned\u{7}\r fast\u{0}\u{7f}\u{9b}31m";
        let safe = for_terminal(hostile, false);
        assert!(!safe.chars().any(char::is_control), "{safe:?}");
        assert_eq!(safe, "Run\\e[2J\\e]0;pwned\\x07\\x0d fast\\x00\\x7f\\u{9b}31m");
        assert_eq!(for_terminal("two\nlines\tok", true), "two\nlines\tok");
        assert_eq!(for_terminal("two\nlines", false), "two\\x0alines");
        // A cut keeps whole graphemes and never leaves half an escape behind.
        assert_eq!(clip_for_terminal("e\u{301}te\u{301}", 2), "e\u{301}t");
        assert!(!clip_for_terminal("ab\u{1b}[2Jcd", 3).contains('\u{1b}'));
    }

    #[test]
    fn wraps_and_truncates() {
        assert_eq!(wrap_text("one two three four", 9, 5), vec!["one two", "three", "four"]);
        assert_eq!(wrap_text("abcdefghij", 4, 5), vec!["abcd", "efgh", "ij"]);
        let cut = wrap_text("a b c d e f g h", 3, 2);
        assert_eq!(cut.len(), 2);
        assert!(cut[1].ends_with('…'));
        assert!(wrap_text("   ", 10, 2).is_empty());
    }

    #[test]
    fn titles_wrap_balanced_in_as_few_lines_as_greedy() {
        assert_eq!(wrap_text("Shop now: 20% off", 16, 3), vec!["Shop now: 20%", "off"]);
        assert_eq!(wrap_balanced("Shop now: 20% off", 16, 3), vec!["Shop now:", "20% off"]);
        // As many lines as the greedy wrap, the longest no longer than its longest.
        let text = "Made for the runners who never stop";
        let (greedy, balanced) = (wrap_text(text, 16, 3), wrap_balanced(text, 16, 3));
        assert_eq!(balanced.len(), greedy.len());
        let longest = |l: &[String]| l.iter().map(|s| s.chars().count()).max().unwrap();
        assert!(longest(&balanced) <= longest(&greedy), "{balanced:?} vs {greedy:?}");
        assert_eq!(balanced.join(" "), text);
        // One line stays one line; what is too long for the lines wraps and is cut as before.
        assert_eq!(wrap_balanced("AirRun Pro", 16, 2), vec!["AirRun Pro"]);
        assert_eq!(wrap_balanced("a b c d e f g h", 3, 2), wrap_text("a b c d e f g h", 3, 2));
        assert_eq!(wrap_balanced("Supercalifragilistic deal", 8, 4), wrap_text("Supercalifragilistic deal", 8, 4));
        assert!(wrap_balanced("", 10, 2).is_empty());
    }
}

/// `text` wrapped with a first line of at most `first` characters and the others of
/// `rest` (the first line shares its row with a badge or label).
pub fn wrap_hanging(text: &str, first: usize, rest: usize) -> Vec<String> {
    if first >= rest {
        return wrap_text(text, rest, usize::MAX);
    }
    let mut head = String::new();
    let mut words = text.split_whitespace().peekable();
    while let Some(w) = words.peek() {
        let needed = if head.is_empty() { w.chars().count() } else { head.chars().count() + 1 + w.chars().count() };
        if needed > first {
            break;
        }
        if !head.is_empty() {
            head.push(' ');
        }
        head.push_str(w);
        words.next();
    }
    let tail: Vec<&str> = words.collect();
    let mut out = if head.is_empty() { vec![] } else { vec![head] };
    if !tail.is_empty() {
        out.extend(wrap_text(&tail.join(" "), rest, usize::MAX));
    }
    if out.is_empty() {
        out.push(String::new());
    }
    out
}

/// `s` cut in the middle to at most `max` characters, keeping its start and its end
/// (`/home/ana/…/final.mp4`): a path is never wrapped inside.
pub fn ellipsize_middle(s: &str, max: usize) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() <= max || max < 5 {
        return s.to_string();
    }
    let tail = (max - 1) * 3 / 5;
    let head = max - 1 - tail;
    format!("{}…{}", chars[..head].iter().collect::<String>(), chars[chars.len() - tail..].iter().collect::<String>())
}

/// The first letter in upper case: "story critique" → "Story critique".
pub fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().collect::<String>() + c.as_str()).unwrap_or_default()
}

/// An I/O error as a person reads it: "the disk is full" rather than
/// `Os { code: 28, kind: StorageFull, .. }`.
pub fn io_words(e: &std::io::Error) -> String {
    use std::io::ErrorKind as K;
    match e.kind() {
        K::StorageFull => "the disk is full (no space left on the device): free some space, then resume".into(),
        K::QuotaExceeded => "the disk quota is used up: free some space, then resume".into(),
        K::ReadOnlyFilesystem => "the file system is read-only".into(),
        _ => e.to_string(),
    }
}

#[cfg(test)]
mod wrap_tests {
    #[test]
    fn only_the_first_line_is_narrower() {
        let lines = super::wrap_hanging("one two three four five six seven", 9, 15);
        assert_eq!(lines, ["one two", "three four five", "six seven"]);
        assert_eq!(super::ellipsize_middle("/home/ana/projects/long/final.mp4", 20), "/home/an…g/final.mp4");
    }
}

#[cfg(test)]
mod io_words_tests {
    #[test]
    fn a_full_disk_is_said_in_words() {
        let e = std::io::Error::from_raw_os_error(28);
        assert!(super::io_words(&e).starts_with("the disk is full"), "{}", super::io_words(&e));
        let e = std::io::Error::new(std::io::ErrorKind::NotFound, "x.png");
        assert_eq!(super::io_words(&e), "x.png");
    }
}

/// `s` as one word for a POSIX shell: as it is when it has only safe characters, else in
/// single quotes (a quote inside written `'\''`), so a printed command can be pasted.
pub fn shell_quote(s: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "/._-+:,@%=".contains(c);
    if !s.is_empty() && s.chars().all(safe) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod shell_quote_tests {
    use super::shell_quote;

    #[test]
    fn quotes_only_what_needs_it() {
        assert_eq!(shell_quote("/tmp/out/animatic.mp4"), "/tmp/out/animatic.mp4");
        assert_eq!(shell_quote("/tmp/my ads/a.mp4"), "'/tmp/my ads/a.mp4'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote(""), "''");
    }
}
