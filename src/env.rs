//! A snapshot of the process environment, taken once at start-up.
//!
//! Every stage reads variables through `Env`, never through `std::env`, so tests can run the
//! library with a chosen environment. Owns: the names of the runner's variables.

use std::collections::BTreeMap;

#[derive(Debug, Clone, Default)]
pub struct Env {
    vars: BTreeMap<String, String>,
}

impl Env {
    /// The current process environment. Non-UTF-8 variables are skipped.
    pub fn from_process() -> Env {
        Env {
            vars: std::env::vars_os()
                .filter_map(|(key, value)| {
                    Some((key.into_string().ok()?, value.into_string().ok()?))
                })
                .collect(),
        }
    }

    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Env {
        Env {
            vars: pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }

    /// The variable's value, `None` when unset or empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars
            .get(name)
            .map(String::as_str)
            .filter(|value| !value.is_empty())
    }

    pub fn set(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.vars.insert(name.into(), value.into());
    }

    /// The action input `name` (kebab-case): `INPUT_NAME-WITH-HYPHENS` as the runner sets it,
    /// else `INPUT_NAME_WITH_UNDERSCORES`. Empty values count as unset, because the runner
    /// exports every declared input, empty when it has no value.
    pub fn input(&self, name: &str) -> Option<&str> {
        let upper = name.replace(' ', "_").to_uppercase();
        self.get(&format!("INPUT_{upper}"))
            .or_else(|| self.get(&format!("INPUT_{}", upper.replace('-', "_"))))
    }

    /// True inside a GitHub Actions job.
    pub fn in_github_actions(&self) -> bool {
        self.get("GITHUB_ACTIONS") == Some("true")
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.vars.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}
