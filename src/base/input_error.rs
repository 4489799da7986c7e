//! `InputError`: a bad input value, named by its input, optionally at a place in the text the
//! input gave (a `targets` map, a `function-config` file), drawn like a buildspec error.

use std::fmt;

use super::diagnostic::{self, Span};

/// A problem with an input value. Exit status 2; nothing has run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    /// The input's kebab-case name, e.g. `traffic-shift`.
    pub input: String,
    pub message: String,
    /// What to do about it.
    pub hint: Option<String>,
    /// Where in the input's text (or the file it names) the problem is.
    pub location: Option<Box<Location>>,
}

/// A place in an input's text: in the file `file`, or in the input's own text when `None`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub file: Option<String>,
    pub source: String,
    pub span: Span,
}

impl InputError {
    pub fn new(input: &str, message: impl Into<String>) -> InputError {
        InputError {
            input: input.to_owned(),
            message: message.into(),
            hint: None,
            location: None,
        }
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> InputError {
        self.hint = Some(hint.into());
        self
    }

    /// The error at `span` of `source`, read from `file`, or the input's own text when `None`.
    pub fn at(mut self, file: Option<&str>, source: &str, span: Span) -> InputError {
        self.location = Some(Box::new(Location {
            file: file.map(str::to_owned),
            source: source.to_owned(),
            span,
        }));
        self
    }

    /// `file:line:column`, or `line L, column C of the input`, when the error has a place.
    pub fn position(&self) -> Option<String> {
        self.location.as_ref().map(|l| match &l.file {
            Some(file) => format!("{file}:{}:{}", l.span.line, l.span.column),
            None => format!(
                "line {}, column {} of `{}`",
                l.span.line, l.span.column, self.input
            ),
        })
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.location {
            // The first line stays `input `x`: message`; the place, the line and a caret follow.
            Some(location) => {
                let place = self.position().unwrap_or_default();
                let drawn = diagnostic::render_at(
                    "error",
                    &self.message,
                    &place,
                    &location.source,
                    location.span,
                );
                let body = drawn.strip_prefix("error: ").unwrap_or(&drawn);
                write!(f, "input `{}`: {}", self.input, body.trim_end())?;
            }
            None => write!(f, "input `{}`: {}", self.input, self.message)?,
        }
        if let Some(hint) = &self.hint {
            write!(f, "\n\nhint: {hint}")?;
        }
        Ok(())
    }
}

impl std::error::Error for InputError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_located_error_draws_the_line_and_a_caret() {
        let err = InputError::new("targets", "unknown key `functon`")
            .at(
                Some("targets.yml"),
                "dev:\n  functon: hello\n",
                Span::new(2, 3, 7),
            )
            .with_hint("did you mean `function`?");
        assert_eq!(
            err.to_string(),
            "input `targets`: unknown key `functon`\n  --> targets.yml:2:3\n  |\n2 |   functon: hello\n  |   ^^^^^^^\n\nhint: did you mean `function`?"
        );
        assert_eq!(err.position().as_deref(), Some("targets.yml:2:3"));
        let inline = InputError::new("targets", "bad").at(None, "a: [\n", Span::new(1, 4, 1));
        assert!(
            inline
                .to_string()
                .contains("--> line 1, column 4 of `targets`\n"),
            "{inline}"
        );
    }

    #[test]
    fn an_unlocated_error_is_one_line() {
        let err = InputError::new("force", "`maybe` is not a boolean");
        assert_eq!(err.to_string(), "input `force`: `maybe` is not a boolean");
    }
}
