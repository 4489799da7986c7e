//! Markdown rendering of a `RunReport`: the job summary (`GITHUB_STEP_SUMMARY`), the check
//! run's summary and text, and the report printed at the end of a CLI run. One renderer, so the
//! check run and the job summary tell the same story.
//! Owns: the Markdown layout and the size limits (check-run fields ≤ 65,535 characters, job
//! summary ≤ 1 MiB). Must not: send, print or decide pass or fail.

use std::fmt::Write as _;

use crate::base::report::{
    ArtifactReport, DeployEntry, ImageReport, PhaseReport, PhaseStatus, PreviewReport, RunReport,
    RunStatus, TestReport,
};

/// GitHub's limit on a check run's `output.summary` and `output.text`.
pub const CHECK_RUN_FIELD_LIMIT: usize = 65_535;
/// GitHub's limit on one step's summary.
pub const STEP_SUMMARY_LIMIT: usize = 1024 * 1024;
/// How many failed tests the summary lists by name.
const LISTED_FAILURES: usize = 30;

pub const TRUNCATED_END: &str = "\n\n… (truncated; the full story is in the job log)\n";
pub const TRUNCATED_START: &str = "… (earlier output truncated; see the job log)\n";

/// The heading line: `lambda-pipeline · dev: ✅ SUCCEEDED`.
pub fn heading(report: &RunReport) -> String {
    let name = match &report.environment {
        Some(environment) => format!("lambda-pipeline · {environment}"),
        None => "lambda-pipeline".to_owned(),
    };
    format!(
        "{name}: {} {}",
        run_icon(report.status),
        report.status.name()
    )
}

/// A one-line title for the check run.
pub fn title(report: &RunReport) -> String {
    if let Some(skipped) = report.skipped.as_ref().filter(|_| report.error.is_none()) {
        return skipped.title.clone();
    }
    if let Some(preview) = report.preview.as_ref().filter(|_| report.error.is_none()) {
        return if preview.removed {
            format!("Preview `{}` removed", preview.alias)
        } else {
            format!("Preview `{}` deployed", preview.alias)
        };
    }
    if report.command == "rollback" {
        return match report.status {
            RunStatus::Succeeded => "Rolled back".to_owned(),
            _ => "Rollback failed".to_owned(),
        };
    }
    match (report.status, report.failed_phase) {
        (RunStatus::Succeeded, _) if report.deploy.iter().any(|d| d.deployed) => {
            "Built and deployed".to_owned()
        }
        (RunStatus::Succeeded, _) => "Build succeeded".to_owned(),
        (RunStatus::Stopped, _) => "Cancelled".to_owned(),
        (RunStatus::TimedOut, _) => "Timed out".to_owned(),
        (RunStatus::Failed, Some(phase)) => format!("{} failed", phase.name()),
        (RunStatus::Failed, None) if report.deploy.iter().any(|d| d.error.is_some()) => {
            "Deploy failed".to_owned()
        }
        (RunStatus::Failed, None) => "Failed".to_owned(),
    }
}

