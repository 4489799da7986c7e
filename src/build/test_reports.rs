//! The buildspec `reports` section: finds each report group's files (globs relative to
//! `base-directory`, as CodeBuild reads them) and parses JUnit XML into `TestReport`s, after
//! the build and whether or not it failed.
//! Owns: file selection and JUnit parsing. Must not: print, send, or change the run's outcome
//! (failed tests are reported, not enforced, as in CodeBuild).

use std::path::{Path, PathBuf};

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

use crate::base::report::{TestFailure, TestReport};
use crate::buildspec::model::ReportGroup;

/// A report group that could not be read, as a warning for the summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportProblem {
    pub group: String,
    pub message: String,
}

/// Parses every group. Groups with no matching file or an unsupported format become problems.
pub fn collect(groups: &[ReportGroup], source_dir: &Path) -> (Vec<TestReport>, Vec<ReportProblem>) {
    let mut reports = Vec::new();
    let mut problems = Vec::new();
    for group in groups {
        match collect_group(group, source_dir) {
            Ok(report) => reports.push(report),
            Err(message) => problems.push(ReportProblem {
                group: group.name.value.clone(),
                message,
            }),
        }
    }
    (reports, problems)
}

fn collect_group(group: &ReportGroup, source_dir: &Path) -> Result<TestReport, String> {
    let name = &group.name.value;
    let format = group.file_format.value.as_str();
    if !format.is_empty() && format != "JUNITXML" {
        return Err(format!(
            "report group `{name}` uses file-format `{format}`; only `JUNITXML` is read, so it is skipped"
        ));
    }
    let base = match &group.base_directory {
        Some(dir) => source_dir.join(&dir.value),
        None => source_dir.to_owned(),
    };
    let files = matching_files(group, &base)?;
    if files.is_empty() {
        return Err(format!(
            "report group `{name}`: no file under `{}` matches {}",
            base.strip_prefix(source_dir).unwrap_or(&base).display(),
            patterns(group)
        ));
    }
    let mut report = TestReport {
        name: name.clone(),
        ..TestReport::default()
    };
    for file in &files {
        let relative = file.strip_prefix(&base).unwrap_or(file);
        let shown = if group.discard_paths {
            relative
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        } else {
            relative.to_string_lossy().into_owned()
        };
        report.files.push(shown);
        let suites = parse(file).map_err(|err| {
            format!(
                "report group `{name}`: cannot read `{}` as JUnit XML: {err}",
                file.strip_prefix(source_dir).unwrap_or(file).display()
            )
        })?;
        add_suites(&mut report, &suites.suites);
    }
    Ok(report)
}

fn patterns(group: &ReportGroup) -> String {
    group
        .files
        .iter()
        .map(|f| format!("`{}`", f.value))
        .collect::<Vec<_>>()
        .join(", ")
}

fn glob_set(group: &ReportGroup) -> Result<GlobSet, String> {
    let mut builder = GlobSetBuilder::new();
    for pattern in &group.files {
        let text = pattern.value.trim_start_matches("./");
        let glob = GlobBuilder::new(text)
            .literal_separator(true)
            .build()
            .map_err(|err| {
                format!(
                    "report group `{}`: `{}` is not a valid file pattern: {err}",
                    group.name.value, pattern.value
                )
            })?;
        builder.add(glob);
    }
    builder.build().map_err(|err| err.to_string())
}

/// Files under `base` matching the group's patterns, sorted.
fn matching_files(group: &ReportGroup, base: &Path) -> Result<Vec<PathBuf>, String> {
    let set = glob_set(group)?;
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(base)
        .follow_links(true)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|entry| entry.file_type().is_file())
        .filter(|entry| {
            entry
                .path()
                .strip_prefix(base)
                .is_ok_and(|relative| set.is_match(relative))
        })
        .map(|entry| entry.into_path())
        .collect();
    files.sort();
    Ok(files)
}

fn parse(path: &Path) -> Result<junit_parser::TestSuites, String> {
    let file = fs_err::File::open(path).map_err(|e| e.to_string())?;
    junit_parser::from_reader(std::io::BufReader::new(file)).map_err(|e| e.to_string())
}

fn add_suites(report: &mut TestReport, suites: &[junit_parser::TestSuite]) {
    for suite in suites {
        report.duration_ms += (suite.time * 1000.0).round() as u64;
        for case in &suite.cases {
            add_case(report, suite, case);
        }
        add_suites(report, &suite.suites);
    }
}

fn add_case(
    report: &mut TestReport,
    suite: &junit_parser::TestSuite,
    case: &junit_parser::TestCase,
) {
    use junit_parser::TestStatus;
    report.total += 1;
    let message = match &case.status {
        TestStatus::Success => {
            report.passed += 1;
            return;
        }
        TestStatus::Skipped(_) => {
            report.skipped += 1;
            return;
        }
        TestStatus::Failure(failure) => describe(&failure.message, &failure.text),
        TestStatus::Error(error) => describe(&error.message, &error.text),
    };
    report.failed += 1;
    let suite_name = case
        .classname
        .clone()
        .filter(|c| !c.is_empty())
        .unwrap_or_else(|| suite.name.clone());
    report.failures.push(TestFailure {
        suite: suite_name,
        name: case.name.clone(),
        message,
        file: case.file.clone().or_else(|| suite.file.clone()),
        line: case.line.map(|l| l as usize),
    });
}

fn describe(message: &str, text: &str) -> String {
    let text = text.trim();
    match (message.trim().is_empty(), text.is_empty()) {
        (false, true) => message.trim().to_owned(),
        (true, false) => text.to_owned(),
        (false, false) if text.contains(message.trim()) => text.to_owned(),
        (false, false) => format!("{}\n{text}", message.trim()),
        (true, true) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::diagnostic::Span;
    use crate::buildspec::model::At;

    fn at(text: &str) -> At<String> {
        At::new(text.to_owned(), Span::default())
    }

    #[test]
    fn reads_junit_files_by_glob() {
        let dir = tempfile::tempdir().unwrap();
        let reports = dir.path().join("out/reports");
        std::fs::create_dir_all(reports.join("unit")).unwrap();
        std::fs::write(
            reports.join("unit/a.xml"),
            r#"<testsuite name="s" tests="3" time="1.5">
                 <testcase classname="pkg.A" name="ok" time="0.5"/>
                 <testcase classname="pkg.A" name="bad" file="tests/a.py" line="12">
                   <failure message="assert 1 == 2">trace</failure></testcase>
                 <testcase name="skip"><skipped/></testcase>
               </testsuite>"#,
        )
        .unwrap();
        std::fs::write(reports.join("notes.txt"), "x").unwrap();
        let group = ReportGroup {
            name: at("unit"),
            files: vec![at("**/*.xml")],
            base_directory: Some(at("out/reports")),
            discard_paths: false,
            file_format: at("JUNITXML"),
        };
        let (found, problems) = collect(&[group], dir.path());
        assert!(problems.is_empty(), "{problems:?}");
        let report = &found[0];
        assert_eq!(report.files, vec!["unit/a.xml"]);
        assert_eq!(
            (report.total, report.passed, report.failed, report.skipped),
            (3, 1, 1, 1)
        );
        let failure = &report.failures[0];
        assert_eq!(failure.suite, "pkg.A");
        assert_eq!(failure.file.as_deref(), Some("tests/a.py"));
        assert_eq!(failure.line, Some(12));
        assert_eq!(failure.message, "assert 1 == 2\ntrace");
    }
}
