//! Reliability campaigns (RELIABILITY.md): seeded faults in front of moto, SIGTERM at random
//! points, two deploys racing for one function, secrets printed every way, injected workflow
//! commands and file-command values, and resource bounds. Every campaign runs the real binary
//! and checks what moto holds afterwards, not only what the binary says.
//!
//! Run counts: CI size by default; `LP_RELIABILITY=full` gives the counts recorded in
//! RELIABILITY.md. Each campaign prints its tally and writes it under
//! `target/reliability/` for RELIABILITY.md.

use std::collections::BTreeMap;
use std::io::Read as _;
use std::process::{Child, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::harness::aws::{
    alias, aws, code_sha_of, create_function, create_secret, lambda_client, put_parameter, unique,
};
use crate::harness::faults::{Fault, FaultProxy, Rule};
use crate::harness::github::{FakeGithub, TOKEN, completion};
use crate::harness::process::{drain, wait_until};
use crate::harness::{Moto, Output, Test};

/// `ci` runs by default, `full` with `LP_RELIABILITY=full`.
fn runs(ci: usize, full: usize) -> usize {
    match std::env::var("LP_RELIABILITY").as_deref() {
        Ok("full") => full,
        _ => ci,
    }
}

/// Writes a campaign's tally where RELIABILITY.md's figures are copied from, and prints it.
fn record_tally(campaign: &str, lines: &[String]) {
    let dir = crate::harness::repo_path("target/reliability");
    std::fs::create_dir_all(&dir).unwrap();
    let text = lines.join("\n") + "\n";
    std::fs::write(dir.join(format!("{campaign}.txt")), &text).unwrap();
    eprintln!("--- {campaign}\n{text}");
}

/// Runs `work(i)` for `0..count` on `workers` threads.
fn in_parallel<T: Send>(count: usize, workers: usize, work: impl Fn(usize) -> T + Sync) -> Vec<T> {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    if i >= count {
                        break;
                    }
                    let result = work(i);
                    results.lock().unwrap().push((i, result));
                }
            });
        }
    });
    let mut results = results.into_inner().unwrap();
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}

/// The alias as moto holds it: version and additional weights.
#[derive(Debug, Clone, PartialEq)]
struct AliasSeen {
    version: String,
    weights: Vec<(String, f64)>,
}

fn alias_now(runtime: &tokio::runtime::Runtime, function: &str) -> AliasSeen {
    let (version, weights, _) = runtime
        .block_on(alias(function, "live"))
        .expect("the alias exists");
    AliasSeen { version, weights }
}

/// The CodeSha256 of one published version, from moto.
fn version_sha(runtime: &tokio::runtime::Runtime, function: &str, version: &str) -> String {
    runtime.block_on(code_sha_of(function, Some(version)))
}

/// A function with version 1 published and alias `live` on it, made directly in moto.
fn function_with_live_alias(runtime: &tokio::runtime::Runtime, prefix: &str) -> String {
    let name = unique(prefix);
    runtime.block_on(async {
        create_function(&name).await;
        let client = lambda_client(&Moto::shared().sdk_config().await);
        client
            .publish_version()
            .function_name(&name)
            .send()
            .await
            .unwrap();
        client
            .create_alias()
            .function_name(&name)
            .name("live")
            .function_version("1")
            .send()
            .await
            .unwrap();
    });
    name
}

