//! `BuildspecError`: a buildspec problem with its position, drawn with the offending line.

use std::fmt;

use crate::base::diagnostic::{self, Span};

/// A buildspec that cannot run (CodeBuild's `YAML_FILE_ERROR`). Exit status 2. Boxed, so that
/// `Result`s stay small; its fields are reached through `Deref`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildspecError(Box<Details>);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Details {
    pub file: String,
    pub source: String,
    /// `None` when there is no position (a missing file).
    pub span: Option<Span>,
    pub message: String,
    pub hint: Option<String>,
}

impl std::ops::Deref for BuildspecError {
    type Target = Details;

    fn deref(&self) -> &Details {
        &self.0
    }
}

impl BuildspecError {
    pub fn new(details: Details) -> BuildspecError {
        BuildspecError(Box::new(details))
    }

    pub fn at(file: &str, source: &str, span: Span, message: impl Into<String>) -> BuildspecError {
        BuildspecError::new(Details {
            file: file.to_owned(),
            source: source.to_owned(),
            span: Some(span),
            message: message.into(),
            hint: None,
        })
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> BuildspecError {
        self.0.hint = Some(hint.into());
        self
    }

    /// `buildspec.yml:12:9`, or just the file.
    pub fn location(&self) -> String {
        match self.span {
            Some(span) => format!("{}:{}:{}", self.file, span.line, span.column),
            None => self.file.clone(),
        }
    }
}

impl fmt::Display for BuildspecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let message = format!("YAML_FILE_ERROR: {}", self.message);
        match self.span {
            Some(span) => f.write_str(&diagnostic::render(
                "error",
                &message,
                &self.file,
                &self.source,
                span,
            ))?,
            None => writeln!(f, "error: {message}\n  --> {}", self.file)?,
        }
        if let Some(hint) = &self.hint {
            write!(f, "\nhint: {hint}")?;
        }
        Ok(())
    }
}

impl std::error::Error for BuildspecError {}
