//! A look at a zip's entry names before it is deployed, against the function it goes to: a
//! package that holds only another zip (Lambda does not unpack it), or no entry where the
//! function's runtime looks for its handler. Both are warnings naming the input that fixes
//! them; a layer may still provide the handler, so they never fail a deploy.
//! Owns: those two checks. Must not: call AWS, read files, fail a deploy.

/// What Lambda says about the function (GetFunction's configuration).
#[derive(Debug, Clone, Default)]
pub struct FunctionCode {
    pub handler: Option<String>,
    pub runtime: Option<String>,
}

/// The warning for deploying a zip with `files` (its entry names) as `package` to `function`,
/// or `None` when the package looks like a Lambda package.
pub fn check(
    function: &str,
    package: &str,
    files: &[String],
    code: &FunctionCode,
) -> Option<String> {
    if let Some(inner) = only_zips(files) {
        return Some(format!(
            "the package `{package}` holds only {inner}: Lambda does not unpack a zip inside the zip, so `{function}` would not find its code; set `zip-file` to the zip your buildspec builds, or list the files themselves in `artifacts.files`"
        ));
    }
    let handler = code.handler.as_deref()?.trim();
    let runtime = code.runtime.as_deref()?.trim();
    let wanted = handler_files(runtime, handler)?;
    if files.iter().any(|file| wanted.matches(file)) {
        return None;
    }
    Some(format!(
        "no entry of the package `{package}` matches the handler `{handler}` of `{function}` ({runtime} looks for {}); unless a layer provides it, the function will fail to start. Put the handler at the zip's root: fix `artifacts.base-directory`/`files` in the buildspec, or set `package-directory` (or `zip-file`) to what should be deployed",
        wanted.describe()
    ))
}

/// `` `a.zip` `` when every entry is a zip (one or more), else `None`.
fn only_zips(files: &[String]) -> Option<String> {
    let is_zip = |name: &String| name.to_ascii_lowercase().ends_with(".zip");
    if files.is_empty() || !files.iter().all(is_zip) {
        return None;
    }
    let names: Vec<String> = files.iter().take(3).map(|f| format!("`{f}`")).collect();
    let more = if files.len() > 3 { ", …" } else { "" };
    Some(format!("{}{more}", names.join(", ")))
}

/// Where a runtime looks for a handler.
#[derive(Debug, PartialEq, Eq)]
enum Wanted {
    /// A module: `<stem>` followed by one of the extensions, or `<stem>/<index>`.
    Module {
        stem: String,
        extensions: &'static [&'static str],
        index: &'static [&'static str],
    },
    /// Exactly this entry.
    File(String),
    /// A Java class, or any jar (the class may be inside one).
    JavaClass(String),
}

impl Wanted {
    fn matches(&self, file: &str) -> bool {
        match self {
            Wanted::Module {
                stem,
                extensions,
                index,
            } => {
                let Some(rest) = file.strip_prefix(stem.as_str()) else {
                    return false;
                };
                extensions.iter().any(|ext| rest.starts_with(ext))
                    || index.iter().any(|i| rest.strip_prefix('/') == Some(i))
            }
            Wanted::File(name) => file == name,
            Wanted::JavaClass(class) => file == class || file.ends_with(".jar"),
        }
    }

    fn describe(&self) -> String {
        match self {
            Wanted::Module {
                stem, extensions, ..
            } => format!("`{stem}{}`", extensions[0]),
            Wanted::File(name) => format!("`{name}`"),
            Wanted::JavaClass(class) => format!("`{class}` or a jar"),
        }
    }
}