/// The whole report as Markdown: heading, phases, package, deploy, tests, error, warnings and
/// links. Used for the job summary, the check run summary and the CLI.
pub fn markdown(report: &RunReport) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "## {}\n", heading(report));
    let _ = writeln!(out, "{}\n", facts(report));
    if let Some(error) = &report.error {
        let _ = writeln!(out, "> [!CAUTION]\n> {}\n", one_line(error));
    }
    if let Some(skipped) = &report.skipped {
        let _ = writeln!(
            out,
            "> [!NOTE]\n> **{}**\n\n{}\n",
            skipped.title, skipped.detail
        );
    }
    if !report.phases.is_empty() || (report.skipped.is_none() && report.command != "rollback") {
        out.push_str(&phase_table(&report.phases));
    }
    if let Some(artifacts) = &report.artifacts {
        let all: Vec<&ArtifactReport> = artifacts
            .primary
            .iter()
            .chain(artifacts.secondary.iter())
            .collect();
        if !all.is_empty() {
            out.push_str(&package_table(&all));
        }
    }
    if let Some(image) = &report.image {
        out.push_str(&image_section(image));
    }
    if !report.deploy.is_empty() {
        out.push_str(&deploy_table(&report.deploy));
        let notes = deploy_notes(&report.deploy);
        if !notes.is_empty() {
            out.push('\n');
            out.push_str(&notes);
        }
    }
    if let Some(preview) = &report.preview {
        out.push_str(&preview_section(preview));
    }
    if !report.test_reports.is_empty() {
        out.push_str(&test_section(&report.test_reports));
    }
    if !report.notes.is_empty() {
        out.push_str("\n### Notes\n\n");
        for note in &report.notes {
            let _ = writeln!(out, "- {note}");
        }
    }
    if !report.warnings.is_empty() {
        out.push_str("\n### Warnings\n\n");
        for warning in &report.warnings {
            let place = warning
                .position
                .as_ref()
                .map(|p| format!(" (`{}:{}`)", p.file, p.line))
                .unwrap_or_default();
            let _ = writeln!(out, "- {}{place}", one_line(&warning.message));
        }
    }
    if let Some(url) = &report.run_url {
        let _ = write!(out, "\n[Workflow run]({url})\n");
    }
    out
}

/// The job summary: the report plus the failing phase's log tail, under `limit` bytes.
pub fn step_summary(report: &RunReport, limit: usize) -> String {
    let mut out = markdown(report);
    if let Some(log) = failing_log(report) {
        out.push_str("\n<details><summary>Log of the failing phase</summary>\n\n");
        out.push_str(&log);
        out.push_str("\n</details>\n");
    }
    truncate_end(&out, limit, TRUNCATED_END, Unit::Bytes)
}

/// The check run's summary while the build runs: the phases finished so far.
pub fn progress(phases: &[PhaseReport], run_url: Option<&str>) -> String {
    let mut out = String::from("Running the buildspec…\n\n");
    if !phases.is_empty() {
        out.push_str(&phase_table(phases));
    }
    if let Some(url) = run_url {
        let _ = write!(out, "\n[Workflow run]({url})\n");
    }
    truncate_end(&out, CHECK_RUN_FIELD_LIMIT, TRUNCATED_END, Unit::Utf16)
}

/// The check run's `output.summary`, within GitHub's limit.
pub fn check_run_summary(report: &RunReport) -> String {
    truncate_end(
        &markdown(report),
        CHECK_RUN_FIELD_LIMIT,
        TRUNCATED_END,
        Unit::Utf16,
    )
}

/// The check run's `output.text`: the tail of the failing phase's log, within GitHub's limit.
pub fn check_run_text(report: &RunReport) -> Option<String> {
    let log = failing_log(report)?;
    Some(truncate_start(&log, CHECK_RUN_FIELD_LIMIT, TRUNCATED_START))
}

/// The last lines of the failing phase's output, as a fenced block.
pub fn failing_log(report: &RunReport) -> Option<String> {
    let phase = report
        .failed_phase
        .and_then(|failed| report.phases.iter().find(|p| p.name == failed))
        .or_else(|| {
            report
                .phases
                .iter()
                .find(|p| !matches!(p.status, PhaseStatus::Succeeded | PhaseStatus::Skipped))
        })?;
    if phase.log_tail.is_empty() {
        return None;
    }
    let body = phase.log_tail.join("\n").replace("```", "`\u{200b}``");
    Some(format!(
        "Last lines of `{}`:\n\n```text\n{body}\n```\n",
        phase.name.name()
    ))
}

