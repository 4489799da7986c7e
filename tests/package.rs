//! Packaging (issue 3, spec §8 and §12 G): artifact selection, the deterministic zip, symlinks,
//! Lambda's limits, package sources and the `package` command, through the real binary and
//! checked with Python's `zipfile` and Info-ZIP's `unzip`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use base64::Engine;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::harness::{Output, Test, provision};

/// The fixture tree of spec §12 G.
fn g_tree(test: Test) -> Test {
    test.file("dist/a.js", "console.log('a')\n")
        .file("dist/a.js.map", "{}\n")
        .file("dist/sub/b.js", "console.log('b')\n")
        .file("dist/.env", "A=1\n")
        .file("README.md", "# readme\n")
        .file("my-build-1/my-file-1.txt", "1\n")
        .file("my-build-2/my-file-2.txt", "2\n")
        .file("my-build-2/my-subdirectory/my-file-3.txt", "3\n")
}

/// Runs `build` on the G tree with `artifacts` as the buildspec's artifacts section.
fn build_g(artifacts: &str) -> Output {
    let buildspec = format!(
        "version: 0.2\nphases:\n  build:\n    commands:\n      - echo building\nartifacts:\n{artifacts}"
    );
    g_tree(Test::new()).buildspec(&buildspec).arg("build").run()
}

fn primary(out: &Output) -> Value {
    let report = out.report();
    let primary = report["artifacts"].clone();
    assert!(
        primary["zip"].is_string(),
        "no primary artifact: {report:#}\n{out}"
    );
    primary
}