/// The file `runtime` loads for `handler`, or `None` for runtimes this check does not know.
fn handler_files(runtime: &str, handler: &str) -> Option<Wanted> {
    let module = || {
        handler
            .rsplit_once('.')
            .map(|(module, _)| module.to_owned())
    };
    if runtime.starts_with("python") {
        // `pkg.mod.func` imports `pkg/mod`; `src/app.func` loads `src/app`.
        return Some(Wanted::Module {
            stem: module()?.replace('.', "/"),
            // `.py`, `.pyc`, and compiled modules such as `.cpython-312-x86_64-linux-gnu.so`.
            extensions: &[".py", ".pyc", ".cpython-", ".abi3.so", ".so"],
            index: &["__init__.py"],
        });
    }
    if runtime.starts_with("nodejs") {
        return Some(Wanted::Module {
            stem: module()?,
            extensions: &[".js", ".mjs", ".cjs"],
            index: &["index.js", "index.mjs", "index.cjs"],
        });
    }
    if runtime.starts_with("ruby") {
        return Some(Wanted::Module {
            stem: module()?,
            extensions: &[".rb"],
            index: &[],
        });
    }
    if runtime.starts_with("java") {
        let class = handler.split("::").next()?.trim();
        return Some(Wanted::JavaClass(format!(
            "{}.class",
            class.replace('.', "/")
        )));
    }
    if runtime.starts_with("dotnet") {
        let assembly = handler.split("::").next()?.trim();
        return Some(Wanted::File(format!("{assembly}.dll")));
    }
    if runtime.starts_with("provided") {
        return Some(Wanted::File("bootstrap".to_owned()));
    }
    if runtime == "go1.x" {
        return Some(Wanted::File(handler.to_owned()));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(runtime: &str, handler: &str) -> FunctionCode {
        FunctionCode {
            handler: Some(handler.to_owned()),
            runtime: Some(runtime.to_owned()),
        }
    }

    fn files(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| (*n).to_owned()).collect()
    }

    fn warns(runtime: &str, handler: &str, names: &[&str]) -> bool {
        check("f", "p.zip", &files(names), &code(runtime, handler)).is_some()
    }

    #[test]
    fn a_zip_inside_the_zip_is_named() {
        let warning = check(
            "f",
            "p.zip",
            &files(&["deployment.zip"]),
            &FunctionCode::default(),
        )
        .unwrap();
        assert!(warning.contains("holds only `deployment.zip`"), "{warning}");
        assert!(warning.contains("`zip-file`"), "{warning}");
        assert!(!warns(
            "python3.12",
            "app.handler",
            &["app.py", "vendor.zip"]
        ));
    }

    #[test]
    fn python_handlers() {
        assert!(!warns("python3.9", "app.lambda_handler", &["app.py"]));
        assert!(!warns("python3.9", "src/app.handler", &["src/app.py"]));
        assert!(!warns("python3.12", "pkg.mod.handler", &["pkg/mod.py"]));
        assert!(!warns("python3.12", "pkg.handler", &["pkg/__init__.py"]));
        assert!(!warns(
            "python3.12",
            "fast.handler",
            &["fast.cpython-312-x86_64-linux-gnu.so"]
        ));
        assert!(warns(
            "python3.9",
            "app.lambda_handler",
            &["template.yml", "src/app.py"]
        ));
        assert!(!warns(
            "python3.9",
            "app.lambda_handler",
            &["application.py", "app.py"]
        ));
        assert!(warns(
            "python3.9",
            "app.lambda_handler",
            &["application.py"]
        ));
    }

    #[test]
    fn node_java_dotnet_and_custom_runtimes() {
        assert!(!warns("nodejs22.x", "index.handler", &["index.mjs"]));
        assert!(!warns(
            "nodejs22.x",
            "dist/index.handler",
            &["dist/index.js"]
        ));
        assert!(!warns("nodejs22.x", "lib.handler", &["lib/index.js"]));
        assert!(warns("nodejs22.x", "index.handler", &["src/index.ts"]));
        assert!(!warns(
            "java21",
            "com.example.Handler::handleRequest",
            &["com/example/Handler.class"]
        ));
        assert!(!warns("java21", "com.example.Handler", &["lib/app.jar"]));
        assert!(!warns(
            "dotnet8",
            "App::App.Function::Handler",
            &["App.dll"]
        ));
        assert!(!warns("provided.al2023", "ignored", &["bootstrap"]));
        assert!(warns("provided.al2023", "ignored", &["main"]));
        assert!(!warns("ruby3.3", "function.handler", &["function.rb"]));
    }

    #[test]
    fn unknown_runtimes_and_missing_configuration_say_nothing() {
        assert!(!warns("cobol1", "x.y", &["a"]));
        let silent = check("f", "p.zip", &files(&["a"]), &FunctionCode::default());
        assert!(silent.is_none());
    }
}
