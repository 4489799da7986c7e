//! Selects the files of one artifact definition (spec §8): base directories (globs allowed),
//! `files` globs relative to each base, `exclude-paths`, `discard-paths`, symlink rules.
//! Owns: the sorted entry list. Must not: write anything.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use globset::{Glob, GlobBuilder, GlobMatcher, GlobSet, GlobSetBuilder};
use walkdir::WalkDir;

use super::PackageError;
use crate::base::Level;

/// What one zip entry holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Content {
    /// A regular file (a followed symlink included); `executable` keeps mode 0755.
    File { executable: bool },
    /// A symlink stored as a link (`enable-symlinks: yes`), with its target as written.
    Symlink { target: String },
}

/// One zip entry: its name in the zip and where its bytes come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub name: String,
    pub path: PathBuf,
    pub content: Content,
    /// Uncompressed size in bytes.
    pub size: u64,
}

/// The selection rules of one artifact definition, resolved.
pub struct Rules<'a> {
    /// Every relative path resolves from here.
    pub source_dir: &'a Path,
    /// `base-directory` after variable expansion (`None` = `.`).
    pub base_directory: Option<&'a str>,
    pub files: Vec<String>,
    pub exclude_paths: Vec<String>,
    pub discard_paths: bool,
    pub enable_symlinks: bool,
    /// Zips this run writes: never selected.
    pub outputs: &'a [PathBuf],
}

/// Selects the entries of one artifact, sorted by name.
pub fn select(rules: &Rules<'_>, log: &dyn Fn(Level, String)) -> Result<Vec<Entry>, PackageError> {
    let outputs = Outputs::new(rules.outputs);
    let mut chosen: BTreeMap<String, Entry> = BTreeMap::new();
    for base in base_directories(rules, log)? {
        let place = Place {
            source_dir: rules.source_dir,
            base: &base,
            base_directory: rules.base_directory,
        };
        let patterns = Patterns::new(&rules.files, &place)?;
        let excludes = glob_set(&rules.exclude_paths, &place)?;
        log(Level::Info, "Assembling file list".to_owned());
        let root = symlink_root(rules.source_dir, &base);
        let found = expand(rules, &patterns, &base, &root, log)?;
        let mut count = 0;
        for relative in &found.files {
            if excludes.is_match(relative) || outputs.contains(&base.join(relative)) {
                continue;
            }
            found.refuse_escaping(&base, relative)?;
            let entry = entry(rules, &base, &root, relative)?;
            insert(&mut chosen, entry)?;
            count += 1;
        }
        log(Level::Info, format!("Found {count} file(s)"));
    }
    if chosen.is_empty() {
        return Err(PackageError::NoMatchingPaths {
            patterns: rules.files.join(", "),
        });
    }
    Ok(chosen.into_values().collect())
}

/// Adds an entry once; two different files under one name is an error.
fn insert(chosen: &mut BTreeMap<String, Entry>, entry: Entry) -> Result<(), PackageError> {
    match chosen.get(&entry.name) {
        Some(existing) if existing.path != entry.path => Err(PackageError::Invalid(format!(
            "two files would be stored as `{}`: `{}` and `{}`; remove `discard-paths` or exclude one of them",
            entry.name,
            existing.path.display(),
            entry.path.display()
        ))),
        Some(_) => Ok(()),
        None => {
            chosen.insert(entry.name.clone(), entry);
            Ok(())
        }
    }
}

/// The `files` patterns, split into literal paths and globs.
struct Patterns {
    literals: Vec<String>,
    globs: Vec<String>,
    set: GlobSet,
}

impl Patterns {
    fn new(files: &[String], place: &Place<'_>) -> Result<Patterns, PackageError> {
        let mut literals = Vec::new();
        let mut globs = Vec::new();
        for pattern in files {
            let pattern = normalize_pattern(pattern, place)?;
            if is_glob(&pattern) {
                globs.push(pattern);
            } else {
                literals.push(pattern);
            }
        }
        let set = glob_set(&globs, place)?;
        Ok(Patterns {
            literals,
            globs,
            set,
        })
    }
}

/// Where the patterns of one base directory apply.
struct Place<'a> {
    source_dir: &'a Path,
    /// One matched base directory.
    base: &'a Path,
    /// `base-directory` as written (after expansion), for messages.
    base_directory: Option<&'a str>,
}