fn facts(report: &RunReport) -> String {
    let mut facts = vec![format!("`{}`", report.command)];
    if let Some(commit) = &report.commit {
        facts.push(format!("commit `{}`", &commit[..commit.len().min(12)]));
    }
    if !report.buildspec.is_empty() {
        facts.push(format!("buildspec `{}`", report.buildspec));
    }
    facts.push(format!("took {}", duration(report.duration_ms)));
    facts.join(" · ")
}

/// `| Phase | Status | Duration |`.
pub fn phase_table(phases: &[PhaseReport]) -> String {
    let mut out = String::from("| Phase | Status | Duration |\n|---|---|---|\n");
    for phase in phases {
        let _ = writeln!(
            out,
            "| {} | {} {} | {} |",
            phase.name.name(),
            phase_icon(phase.status),
            phase.status.name(),
            if phase.status == PhaseStatus::Skipped {
                "–".to_owned()
            } else {
                duration(phase.duration_ms)
            }
        );
    }
    out
}

fn package_table(artifacts: &[&ArtifactReport]) -> String {
    let mut out = String::from(
        "\n### Package\n\n| Artifact | Files | Size | CodeSha256 |\n|---|---|---|---|\n",
    );
    for artifact in artifacts {
        let name = artifact.name.as_deref().unwrap_or(&artifact.identifier);
        let _ = writeln!(
            out,
            "| {} | {} | {} | `{}` |",
            cell(name),
            artifact.files.len(),
            size(artifact.size),
            artifact.sha256
        );
    }
    out
}

fn image_section(image: &ImageReport) -> String {
    format!(
        "\n### Image\n\n| Repository | Digest | Pushed |\n|---|---|---|\n| `{}` | {} | {} |\n",
        image.repository,
        image
            .digest
            .as_deref()
            .map(|d| format!("`{d}`"))
            .unwrap_or_else(|| "unknown".to_owned()),
        or_dash(image.pushed_at.as_deref().unwrap_or_default())
    )
}

fn deploy_table(entries: &[DeployEntry]) -> String {
    let mut out = String::from(
        "\n### Deploy\n\n| Function | Version | Alias | Previous version | Result |\n|---|---|---|---|---|\n",
    );
    for entry in entries {
        // The version this run deployed: the one it published, else (unchanged code) the one
        // the alias serves; a failure before publishing deployed none. The alias's version
        // after a failure goes in the result, so the old version never reads as deployed.
        let deployed = match (&entry.published_version, &entry.error) {
            (Some(published), _) => published.as_str(),
            (None, None) => entry.version.as_str(),
            (None, Some(_)) => "",
        };
        let serving = if entry.version.is_empty() {
            String::new()
        } else {
            format!(" (alias serves version {})", entry.version)
        };
        let result = if let Some(error) = &entry.error {
            format!("❌ {}{serving}", cell(&one_line(error)))
        } else if entry.rolled_back {
            "↩️ rolled back".to_owned()
        } else if !entry.deployed {
            "unchanged".to_owned()
        } else {
            "✅ deployed".to_owned()
        };
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} | {result} |",
            entry.function_name,
            or_dash(deployed),
            or_dash(&entry.alias),
            or_dash(&entry.previous_version),
        );
    }
    out
}

