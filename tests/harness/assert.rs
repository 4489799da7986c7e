//! Assertions on a run's report shared by the suites.
//!
//! Phase shorthand in `assert_phases`: `I P B PB U` with `✓` SUCCEEDED, `✗` FAILED, `—` not run
//! (SKIPPED, or for U also absent), `?` attempted (present and not SKIPPED: used for
//! UPLOAD_ARTIFACTS, whose result belongs to the packaging tests).

use super::Output;

const ORDER: [&str; 5] = [
    "INSTALL",
    "PRE_BUILD",
    "BUILD",
    "POST_BUILD",
    "UPLOAD_ARTIFACTS",
];

/// Checks the report's phases against shorthand like `I✓ P✓ B✗ PB✓ U?`.
#[track_caller]
pub fn assert_phases(out: &Output, expected: &str) {
    let got = out.phases();
    let names: Vec<&str> = got.iter().map(|(n, _)| n.as_str()).collect();
    let mut wanted_names = Vec::new();
    for token in expected.split_whitespace() {
        let mark = token.chars().last().unwrap();
        let abbr = &token[..token.len() - mark.len_utf8()];
        let name = match abbr {
            "I" => "INSTALL",
            "P" => "PRE_BUILD",
            "B" => "BUILD",
            "PB" => "POST_BUILD",
            "U" => "UPLOAD_ARTIFACTS",
            other => panic!("bad phase abbreviation {other}"),
        };
        let status = out.phase_status(name);
        match mark {
            '✓' => assert_eq!(status.as_deref(), Some("SUCCEEDED"), "{name}; {out}"),
            '✗' => assert_eq!(status.as_deref(), Some("FAILED"), "{name}; {out}"),
            '—' if name == "UPLOAD_ARTIFACTS" => assert!(
                matches!(status.as_deref(), None | Some("SKIPPED")),
                "{name} must not run, got {status:?}; {out}"
            ),
            '—' => assert_eq!(status.as_deref(), Some("SKIPPED"), "{name}; {out}"),
            '?' => assert!(
                status.as_deref().is_some_and(|s| s != "SKIPPED"),
                "{name} must be attempted, got {status:?}; {out}"
            ),
            other => panic!("bad mark {other}"),
        }
        if status.is_some() {
            wanted_names.push(name);
        }
    }
    let ordered: Vec<&str> = ORDER
        .iter()
        .copied()
        .filter(|n| names.contains(n))
        .collect();
    assert_eq!(names, ordered, "phases out of order; {out}");
    if !expected.contains('U') {
        assert!(
            !names.contains(&"UPLOAD_ARTIFACTS"),
            "no artifacts section, so no UPLOAD_ARTIFACTS; {out}"
        );
    }
    for name in &names {
        assert!(
            wanted_names.contains(name) || *name == "UPLOAD_ARTIFACTS",
            "unexpected phase {name}; {out}"
        );
    }
}

/// Checks the report's build status and the matching exit code.
#[track_caller]
pub fn assert_status(out: &Output, status: &str) {
    assert_eq!(out.report()["status"], status, "{out}");
    let code = match status {
        "SUCCEEDED" => 0,
        "STOPPED" => 130,
        _ => 1,
    };
    assert_eq!(out.code, code, "{out}");
}