fn topic() -> String {
    aws(&["sns", "create-topic", "--name", &unique("reliability")])["TopicArn"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// A project whose package differs per `tag`.
fn project(tag: &str) -> Test {
    Test::new()
        .buildspec(
            "version: 0.2\nphases:\n  build:\n    commands:\n      - echo building\nartifacts:\n  files:\n    - lambda_function.py\n",
        )
        .file(
            "lambda_function.py",
            &format!("def lambda_handler(event, context):\n    return {tag:?}\n"),
        )
        .aws()
        .github_actions()
}

/// The report's claim about the one function deployed: (version the alias is on, package).
fn claimed(out: &Output) -> (Option<String>, String) {
    let report = out.report();
    let version = report["deploy"][0]["version"].as_str().map(str::to_owned);
    let sha = report["artifacts"]["sha256"]
        .as_str()
        .or(report["deploy"][0]["code_sha256"].as_str())
        .unwrap_or_default()
        .to_owned();
    (version, sha)
}

/// Whether SNS accepted a message, and whether the report warns that none was sent; one of
/// the two must hold.
fn notification_outcome(proxy: &FaultProxy, report: &Value, context: &str) -> (bool, bool) {
    let published = proxy
        .requests_to("POST", "/")
        .iter()
        .any(|r| r.body.contains("Action=Publish") && r.status == 200);
    let warned = report["warnings"].as_array().unwrap().iter().any(|w| {
        w["message"]
            .as_str()
            .unwrap()
            .contains("SNS notification not sent")
    });
    assert!(
        published || warned,
        "no notification and no warning; {context}"
    );
    (published, warned)
}

// ---------------------------------------------------------------- 1. faults

#[derive(Debug, Default)]
struct FaultTally {
    runs: usize,
    succeeded: usize,
    failed_alias_unchanged: usize,
    notified: usize,
    notify_failure_reported: usize,
    faults: BTreeMap<Fault, usize>,
    requests: usize,
}

/// One `run` through a chaos proxy; asserts that the outcome is one of the two allowed ones
/// and that the report, the exit status and the notification tell the truth.
fn fault_run(seed: u64, rate: f64, topic: &str, tally: &Mutex<FaultTally>) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let name = function_with_live_alias(&runtime, "chaos");
    let before = alias_now(&runtime, &name);
    let proxy = FaultProxy::chaos(&Moto::shared().endpoint(), seed, rate).with_lambda_guards();
    let shift = if seed.is_multiple_of(2) {
        "all-at-once"
    } else {
        "canary 50 1s"
    };
    let out = project(&format!("seed {seed}"))
        .env("AWS_ENDPOINT_URL", &proxy.endpoint())
        .input("function-name", &name)
        .input("traffic-shift", shift)
        .input("wait-timeout", "60s")
        .input("sns-topic-arn", topic)
        .input("notify-on", "success,failure,rollback")
        .arg("run")
        .run();
    let context = format!("seed {seed}, faults {:?}\n{out}", proxy.injected());
    let after = alias_now(&runtime, &name);
    let report = out.report();
    let (claimed_version, package_sha) = claimed(&out);
    let mut tally = tally.lock().unwrap();
    match out.code {
        0 => {
            assert_eq!(report["status"], "SUCCEEDED", "{context}");
            assert!(
                after.weights.is_empty(),
                "alias left weighted: {after:?}; {context}"
            );
            assert_eq!(
                claimed_version.as_deref(),
                Some(after.version.as_str()),
                "{context}"
            );
            assert_ne!(after.version, before.version, "{context}");
            assert_eq!(
                version_sha(&runtime, &name, &after.version),
                package_sha,
                "{context}"
            );
            tally.succeeded += 1;
        }
        1 => {
            assert_eq!(report["status"], "FAILED", "{context}");
            assert_eq!(after, before, "a failed run changed the alias; {context}");
            if let Some(version) = &claimed_version {
                assert_eq!(version, &before.version, "the report lies; {context}");
            }
            tally.failed_alias_unchanged += 1;
        }
        code => panic!("exit {code}: neither success nor failure; {context}"),
    }
    let (published, warned) = notification_outcome(&proxy, &report, &context);
    tally.notified += usize::from(published);
    tally.notify_failure_reported += usize::from(warned && !published);
    tally.runs += 1;
    tally.requests += proxy.requests().len();
    for (fault, count) in proxy.injected() {
        *tally.faults.entry(fault).or_default() += count;
    }
}

fn fault_campaign(name: &str, rate: f64, first_seed: u64, count: usize) {
    let topic = topic();
    let tally = Mutex::new(FaultTally::default());
    in_parallel(count, 3, |i| {
        fault_run(first_seed + i as u64, rate, &topic, &tally)
    });
    let tally = tally.into_inner().unwrap();
    assert_eq!(tally.runs, count);
    let injected: usize = tally.faults.values().sum();
    assert!(injected > 0, "the proxy injected nothing");
    let mut lines = vec![
        format!(
            "runs: {} at a {}% fault rate (seeds {first_seed}..{})",
            tally.runs,
            rate * 100.0,
            first_seed + count as u64
        ),
        format!("succeeded, alias on the new version: {}", tally.succeeded),
        format!(
            "failed, alias exactly as before: {}",
            tally.failed_alias_unchanged
        ),
        format!("notification sent: {}", tally.notified),
        format!(
            "notification failed and reported: {}",
            tally.notify_failure_reported
        ),
        format!("requests: {}, faults injected: {injected}", tally.requests),
    ];
    lines.extend(tally.faults.iter().map(|(f, n)| format!("  {f:?}: {n}")));
    record_tally(name, &lines);
}

#[test]
fn faults_every_run_ends_old_or_new_and_says_which() {
    fault_campaign("faults-20", 0.2, 7000, runs(20, 100));
}

/// Far more faults than the issue asks for, so that runs also fail and the failure path is
/// checked as often as the success path.
#[test]
fn heavy_faults_failed_runs_leave_the_alias_as_it_was() {
    fault_campaign("faults-60", 0.6, 9000, runs(12, 100));
}

// ---------------------------------------------------------------- 1b. versions that are Pending

#[derive(Debug, Default)]
struct PendingTally {
    runs: usize,
    succeeded_after_active: usize,
    failed_version_alias_unchanged: usize,
    pending_reads: usize,
    smoke_tests: usize,
}

/// One `run` whose new version reads Pending for a seeded number of reads (as SnapStart and
/// Managed Instances versions do), or ends Failed. Invariant: the alias is old or new, and
/// nothing invokes or aliases the new version before it reads Active.
fn pending_run(seed: u64, tally: &Mutex<PendingTally>) {
    use rand::{Rng as _, SeedableRng as _};
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let pending = rng.random_range(0..5usize);
    let fails = rng.random_range(0..5) == 0;
    let smoke = rng.random_bool(0.5);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let name = function_with_live_alias(&runtime, "pending");
    let before = alias_now(&runtime, &name);
    let proxy = FaultProxy::start(&Moto::shared().endpoint()).with_lambda_guards();
    let reads = format!("/functions/{name}/configuration?Qualifier=2");
    if pending > 0 {
        proxy.rule(
            Rule::on("GET", &reads)
                .patch("State", serde_json::json!("Pending"))
                .times(pending),
        );
    }
    if fails {
        proxy.rule(
            Rule::on("GET", &reads)
                .patch("State", serde_json::json!("Failed"))
                .patch("StateReasonCode", serde_json::json!("SnapStartTimeout"))
                .patch("StateReason", serde_json::json!("no snapshot")),
        );
    }
    let mut test = project(&format!("pending {seed}"))
        .env("AWS_ENDPOINT_URL", &proxy.endpoint())
        .input("function-name", &name)
        .input("wait-timeout", "60s")
        .arg("run");
    if smoke {
        test = test.input("smoke-test", "{}");
    }
    let out = test.run();
    let context = format!("seed {seed}: {pending} Pending reads, fails {fails}\n{out}");
    let after = alias_now(&runtime, &name);
    let records = proxy.requests();
    let touches = |r: &crate::harness::faults::Recorded| {
        r.path.contains("/invocations") || (r.path.contains("/aliases/live") && r.method == "PUT")
    };
    let mut tally = tally.lock().unwrap();
    if fails {
        assert_eq!(out.code, 1, "{context}");
        assert_eq!(after, before, "{context}");
        assert!(!records.iter().any(touches), "{context}");
        assert!(out.stderr.contains("SnapStartTimeout"), "{context}");
        tally.failed_version_alias_unchanged += 1;
    } else {
        assert_eq!(out.code, 0, "{context}");
        assert_eq!(after.version, "2", "{context}");
        assert!(after.weights.is_empty(), "{context}");
        let version_reads: Vec<usize> = records
            .iter()
            .enumerate()
            .filter(|(_, r)| r.method == "GET" && r.path.contains(&reads))
            .map(|(i, _)| i)
            .collect();
        assert!(version_reads.len() > pending, "{context}");
        let active = version_reads[pending];
        let first_touch = records.iter().position(touches).expect("the alias moved");
        assert!(
            first_touch > active,
            "version 2 was touched before it read Active; {context}"
        );
        tally.succeeded_after_active += 1;
    }
    tally.pending_reads += pending;
    tally.smoke_tests += usize::from(smoke);
    tally.runs += 1;
}

#[test]
fn pending_versions_are_never_invoked_or_aliased_before_active() {
    let count = runs(10, 50);
    let tally = Mutex::new(PendingTally::default());
    in_parallel(count, 3, |i| pending_run(11_000 + i as u64, &tally));
    let tally = tally.into_inner().unwrap();
    assert_eq!(tally.runs, count);
    assert!(tally.pending_reads > 0, "no version was ever Pending");
    record_tally(
        "pending",
        &[
            format!("runs: {} (seeds 11000..{})", tally.runs, 11_000 + count),
            format!(
                "succeeded, alias on the new version, touched only after it read Active: {}",
                tally.succeeded_after_active
            ),
            format!(
                "version Failed, alias exactly as before, never touched: {}",
                tally.failed_version_alias_unchanged
            ),
            format!("Pending reads injected: {}", tally.pending_reads),
            format!("runs with a smoke test: {}", tally.smoke_tests),
        ],
    );
}

// ---------------------------------------------------------------- 3. concurrency

#[derive(Debug, Default)]
struct RaceTally {
    rounds: usize,
    one_refused: BTreeMap<String, usize>,
    both_succeeded_in_turn: usize,
}

/// What one of two racing runs said: exit status, claimed version, its package, the phase
/// that refused it.
struct Racer {
    code: i32,
    version: Option<String>,
    sha: String,
    error: String,
    context: String,
}

fn race_round(round: usize, tally: &Mutex<RaceTally>) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let name = function_with_live_alias(&runtime, "race");
    // One proxy for both runs: Lambda's RevisionId and CodeSha256 guards, which moto lacks.
    let proxy = FaultProxy::start(&Moto::shared().endpoint()).with_lambda_guards();
    let racers: Vec<Racer> = std::thread::scope(|scope| {
        let handles: Vec<_> = ["a", "b"]
            .into_iter()
            .map(|side| {
                let test = project(&format!("round {round} side {side}"))
                    .env("AWS_ENDPOINT_URL", &proxy.endpoint())
                    .input("function-name", &name)
                    .arg("run");
                scope.spawn(move || {
                    let out = test.run();
                    let (version, sha) = claimed(&out);
                    Racer {
                        code: out.code,
                        version,
                        sha,
                        error: out.report()["error"]
                            .as_str()
                            .unwrap_or_default()
                            .to_owned(),
                        context: out.to_string(),
                    }
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let after = alias_now(&runtime, &name);
    let context = format!(
        "round {round}, alias {after:?}\n--- a\n{}\n--- b\n{}",
        racers[0].context, racers[1].context
    );
    assert!(after.weights.is_empty(), "{context}");
    let live_sha = version_sha(&runtime, &name, &after.version);
    let winner = racers
        .iter()
        .position(|r| r.sha == live_sha)
        .unwrap_or_else(|| panic!("the live code belongs to neither package; {context}"));
    let (won, lost) = (&racers[winner], &racers[1 - winner]);
    assert_eq!(won.code, 0, "the winner must say it succeeded; {context}");
    assert_eq!(
        won.version.as_deref(),
        Some(after.version.as_str()),
        "{context}"
    );
    let mut tally = tally.lock().unwrap();
    match lost.code {
        1 => {
            // It says it failed, and why: a guard refused it.
            assert!(
                lost.error.contains("PreconditionFailedException"),
                "{context}"
            );
            let phase = ["upload", "publish", "alias"]
                .into_iter()
                .find(|p| lost.error.contains(&format!("({p})")))
                .unwrap_or("other");
            *tally.one_refused.entry(phase.to_owned()).or_default() += 1;
        }
        0 => {
            // It finished before the winner started: its own version ran its own code.
            let version = lost.version.clone().expect("a version");
            assert_eq!(
                version_sha(&runtime, &name, &version),
                lost.sha,
                "{context}"
            );
            assert!(
                version.parse::<u32>().unwrap() < after.version.parse::<u32>().unwrap(),
                "{context}"
            );
            tally.both_succeeded_in_turn += 1;
        }
        code => panic!("exit {code}; {context}"),
    }
    tally.rounds += 1;
}

#[test]
fn concurrency_two_runs_one_function_revision_ids_decide() {
    let count = runs(6, 20);
    let tally = Mutex::new(RaceTally::default());
    in_parallel(count, 1, |round| race_round(round, &tally));
    let tally = tally.into_inner().unwrap();
    assert_eq!(tally.rounds, count);
    let mut lines = vec![
        format!(
            "rounds: {} (two runs, two packages, one function)",
            tally.rounds
        ),
        format!(
            "both succeeded one after the other: {}",
            tally.both_succeeded_in_turn
        ),
    ];
    lines.extend(
        tally
            .one_refused
            .iter()
            .map(|(phase, n)| format!("one won, the other refused by a guard at `{phase}`: {n}")),
    );
    record_tally("concurrency", &lines);
}

// ---------------------------------------------------------------- 2. cancellation

/// Where SIGTERM lands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum StopPoint {
    /// A build command is running (with a background job).
    Phase,
    /// UpdateFunctionCode is in flight.
    Upload,
    /// PublishVersion is in flight.
    Publish,
    /// The canary weight is in place and the shift is holding.
    CanaryShift,
}

const STOP_POINTS: [StopPoint; 4] = [
    StopPoint::Phase,
    StopPoint::Upload,
    StopPoint::Publish,
    StopPoint::CanaryShift,
];

#[derive(Debug, Default)]
struct StopTally {
    runs: BTreeMap<StopPoint, usize>,
    alias_old: usize,
    alias_new: usize,
    slowest_exit: Duration,
    notified: usize,
    notify_failure_reported: usize,
}

/// Processes whose command line contains `marker`.
fn processes_with(marker: &str) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        if cmdline.contains(marker) {
            found.push(format!(
                "{}: {cmdline}",
                entry.file_name().to_string_lossy()
            ));
        }
    }
    found
}

fn wait_for(what: &str, child: &mut Child, ready: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !ready() {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("exited ({status}) before {what}");
        }
        assert!(Instant::now() < deadline, "never reached {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn stop_run(i: usize, topic: &str, tally: &Mutex<StopTally>) {
    use rand::{Rng as _, SeedableRng as _};
    let mut rng = rand::rngs::StdRng::seed_from_u64(5000 + i as u64);
    let point = STOP_POINTS[i % STOP_POINTS.len()];
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let github = runtime.block_on(FakeGithub::start());
    let name = function_with_live_alias(&runtime, "stop");
    let before = alias_now(&runtime, &name);
    let proxy = FaultProxy::start(&Moto::shared().endpoint()).with_lambda_guards();
    match point {
        StopPoint::Upload => proxy.rule(Rule::on("PUT", "/code").delay(4000)),
        StopPoint::Publish => proxy.rule(Rule::on("POST", "/versions").delay(4000)),
        _ => &proxy,
    };
    // A marker no other process has: the sleeps of this run.
    let marker = format!("30{i:02}.{}", std::process::id());
    let build = if point == StopPoint::Phase {
        format!(
            "      - sleep {marker}1 & touch started; sleep {marker}2\n    finally:\n      - touch ran-finally\n"
        )
    } else {
        "      - echo building\n".to_owned()
    };
    let buildspec = format!(
        "version: 0.2\nphases:\n  build:\n    commands:\n{build}artifacts:\n  files:\n    - lambda_function.py\n"
    );
    let shift = if point == StopPoint::CanaryShift {
        "canary 50 60s"
    } else {
        "all-at-once"
    };
    let test = project(&format!("stop {i}"))
        .buildspec(&buildspec)
        .env("AWS_ENDPOINT_URL", &proxy.endpoint())
        .env("GITHUB_API_URL", &github.server.uri())
        .input("github-token", TOKEN)
        .input("function-name", &name)
        .input("traffic-shift", shift)
        .input("sns-topic-arn", topic)
        .input("notify-on", "success,failure,rollback")
        .arg("run");
    let workspace = test.workspace();
    let report_path = test.report_path();
    let mut command = test.command();
    command
        .arg(format!("--report-file={}", report_path.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().unwrap();
    let out_reader = drain(child.stdout.take().unwrap());
    let err_reader = drain(child.stderr.take().unwrap());
    match point {
        StopPoint::Phase => wait_for("the build command", &mut child, || {
            workspace.join("started").exists()
        }),
        StopPoint::Upload => wait_for("the upload", &mut child, || proxy.arrived("PUT", "/code")),
        StopPoint::Publish => wait_for("the publish", &mut child, || {
            proxy.arrived("POST", "/versions")
        }),
        StopPoint::CanaryShift => wait_for("the canary", &mut child, || {
            proxy.arrived("PUT", "/aliases/live")
        }),
    }
    std::thread::sleep(Duration::from_millis(rng.random_range(0..400)));
    let signalled = Instant::now();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let Some(status) = wait_until(&mut child, Duration::from_secs(10)) else {
        let _ = child.kill();
        panic!("run {i} ({point:?}) still running 10 s after SIGTERM");
    };
    let took = signalled.elapsed();
    let context = format!(
        "run {i}, {point:?}\n{}\n{}",
        out_reader.join().unwrap(),
        err_reader.join().unwrap()
    );
    assert_eq!(status.code(), Some(130), "{context}");
    let survivors = processes_with(&marker);
    assert!(
        survivors.is_empty(),
        "children survived: {survivors:?}; {context}"
    );
    assert!(!workspace.join("ran-finally").exists(), "{context}");
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(&report_path).unwrap()).unwrap();
    assert_eq!(report["status"], "STOPPED", "{context}");
    let after = alias_now(&runtime, &name);
    assert!(
        after.weights.is_empty(),
        "alias left weighted: {after:?}; {context}"
    );
    if let Some(claimed) = report["deploy"][0]["version"].as_str() {
        assert_eq!(claimed, after.version, "the report lies; {context}");
    }
    let requests = runtime.block_on(github.validated_requests());
    let completion = completion(&requests);
    assert_eq!(completion.body["conclusion"], "cancelled", "{context}");
    let (published, warned) = notification_outcome(&proxy, &report, &context);
    let mut tally = tally.lock().unwrap();
    *tally.runs.entry(point).or_default() += 1;
    if after == before {
        tally.alias_old += 1;
    } else {
        tally.alias_new += 1;
    }
    tally.slowest_exit = tally.slowest_exit.max(took);
    tally.notified += usize::from(published);
    tally.notify_failure_reported += usize::from(warned && !published);
}

#[test]
fn cancellation_sigterm_anywhere_leaves_old_or_new_and_no_child() {
    let count = runs(8, 50);
    let topic = topic();
    let tally = Mutex::new(StopTally::default());
    in_parallel(count, 2, |i| stop_run(i, &topic, &tally));
    let tally = tally.into_inner().unwrap();
    let mut lines = vec![format!(
        "runs: {count} (SIGTERM after a random 0-400 ms at the point)"
    )];
    lines.extend(tally.runs.iter().map(|(p, n)| format!("  {p:?}: {n}")));
    lines.push(format!(
        "alias on the old version: {}, on the new: {}, weighted: 0",
        tally.alias_old, tally.alias_new
    ));
    lines.push(format!(
        "slowest exit after SIGTERM: {:.2} s",
        tally.slowest_exit.as_secs_f64()
    ));
    lines.push(format!(
        "notification sent: {}, failed and reported: {}",
        tally.notified, tally.notify_failure_reported
    ));
    lines.push("exit 130, check run `cancelled`, no child left: every run".to_owned());
    record_tally("cancellation", &lines);
}

// ---------------------------------------------------------------- 5. secrets

/// `application/x-www-form-urlencoded` decoding, for SNS request bodies.
fn form_decoded(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz");
                match u8::from_str_radix(hex, 16) {
                    Ok(byte) => {
                        out.push(byte);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            byte => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn secrets_never_leave_the_process_unmasked() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let id = unique("leak");
    let plain = format!("Plain-S3cret-{id}");
    let json_password = format!("Js0n\"Pass\\word-{id}");
    let multi = format!("first-line-{id}\nsecond-line-{id}");
    let whole = serde_json::json!({"user": "svc", "password": json_password}).to_string();
    runtime.block_on(async {
        put_parameter(&format!("/{id}/plain"), &plain).await;
        put_parameter(&format!("/{id}/multi"), &multi).await;
        create_secret(&id, &whole).await;
    });
    let github = runtime.block_on(FakeGithub::start());
    let name = function_with_live_alias(&runtime, "leak");
    let topic = topic();
    let proxy = FaultProxy::start(&Moto::shared().endpoint());
    let buildspec = format!(
        r#"version: 0.2
env:
  parameter-store:
    PLAIN: /{id}/plain
    MULTI: /{id}/multi
  secrets-manager:
    PASSWORD: {id}:password
    WHOLE: {id}
  exported-variables:
    - LEAK_OUT
phases:
  build:
    commands:
      - printf 'plain %s, password %s, whole %s\n' "$PLAIN" "$PASSWORD" "$WHOLE"
      - |
        python3 -c 'import json, os; print(json.dumps({{"p": os.environ["PASSWORD"], "w": os.environ["WHOLE"]}}))'
      - printf '%s\n' "$MULTI"
      - env | sort
      - export LEAK_OUT="out-$PLAIN"
  post_build:
    commands:
      - printf 'the last line says %s and %s\n' "$PASSWORD" "$PLAIN"; exit 3
artifacts:
  files:
    - lambda_function.py
"#
    );
    let out = project("leak")
        .buildspec(&buildspec)
        .env("AWS_ENDPOINT_URL", &proxy.endpoint())
        .env("GITHUB_API_URL", &github.server.uri())
        .input("github-token", TOKEN)
        .input("function-name", &name)
        .input("sns-topic-arn", &topic)
        .input("notify-on", "failure")
        .arg("run")
        .run();
    assert_eq!(out.code, 1, "{out}");
    let mut secrets: Vec<String> = vec![plain.clone(), json_password.clone(), whole.clone()];
    secrets.extend(multi.lines().map(str::to_owned));
    secrets.push(TOKEN.to_owned());
    // Printed inside JSON, the password has its quote and backslash escaped.
    secrets.push(
        serde_json::to_string(&json_password)
            .unwrap()
            .trim_matches('"')
            .to_owned(),
    );
    let requests = runtime.block_on(github.validated_requests());
    let sns: Vec<String> = proxy
        .requests()
        .iter()
        .filter(|r| r.body.contains("Action=Publish"))
        .map(|r| form_decoded(&r.body))
        .collect();
    assert!(!sns.is_empty(), "no SNS message was sent: {out}");
    assert!(
        !requests.is_empty(),
        "no request reached the fake GitHub: {out}"
    );
    let mut places: Vec<(String, String)> = vec![
        (
            "stdout".into(),
            out.stdout
                .lines()
                .filter(|l| !l.starts_with("::add-mask::"))
                .collect::<Vec<_>>()
                .join("\n"),
        ),
        ("stderr".into(), out.stderr.clone()),
        (
            "report".into(),
            std::fs::read_to_string(&out.report_path).unwrap(),
        ),
        ("summary".into(), out.summary()),
        (
            "outputs".into(),
            std::fs::read_to_string(&out.outputs_path).unwrap_or_default(),
        ),
    ];
    places.extend(requests.iter().map(|r| {
        (
            format!("GitHub {} {}", r.method, r.path),
            r.body.to_string(),
        )
    }));
    places.extend(sns.iter().map(|body| ("SNS".to_owned(), body.clone())));
    for (place, text) in &places {
        for secret in &secrets {
            assert!(
                !text.contains(secret.as_str()),
                "`{secret}` leaked into {place}:\n{text}"
            );
        }
    }
    // Each was printed, masked: the check sees real output, not silence.
    for expected in [
        "plain ***, password ***, whole ***",
        "{\"p\": \"***\"",
        "the last line says *** and ***",
    ] {
        assert!(
            out.stdout.contains(expected),
            "`{expected}` missing:\n{out}"
        );
    }
    assert!(out.stdout.contains("::add-mask::"), "{out}");
    assert!(
        out.outputs()
            .get("LEAK_OUT")
            .is_some_and(|v| v == "out-***"),
        "{:?}",
        out.outputs()
    );
    record_tally(
        "secrets",
        &[format!(
            "{} secret values (plain, JSON field, whole JSON, JSON-escaped, two lines of a multi-line value, GitHub token) x {} places (stdout, stderr, report, job summary, step outputs, {} GitHub requests, {} SNS messages): 0 leaks",
            secrets.len(),
            places.len(),
            requests.len(),
            sns.len()
        )],
    );
}

// ---------------------------------------------------------------- 4. hostile input

/// Every file's contents in the zip a run packaged.
fn zip_contents(out: &Output) -> Vec<(String, String)> {
    let Some(zip) = out.report()["artifacts"]["zip"].as_str().map(str::to_owned) else {
        return Vec::new();
    };
    let mut archive = zip::ZipArchive::new(std::fs::File::open(zip).unwrap()).unwrap();
    (0..archive.len())
        .map(|i| {
            let mut file = archive.by_index(i).unwrap();
            let mut text = String::new();
            let _ = file.read_to_string(&mut text);
            (
                file.name().map(|n| n.into_owned()).unwrap_or_default(),
                text,
            )
        })
        .collect()
}

#[test]
fn artifact_globs_never_reach_outside_the_source_tree() {
    const OUTSIDE: &str = "OUTSIDE-THE-SOURCE-TREE";
    // (what the artifact says, a symlink to make first, what the run must say)
    type Case<'a> = (&'a str, Option<(&'a str, &'a str)>, &'a str);
    let cases: &[Case] = &[
        (
            "files:\n    - ../files/outside.txt",
            None,
            "leaves the base directory",
        ),
        ("files:\n    - ../**/*", None, "leaves the base directory"),
        (
            "files:\n    - '**/../../files/*'",
            None,
            "leaves the base directory",
        ),
        (
            "files:\n    - '{OUTSIDE_ABS}'",
            None,
            "is outside the source directory",
        ),
        (
            "base-directory: ..\n  files:\n    - '**/*'",
            None,
            "leaves the source directory",
        ),
        (
            "base-directory: 'lib/../..'\n  files:\n    - '**/*'",
            None,
            "leaves the source directory",
        ),
        (
            "base-directory: '../*'\n  files:\n    - '**/*'",
            None,
            "leaves the source directory",
        ),
        (
            "files:\n    - leak.txt",
            Some(("leak.txt", "{OUTSIDE_ABS}")),
            "points outside the source tree",
        ),
        (
            "files:\n    - 'linked/*'",
            Some(("linked", "../files")),
            "points outside the source tree",
        ),
        (
            "files:\n    - '**/*'\n  enable-symlinks: yes",
            Some(("up", "..")),
            "points outside the source tree",
        ),
        // Found by the artifact_selection fuzz target: a base directory reached through a
        // link to a directory outside the tree.
        (
            "base-directory: '*'\n  files:\n    - '*'",
            Some(("linked", "../files")),
            "points outside the source tree",
        ),
        (
            "base-directory: linked\n  files:\n    - '*'",
            Some(("linked", "../files")),
            "points outside the source tree",
        ),
    ];
    let mut refused = 0;
    for (artifact, link, expected) in cases {
        let test = Test::new().file("lambda_function.py", "x = 1\n");
        let outside_dir = test.dir.path().join("files");
        let outside = outside_dir.join("outside.txt");
        std::fs::write(&outside, OUTSIDE).unwrap();
        let fill = |text: &str| {
            text.replace("{OUTSIDE_ABS}", outside.to_str().unwrap())
                .replace("{OUTSIDE_DIR}", outside_dir.to_str().unwrap())
        };
        if let Some((name, target)) = link {
            std::os::unix::fs::symlink(fill(target), test.workspace().join(name)).unwrap();
        }
        let buildspec = format!(
            "version: 0.2\nphases:\n  build:\n    commands:\n      - echo hi\nartifacts:\n  {}\n",
            fill(artifact)
        );
        let out = test.buildspec(&buildspec).arg("build").run();
        let context = format!("case {artifact:?} / {link:?}\n{out}");
        for (name, text) in zip_contents(&out) {
            assert!(
                !text.contains(OUTSIDE),
                "`{name}` came from outside; {context}"
            );
        }
        if out.code != 0 {
            refused += 1;
            assert_eq!(out.code, 1, "{context}");
            assert!(!expected.is_empty(), "unexpected refusal; {context}");
            assert!(
                out.stdout.contains(expected) || out.stderr.contains(expected),
                "{context}"
            );
        } else {
            assert!(expected.is_empty(), "expected `{expected}`; {context}");
        }
    }
    record_tally(
        "glob-escapes",
        &[format!(
            "{} artifact definitions aiming outside the source tree: {refused} refused with a message, {} packaged only files inside it",
            cases.len(),
            cases.len() - refused
        )],
    );
}

#[test]
fn values_cannot_inject_step_outputs() {
    let delimiter_guess = "ghadelimiter_00000000-0000-0000-0000-000000000000";
    let values = [
        "line one\ndeployed=true",
        "x\r\ndeployed=true\r\n",
        &format!("x\n{delimiter_guess}\ndeployed<<{delimiter_guess}\ntrue\n{delimiter_guess}"),
        "EOF\nversion<<EOF\n666\nEOF",
        "name=value=more",
    ];
    for value in values {
        let out = Test::new()
            .buildspec(
                "version: 0.2\nenv:\n  exported-variables:\n    - SNEAKY\nphases:\n  build:\n    commands:\n      - export SNEAKY=\"$(cat value.txt)\"\n",
            )
            .file("value.txt", value)
            .github_actions()
            .arg("build")
            .run();
        assert_eq!(out.code, 0, "{out}");
        let outputs = out.outputs();
        // `$(...)` drops trailing newlines, as the shell does; the runner reads `\r\n` as a
        // line end, as the harness does.
        let expected = value.trim_end_matches(['\n', '\r']).replace("\r\n", "\n");
        assert_eq!(outputs.get("SNEAKY"), Some(&expected), "{outputs:?}");
        for forged in ["deployed", "version"] {
            assert!(
                !outputs.contains_key(forged),
                "`{forged}` was injected by {value:?}: {outputs:?}"
            );
        }
    }
    // An input value with a line break never reaches a file command: it is refused first.
    for (input, value) in [
        ("alias", "live\ndeployed=true"),
        ("function-name", "f\nversion=9"),
    ] {
        let out = Test::new()
            .buildspec("version: 0.2\nphases:\n  build:\n    commands:\n      - touch ran\n")
            .github_actions()
            .input(input, value)
            .input(
                "function-name",
                if input == "function-name" {
                    value
                } else {
                    "hello"
                },
            )
            .arg("run")
            .run();
        assert_eq!(out.code, 2, "{out}");
        assert!(out.stderr.contains(&format!("input `{input}`")), "{out}");
        assert!(out.workspace_file("ran").is_none(), "{out}");
        assert!(out.outputs().is_empty(), "{out}");
    }
}

/// Whether each line of `stdout` is read by the runner as a workflow command (outside any
/// `::stop-commands::` block), following the runner's rules.
fn lines_the_runner_obeys(stdout: &str) -> Vec<&str> {
    let mut stopped: Option<String> = None;
    let mut obeyed = Vec::new();
    for line in stdout.lines() {
        match &stopped {
            Some(token) => {
                if line == format!("::{token}::") {
                    stopped = None;
                }
            }
            None => {
                if let Some(token) = line.strip_prefix("::stop-commands::") {
                    stopped = Some(token.to_owned());
                } else if line.starts_with("::") {
                    obeyed.push(line);
                }
            }
        }
    }
    obeyed
}

#[test]
fn build_output_cannot_issue_workflow_commands() {
    let hostile = [
        "::add-mask::hello",
        "::error file=x.py,line=1::injected error",
        "::warning::injected warning",
        "::set-output name=deployed::true",
        "::stop-commands::guess",
        "::lp-00000000000000000000000000000000::",
        "::group::injected group",
        "::error::after a guessed resume",
    ];
    let commands: String = hostile
        .iter()
        .map(|line| format!("      - echo '{line}'\n"))
        .collect();
    let buildspec = format!("version: 0.2\nphases:\n  build:\n    commands:\n{commands}");
    let out = Test::new()
        .buildspec(&buildspec)
        .github_actions()
        .arg("build")
        .run();
    assert_eq!(out.code, 0, "{out}");
    let obeyed = lines_the_runner_obeys(&out.stdout);
    for line in hostile {
        assert!(
            out.stdout.lines().any(|l| l == line),
            "`{line}` was not printed; {out}"
        );
        assert!(
            !obeyed.contains(&line),
            "the runner would obey `{line}`; {out}"
        );
    }
    // Opted out: the build's own commands reach the runner.
    let out = Test::new()
        .buildspec(&buildspec)
        .github_actions()
        .input("allow-workflow-commands", "true")
        .arg("build")
        .run();
    let obeyed = lines_the_runner_obeys(&out.stdout);
    assert!(obeyed.contains(&"::warning::injected warning"), "{out}");
}

// ---------------------------------------------------------------- 6. resource bounds

/// Runs `test` under GNU time with stdout to `stdout_file`; returns (exit code, peak RSS in MB,
/// stderr).
fn run_measured(test: &Test, stdout_file: &std::path::Path) -> (i32, f64, String) {
    let base = test.command();
    let mut timed = std::process::Command::new("/usr/bin/time");
    timed
        .args(["-f", "maxrss_kb=%M"])
        .arg(base.get_program())
        .args(base.get_args())
        .current_dir(base.get_current_dir().unwrap())
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(stdout_file).unwrap());
    for (key, value) in base.get_envs() {
        match value {
            Some(value) => timed.env(key, value),
            None => timed.env_remove(key),
        };
    }
    let output = timed
        .output()
        .expect("GNU time is required (apt-get install time)");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let kb: f64 = stderr
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("maxrss_kb="))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no maxrss from GNU time: {stderr}"));
    (output.status.code().unwrap_or(-1), kb / 1024.0, stderr)
}

#[test]
fn resource_bounds_200_mb_of_output_and_a_3_mb_line() {
    let megabytes = 200;
    let test = Test::new().github_actions().buildspec(&format!(
        "version: 0.2\nphases:\n  build:\n    commands:\n      - head -c {} /dev/zero | tr '\\0' 'a' | fold -w 99\n      - head -c 3145728 /dev/zero | tr '\\0' 'b'; echo\n",
        megabytes * 1024 * 1024
    ));
    let stdout_file = test.dir.path().join("stdout.txt");
    let test = test.arg("build");
    let (code, peak_mb, stderr) = run_measured(&test, &stdout_file);
    assert_eq!(code, 0, "{stderr}");
    let mut longest = 0;
    let mut printed = 0u64;
    let reader = std::io::BufReader::new(std::fs::File::open(&stdout_file).unwrap());
    for line in std::io::BufRead::split(reader, b'\n') {
        let line = line.unwrap();
        longest = longest.max(line.len());
        printed += line.len() as u64 + 1;
    }
    assert!(
        printed > megabytes * 1024 * 1024,
        "only {printed} bytes came out"
    );
    assert!(
        longest <= 1024 * 1024,
        "a {longest}-byte line was passed on whole"
    );
    // Memory does not grow with the output: far below its 200 MB.
    assert!(peak_mb < 64.0, "peak RSS {peak_mb:.1} MB");
    record_tally(
        "output-bounds",
        &[format!(
            "{megabytes} MB of build output in 99-byte lines plus one 3 MiB line: peak RSS {peak_mb:.1} MB (debug build), longest line passed on {longest} bytes"
        )],
    );
}

/// Writes `megabytes` of incompressible files under `dir`, in 8 MB files.
fn random_tree(dir: &std::path::Path, megabytes: usize) {
    use rand::{RngCore as _, SeedableRng as _};
    let mut rng = rand::rngs::StdRng::seed_from_u64(300);
    let mut chunk = vec![0u8; 8 * 1024 * 1024];
    std::fs::create_dir_all(dir).unwrap();
    for i in 0..megabytes / 8 {
        rng.fill_bytes(&mut chunk);
        std::fs::write(dir.join(format!("blob-{i:03}.bin")), &chunk).unwrap();
    }
}

#[test]
fn resource_bounds_packaging_240_mb_and_refusing_300_mb() {
    let mut lines = Vec::new();
    for (megabytes, fits) in [(240, true), (304, false)] {
        let test = Test::new();
        random_tree(&test.workspace().join("app"), megabytes);
        let stdout_file = test.dir.path().join("stdout.txt");
        let test = test.args(&[
            "package",
            "--package-directory",
            "app",
            "--output",
            "out.zip",
        ]);
        let (code, peak_mb, stderr) = run_measured(&test, &stdout_file);
        let zip = test.workspace().join("out.zip");
        if fits {
            assert_eq!(code, 0, "{stderr}");
            let size = std::fs::metadata(&zip).unwrap().len() as f64 / 1e6;
            assert!(size > megabytes as f64, "{size} MB zip");
            assert!(peak_mb < 128.0, "peak RSS {peak_mb:.1} MB");
            lines.push(format!(
                "{megabytes} MiB of incompressible files packaged into a {size:.0} MB zip: peak RSS {peak_mb:.1} MB (debug build)"
            ));
        } else {
            assert_eq!(code, 1, "{stderr}");
            assert!(stderr.contains("over Lambda's 250 MB limit"), "{stderr}");
            assert!(!zip.exists());
            assert!(peak_mb < 128.0, "peak RSS {peak_mb:.1} MB");
            lines.push(format!(
                "{megabytes} MiB tree refused before zipping (over Lambda's 250 MB unzipped limit): peak RSS {peak_mb:.1} MB"
            ));
        }
    }
    record_tally("package-bounds", &lines);
}

/// The step after the canary weight fails for good: the old routing must come back, and the
/// report must say where the alias is.
#[test]
fn a_failed_final_alias_move_puts_the_canary_weight_back() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let name = function_with_live_alias(&runtime, "unweight");
    let before = alias_now(&runtime, &name);
    let proxy = FaultProxy::start(&Moto::shared().endpoint());
    proxy.rule(
        Rule::on("PUT", "/aliases/live")
            .body_contains(r#""AdditionalVersionWeights":{}"#)
            .aws_error(
                400,
                "InvalidParameterValueException",
                "injected: final move refused",
            )
            .times(1),
    );
    let out = project("unweight")
        .env("AWS_ENDPOINT_URL", &proxy.endpoint())
        .input("function-name", &name)
        .input("traffic-shift", "canary 50 1s")
        .arg("run")
        .run();
    assert_eq!(out.code, 1, "{out}");
    let weighted = proxy
        .requests_to("PUT", "/aliases/live")
        .iter()
        .any(|r| r.body.contains(r#""AdditionalVersionWeights":{"2":0.5}"#));
    assert!(
        weighted,
        "the canary weight was never set: {:?}",
        proxy.requests()
    );
    assert_eq!(alias_now(&runtime, &name), before, "{out}");
    let report = out.report();
    assert_eq!(
        report["deploy"][0]["version"],
        before.version.as_str(),
        "{out}"
    );
    assert!(
        report["error"]
            .as_str()
            .unwrap()
            .contains("is back on version 1"),
        "{report:#}"
    );
}
