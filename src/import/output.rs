//! Writing what an import generated under the working directory: the workflow at
//! `.github/workflows/<name>.yml` and the inline buildspecs beside it. Every target is checked
//! before the first byte is written, so an existing file (without `--force`) leaves everything
//! as it was.
//! Owns: those files. Must not: print, decide what they hold.

use std::path::Path;

use super::plan::Plan;
use crate::base::InputError;

/// Why nothing was written.
#[derive(Debug)]
pub enum WriteError {
    /// A file exists and `--force` is not set (exit 2).
    Exists(InputError),
    /// The file system refused (exit 1).
    Io(String),
}

/// Writes the workflow and its files; returns their paths (relative to `dir`).
pub fn write(
    plan: &Plan,
    workflow: &str,
    dir: &Path,
    force: bool,
) -> Result<Vec<String>, WriteError> {
    let mut targets: Vec<(&str, &str)> = vec![(plan.path.as_str(), workflow)];
    targets.extend(
        plan.files
            .iter()
            .map(|f| (f.path.as_str(), f.content.as_str())),
    );
    if !force && let Some((path, _)) = targets.iter().find(|(path, _)| dir.join(path).exists()) {
        return Err(WriteError::Exists(
            InputError::new("force", format!("`{path}` exists; nothing was written")).with_hint(
                "pass `--force` to overwrite it, `--name` to write another workflow, or \
                     `--dry-run` to print it",
            ),
        ));
    }
    for (path, content) in &targets {
        let full = dir.join(path);
        if let Some(parent) = full.parent() {
            fs_err::create_dir_all(parent).map_err(|e| WriteError::Io(e.to_string()))?;
        }
        fs_err::write(&full, content).map_err(|e| WriteError::Io(e.to_string()))?;
    }
    Ok(targets.iter().map(|(p, _)| (*p).to_owned()).collect())
}
