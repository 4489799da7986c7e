//! The hint for a command that exits 127: which tool is missing (from the shell's own
//! `X: not found` line) and how to get it: a `runtime-versions` entry, host mode, or an
//! install command. Said once per build.
//! Owns: that table. Must not: print, run anything.

/// The tool a shell said it could not find, from a command's output.
pub fn missing_tool(output: &str) -> Option<String> {
    // dash: `sh: 1: sam: not found`; bash: `bash: line 1: sam: command not found`.
    let re = regex::Regex::new(
        r"(?m)^.*?:\s*(?:line \d+: |\d+: )?([A-Za-z0-9._+-]+): (?:command )?not found\s*$",
    )
    .ok()?;
    re.captures_iter(output).last().map(|c| c[1].to_owned())
}

/// `hint: …` for `tool`, missing in this build.
pub fn hint(tool: &str) -> String {
    const HOST: &str =
        "host mode (`OWNER/lambda-pipeline/host@v1`) runs the build on the runner, which has it";
    let how = match tool {
        "python" | "python3" | "pip" | "pip3" => {
            "add a `runtime-versions` entry to the install phase (`python: 3.12`)".to_owned()
        }
        "node" | "npm" | "npx" | "corepack" => {
            "add a `runtime-versions` entry to the install phase (`nodejs: 22`)".to_owned()
        }
        "yarn" | "pnpm" => format!(
            "run `corepack enable` in the install phase (with `nodejs: 22` in `runtime-versions`) before `{tool}`"
        ),
        "sam" => format!("run `pip install aws-sam-cli` in the install phase, or use {HOST}"),
        "cdk" => format!("run `npm install -g aws-cdk` in the install phase, or use {HOST}"),
        "serverless" | "sls" => "run `npm install -g serverless` in the install phase".to_owned(),
        "java" | "javac" | "mvn" | "gradle" | "go" | "dotnet" | "ruby" | "gem" | "bundle"
        | "php" | "composer" | "terraform" => {
            format!("this image has no {tool}: use {HOST}, or install it in the install phase")
        }
        _ => format!(
            "install it in the install phase (`apt-get update && apt-get install -y {tool}`, for a Debian package of that name), or use {HOST}"
        ),
    };
    format!("hint: `{tool}` is not installed here (exit status 127): {how}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shell_names_the_tool() {
        assert_eq!(
            missing_tool("sh: 1: sam: not found\n").as_deref(),
            Some("sam")
        );
        assert_eq!(
            missing_tool("x\nbash: line 1: mvn: command not found\n").as_deref(),
            Some("mvn")
        );
        assert_eq!(missing_tool("all good"), None);
    }

    #[test]
    fn hints_name_a_way_to_get_it() {
        assert!(hint("sam").contains("pip install aws-sam-cli"));
        assert!(hint("python3").contains("runtime-versions"));
        assert!(hint("yarn").contains("corepack enable"));
        assert!(hint("mvn").contains("host mode"));
        assert!(hint("tree").contains("apt-get install -y tree"));
    }
}
