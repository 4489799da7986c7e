//! Positions in a source file, and how a user error is drawn: `file:line:col`, the offending
//! line and a caret under the culprit.

use std::fmt::Write as _;

/// A place in a source text. Lines and columns are 1-based; `len` is in characters (at least 1
/// when drawn).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    pub line: usize,
    pub column: usize,
    pub len: usize,
}

impl Span {
    pub fn new(line: usize, column: usize, len: usize) -> Span {
        Span { line, column, len }
    }
}

/// Renders `message` at `span` of `source`, named `file`:
///
/// ```text
/// error: `on-failure` is `MAYBE`; ...
///   --> buildspec.yml:5:17
///    |
///  5 |     on-failure: MAYBE
///    |                 ^^^^^
/// ```
pub fn render(label: &str, message: &str, file: &str, source: &str, span: Span) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{label}: {message}");
    let _ = writeln!(out, "  --> {file}:{}:{}", span.line, span.column);
    let Some(text) = source.lines().nth(span.line.saturating_sub(1)) else {
        return out;
    };
    let gutter = span.line.to_string().len();
    let shown = text.replace('\t', "    ");
    let _ = writeln!(out, "{:gutter$} |", "");
    let _ = writeln!(out, "{} | {}", span.line, shown);
    let prefix: String = text.chars().take(span.column.saturating_sub(1)).collect();
    let pad = prefix
        .chars()
        .map(|c| if c == '\t' { 4 } else { 1 })
        .sum::<usize>();
    let available = shown.chars().count().saturating_sub(pad).max(1);
    let carets = span.len.clamp(1, available);
    let _ = writeln!(
        out,
        "{:gutter$} | {}{}",
        "",
        " ".repeat(pad),
        "^".repeat(carets)
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_the_line_and_a_caret_under_the_span() {
        let source = "version: 0.2\nphases:\n  build:\n    on-failure: MAYBE\n";
        let text = render(
            "error",
            "bad value",
            "buildspec.yml",
            source,
            Span::new(4, 17, 5),
        );
        assert_eq!(
            text,
            "error: bad value\n  --> buildspec.yml:4:17\n  |\n4 |     on-failure: MAYBE\n  |                 ^^^^^\n"
        );
    }

    #[test]
    fn tabs_are_widened_consistently() {
        let source = "a:\n\tb: c\n";
        let text = render("error", "tab", "f.yml", source, Span::new(2, 1, 1));
        assert!(text.contains("2 |     b: c\n  | ^\n"), "{text}");
    }
}
