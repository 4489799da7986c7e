//! Any `targets`, `traffic-shift`, `environment` and `branch-environments` values resolve to a
//! plan or are rejected with an error that names the input; nothing panics.
//!
//! The fuzz input is split on NUL bytes: targets, traffic-shift, environment,
//! branch-environments, function-name, in that order (missing parts are unset).

#![no_main]

use lambda_pipeline::cli::Inputs;
use lambda_pipeline::settings::deploy::{TrafficShift, parse_traffic_shift, resolve};
use lambda_pipeline::env::Env;
use libfuzzer_sys::fuzz_target;

/// The action's inputs: an error must name one of them.
const ACTION_YML: &str = include_str!("../../action.yml");

fn is_action_input(name: &str) -> bool {
    ACTION_YML.contains(&format!("
  {name}:
"))
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let mut parts = text.split('\0').map(|part| Some(part.to_owned()));
    let mut inputs = Inputs::default();
    inputs.targets = parts.next().flatten();
    inputs.traffic_shift = parts.next().flatten();
    inputs.environment = parts.next().flatten();
    inputs.branch_environments = parts.next().flatten();
    inputs.function_name = parts.next().flatten();
    // Never a path: a fuzzed `targets` value that looks like one reads from an empty directory.
    let empty = std::env::temp_dir().join("lambda-pipeline-fuzz-empty");
    let _ = std::fs::create_dir_all(&empty);
    let env = Env::from_pairs([("GITHUB_REF", "refs/heads/main")]);
    match resolve(&inputs, &env, &empty) {
        Ok(plan) => {
            for target in &plan.targets {
                assert!(!target.name.is_empty() && target.name.len() <= 64);
                assert!(!target.alias.is_empty());
                check_shift(&target.traffic_shift);
            }
        }
        Err(err) => {
            // The error names the input; inside the `targets` YAML it also gives line and column.
            assert!(is_action_input(&err.input), "error names no input: {err}");
            assert!(!err.message.is_empty());
            if err.input == "targets" && !err.message.contains("both set") && !err.message.starts_with("cannot read") {
                assert!(
                    err.position().is_some() || err.message.contains("line "),
                    "targets error without a position: {err}"
                );
            }
        }
    }
    if let Some(shift) = &inputs.traffic_shift {
        if let Ok(parsed) = parse_traffic_shift("traffic-shift", shift) {
            check_shift(&parsed);
        }
    }
});

/// A parsed shift always moves a real share of traffic.
fn check_shift(shift: &TrafficShift) {
    match shift {
        TrafficShift::AllAtOnce => {}
        TrafficShift::Canary { percent, .. } | TrafficShift::Linear { percent, .. } => {
            assert!(*percent > 0.0 && *percent < 100.0, "percent {percent}");
        }
    }
}
