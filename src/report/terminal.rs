//! The process's standard output and error, for messages that are not events: an input error
//! before anything runs, `validate`'s verdict, the `package` summary, a reporter's own warning.
//! Every line passes the redactor. With `report::console` and `report::files` (which must
//! write `::add-mask::` with the secret in it), the only code that writes to stdout or stderr;
//! clippy's `print_stdout`/`print_stderr` are denied everywhere else. Writes never panic: a
//! closed stdout or stderr drops the line and the run goes on.

use std::io::{self, Write};

use crate::redact::Redactor;

#[derive(Clone, Debug, Default)]
pub struct Terminal {
    redactor: Redactor,
}

impl Terminal {
    pub fn new(redactor: Redactor) -> Terminal {
        Terminal { redactor }
    }

    /// A line on stdout, redacted. A failed write is dropped: a reader that went away
    /// (`| head`) ends the output, never the run, which may be half-way through a deploy.
    pub fn out(&self, text: &str) {
        let _ = writeln!(io::stdout().lock(), "{}", self.redactor.redact(text));
    }

    /// A line on stderr, redacted; a failed write is dropped, as on stdout.
    pub fn err(&self, text: &str) {
        let _ = writeln!(io::stderr().lock(), "{}", self.redactor.redact(text));
    }

    /// `warning: message` on stderr and, in a job, the same as a warning annotation on stdout.
    pub fn warn(&self, actions: bool, message: &str) {
        self.err(&format!("warning: {message}"));
        if actions {
            self.out(&super::workflow::annotation(
                "warning", message, None, None, None, None,
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    /// The reporters that may write to the process's stdout and stderr.
    const WRITERS: [&str; 3] = ["report/terminal.rs", "report/console.rs", "report/files.rs"];

    #[test]
    fn only_the_reporters_write_to_stdout_and_stderr() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let forbidden = [
            "println!",
            "eprintln!",
            "print!(",
            "eprint!(",
            "io::stdout(",
            "io::stderr(",
        ];
        let mut offenders = Vec::new();
        for entry in walkdir::WalkDir::new(&root) {
            let entry = entry.unwrap();
            let relative = entry.path().strip_prefix(&root).unwrap();
            let name = relative.to_string_lossy().replace('\\', "/");
            if !name.ends_with(".rs") || WRITERS.contains(&name.as_str()) {
                continue;
            }
            let text = std::fs::read_to_string(entry.path()).unwrap();
            for (number, line) in text.lines().enumerate() {
                if line.trim_start().starts_with("//") {
                    continue;
                }
                if forbidden.iter().any(|f| line.contains(f)) {
                    offenders.push(format!("src/{name}:{}: {}", number + 1, line.trim()));
                }
            }
        }
        assert!(
            offenders.is_empty(),
            "output outside the reporters (use `report::terminal`):\n{}",
            offenders.join("\n")
        );
    }
}
