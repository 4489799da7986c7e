//! The single integration-test binary. Every test runs the real `lambda-pipeline` binary in a
//! temporary workspace; AWS is a real `moto_server` started once for the whole binary.

// Test campaigns print what they measured; the print lints guard the library.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod action_yml;
mod artifact_paths;
mod buildspec_errors;
mod conformance;
mod deploy;
mod deploy_safety;
mod function_config;
mod github;
mod harness;
mod host_action;
mod images;
mod import;
mod package;
mod preview;
mod reliability;
mod runtimes;
mod seeds;
mod settings;
mod workspace_owner;
