//! Any text given as a buildspec parses or is rejected with a positioned error; nothing panics.

#![no_main]

use lambda_pipeline::buildspec::parse::parse;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    match parse("buildspec.yml", text) {
        Ok(spec) => {
            // Every command keeps a real position in the file.
            let lines = lambda_pipeline::base::diagnostic::yaml_lines(text).count().max(1);
            for phase in &spec.phases {
                for command in phase.commands.iter().chain(&phase.finally) {
                    assert!(command.line >= 1 && command.line <= lines + 1, "command line {} of {lines}", command.line);
                }
            }
        }
        Err(err) => {
            // A rejection always says where, and renders without panicking.
            assert!(err.span.is_some(), "error without a position: {}", err.message);
            let _ = err.to_string();
        }
    }
});
