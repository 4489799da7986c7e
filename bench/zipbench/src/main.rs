//! `zipbench DIR OUTPUT [--no-limit]`: zips DIR exactly as `lambda-pipeline package --package-directory DIR`
//! does, with the same source files (`src/package/{select,archive,limits}.rs`).
#![allow(dead_code)]

mod events {
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Level {
        Info,
        Notice,
        Warning,
        Error,
    }
}

#[path = "../../../src/package/archive.rs"]
mod archive;
#[path = "../../../src/package/limits.rs"]
mod limits;
#[path = "../../../src/package/select.rs"]
mod select;

/// The same variants as `lambda_pipeline::PackageError`.
#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    #[error("no matching artifact paths found ({patterns})")]
    NoMatchingPaths { patterns: String },
    #[error("no matching base directory path found for {base}")]
    NoMatchingBaseDirectory { base: String },
    #[error("{0}")]
    Invalid(String),
    #[error("symlink `{}` escapes (to `{}`)", path.display(), target.display())]
    SymlinkEscape { path: PathBuf, target: PathBuf },
    #[error("`{zip}` is {total} bytes unzipped:\n{largest}")]
    TooLarge {
        zip: String,
        total: u64,
        largest: String,
    },
    #[error("`{}`: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

use std::path::PathBuf;

fn main() -> Result<(), PackageError> {
    let args: Vec<String> = std::env::args().collect();
    let (dir, output) = (args[1].clone(), PathBuf::from(&args[2]));
    let source = std::env::current_dir().unwrap();
    let outputs = [output.clone()];
    let rules = select::Rules {
        source_dir: &source,
        base_directory: Some(&dir),
        files: vec!["**/*".to_owned()],
        exclude_paths: Vec::new(),
        discard_paths: false,
        enable_symlinks: false,
        outputs: &outputs,
    };
    let entries = select::select(&rules, &|_, _| {})?;
    // `--no-limit`: measure memory on trees over Lambda's 250 MB limit.
    if args.get(3).map(String::as_str) != Some("--no-limit") {
        limits::check_unzipped("zip", entries.iter().map(|e| (e.name.as_str(), e.size)))?;
    }
    let written = archive::write(&entries, &output, None)?;
    println!("{} entries, {} bytes", entries.len(), written.size);
    Ok(())
}
