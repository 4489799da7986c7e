//! Gives the files a run created in the workspace back to the workspace's owner.
//!
//! A container action runs as root, so everything the build writes into the mounted workspace
//! (and the mounted `HOME`) would stay owned by root, and the later steps of the job, which run
//! as the runner's user, could not change or delete it (actions/runner#434). On the way out,
//! every root-owned entry that changed during the run is given to the owner of the directory.
//! Owns: that ownership fix-up. Must not: touch anything outside those two directories, or
//! fail a run (problems are warnings).

use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::env::Env;

/// Hands root-owned entries changed since `started` under the workspace (and, in Actions, the
/// mounted `HOME`) to the owner of that directory. Does nothing unless we run as root and the
/// directory belongs to someone else. Returns warnings to print.
pub fn restore(env: &Env, started: SystemTime) -> Vec<String> {
    if !nix::unistd::geteuid().is_root() {
        return Vec::new();
    }
    let since = started
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
        .saturating_sub(1);
    roots(env)
        .iter()
        .filter_map(|root| restore_under(root, since).err())
        .collect()
}

fn roots(env: &Env) -> Vec<PathBuf> {
    let mut roots: Vec<PathBuf> = env
        .get("GITHUB_WORKSPACE")
        .map(PathBuf::from)
        .into_iter()
        .collect();
    if env.in_github_actions()
        && let Some(home) = env.get("HOME").filter(|home| home.starts_with("/github/"))
    {
        roots.push(PathBuf::from(home));
    }
    roots
}

/// Walks `root` without following links or leaving its file system.
fn restore_under(root: &Path, since: i64) -> Result<(), String> {
    let Ok(owner) = std::fs::metadata(root) else {
        return Ok(());
    };
    let (uid, gid) = (owner.uid(), owner.gid());
    if uid == 0 {
        return Ok(());
    }
    let mut failed = 0usize;
    let mut first_error = None;
    let entries = walkdir::WalkDir::new(root)
        .follow_links(false)
        .same_file_system(true)
        .min_depth(1)
        .into_iter()
        .filter_map(Result::ok);
    for entry in entries {
        let Ok(meta) = entry.path().symlink_metadata() else {
            continue;
        };
        if meta.uid() != 0 || meta.ctime() < since {
            continue;
        }
        if let Err(err) = std::os::unix::fs::lchown(entry.path(), Some(uid), Some(gid)) {
            failed += 1;
            first_error.get_or_insert_with(|| format!("`{}`: {err}", entry.path().display()));
        }
    }
    match first_error {
        None => Ok(()),
        Some(first) => Err(format!(
            "cannot give {failed} file(s) in `{}` back to uid {uid}; later steps may not be able to change them (first: {first})",
            root.display()
        )),
    }
}
