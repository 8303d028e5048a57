//! Escaping text for ffmpeg filter graphs and drawtext, so quotes, colons and percent
//! signs arrive literally.

/// Escape a value for an ffmpeg filter option inside a filter graph.
///
/// Two levels parse it: the option parser (`:` separates options, `\` and `'` quote) and
/// the graph parser (`,;[]` separate filters). We escape for the first level, then the
/// result for the second, so any string (paths with colons, quotes, commas) arrives intact.
pub fn escape_filter_value(s: &str) -> String {
    let level1 = escape_chars(s, &['\\', '\'', ':']);
    escape_chars(&level1, &['\\', '\'', '[', ']', ',', ';'])
}

fn escape_chars(s: &str, special: &[char]) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if special.contains(&c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn escapes_both_levels() {
        assert_eq!(escape_filter_value("a:b"), "a\\\\:b");
        assert_eq!(escape_filter_value("x,y"), "x\\,y");
        assert_eq!(escape_filter_value("it's"), "it\\\\\\'s");
        assert_eq!(escape_filter_value("/tmp/plain.txt"), "/tmp/plain.txt");
    }
}
