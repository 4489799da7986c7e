//! What a `runtime-versions` value asks for, read as CodeBuild reads it: `3.9` (that minor,
//! its newest patch), `3.x` or `3` (the newest of that major), `22` or `22.x`, an exact
//! `3.9.18`, or `latest`. Owns: parsing requests and comparing versions. Must not: look
//! anything up.

use std::cmp::Ordering;
use std::fmt;

/// A parsed request: the leading numbers that must match (`[3, 9]` for `3.9`), or none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub prefix: Vec<u64>,
    /// `latest`: no prefix, and the runtime's own idea of the newest (LTS for nodejs).
    pub latest: bool,
}

impl Request {
    /// `None` for values that name no numeric version (`corretto11`, `$UNSET`).
    pub fn parse(text: &str) -> Option<Request> {
        let text = text.trim().trim_start_matches('v');
        if text.eq_ignore_ascii_case("latest") {
            return Some(Request {
                prefix: Vec::new(),
                latest: true,
            });
        }
        let mut prefix = Vec::new();
        for part in text.split('.') {
            if part.eq_ignore_ascii_case("x") || part == "*" {
                break;
            }
            prefix.push(part.parse().ok()?);
        }
        (!prefix.is_empty()).then_some(Request {
            prefix,
            latest: false,
        })
    }

    pub fn matches(&self, version: &Version) -> bool {
        self.prefix.len() <= version.0.len()
            && self.prefix.iter().zip(&version.0).all(|(a, b)| a == b)
    }

    /// The newest of `candidates` this request accepts.
    pub fn newest<'a, T>(
        &self,
        candidates: impl IntoIterator<Item = (Version, T)>,
    ) -> Option<(Version, T)>
    where
        T: 'a,
    {
        candidates
            .into_iter()
            .filter(|(version, _)| self.matches(version))
            .max_by(|a, b| a.0.cmp(&b.0))
    }
}

/// A release version: numbers only (`3.9.18`, `22.11.0`); pre-releases are not versions here.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Version(pub Vec<u64>);

impl Version {
    pub fn parse(text: &str) -> Option<Version> {
        let text = text.trim().trim_start_matches('v');
        let parts: Option<Vec<u64>> = text.split('.').map(|p| p.parse().ok()).collect();
        parts.filter(|p| !p.is_empty()).map(Version)
    }

    pub fn major(&self) -> u64 {
        self.0[0]
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.cmp(&other.0)
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(u64::to_string).collect();
        f.write_str(&parts.join("."))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(text: &str) -> Version {
        Version::parse(text).unwrap()
    }

    #[test]
    fn requests_as_codebuild_reads_them() {
        let minor = Request::parse("3.9").unwrap();
        assert!(minor.matches(&v("3.9.18")));
        assert!(!minor.matches(&v("3.10.1")));
        let major = Request::parse("3.x").unwrap();
        assert_eq!(major.prefix, [3]);
        assert!(major.matches(&v("3.12.1")));
        assert_eq!(Request::parse("12.x").unwrap().prefix, [12]);
        assert_eq!(Request::parse("22").unwrap().prefix, [22]);
        assert!(Request::parse("latest").unwrap().latest);
        assert_eq!(Request::parse("3.9.18").unwrap().prefix, [3, 9, 18]);
        assert!(Request::parse("corretto11").is_none());
        assert!(Request::parse("").is_none());
    }

    #[test]
    fn the_newest_match_wins_and_versions_compare_numerically() {
        let request = Request::parse("3.x").unwrap();
        let found = request.newest([(v("3.9.1"), 'a'), (v("3.10.2"), 'b'), (v("4.0.0"), 'c')]);
        assert_eq!(found, Some((v("3.10.2"), 'b')));
        assert_eq!(v("22.11.0").to_string(), "22.11.0");
        assert!(v("3.10") > v("3.9.18"));
    }
}
