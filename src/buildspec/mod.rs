//! The buildspec format (spec §2–§4, §9): load from a path or inline text, parse into a typed
//! `Buildspec` with positions, collect warnings for unknown keys, and reject structural and
//! type errors with `file:line:col`. Must not: execute anything or touch AWS.

pub mod error;
pub mod model;
pub mod parse;

use std::path::Path;

pub use error::BuildspecError;
pub use model::Buildspec;

/// The name inline buildspecs get in messages.
pub const INLINE_NAME: &str = "inline buildspec";

/// Loads the buildspec named by `spec`: a path relative to `source_dir` (default
/// `buildspec.yml`), or an inline YAML document (anything with a line break, or a JSON object).
pub fn load(spec: Option<&str>, source_dir: &Path) -> Result<Buildspec, BuildspecError> {
    let spec = spec.unwrap_or("buildspec.yml");
    if is_inline(spec) {
        return parse::parse(INLINE_NAME, spec);
    }
    let path = source_dir.join(spec);
    match fs_err::read_to_string(&path) {
        Ok(text) => parse::parse(spec, &text),
        Err(err) => Err(BuildspecError::new(error::Details {
            file: spec.to_owned(),
            source: String::new(),
            span: None,
            message: format!("YAML file does not exist or cannot be read: {err}"),
            hint: Some(format!(
                "put a buildspec at `{}`, or set the `buildspec` input to its path or to inline YAML",
                path.display()
            )),
        })),
    }
}

fn is_inline(spec: &str) -> bool {
    spec.contains('\n') || spec.trim_start().starts_with('{')
}
