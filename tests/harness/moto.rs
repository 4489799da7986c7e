//! One real `moto_server` for the whole test binary, on 127.0.0.1 and a free port.
//!
//! Started on first use, switched to moto's Docker-free Lambda backend before anything is
//! created, and stopped when the test process exits (a watcher shell kills it). The
//! `moto_server` on PATH, else the one `provision` installs. If moto cannot start, the test that
//! asked for it fails: tests never skip.

use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub struct Moto {
    pub port: u16,
}

static MOTO: OnceLock<Moto> = OnceLock::new();

impl Moto {
    pub fn shared() -> &'static Moto {
        MOTO.get_or_init(Moto::start)
    }

    /// A moto of its own, for a test that must use fixed resource names (a seed buildspec's
    /// hard-coded function) without racing the tests that share `Moto::shared()`.
    pub fn isolated() -> Moto {
        Moto::start_with(&[])
    }

    /// An isolated moto whose server runs with `env`, e.g. `MOTO_LAMBDA_STUB_ECR=false`.
    pub fn isolated_with_env(env: &[(&str, &str)]) -> Moto {
        Moto::start_with(env)
    }

    fn start() -> Moto {
        Moto::start_with(&[])
    }

    fn start_with(env: &[(&str, &str)]) -> Moto {
        let port = free_port();
        let log = std::env::temp_dir().join(format!("moto-{port}.log"));
        let script = format!(
            "'{}' -H 127.0.0.1 -p {port} > '{}' 2>&1 & child=$!; \
             while kill -0 {parent} 2>/dev/null; do sleep 0.5; done; kill $child",
            super::provision::moto_server().display(),
            log.display(),
            parent = std::process::id()
        );
        // The watcher shell lives as long as this test process; it is never waited for.
        let _watcher = Command::new("sh")
            .args(["-c", &script])
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("`sh` starts moto_server");
        std::mem::forget(_watcher);
        let moto = Moto { port };
        let deadline = Instant::now() + Duration::from_secs(60);
        while moto.get("/moto-api/").is_err() {
            assert!(
                Instant::now() < deadline,
                "moto_server did not answer on 127.0.0.1:{port} within 60 s; log: {}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        moto.post("/moto-api/config", r#"{"lambda":{"use_docker":false}}"#)
            .expect("configure moto's Lambda backend");
        moto
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The environment that points the SDK and the aws CLI at this server.
    pub fn env(&self) -> Vec<(String, String)> {
        [
            ("AWS_ENDPOINT_URL", self.endpoint()),
            ("AWS_ACCESS_KEY_ID", "testing".to_owned()),
            ("AWS_SECRET_ACCESS_KEY", "testing".to_owned()),
            ("AWS_SESSION_TOKEN", "testing".to_owned()),
            ("AWS_REGION", "us-east-1".to_owned()),
            ("AWS_DEFAULT_REGION", "us-east-1".to_owned()),
            ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
            ("AWS_PAGER", String::new()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    }

    /// An SDK config for this server, for tests that set up or inspect AWS state.
    pub async fn sdk_config(&self) -> aws_config::SdkConfig {
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .endpoint_url(self.endpoint())
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_sts::config::Credentials::new(
                "testing", "testing", None, None, "tests",
            ))
            .load()
            .await
    }

    pub fn get(&self, path: &str) -> Result<String, String> {
        http(self.port, "GET", path, "")
    }

    pub fn post(&self, path: &str, body: &str) -> Result<String, String> {
        http(self.port, "POST", path, body)
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A minimal HTTP/1.0 exchange, enough for moto's control API.
fn http(port: u16, method: &str, path: &str, body: &str) -> Result<String, String> {
    use std::io::{Read, Write};
    let mut stream =
        std::net::TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    stream.set_read_timeout(Some(Duration::from_secs(30))).ok();
    write!(
        stream,
        "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .map_err(|e| e.to_string())?;
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .map_err(|e| e.to_string())?;
    let status_ok = response.starts_with("HTTP/1.0 2") || response.starts_with("HTTP/1.1 2");
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    if status_ok { Ok(body) } else { Err(response) }
}
