//! Any `base-directory`, `files` and `exclude-paths` patterns select entries inside the source
//! tree or are rejected with an error; nothing panics and nothing outside the tree is selected,
//! even through symlinks that point out of it.
//!
//! The fuzz input is split on NUL bytes: base-directory, files (one per line), exclude-paths
//! (one per line), flags (`d` = discard-paths, `s` = enable-symlinks).

#![no_main]

use std::path::{Component, Path, PathBuf};
use std::sync::OnceLock;

use lambda_pipeline::package::select::{Content, Rules, select};
use libfuzzer_sys::fuzz_target;

/// A small tree with awkward names and symlinks in and out of it; built once per process.
fn source_tree() -> &'static (PathBuf, PathBuf) {
    static TREE: OnceLock<(PathBuf, PathBuf)> = OnceLock::new();
    TREE.get_or_init(|| {
        let top = std::env::temp_dir().join(format!("lp-fuzz-select-{}", std::process::id()));
        let root = top.join("src-tree");
        let outside = top.join("outside");
        for dir in ["src/lib", "dir with space", "node_modules/a", ".hidden", "[brackets]"] {
            std::fs::create_dir_all(root.join(dir)).unwrap();
        }
        std::fs::create_dir_all(&outside).unwrap();
        std::fs::write(outside.join("secret.txt"), "outside").unwrap();
        for file in [
            "src/app.py",
            "src/lib/util.py",
            "dir with space/x.txt",
            "node_modules/a/b.js",
            ".hidden/h",
            "[brackets]/star*.txt",
            "weird{1,2}.txt",
            "back\\slash",
        ] {
            std::fs::write(root.join(file), file).unwrap();
        }
        let link = |target: &Path, name: &str| {
            let _ = std::os::unix::fs::symlink(target, root.join(name));
        };
        link(Path::new("src/app.py"), "link-inside");
        link(&outside, "link-out-dir");
        link(&outside.join("secret.txt"), "link-out-file");
        link(Path::new("../outside"), "src/relative-out");
        link(Path::new("missing"), "dangling");
        let root = root.canonicalize().unwrap();
        (root, outside)
    })
}

fn lines(text: Option<&str>) -> Vec<String> {
    text.unwrap_or("")
        .lines()
        .filter(|line| !line.is_empty())
        .map(str::to_owned)
        .collect()
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (root, _) = source_tree();
    let mut parts = text.split('\0');
    let base = parts.next().filter(|base| !base.is_empty());
    let files = lines(parts.next());
    let exclude_paths = lines(parts.next());
    let flags = parts.next().unwrap_or("");
    if files.is_empty() {
        return;
    }
    let rules = Rules {
        source_dir: root,
        base_directory: base,
        files,
        exclude_paths,
        discard_paths: flags.contains('d'),
        enable_symlinks: flags.contains('s'),
        outputs: &[],
    };
    match select(&rules, &|_, _| {}) {
        Ok(entries) => {
            for pair in entries.windows(2) {
                assert!(pair[0].name < pair[1].name, "entries not sorted and unique");
            }
            for entry in &entries {
                check_entry_inside(root, entry.name.as_str(), &entry.path, &entry.content);
            }
        }
        Err(err) => assert!(!err.to_string().is_empty()),
    }
});

/// The zip name is relative and stays below the root; the bytes come from inside the tree.
fn check_entry_inside(root: &Path, name: &str, path: &Path, content: &Content) {
    assert!(!name.is_empty() && !name.starts_with('/'), "bad entry name {name:?}");
    assert!(
        Path::new(name).components().all(|c| matches!(c, Component::Normal(_))),
        "entry name leaves the root: {name:?}"
    );
    let read_from = match content {
        Content::File { .. } => path.canonicalize().expect("selected file exists"),
        Content::Symlink { .. } => path.parent().unwrap().canonicalize().unwrap(),
    };
    assert!(read_from.starts_with(root), "{} is outside {}", read_from.display(), root.display());
}