impl Place<'_> {
    /// `path` (absolute, normalized) relative to the base directory, when it lies inside it.
    fn relative_to_base(&self, path: &Path) -> Option<String> {
        let lexical = normalize(self.base);
        let canonical = self.base.canonicalize().ok();
        [Some(lexical), canonical]
            .into_iter()
            .flatten()
            .find_map(|base| path.strip_prefix(&base).ok().map(Path::to_owned))
            .map(|rest| relative_name(Path::new(""), &rest))
    }

    fn inside_source(&self, path: &Path) -> bool {
        path.starts_with(normalize(self.source_dir))
            || self
                .source_dir
                .canonicalize()
                .is_ok_and(|source| path.starts_with(source))
    }
}

/// Strips `./`; an absolute pattern inside the base directory (such as
/// `$CODEBUILD_SRC_DIR/target/**`) is taken relative to it. Refuses `..`, and absolute paths
/// elsewhere: a pattern may not leave its base directory.
fn normalize_pattern(pattern: &str, place: &Place<'_>) -> Result<String, PackageError> {
    let trimmed = pattern.trim();
    let rebased;
    let mut text = trimmed;
    if text.starts_with('/') {
        let path = normalize(Path::new(text));
        rebased = match place.relative_to_base(&path) {
            Some(relative) => relative,
            None if place.inside_source(&path) => {
                return Err(PackageError::Invalid(format!(
                    "artifact path `{trimmed}` is outside base-directory `{}`; write it relative to the base directory, or change `base-directory`",
                    place.base_directory.unwrap_or(".")
                )));
            }
            None => {
                return Err(PackageError::Invalid(format!(
                    "artifact path `{trimmed}` is outside the source directory `{}`; only files under it are packaged (an absolute `base-directory` can name another directory)",
                    place.source_dir.display()
                )));
            }
        };
        text = &rebased;
    }
    while let Some(rest) = text.strip_prefix("./") {
        text = rest;
    }
    let escapes = Path::new(text)
        .components()
        .any(|c| matches!(c, Component::ParentDir | Component::RootDir));
    if escapes {
        return Err(PackageError::Invalid(format!(
            "artifact path `{trimmed}` leaves the base directory; use `base-directory` to package files from another directory"
        )));
    }
    Ok(if text.is_empty() || text == "." {
        "**/*".to_owned()
    } else {
        text.to_owned()
    })
}

fn is_glob(pattern: &str) -> bool {
    pattern.contains(['*', '?', '[', '{'])
}

/// A glob where `*` stays inside one segment and `**` crosses directories.
fn glob(pattern: &str) -> Result<Glob, PackageError> {
    GlobBuilder::new(pattern)
        .literal_separator(true)
        .build()
        .map_err(|err| PackageError::Invalid(format!("invalid glob `{pattern}`: {err}")))
}

fn glob_set(patterns: &[String], place: &Place<'_>) -> Result<GlobSet, PackageError> {
    let mut builder = GlobSetBuilder::new();
    for pattern in patterns {
        builder.add(glob(normalize_pattern(pattern, place)?.as_str())?);
    }
    builder
        .build()
        .map_err(|err| PackageError::Invalid(format!("invalid glob: {err}")))
}

/// Base directories matched by `base-directory` (a literal path or a glob), sorted.
fn base_directories(
    rules: &Rules<'_>,
    log: &dyn Fn(Level, String),
) -> Result<Vec<PathBuf>, PackageError> {
    let base = rules.base_directory.map(str::trim).unwrap_or(".");
    let base = if base.is_empty() { "." } else { base };
    log(
        Level::Info,
        format!("Expanding base directory path: {base}"),
    );
    let missing = || PackageError::NoMatchingBaseDirectory {
        base: base.to_owned(),
    };
    // A relative base stays in the source tree; an absolute one is the buildspec's explicit
    // choice (spec §8.3) and is taken as written.
    if !Path::new(base).is_absolute()
        && !normalize(&rules.source_dir.join(base)).starts_with(normalize(rules.source_dir))
    {
        return Err(PackageError::Invalid(format!(
            "base-directory `{base}` leaves the source directory; give a directory inside it, or an absolute path if the files really live elsewhere"
        )));
    }
    let dirs = if is_glob(base) {
        glob_directories(rules.source_dir, base)?
    } else {
        let dir = rules.source_dir.join(base);
        if dir.is_dir() { vec![dir] } else { Vec::new() }
    };
    if dirs.is_empty() {
        return Err(missing());
    }
    if !Path::new(base).is_absolute() {
        for dir in &dirs {
            inside_source(rules.source_dir, dir)?;
        }
    }
    Ok(dirs)
}