/// What a reader should know about each deployed version beyond the table: a SnapStart
/// snapshot and the wait for Active, provisioned concurrency the move allocated, Managed
/// Instances, versions deleted by `keep-versions`.
fn deploy_notes(entries: &[DeployEntry]) -> String {
    let mut notes = Vec::new();
    for entry in entries {
        let name = &entry.function_name;
        let version = entry
            .published_version
            .as_deref()
            .unwrap_or(entry.version.as_str());
        let waited = entry
            .active_wait_ms
            .map(|ms| format!("; Active after {}", duration(ms)))
            .unwrap_or_default();
        if entry.snap_start {
            notes.push(format!(
                "`{name}` version {version} has a SnapStart snapshot{waited}"
            ));
        } else if !waited.is_empty() {
            notes.push(format!(
                "`{name}` version {version} was Pending before it read Active{waited}"
            ));
        }
        if let Some(provider) = &entry.capacity_provider {
            notes.push(format!(
                "`{name}` runs on Lambda Managed Instances (capacity provider `{provider}`)"
            ));
        }
        if let Some(count) = entry.provisioned_concurrency {
            notes.push(format!(
                "moving alias `{}` of `{name}` allocated provisioned concurrency ({count}) for version {version}",
                entry.alias
            ));
        }
        if entry.created {
            notes.push(format!(
                "`{name}` was created by this run (`create-function`)"
            ));
        }
        if !entry.config_changes.is_empty() {
            let changes: Vec<String> = entry
                .config_changes
                .iter()
                .map(|c| format!("`{}` {}", c.field, c.change))
                .collect();
            notes.push(format!("`{name}` configuration: {}", changes.join("; ")));
        }
        if entry.latest_differs {
            notes.push(format!(
                "`$LATEST` of `{name}` has the new configuration, but alias `{}` serves version {}; the next run reconciles it",
                entry.alias,
                or_dash(&entry.version)
            ));
        }
        if !entry.pruned_versions.is_empty() {
            notes.push(format!(
                "`{name}`: deleted version(s) {} (`keep-versions`)",
                entry.pruned_versions.join(", ")
            ));
        }
    }
    notes
        .iter()
        .map(|note| format!("- {note}\n"))
        .collect::<Vec<_>>()
        .concat()
}

/// `### Preview`: per function, the alias ARN, the version and the URL; or what closing the
/// pull request removed.
fn preview_section(preview: &PreviewReport) -> String {
    let mut out = String::new();
    if preview.removed {
        let _ = writeln!(
            out,
            "\n### Preview `{}` removed\n\n| Function | Deleted versions | Kept | Result |\n|---|---|---|---|",
            preview.alias
        );
        for function in &preview.functions {
            let _ = writeln!(
                out,
                "| `{}` | {} | {} | {} |",
                function.function_name,
                or_dash(&function.deleted_versions.join(", ")),
                or_dash(&cell(&function.kept_versions.join("; "))),
                function
                    .error
                    .as_deref()
                    .map(|e| format!("⚠️ {}", cell(&one_line(e))))
                    .unwrap_or_else(|| "✅ removed".to_owned()),
            );
        }
        return out;
    }
    let _ = writeln!(
        out,
        "\n### Preview `{}`\n\n| Function | Version | Alias ARN | URL |\n|---|---|---|---|",
        preview.alias
    );
    for function in &preview.functions {
        let url = match (&function.url, &function.error) {
            (Some(url), _) => format!(
                "{url} ({})",
                function.url_auth_type.as_deref().unwrap_or_default()
            ),
            (None, Some(error)) => format!("⚠️ {}", cell(&one_line(error))),
            (None, None) => "–".to_owned(),
        };
        let _ = writeln!(
            out,
            "| `{}` | {} | `{}` | {url} |",
            function.function_name,
            or_dash(&function.version),
            function.alias_arn
        );
    }
    out
}

/// The body of the pull request's preview comment: where the preview is, or why there is none,
/// and a link to the run. The comment is rewritten on every push.
pub fn preview_comment(report: &RunReport) -> String {
    let environment = report.environment.as_deref().unwrap_or("default");
    let mut out = String::new();
    let status = if report.status == RunStatus::Succeeded {
        "✅"
    } else {
        "❌"
    };
    let _ = writeln!(
        out,
        "### {status} lambda-pipeline preview · {environment}\n"
    );
    if let Some(commit) = &report.commit {
        let _ = writeln!(out, "Commit `{}`\n", &commit[..commit.len().min(12)]);
    }
    if let Some(error) = &report.error {
        let _ = writeln!(out, "> [!CAUTION]\n> {}\n", one_line(error));
    }
    if let Some(skipped) = &report.skipped {
        let _ = writeln!(out, "**{}**\n\n{}", skipped.title, skipped.detail);
    }
    if let Some(preview) = &report.preview {
        out.push_str(preview_section(preview).trim_start_matches('\n'));
    }
    if let Some(url) = &report.run_url {
        let _ = write!(out, "\n[Workflow run]({url})\n");
    }
    out
}

