//! Files a run creates in the workspace go back to the workspace's owner (the runner's user),
//! and nothing else changes hands.

use std::os::unix::fs::MetadataExt as _;
use std::time::{Duration, SystemTime};

use lambda_pipeline::env::Env;
use lambda_pipeline::workspace_owner;

fn owner(path: &std::path::Path) -> (u32, u32) {
    let meta = std::fs::symlink_metadata(path).unwrap();
    (meta.uid(), meta.gid())
}

#[test]
fn created_files_go_back_to_the_workspace_owner() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("ws");
    std::fs::create_dir_all(ws.join("build/nested")).unwrap();
    std::fs::write(ws.join("build/nested/out.txt"), "x").unwrap();
    std::os::unix::fs::symlink("/etc/hostname", ws.join("build/link")).unwrap();
    let env = Env::from_pairs([("GITHUB_WORKSPACE", ws.to_str().unwrap())]);
    let started = SystemTime::now() - Duration::from_secs(60);
    if !nix::unistd::geteuid().is_root() {
        // Only root can give files away, and only a root process leaves root-owned files.
        assert!(workspace_owner::restore(&env, started).is_empty());
        return;
    }
    let (old_uid, old_gid) = owner(std::path::Path::new("/etc/hostname"));
    std::os::unix::fs::chown(&ws, Some(1001), Some(1002)).unwrap();
    let warnings = workspace_owner::restore(&env, started);
    assert!(warnings.is_empty(), "{warnings:?}");
    for path in [
        "build",
        "build/nested",
        "build/nested/out.txt",
        "build/link",
    ] {
        assert_eq!(owner(&ws.join(path)), (1001, 1002), "{path}");
    }
    // The link itself changed hands, never its target.
    assert_eq!(
        owner(std::path::Path::new("/etc/hostname")),
        (old_uid, old_gid)
    );
}

#[test]
fn a_root_owned_workspace_is_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("file"), "x").unwrap();
    let before = owner(&dir.path().join("file"));
    let env = Env::from_pairs([("GITHUB_WORKSPACE", dir.path().to_str().unwrap())]);
    assert!(workspace_owner::restore(&env, SystemTime::now() - Duration::from_secs(60)).is_empty());
    assert_eq!(owner(&dir.path().join("file")), before);
}

#[test]
fn files_older_than_the_run_keep_their_owner() {
    if !nix::unistd::geteuid().is_root() {
        return; // covered by the non-root case above
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("old"), "x").unwrap();
    std::os::unix::fs::chown(dir.path(), Some(1001), Some(1001)).unwrap();
    let env = Env::from_pairs([("GITHUB_WORKSPACE", dir.path().to_str().unwrap())]);
    // A run that started after the file was last changed did not create it.
    let warnings = workspace_owner::restore(&env, SystemTime::now() + Duration::from_secs(60));
    assert!(warnings.is_empty());
    assert_eq!(owner(&dir.path().join("old")), (0, 0));
}