/// A relative base directory reached through a symlink must still be in the source tree.
fn inside_source(source_dir: &Path, dir: &Path) -> Result<(), PackageError> {
    let io = |source| PackageError::Io {
        path: dir.to_owned(),
        source,
    };
    let real = dir.canonicalize().map_err(io)?;
    let root = source_dir.canonicalize().map_err(io)?;
    if real.starts_with(&root) {
        Ok(())
    } else {
        Err(PackageError::SymlinkEscape {
            path: dir.to_owned(),
            target: real,
        })
    }
}

/// Directories whose path (relative to `source_dir`, or absolute) matches the glob `base`.
fn glob_directories(source_dir: &Path, base: &str) -> Result<Vec<PathBuf>, PackageError> {
    let (root, pattern) = glob_root(source_dir, base);
    let matcher: GlobMatcher = glob(&pattern)?.compile_matcher();
    let depth = if pattern.contains("**") {
        usize::MAX
    } else {
        pattern.split('/').count()
    };
    let mut dirs = Vec::new();
    for item in WalkDir::new(&root)
        .min_depth(1)
        .max_depth(depth)
        .sort_by_file_name()
    {
        let item = item.map_err(walk_error)?;
        let relative = relative_name(&root, item.path());
        if item.path().is_dir() && matcher.is_match(&relative) {
            dirs.push(item.path().to_owned());
        }
    }
    Ok(dirs)
}

/// The fixed directory a glob starts from, and the rest of the pattern relative to it.
fn glob_root(source_dir: &Path, base: &str) -> (PathBuf, String) {
    let path = Path::new(base);
    let mut root = if path.is_absolute() {
        PathBuf::from("/")
    } else {
        source_dir.to_owned()
    };
    let mut rest = Vec::new();
    for component in path.components() {
        let text = component.as_os_str().to_string_lossy().into_owned();
        match component {
            Component::RootDir | Component::CurDir => {}
            _ if rest.is_empty() && !is_glob(&text) => root.push(&text),
            _ => rest.push(text),
        }
    }
    (root, rest.join("/"))
}

/// Relative paths (with `/`) matched under one base, and the followed directory links that
/// point outside the tree (an error only when a selected file lies beneath one).
#[derive(Default)]
struct Found {
    files: Vec<String>,
    escaping: Vec<(String, PathBuf)>,
}

impl Found {
    fn refuse_escaping(&self, base: &Path, relative: &str) -> Result<(), PackageError> {
        for (link, target) in &self.escaping {
            if relative.starts_with(&format!("{link}/")) {
                return Err(PackageError::SymlinkEscape {
                    path: base.join(link),
                    target: target.clone(),
                });
            }
        }
        Ok(())
    }
}

/// Paths under `base` matched by the `files` patterns, sorted and unique.
fn expand(
    rules: &Rules<'_>,
    patterns: &Patterns,
    base: &Path,
    root: &Path,
    log: &dyn Fn(Level, String),
) -> Result<Found, PackageError> {
    let mut found = Found::default();
    for literal in &patterns.literals {
        log(Level::Info, format!("Expanding {literal}"));
        match literal_match(base, literal) {
            Some(true) => found.files.push(literal.clone()),
            Some(false) => log(
                Level::Warning,
                format!(
                    "`{literal}` is a directory and matches nothing; did you mean `{literal}/**/*`?"
                ),
            ),
            None => log(Level::Info, format!("Skipping invalid file path {literal}")),
        }
    }
    if !patterns.globs.is_empty() {
        for pattern in &patterns.globs {
            log(Level::Info, format!("Expanding {pattern}"));
        }
        walk_matches(base, root, &patterns.set, rules.enable_symlinks, &mut found)?;
    }
    found.files.sort();
    found.files.dedup();
    Ok(found)
}

/// `Some(true)` for a file (or link), `Some(false)` for a directory, `None` when missing.
fn literal_match(base: &Path, literal: &str) -> Option<bool> {
    let path = base.join(literal);
    let meta = std::fs::symlink_metadata(&path).ok()?;
    if meta.file_type().is_symlink() {
        return Some(true);
    }
    Some(!meta.is_dir())
}

