//! Lambda's package limits, checked before anything is uploaded: 250 MB unzipped (an error that
//! lists the largest paths) and 50 MB zipped (above it the upload must go through S3).
//! Owns: the checks (the values are `base::limits`). Must not: read or write files.

use super::PackageError;
pub use crate::base::limits::{MAX_DIRECT_UPLOAD, MAX_UNZIPPED};

/// Fails when `entries` ((name, size) pairs) add up to more than 250 MB, listing the 10 largest.
pub fn check_unzipped<'a>(
    zip: &str,
    entries: impl Iterator<Item = (&'a str, u64)>,
) -> Result<u64, PackageError> {
    let mut sizes: Vec<(&str, u64)> = entries.collect();
    let total: u64 = sizes.iter().map(|(_, size)| size).sum();
    if total <= MAX_UNZIPPED {
        return Ok(total);
    }
    sizes.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let largest = sizes
        .iter()
        .take(10)
        .map(|(name, size)| format!("  {:>12}  {name}", human(*size)))
        .collect::<Vec<_>>()
        .join("\n");
    Err(PackageError::TooLarge {
        zip: zip.to_owned(),
        total,
        largest,
    })
}

/// Whether a zip of `size` bytes must be uploaded through S3.
pub fn needs_s3(size: u64) -> bool {
    size > MAX_DIRECT_UPLOAD
}

/// `12.3 MB` style sizes (decimal megabytes, as Lambda states its limits).
pub fn human(bytes: u64) -> String {
    if bytes >= 1_000_000 {
        format!("{:.1} MB", bytes as f64 / 1_000_000.0)
    } else if bytes >= 1_000 {
        format!("{:.1} kB", bytes as f64 / 1_000.0)
    } else {
        format!("{bytes} B")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_unzipped_limit_lists_the_ten_largest() {
        let names: Vec<String> = (0..12).map(|i| format!("f{i:02}")).collect();
        let entries = names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.as_str(), 25_000_000 + i as u64));
        let err = check_unzipped("x.zip", entries).unwrap_err().to_string();
        assert!(err.contains("f11"), "{err}");
        assert!(err.contains("f02"), "{err}");
        assert!(!err.contains("f01"), "{err}");
        assert!(!err.contains("f00"), "{err}");
        assert!(check_unzipped("x.zip", [("a", MAX_UNZIPPED)].into_iter()).is_ok());
    }

    #[test]
    fn s3_above_fifty_megabytes() {
        assert!(!needs_s3(MAX_DIRECT_UPLOAD));
        assert!(needs_s3(MAX_DIRECT_UPLOAD + 1));
    }
}
