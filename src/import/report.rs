//! `Plan` → the migration report, in Markdown that reads as plain text too: the files written,
//! a row per pipeline element with what it became, the numbered steps left for a person, and
//! notes. The command prints it and appends it to the job summary in Actions.
//! Owns: the report's text. Must not: print, write, decide anything.

use super::plan::Plan;

/// The report.
pub fn markdown(plan: &Plan) -> String {
    let mut out = String::new();
    out.push_str(&format!("## Migration report: `{}`\n\n", plan.name));
    let jobs: Vec<String> = plan.jobs.iter().map(|j| format!("`{}`", j.id)).collect();
    out.push_str(&format!(
        "{} {} → `{}` (jobs {})",
        if plan.pipelines.len() == 1 {
            "Pipeline"
        } else {
            "Pipelines"
        },
        plan.pipelines
            .iter()
            .map(|p| format!("`{p}`"))
            .collect::<Vec<_>>()
            .join(", "),
        plan.path,
        if jobs.is_empty() {
            "none".to_owned()
        } else {
            jobs.join(", ")
        }
    ));
    if !plan.files.is_empty() {
        out.push_str(&format!(
            ", with {}",
            plan.files
                .iter()
                .map(|f| format!("`{}`", f.path))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    out.push_str(".\n\n### What became of each pipeline element\n\n");
    out.push_str("| pipeline | stage | action | provider | became |\n|---|---|---|---|---|\n");
    for element in &plan.elements {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} |\n",
            cell(&element.pipeline),
            cell(&element.stage),
            cell(&element.action),
            cell(&element.provider),
            cell(&element.became)
        ));
    }
    if !plan.todos.is_empty() {
        out.push_str("\n### To do\n\n");
        for (index, todo) in plan.todos.iter().enumerate() {
            out.push_str(&format!("{}. {todo}\n", index + 1));
        }
    }
    if !plan.notes.is_empty() {
        out.push_str("\n### Notes\n\n");
        for note in &plan.notes {
            out.push_str(&format!("- {note}\n"));
        }
    }
    out
}

/// A table cell: one line, `|` escaped.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace(['\n', '\r'], " ")
}