fn test_section(reports: &[TestReport]) -> String {
    let mut out = String::from(
        "\n### Tests\n\n| Report | Total | Passed | Failed | Skipped | Duration |\n|---|---|---|---|---|---|\n",
    );
    for report in reports {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} |",
            cell(&report.name),
            report.total,
            report.passed,
            report.failed,
            report.skipped,
            duration(report.duration_ms)
        );
    }
    let failures: Vec<_> = reports.iter().flat_map(|r| &r.failures).collect();
    if !failures.is_empty() {
        out.push_str("\nFailed tests:\n\n");
        for failure in failures.iter().take(LISTED_FAILURES) {
            let place = match (&failure.file, failure.line) {
                (Some(file), Some(line)) => format!(" (`{file}:{line}`)"),
                (Some(file), None) => format!(" (`{file}`)"),
                _ => String::new(),
            };
            let message = if failure.message.is_empty() {
                String::new()
            } else {
                format!(": {}", one_line(&failure.message))
            };
            let _ = writeln!(
                out,
                "- **{} › {}**{place}{message}",
                failure.suite, failure.name
            );
        }
        if failures.len() > LISTED_FAILURES {
            let _ = writeln!(out, "- … and {} more", failures.len() - LISTED_FAILURES);
        }
    }
    out
}

fn run_icon(status: RunStatus) -> &'static str {
    match status {
        RunStatus::Succeeded => "✅",
        RunStatus::Failed => "❌",
        RunStatus::TimedOut => "⏱️",
        RunStatus::Stopped => "⛔",
    }
}

fn phase_icon(status: PhaseStatus) -> &'static str {
    match status {
        PhaseStatus::Succeeded => "✅",
        PhaseStatus::Failed => "❌",
        PhaseStatus::Skipped => "⏭️",
        PhaseStatus::TimedOut => "⏱️",
        PhaseStatus::Stopped => "⛔",
    }
}

/// `850 ms`, `12.3 s`, `4 m 05 s`.
pub fn duration(ms: u64) -> String {
    match ms {
        0..1_000 => format!("{ms} ms"),
        1_000..60_000 => format!("{:.1} s", ms as f64 / 1000.0),
        _ => format!("{} m {:02} s", ms / 60_000, (ms % 60_000) / 1000),
    }
}

/// `512 B`, `3.4 KiB`, `12.0 MiB`.
pub fn size(bytes: u64) -> String {
    const KIB: f64 = 1024.0;
    match bytes {
        0..1024 => format!("{bytes} B"),
        1024..1_048_576 => format!("{:.1} KiB", bytes as f64 / KIB),
        _ => format!("{:.1} MiB", bytes as f64 / KIB / KIB),
    }
}

fn or_dash(text: &str) -> &str {
    if text.is_empty() { "–" } else { text }
}

/// A table cell: no line breaks, no column separators.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace(['\n', '\r'], " ")
}

/// The first line, at most 300 characters.
fn one_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or_default();
    let mut out: String = line.chars().take(300).collect();
    if out.len() < line.len() || text.lines().nth(1).is_some() {
        out.push('…');
    }
    out
}

/// How a limit counts: GitHub's check-run fields in characters (UTF-16 code units are never
/// fewer, so counting them is safe), the step summary in bytes.
#[derive(Debug, Clone, Copy)]
pub enum Unit {
    Utf16,
    Bytes,
}

fn measure(text: &str, unit: Unit) -> usize {
    match unit {
        Unit::Utf16 => text.encode_utf16().count(),
        Unit::Bytes => text.len(),
    }
}

