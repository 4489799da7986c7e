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

/// The lines of `source` as YAML counts them: a line ends at `\r\n`, `\n` or a lone `\r`,
/// so that line numbers from the parser always find their line (`str::lines` ignores a lone
/// `\r`).
pub fn yaml_lines(source: &str) -> impl Iterator<Item = &str> {
    let mut rest = Some(source);
    std::iter::from_fn(move || {
        let text = rest?;
        match text.find(['\r', '\n']) {
            Some(end) => {
                let skip = if text[end..].starts_with("\r\n") {
                    2
                } else {
                    1
                };
                let next = &text[end + skip..];
                rest = (!next.is_empty()).then_some(next);
                Some(&text[..end])
            }
            None => {
                rest = None;
                (!text.is_empty()).then_some(text)
            }
        }
    })
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
    let place = format!("{file}:{}:{}", span.line, span.column);
    render_at(label, message, &place, source, span)
}

/// `render`, with the place after `-->` spelt by the caller (for text that is not a file).
pub fn render_at(label: &str, message: &str, place: &str, source: &str, span: Span) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{label}: {message}");
    let _ = writeln!(out, "  --> {place}");
    let Some(text) = yaml_lines(source).nth(span.line.saturating_sub(1)) else {
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
    fn lines_end_where_yaml_ends_them() {
        let lines: Vec<&str> = yaml_lines("a\r\nb\rc\nd").collect();
        assert_eq!(lines, ["a", "b", "c", "d"]);
        assert_eq!(yaml_lines("a\n").collect::<Vec<_>>(), ["a"]);
        assert_eq!(yaml_lines("").count(), 0);
        let text = render(
            "error",
            "here",
            "f.yml",
            "x: 1\ry: [\rz: 2\r",
            Span::new(2, 4, 1),
        );
        assert!(text.contains("2 | y: [\n"), "{text}");
    }

    #[test]
    fn tabs_are_widened_consistently() {
        let source = "a:\n\tb: c\n";
        let text = render("error", "tab", "f.yml", source, Span::new(2, 1, 1));
        assert!(text.contains("2 |     b: c\n  | ^\n"), "{text}");
    }
}