/// Every file under `base` whose relative path matches `set`.
fn walk_matches(
    base: &Path,
    root: &Path,
    set: &GlobSet,
    keep_links: bool,
    found: &mut Found,
) -> Result<(), PackageError> {
    let walker = WalkDir::new(base)
        .min_depth(1)
        .follow_links(!keep_links)
        .sort_by_file_name();
    for item in walker {
        let item = item.map_err(walk_error)?;
        let is_link = item.path_is_symlink();
        let relative = relative_name(base, item.path());
        if item.file_type().is_dir() && !(keep_links && is_link) {
            if let (true, Err(PackageError::SymlinkEscape { target, .. })) =
                (is_link, check_link(item.path(), root))
            {
                found.escaping.push((relative, target));
            }
            continue;
        }
        if set.is_match(&relative) {
            found.files.push(relative);
        }
    }
    Ok(())
}

fn walk_error(err: walkdir::Error) -> PackageError {
    let path = err.path().map(Path::to_owned).unwrap_or_default();
    let source = err
        .into_io_error()
        .unwrap_or_else(|| std::io::Error::other("symlink loop"));
    PackageError::Io { path, source }
}

/// `path` relative to `base`, with `/` separators.
pub fn relative_name(base: &Path, path: &Path) -> String {
    let relative = path.strip_prefix(base).unwrap_or(path);
    let parts: Vec<String> = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    parts.join("/")
}

/// Builds the entry for a matched path: name, content kind and size; refuses escaping links.
fn entry(
    rules: &Rules<'_>,
    base: &Path,
    root: &Path,
    relative: &str,
) -> Result<Entry, PackageError> {
    let path = base.join(relative);
    let io = |source| PackageError::Io {
        path: path.clone(),
        source,
    };
    let link = fs_err::symlink_metadata(&path)
        .map_err(|e| io(strip(e)))?
        .file_type()
        .is_symlink();
    let name = if rules.discard_paths {
        relative.rsplit('/').next().unwrap_or(relative).to_owned()
    } else {
        relative.to_owned()
    };
    if link {
        check_link(&path, root)?;
    }
    if link && rules.enable_symlinks {
        let target = std::fs::read_link(&path).map_err(io)?;
        let target = target.to_string_lossy().into_owned();
        return Ok(Entry {
            name,
            size: target.len() as u64,
            path,
            content: Content::Symlink { target },
        });
    }
    let meta = std::fs::metadata(&path).map_err(io)?;
    Ok(Entry {
        name,
        size: meta.len(),
        content: Content::File {
            executable: is_executable(&meta),
        },
        path,
    })
}

fn strip(err: std::io::Error) -> std::io::Error {
    std::io::Error::new(err.kind(), err.to_string())
}

fn is_executable(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o111 != 0
}

/// The tree symlinks must stay inside: the source directory, or the base when it lies outside.
fn symlink_root(source_dir: &Path, base: &Path) -> PathBuf {
    let source = source_dir
        .canonicalize()
        .unwrap_or_else(|_| source_dir.to_owned());
    let base = base.canonicalize().unwrap_or_else(|_| base.to_owned());
    if base.starts_with(&source) {
        source
    } else {
        base
    }
}

/// Refuses a symlink whose target (resolved lexically, then through the file system when it
/// exists) lies outside `root`.
fn check_link(path: &Path, root: &Path) -> Result<(), PackageError> {
    let target = std::fs::read_link(path).map_err(|source| PackageError::Io {
        path: path.to_owned(),
        source,
    })?;
    let parent = path
        .parent()
        .and_then(|p| p.canonicalize().ok())
        .unwrap_or_default();
    let lexical = normalize(&parent.join(&target));
    let resolved = path.canonicalize().unwrap_or_else(|_| lexical.clone());
    if lexical.starts_with(root) && resolved.starts_with(root) {
        return Ok(());
    }
    Err(PackageError::SymlinkEscape {
        path: path.to_owned(),
        target,
    })
}

/// Removes `.` and resolves `..` without touching the file system.
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// The zips this run writes, compared by canonical directory and file name.
struct Outputs(Vec<PathBuf>);

impl Outputs {
    fn new(paths: &[PathBuf]) -> Outputs {
        Outputs(paths.iter().filter_map(|p| canonical_file(p)).collect())
    }