fn char_size(c: char, unit: Unit) -> usize {
    match unit {
        Unit::Utf16 => c.len_utf16(),
        Unit::Bytes => c.len_utf8(),
    }
}

/// Keeps the start of `text` so that the result, `marker` included, fits `limit`. A code fence
/// left open by the cut is closed.
pub fn truncate_end(text: &str, limit: usize, marker: &str, unit: Unit) -> String {
    if measure(text, unit) <= limit {
        return text.to_owned();
    }
    let budget = limit.saturating_sub(measure(marker, unit) + 8);
    let mut used = 0;
    let mut cut = 0;
    for (index, c) in text.char_indices() {
        used += char_size(c, unit);
        if used > budget {
            break;
        }
        cut = index + c.len_utf8();
    }
    let mut out = text[..cut].to_owned();
    if out.matches("```").count() % 2 == 1 {
        out.push_str("\n```");
    }
    out.push_str(marker);
    out
}

/// Keeps the end of `text` so that the result, `marker` included, fits `limit` (UTF-16).
pub fn truncate_start(text: &str, limit: usize, marker: &str) -> String {
    if measure(text, Unit::Utf16) <= limit {
        return text.to_owned();
    }
    let budget = limit.saturating_sub(measure(marker, Unit::Utf16) + 16);
    let mut used = 0;
    let mut start = text.len();
    for (index, c) in text.char_indices().rev() {
        used += c.len_utf16();
        if used > budget {
            break;
        }
        start = index;
    }
    let kept = &text[start..];
    let opener = if kept.matches("```").count() % 2 == 1 {
        "```text\n"
    } else {
        ""
    };
    format!("{marker}{opener}{kept}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_fits_and_keeps_fences_balanced() {
        let text = format!("head\n```text\n{}\n```\n", "é".repeat(70_000));
        let cut = truncate_end(&text, CHECK_RUN_FIELD_LIMIT, TRUNCATED_END, Unit::Utf16);
        assert!(cut.encode_utf16().count() <= CHECK_RUN_FIELD_LIMIT);
        assert!(cut.ends_with(TRUNCATED_END));
        assert_eq!(cut.matches("```").count() % 2, 0);
        let tail = truncate_start(&text, CHECK_RUN_FIELD_LIMIT, TRUNCATED_START);
        assert!(tail.encode_utf16().count() <= CHECK_RUN_FIELD_LIMIT);
        assert!(tail.starts_with(TRUNCATED_START));
        assert!(tail.ends_with("```\n"));
        assert_eq!(tail.matches("```").count() % 2, 0);
        let bytes = truncate_end(&text, 1000, TRUNCATED_END, Unit::Bytes);
        assert!(bytes.len() <= 1000);
    }

    #[test]
    fn an_image_deploy_shows_repository_digest_and_push_time_in_the_check_run() {
        let mut report = RunReport::new("run", "lambda-pipeline:1");
        report.image = Some(ImageReport {
            uri: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/hello:v2".to_owned(),
            repository: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/hello".to_owned(),
            digest: Some(format!("sha256:{}", "ab".repeat(32))),
            pushed_at: Some("2026-11-22T01:00:00Z".to_owned()),
        });
        let summary = check_run_summary(&report);
        assert!(summary.contains("### Image"), "{summary}");
        assert!(summary.contains("`123456789012.dkr.ecr.eu-west-1.amazonaws.com/hello`"));
        assert!(summary.contains(&format!("`sha256:{}`", "ab".repeat(32))));
        assert!(summary.contains("2026-11-22T01:00:00Z"));
    }

    #[test]
    fn durations_and_sizes_read_well() {
        assert_eq!(duration(850), "850 ms");
        assert_eq!(duration(12_340), "12.3 s");
        assert_eq!(duration(245_000), "4 m 05 s");
        assert_eq!(size(2048), "2.0 KiB");
    }
}
