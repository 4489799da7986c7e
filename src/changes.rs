//! What changed between the commit an alias serves and the commit being built, as far as
//! `paths` cares: `git diff --name-only <old> <new>` in the checkout, each file matched against
//! the globs. `run` skips the build and the deploy when nothing that matches moved.
//! Runs `git` with `safe.directory=*`: in the action's container the workspace belongs to the
//! runner's user, not to root, and git would refuse to read it.
//! Owns: the `git` calls. Must not: call AWS or GitHub, print, decide the outcome.

use std::path::Path;
use std::process::Command;

use crate::settings::preview::Paths;

/// How many matching files a comparison keeps, for the report.
const LISTED: usize = 10;

/// The answer for one deployed commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Comparison {
    /// Files changed, none of them matches `paths`.
    Unchanged { changed: usize },
    /// Some changed files match (the first few of them, and how many matched).
    Changed { matched: Vec<String>, count: usize },
    /// The deployed commit is not in this clone.
    Missing { shallow: bool },
    /// `git` could not answer (no repository, no git).
    Failed(String),
}

/// Compares `old` (a full or abbreviated commit) with `new` (a commit, or `HEAD`) in the
/// repository that holds `dir`.
pub fn compare(dir: &Path, old: &str, new: &str, paths: &Paths) -> Comparison {
    if let Err(failure) = git(dir, &["rev-parse", "--git-dir"]) {
        return Comparison::Failed(format!(
            "`{}` is not a git checkout: {failure}",
            dir.display()
        ));
    }
    let old_commit = match git(
        dir,
        &[
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("{old}^{{commit}}"),
        ],
    ) {
        Ok(commit) => commit,
        Err(Failure::Exit(_)) => {
            let shallow = git(dir, &["rev-parse", "--is-shallow-repository"])
                .map(|answer| answer == "true")
                .unwrap_or(false);
            return Comparison::Missing { shallow };
        }
        Err(failure) => return Comparison::Failed(failure.to_string()),
    };
    let new_commit = match git(
        dir,
        &["rev-parse", "--verify", &format!("{new}^{{commit}}")],
    ) {
        Ok(commit) => commit,
        Err(failure) => return Comparison::Failed(failure.to_string()),
    };
    let listed = match git(
        dir,
        &[
            "diff",
            "--name-only",
            "--no-renames",
            "-z",
            &old_commit,
            &new_commit,
        ],
    ) {
        Ok(listed) => listed,
        Err(failure) => return Comparison::Failed(failure.to_string()),
    };
    let changed: Vec<&str> = listed.split('\0').filter(|f| !f.is_empty()).collect();
    let matched: Vec<String> = changed
        .iter()
        .filter(|file| paths.matches(file))
        .map(|file| (*file).to_owned())
        .collect();
    if matched.is_empty() {
        Comparison::Unchanged {
            changed: changed.len(),
        }
    } else {
        Comparison::Changed {
            count: matched.len(),
            matched: matched.into_iter().take(LISTED).collect(),
        }
    }
}

#[derive(Debug)]
enum Failure {
    /// git ran and said no.
    Exit(String),
    /// git did not run.
    Spawn(String),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Exit(message) | Failure::Spawn(message) => f.write_str(message),
        }
    }
}

/// `git -C dir <args>`: trimmed stdout, or why not.
fn git(dir: &Path, args: &[&str]) -> Result<String, Failure> {
    let output = Command::new("git")
        .arg("-c")
        .arg("safe.directory=*")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .map_err(|err| Failure::Spawn(format!("cannot run `git`: {err}")))?;
    if output.status.success() {
        return Ok(String::from_utf8_lossy(&output.stdout)
            .trim_end_matches('\n')
            .to_owned());
    }
    let stderr = String::from_utf8_lossy(&output.stderr).trim().to_owned();
    Err(Failure::Exit(format!(
        "`git {}` failed{}",
        args.join(" "),
        if stderr.is_empty() {
            String::new()
        } else {
            format!(": {stderr}")
        }
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(dir: &Path, args: &[&str]) -> String {
        let output = Command::new("git")
            .args(args)
            .current_dir(dir)
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.com")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.com")
            .output()
            .expect("git is installed");
        assert!(output.status.success(), "git {args:?}: {output:?}");
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    }

    fn commit(dir: &Path, file: &str, text: &str) -> String {
        let path = dir.join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
        run(dir, &["add", "-A"]);
        run(dir, &["commit", "-q", "-m", file]);
        run(dir, &["rev-parse", "HEAD"])
    }

    #[test]
    fn only_matching_files_count() {
        let dir = tempfile::tempdir().unwrap();
        run(dir.path(), &["init", "-q"]);
        let first = commit(dir.path(), "api/handler.py", "v1");
        commit(dir.path(), "docs/readme.md", "docs");
        let paths = Paths::parse("paths", &["api/**".to_owned()]).unwrap();
        assert_eq!(
            compare(dir.path(), &first[..12], "HEAD", &paths),
            Comparison::Unchanged { changed: 1 }
        );
        commit(dir.path(), "api/handler.py", "v2");
        assert_eq!(
            compare(dir.path(), &first, "HEAD", &paths),
            Comparison::Changed {
                matched: vec!["api/handler.py".to_owned()],
                count: 1
            }
        );
        assert_eq!(
            compare(dir.path(), "0123456789ab", "HEAD", &paths),
            Comparison::Missing { shallow: false }
        );
    }
}