fn files(artifact: &Value) -> Vec<String> {
    artifact["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap().to_owned())
        .collect()
}

/// Entry names in the zip, read by Python's `zipfile`, which also checks every CRC.
fn python_names(zip: &str) -> Vec<String> {
    let script = "import sys, zipfile\nz = zipfile.ZipFile(sys.argv[1])\nbad = z.testzip()\nassert bad is None, bad\nprint('\\n'.join(z.namelist()))";
    let out = run_tool("python3", &["-c", script, zip]);
    out.lines().map(str::to_owned).collect()
}

/// Runs a tool that must exist; fails loudly when it is missing or fails.
fn run_tool(program: &str, args: &[&str]) -> String {
    let output = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "`{program}` is required for this test ({e}); zip, unzip and GNU time are Debian \
                 packages: `apt-get install zip unzip time`"
            )
        });
    assert!(
        output.status.success(),
        "`{program} {}` failed:\n{}{}",
        args.join(" "),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn assert_selected(artifacts: &str, expected: &[&str]) -> Output {
    let out = build_g(artifacts);
    assert_eq!(out.code, 0, "{out}");
    let artifact = primary(&out);
    assert_eq!(files(&artifact), expected, "{out}");
    let zip = artifact["zip"].as_str().unwrap();
    assert_eq!(python_names(zip), expected);
    assert_eq!(
        out.phase_status("UPLOAD_ARTIFACTS").as_deref(),
        Some("SUCCEEDED")
    );
    out
}

#[test]
fn c50_recursive_glob_keeps_paths_and_dot_files() {
    assert_selected(
        "  files:\n    - 'dist/**/*'\n",
        &["dist/.env", "dist/a.js", "dist/a.js.map", "dist/sub/b.js"],
    );
}

#[test]
fn c51_discard_paths_flattens() {
    assert_selected(
        "  files:\n    - 'dist/**/*.js'\n  discard-paths: yes\n",
        &["a.js", "b.js"],
    );
}

#[test]
fn c52_base_directory_strips_the_prefix() {
    assert_selected(
        "  files:\n    - '**/*'\n  base-directory: dist\n",
        &[".env", "a.js", "a.js.map", "sub/b.js"],
    );
}

#[test]
fn c53_star_stays_in_one_segment_under_a_base() {
    assert_selected(
        "  files:\n    - '*/my-file-3.txt'\n  base-directory: my-build-2\n",
        &["my-subdirectory/my-file-3.txt"],
    );
}

#[test]
fn c54_glob_base_directories_merge_and_flatten() {
    assert_selected(
        "  files:\n    - '**/*'\n  base-directory: 'my-build*'\n  discard-paths: yes\n",
        &["my-file-1.txt", "my-file-2.txt", "my-file-3.txt"],
    );
}

#[test]
fn c55_exclude_paths_relative_to_the_base() {
    assert_selected(
        "  files:\n    - '**/*'\n  base-directory: dist\n  exclude-paths:\n    - '**/*.map'\n    - '**/.*'\n",
        &["a.js", "sub/b.js"],
    );
}

#[test]
fn c57_a_missing_literal_path_is_skipped() {
    let out = assert_selected(
        "  files:\n    - README.md\n    - does/not/exist.txt\n",
        &["README.md"],
    );
    let skipped = out
        .stdout
        .lines()
        .filter(|l| l.contains("Skipping invalid file path does/not/exist.txt"))
        .count();
    assert_eq!(skipped, 1, "{out}");
}

#[test]
fn no_match_fails_upload_artifacts_naming_the_pattern() {
    let out = build_g("  files:\n    - 'nothing/**/*'\n");
    assert_eq!(out.code, 1, "{out}");
    assert_eq!(
        out.phase_status("UPLOAD_ARTIFACTS").as_deref(),
        Some("FAILED")
    );
    let report = out.report();
    let context = report["phases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "UPLOAD_ARTIFACTS")
        .unwrap()["context"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        context.starts_with("CLIENT_ERROR: no matching artifact paths found"),
        "{context}"
    );
    assert!(context.contains("nothing/**/*"), "{context}");
    assert_eq!(report["status"], "FAILED");
}

#[test]
fn c59_missing_base_directory() {
    let out = build_g("  files:\n    - '**/*'\n  base-directory: cdk.out\n");
    assert_eq!(out.code, 1, "{out}");
    assert_eq!(
        out.phase_status("UPLOAD_ARTIFACTS").as_deref(),
        Some("FAILED")
    );
    assert!(
        out.report()
            .to_string()
            .contains("CLIENT_ERROR: no matching base directory path found for cdk.out"),
        "{out}"
    );
}

#[test]
fn c60_name_is_evaluated_by_the_shell_after_post_build() {
    let out = g_tree(Test::new())
        .buildspec(
            "version: 0.2\nphases:\n  post_build:\n    commands: [ \"export REL=r7\" ]\nartifacts:\n  files: [ README.md ]\n  name: app-$REL-$(echo x)\n",
        )
        .arg("build")
        .run();
    assert_eq!(out.code, 0, "{out}");
    let artifact = primary(&out);
    assert_eq!(artifact["name"], "app-r7-x");
    assert!(
        artifact["zip"].as_str().unwrap().ends_with("/app-r7-x.zip"),
        "{artifact}"
    );
    assert!(Path::new(artifact["zip"].as_str().unwrap()).is_file());
}

/// CodeBuild's local agent stops here (`no definition for primary artifacts in buildspec`);
/// issue 13 chose to build: every secondary artifact is packaged.
#[test]
fn c61_secondary_artifacts_without_primary_files_are_packaged() {
    let out = Test::new()
        .buildspec(
            "version: 0.2\nphases:\n  build: { commands: [ \"echo hi > f.txt\" ] }\nartifacts:\n  secondary-artifacts:\n    one:\n      files: [ f.txt ]\n",
        )
        .arg("build")
        .run();
    assert_eq!(out.code, 0, "{out}");
    let secondary = &out.report()["artifacts"]["secondary"][0];
    assert_eq!(secondary["identifier"], "one");
    assert_eq!(files(secondary), ["f.txt"]);
}

#[test]
fn c61_secondary_artifacts_produce_one_zip_each() {
    let out = Test::new()
        .buildspec(
            "version: 0.2\nphases:\n  build: { commands: [ \"echo hi > f.txt\" ] }\nartifacts:\n  files: [ f.txt ]\n  secondary-artifacts:\n    one:\n      files: [ f.txt ]\n",
        )
        .arg("build")
        .run();
    assert_eq!(out.code, 0, "{out}");
    let report = out.report();
    let artifacts = &report["artifacts"];
    assert_eq!(files(artifacts), ["f.txt"]);
    let secondary = &artifacts["secondary"][0];
    assert_eq!(secondary["identifier"], "one");
    assert_eq!(files(secondary), ["f.txt"]);
    let zip = secondary["zip"].as_str().unwrap();
    assert!(zip.ends_with("/one.zip"), "{zip}");
    assert_ne!(zip, artifacts["zip"].as_str().unwrap());
    assert_eq!(python_names(zip), ["f.txt"]);
}

#[test]
fn c62_files_as_a_single_string() {
    assert_selected("  files: README.md\n", &["README.md"]);
}

#[test]
fn c63_unquoted_star_pattern_is_a_yaml_error_and_nothing_runs() {
    let out = Test::new()
        .buildspec(
            "version: 0.2\nphases:\n  build:\n    commands:\n      - touch ran\nartifacts:\n  files: [ **/* ]\n",
        )
        .arg("build")
        .run();
    assert_eq!(out.code, 2, "{out}");
    assert!(!out.path("ran").exists(), "a phase ran: {out}");
}

#[test]
fn paths_resolve_from_the_source_directory_not_the_last_cd() {
    let out = g_tree(Test::new())
        .buildspec(
            "version: 0.2\nphases:\n  build:\n    commands:\n      - mkdir -p deep && cd deep\n      - echo x > made.txt\nartifacts:\n  files:\n    - 'deep/*.txt'\n    - README.md\n",
        )
        .arg("build")
        .run();
    assert_eq!(out.code, 0, "{out}");
    assert_eq!(files(&primary(&out)), ["README.md", "deep/made.txt"]);
}

#[test]
fn escaping_patterns_are_refused() {
    let out = build_g("  files:\n    - '../outside/*'\n");
    assert_eq!(out.code, 1, "{out}");
    assert!(
        out.report()
            .to_string()
            .contains("leaves the base directory"),
        "{out}"
    );
}

#[test]
fn discard_paths_collisions_are_an_error() {
    let out = g_tree(Test::new())
        .file("dist/sub/a.js", "other\n")
        .buildspec(
            "version: 0.2\nphases:\n  build:\n    commands: [ 'true' ]\nartifacts:\n  files: [ 'dist/**/*.js' ]\n  discard-paths: yes\n",
        )
        .arg("build")
        .run();
    assert_eq!(out.code, 1, "{out}");
    let text = out.report().to_string();
    assert!(
        text.contains("two files would be stored as `a.js`"),
        "{text}"
    );
}

#[test]
fn the_output_zip_is_never_selected() {
    let test = g_tree(Test::new()).file("deployment.zip", "old zip");
    let out = test
        .buildspec("version: 0.2\nphases:\n  build:\n    commands: [ 'true' ]\nartifacts:\n  files: [ '**/*' ]\n")
        .args(&["package", "--output", "deployment.zip"])
        .run();
    assert_eq!(out.code, 0, "{out}");
    let names = files(&out.report()["artifacts"]);
    assert!(!names.contains(&"deployment.zip".to_owned()), "{names:?}");
    assert!(names.contains(&"buildspec.yml".to_owned()));
}

/// `unzip -t` and Python's `zipfile` accept the zip; modes are 0644 or 0755.
#[test]
fn zip_tools_accept_the_package_and_exec_bits_survive() {
    let test = Test::new()
        .file("app/bootstrap", "#!/bin/sh\necho hi\n")
        .file("app/lib/handler.py", "def handler(e, c):\n    return 1\n")
        .file("app/data/empty.txt", "");
    set_mode(&test.workspace().join("app/bootstrap"), 0o750);
    set_mode(&test.workspace().join("app/lib/handler.py"), 0o600);
    let out = test
        .args(&[
            "package",
            "--package-directory",
            "app",
            "--output",
            "out/deployment.zip",
        ])
        .run();
    assert_eq!(out.code, 0, "{out}");
    let zip = out.path("out/deployment.zip");
    let zip = zip.to_str().unwrap();
    let tested = run_tool("unzip", &["-t", zip]);
    assert!(tested.contains("No errors detected"), "{tested}");
    let script = "import sys, zipfile\nfor i in zipfile.ZipFile(sys.argv[1]).infolist():\n    print(i.filename, oct(i.external_attr >> 16), i.date_time, len(i.extra))";
    let listing = run_tool("python3", &["-c", script, zip]);
    assert_eq!(
        listing,
        "bootstrap 0o100755 (1980, 1, 1, 0, 0, 0) 0\n\
         data/empty.txt 0o100644 (1980, 1, 1, 0, 0, 0) 0\n\
         lib/handler.py 0o100644 (1980, 1, 1, 0, 0, 0) 0\n"
    );
    let extracted = out.path("x");
    run_tool("unzip", &["-q", zip, "-d", extracted.to_str().unwrap()]);
    let mode = std::fs::metadata(extracted.join("bootstrap")).unwrap();
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(mode.permissions().mode() & 0o111, 0o111);
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn package_tree(test: Test, output: &str) -> Output {
    test.args(&["package", "--package-directory", "src", "--output", output])
        .run()
}

fn sample_tree(test: Test) -> Test {
    let mut test = test;
    for i in 0..40 {
        test = test.file(
            &format!("src/pkg{}/module_{i}.py", i % 4),
            &format!("def f{i}():\n    return {}\n", i * 7).repeat(20),
        );
    }
    test.file("src/.hidden", "h\n")
        .file("src/big.json", &"{\"k\": [1, 2, 3]}\n".repeat(20_000))
}

/// Same tree, every mtime changed: byte-identical zips, and CodeSha256 is base64(SHA-256).
#[test]
fn packages_are_byte_identical_when_mtimes_change() {
    let test = sample_tree(Test::new());
    let ws = test.workspace();
    let first = package_tree(test, "one.zip");
    assert_eq!(first.code, 0, "{first}");
    run_tool(
        "find",
        &[
            ws.join("src").to_str().unwrap(),
            "-exec",
            "touch",
            "-d",
            "2001-02-03 04:05:06",
            "{}",
            "+",
        ],
    );
    let second = package_in(&ws, "two.zip");
    let one = std::fs::read(ws.join("one.zip")).unwrap();
    let two = std::fs::read(ws.join("two.zip")).unwrap();
    assert!(one == two, "the two packages differ\n{second}");
    let expected = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(&one));
    assert_eq!(first.report()["artifacts"]["sha256"], expected.as_str());
    assert_eq!(first.report()["artifacts"]["size"], one.len() as u64);
}

/// Runs `package` again in an existing workspace.
fn package_in(ws: &Path, output: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_lambda-pipeline"))
        .current_dir(ws)
        .args(["package", "--package-directory", "src", "--output", output])
        .env_remove("SOURCE_DATE_EPOCH")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn source_date_epoch_sets_every_timestamp() {
    let out = sample_tree(Test::new())
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .args(&["package", "--package-directory", "src", "--output", "d.zip"])
        .run();
    assert_eq!(out.code, 0, "{out}");
    let script = "import sys, zipfile\nprint(sorted({i.date_time for i in zipfile.ZipFile(sys.argv[1]).infolist()}))";
    let dates = run_tool(
        "python3",
        &["-c", script, out.path("d.zip").to_str().unwrap()],
    );
    assert_eq!(dates.trim(), "[(2023, 11, 14, 22, 13, 20)]");
}

#[test]
fn a_symlink_escaping_the_source_tree_is_refused() {
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret.txt"), "secret").unwrap();
    let test = Test::new().file("app/handler.py", "x = 1\n");
    let link = test.workspace().join("app/leak.txt");
    std::os::unix::fs::symlink(outside.path().join("secret.txt"), &link).unwrap();
    let out = test
        .args(&["package", "--package-directory", "app", "--output", "d.zip"])
        .run();
    assert_eq!(out.code, 1, "{out}");
    assert!(out.stderr.contains("symlink"), "{out}");
    assert!(out.stderr.contains(link.to_str().unwrap()), "{out}");
}

#[test]
fn internal_symlinks_follow_enable_symlinks() {
    let build = |enable: &str| {
        let test = Test::new()
            .file("app/lib/real.py", "x = 1\n")
            .buildspec(&format!(
                "version: 0.2\nphases:\n  build:\n    commands: [ 'true' ]\nartifacts:\n  files: [ '**/*' ]\n  base-directory: app\n  enable-symlinks: {enable}\n"
            ));
        std::os::unix::fs::symlink("lib/real.py", test.workspace().join("app/alias.py")).unwrap();
        let out = test.args(&["package", "--output", "d.zip"]).run();
        assert_eq!(out.code, 0, "{out}");
        let script = "import sys, zipfile\nz = zipfile.ZipFile(sys.argv[1])\ni = z.getinfo('alias.py')\nprint(oct(i.external_attr >> 16), z.read(i).decode())";
        run_tool(
            "python3",
            &["-c", script, out.path("d.zip").to_str().unwrap()],
        )
    };
    assert_eq!(build("yes"), "0o120777 lib/real.py\n");
    assert_eq!(build("no"), "0o100644 x = 1\n\n");
}

/// Incompressible data, generated deterministically.
fn write_noise(path: &Path, bytes: usize, seed: u64) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut state = seed | 1;
    let mut chunk = vec![0u8; 1 << 16];
    let mut left = bytes;
    while left > 0 {
        for byte in chunk.iter_mut() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            *byte = (state >> 24) as u8;
        }
        let n = left.min(chunk.len());
        file.write_all(&chunk[..n]).unwrap();
        left -= n;
    }
}

#[test]
fn a_package_over_fifty_megabytes_needs_s3() {
    let test = Test::new().file("app/handler.py", "x = 1\n");
    write_noise(&test.workspace().join("app/model.bin"), 40_000_000, 7);
    write_noise(
        &test.workspace().join("app/weights/extra.bin"),
        20_000_000,
        11,
    );
    let out = test
        .args(&["package", "--package-directory", "app", "--output", "d.zip"])
        .run();
    assert_eq!(out.code, 0, "{out}");
    let artifact = out.report()["artifacts"].clone();
    assert_eq!(artifact["needs_s3"], true, "{artifact}");
    assert!(artifact["size"].as_u64().unwrap() > 52_428_800);
    assert!(out.stdout.contains("through S3"), "{out}");
    let tested = run_tool("unzip", &["-t", out.path("d.zip").to_str().unwrap()]);
    assert!(tested.contains("No errors detected"), "{tested}");
}

#[test]
fn more_than_250_megabytes_unzipped_fails_listing_the_largest_paths() {
    let test = Test::new();
    let app = test.workspace().join("app");
    std::fs::create_dir_all(&app).unwrap();
    for i in 0..12u64 {
        let file = std::fs::File::create(app.join(format!("part-{i:02}.bin"))).unwrap();
        file.set_len(22_000_000 + i * 1_000).unwrap();
    }
    let out = test
        .args(&["package", "--package-directory", "app", "--output", "d.zip"])
        .run();
    assert_eq!(out.code, 1, "{out}");
    assert!(out.stderr.contains("over Lambda's 250 MB limit"), "{out}");
    for i in 2..12 {
        assert!(out.stderr.contains(&format!("part-{i:02}.bin")), "{out}");
    }
    assert!(!out.stderr.contains("part-00.bin"), "{out}");
    assert!(
        !out.path("d.zip").exists(),
        "the zip was written before the check"
    );
}

#[test]
fn package_command_zips_the_artifacts_section_without_running_phases() {
    let out = g_tree(Test::new())
        .buildspec(
            "version: 0.2\nphases:\n  build:\n    commands: [ 'touch ran' ]\nartifacts:\n  files: [ '**/*' ]\n  base-directory: dist\n  exclude-paths: [ '**/*.map' ]\n",
        )
        .args(&["package", "--buildspec", "buildspec.yml", "--output", "deployment.zip"])
        .run();
    assert_eq!(out.code, 0, "{out}");
    assert!(!out.path("ran").exists(), "a phase ran");
    let artifact = out.report()["artifacts"].clone();
    assert_eq!(files(&artifact), [".env", "a.js", "sub/b.js"]);
    assert_eq!(
        python_names(out.path("deployment.zip").to_str().unwrap()),
        [".env", "a.js", "sub/b.js"]
    );
    assert!(out.stdout.contains("packaged"), "{out}");
    assert_eq!(out.report()["status"], "SUCCEEDED");
}

#[test]
fn package_command_zips_a_directory() {
    let out = g_tree(Test::new())
        .args(&[
            "package",
            "--package-directory",
            "my-build-2",
            "--output",
            "deployment.zip",
        ])
        .run();
    assert_eq!(out.code, 0, "{out}");
    let artifact = out.report()["artifacts"].clone();
    assert_eq!(
        files(&artifact),
        ["my-file-2.txt", "my-subdirectory/my-file-3.txt"]
    );
    assert_eq!(artifact["uncompressed_size"], 4);
    assert_eq!(
        artifact["zip"],
        out.path("deployment.zip").to_str().unwrap()
    );
}

/// A zip the buildspec built is described as it is: entries, sizes and CodeSha256 of its bytes.
#[test]
fn zip_file_is_taken_as_it_is() {
    provision::require_program("zip", "apt-get install zip");
    let test = g_tree(Test::new());
    let ws = test.workspace();
    run_tool(
        "sh",
        &[
            "-c",
            &format!("cd {} && zip -q -r ../built.zip dist", ws.display()),
        ],
    );
    let built: PathBuf = ws.parent().unwrap().join("built.zip");
    let out = test.args(&["package", "--zip-file", "../built.zip"]).run();
    assert_eq!(out.code, 0, "{out}");
    let artifact = out.report()["artifacts"].clone();
    let bytes = std::fs::read(&built).unwrap();
    let expected = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(&bytes));
    assert_eq!(artifact["sha256"], expected.as_str());
    assert_eq!(artifact["size"], bytes.len() as u64);
    assert_eq!(
        files(&artifact),
        ["dist/.env", "dist/a.js", "dist/a.js.map", "dist/sub/b.js"]
    );
}

