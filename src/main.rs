//! The `lambda-pipeline` binary: parse the command line and action inputs, run, exit.

fn main() -> std::process::ExitCode {
    lambda_pipeline::commands::main().into()
}