    fn contains(&self, path: &Path) -> bool {
        !self.0.is_empty()
            && canonical_file(path).is_some_and(|candidate| self.0.contains(&candidate))
    }
}

/// `path` with its parent directory canonicalized (the file itself need not exist).
fn canonical_file(path: &Path) -> Option<PathBuf> {
    let parent = path.parent()?.canonicalize().ok()?;
    Some(parent.join(path.file_name()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(pattern: &str, path: &str) -> bool {
        glob(pattern).unwrap().compile_matcher().is_match(path)
    }

    #[test]
    fn star_stays_in_one_segment() {
        assert!(matches("dist/*", "dist/a.js"));
        assert!(!matches("dist/*", "dist/sub/b.js"));
        assert!(matches("*/my-file-3.txt", "my-subdirectory/my-file-3.txt"));
        assert!(!matches("*.js", "dist/a.js"));
    }

    #[test]
    fn double_star_crosses_directories_and_matches_the_top_level() {
        assert!(matches("**/*", "README.md"));
        assert!(matches("**/*", "a/b/c.txt"));
        assert!(matches("dist/**/*", "dist/sub/b.js"));
        assert!(matches("dist/**/*.js", "dist/a.js"));
        assert!(!matches("dist/**/*.js", "dist/a.js.map"));
    }

    #[test]
    fn dot_files_are_matched() {
        assert!(matches("**/*", "dist/.env"));
        assert!(matches("**/.*", ".env"));
        assert!(matches("**/.*/**/*", ".git/objects/ab"));
        assert!(!matches("**/.*", "a.js"));
    }

    #[test]
    fn classes_and_single_characters() {
        assert!(matches("file?.txt", "file1.txt"));
        assert!(matches("[ab].js", "a.js"));
        assert!(!matches("[ab].js", "c.js"));
        assert!(!matches("?", "a/b"));
    }

    fn place<'a>(base: &'a Path, base_directory: Option<&'a str>) -> Place<'a> {
        Place {
            source_dir: Path::new("/src"),
            base,
            base_directory,
        }
    }

    #[test]
    fn escaping_patterns_are_refused() {
        let root = place(Path::new("/src"), None);
        for pattern in ["../x", "a/../../b"] {
            let err = normalize_pattern(pattern, &root).unwrap_err().to_string();
            assert!(err.contains("leaves the base directory"), "{err}");
        }
        let err = normalize_pattern("/etc/passwd", &root)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`/etc/passwd` is outside the source directory `/src`"),
            "{err}"
        );
        let err = normalize_pattern("/src/../etc/x", &root)
            .unwrap_err()
            .to_string();
        assert!(err.contains("outside the source directory"), "{err}");
        assert_eq!(normalize_pattern("./dist/*", &root).unwrap(), "dist/*");
        assert_eq!(normalize_pattern(".", &root).unwrap(), "**/*");
    }

    #[test]
    fn absolute_patterns_inside_the_base_are_taken_relative_to_it() {
        let root = place(Path::new("/src"), None);
        assert_eq!(
            normalize_pattern("/src/target/**", &root).unwrap(),
            "target/**"
        );
        assert_eq!(normalize_pattern("/src/", &root).unwrap(), "**/*");
        assert_eq!(
            normalize_pattern("/src/./a/../b.txt", &root).unwrap(),
            "b.txt"
        );
        let dist = place(Path::new("/src/dist"), Some("dist"));
        assert_eq!(normalize_pattern("/src/dist/*.js", &dist).unwrap(), "*.js");
        let err = normalize_pattern("/src/lib/x.js", &dist)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`/src/lib/x.js` is outside base-directory `dist`"),
            "{err}"
        );
    }

    #[test]
    fn glob_roots_keep_the_literal_prefix() {
        let (root, rest) = glob_root(Path::new("/src"), "out/my-build*");
        assert_eq!(root, Path::new("/src/out"));
        assert_eq!(rest, "my-build*");
        let (root, rest) = glob_root(Path::new("/src"), "/tmp/b*/x");
        assert_eq!(root, Path::new("/tmp"));
        assert_eq!(rest, "b*/x");
    }

    #[test]
    fn lexical_normalization() {
        assert_eq!(normalize(Path::new("/a/b/../c/./d")), Path::new("/a/c/d"));
    }
}