#[test]
fn zip_file_and_package_directory_conflict_before_anything_runs() {
    let out = g_tree(Test::new())
        .buildspec("version: 0.2\nphases:\n  build:\n    commands: [ 'touch ran' ]\n")
        .input("function-name", "f")
        .input("zip-file", "../deployment.zip")
        .input("package-directory", "dist")
        .arg("run")
        .run();
    assert_eq!(out.code, 2, "{out}");
    assert!(
        out.stderr.contains("`zip-file`") && out.stderr.contains("`package-directory`"),
        "{out}"
    );
    assert!(!out.path("ran").exists(), "a phase ran: {out}");
}

#[test]
fn run_without_any_package_source_says_which_inputs_to_set() {
    let out = Test::new()
        .buildspec("version: 0.2\nphases:\n  build:\n    commands: [ 'touch ran' ]\n")
        .input("function-name", "f")
        .arg("run")
        .run();
    assert_eq!(out.code, 2, "{out}");
    assert!(out.stderr.contains("nothing to deploy"), "{out}");
    assert!(
        out.stderr.contains("set `zip-file`") && out.stderr.contains("`package-directory`"),
        "{out}"
    );
    assert!(!out.path("ran").exists(), "a phase ran: {out}");
}

#[test]
fn package_command_refuses_both_sources() {
    let out = g_tree(Test::new())
        .args(&[
            "package",
            "--zip-file",
            "a.zip",
            "--package-directory",
            "dist",
        ])
        .run();
    assert_eq!(out.code, 2, "{out}");
    assert!(
        out.stderr
            .contains("`zip-file` and `package-directory` are both set"),
        "{out}"
    );
}
