//! A fault-injecting HTTP proxy on 127.0.0.1, in front of moto, for what moto cannot do:
//! `LastUpdateStatus` InProgress or Failed, throttling (429), server errors (5xx), a
//! `FunctionError` from an invoke, an STS refusal, CloudWatch alarm states (moto 5.2 does not
//! speak the SDK's RPC v2 CBOR protocol for CloudWatch; `respond_cbor` answers for it).
//!
//! Scripted rules match a request (method, path substring, optional body substring) and either
//! answer it themselves or forward it and patch the JSON answer, a set number of times. Every
//! request is recorded (method, path, body, status, whether a rule fired) for assertions.
//! Point the SDK at `proxy.endpoint()` instead of moto's.
//!
//! Chaos mode (`FaultProxy::chaos`) injects, from a seed, a random fault into a share of the
//! requests no rule answers: connection resets before and after the request reached moto (the
//! second one loses the answer of a call that took effect), 500/503, 429 throttling, 409
//! conflicts and slow answers. Every injected fault is counted by kind.
//!
//! Lambda guards (`FaultProxy::with_lambda_guards`) add what moto 5 leaves out: RevisionId
//! checks on UpdateFunctionCode, PublishVersion and UpdateAlias, and the CodeSha256 check of
//! PublishVersion, answering 412 PreconditionFailedException as Lambda does. Requests are then
//! handled one at a time, so a check and the update it guards are atomic.
//!
//! Function URLs (`FaultProxy::with_function_urls`) are kept by the proxy per function and
//! qualifier: moto 5.2 ignores the `Qualifier` of Create/Get/Update/DeleteFunctionUrlConfig and
//! keeps one URL per function, so two preview aliases would share (and delete) one URL. The
//! proxy answers those four calls as Lambda does, refusing a qualifier that is not an alias in
//! moto.
//!
//! The proxy runs on its own thread and runtime, so it serves synchronous tests that spawn the
//! binary as well as async ones.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use serde_json::Value;

/// What a rule does when it fires.
#[derive(Debug, Clone)]
pub enum Action {
    /// Answer without forwarding.
    Respond {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    /// Forward, then set JSON fields of the answer (`a.b` reaches into objects).
    Patch(Vec<(String, Value)>),
    /// Forward after this many milliseconds.
    Delay(u64),
}

/// One scripted fault.
#[derive(Debug, Clone)]
pub struct Rule {
    method: Option<String>,
    path: String,
    body: Option<String>,
    /// How many more times it fires; `None` = always.
    remaining: Option<usize>,
    action: Action,
}

impl Rule {
    /// Matches `method` requests whose path contains `path`.
    pub fn on(method: &str, path: &str) -> Rule {
        Rule {
            method: Some(method.to_owned()),
            path: path.to_owned(),
            body: None,
            remaining: None,
            action: Action::Patch(Vec::new()),
        }
    }

    /// Also requires the request body to contain `text`.
    pub fn body_contains(mut self, text: &str) -> Rule {
        self.body = Some(text.to_owned());
        self
    }

    pub fn times(mut self, n: usize) -> Rule {
        self.remaining = Some(n);
        self
    }

    pub fn respond(mut self, status: u16, headers: &[(&str, &str)], body: &str) -> Rule {
        self.action = Action::Respond {
            status,
            headers: headers
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            body: body.as_bytes().to_vec(),
        };
        self
    }

    /// Answers in the Smithy RPC v2 CBOR protocol (CloudWatch's), with `value` as the body.
    pub fn respond_cbor(mut self, value: &Value) -> Rule {
        self.action = Action::Respond {
            status: 200,
            headers: vec![
                ("smithy-protocol".to_owned(), "rpc-v2-cbor".to_owned()),
                ("content-type".to_owned(), "application/cbor".to_owned()),
            ],
            body: cbor(value),
        };
        self
    }

    /// An AWS JSON error: `x-amzn-errortype: <code>` and `{"message": ...}`.
    pub fn aws_error(self, status: u16, code: &str, message: &str) -> Rule {
        let body = serde_json::json!({"message": message, "Type": "User"}).to_string();
        self.respond(
            status,
            &[
                ("x-amzn-errortype", code),
                ("content-type", "application/json"),
            ],
            &body,
        )
    }

    /// Holds the request this long before forwarding it.
    pub fn delay(mut self, millis: u64) -> Rule {
        self.action = Action::Delay(millis);
        self
    }

    pub fn patch(mut self, field: &str, value: Value) -> Rule {
        match &mut self.action {
            Action::Patch(fields) => fields.push((field.to_owned(), value)),
            action => *action = Action::Patch(vec![(field.to_owned(), value)]),
        }
        self
    }

    fn matches(&self, method: &str, path: &str, body: &str) -> bool {
        self.remaining != Some(0)
            && self.method.as_deref().is_none_or(|m| m == method)
            && path.contains(&self.path)
            && self.body.as_deref().is_none_or(|b| body.contains(b))
    }
}

/// One request the proxy saw.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub body: String,
    pub status: u16,
    pub injected: bool,
    /// The request's `X-Amz-Tenant-Id` header, when it had one.
    pub tenant_id: Option<String>,
}

/// A fault chaos mode can inject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Fault {
    /// The connection drops before the request reaches moto.
    ResetBefore,
    /// moto handles the request, then the connection drops: the answer is lost.
    LostAnswer,
    ServerError500,
    Unavailable503,
    Throttling429,
    TooManyRequests429,
    Conflict409,
    /// The answer comes after 1 to 3 seconds.
    Slow,
}

impl Fault {
    pub const ALL: [Fault; 8] = [
        Fault::ResetBefore,
        Fault::LostAnswer,
        Fault::ServerError500,
        Fault::Unavailable503,
        Fault::Throttling429,
        Fault::TooManyRequests429,
        Fault::Conflict409,
        Fault::Slow,
    ];

    fn error_answer(self) -> Option<(u16, &'static str)> {
        match self {
            Fault::ServerError500 => Some((500, "ServiceException")),
            Fault::Unavailable503 => Some((503, "ServiceUnavailable")),
            Fault::Throttling429 => Some((429, "ThrottlingException")),
            Fault::TooManyRequests429 => Some((429, "TooManyRequestsException")),
            Fault::Conflict409 => Some((409, "ResourceConflictException")),
            _ => None,
        }
    }
}

struct Chaos {
    rng: rand::rngs::StdRng,
    rate: f64,
    counts: std::collections::BTreeMap<Fault, usize>,
}

impl Chaos {
    fn draw(&mut self) -> Option<(Fault, u64)> {
        use rand::Rng as _;
        if !self.rng.random_bool(self.rate) {
            return None;
        }
        let fault = Fault::ALL[self.rng.random_range(0..Fault::ALL.len())];
        *self.counts.entry(fault).or_default() += 1;
        Some((fault, self.rng.random_range(1000..3000)))
    }
}

#[derive(Default)]
struct State {
    rules: Vec<Rule>,
    log: Vec<Recorded>,
    /// `(method, path)` of every request, recorded when it arrives.
    arrivals: Vec<(String, String)>,
    chaos: Option<Chaos>,
    guards: Option<Arc<tokio::sync::Mutex<Guards>>>,
    urls: Option<Arc<Mutex<FunctionUrls>>>,
}

/// Function URL configurations, per (function, qualifier).
#[derive(Default)]
struct FunctionUrls {
    configs: std::collections::BTreeMap<(String, String), Value>,
    next: u64,
}

/// One function URL the proxy keeps: `(function, qualifier, auth type, url)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionUrl {
    pub function: String,
    pub qualifier: String,
    pub auth_type: String,
    pub url: String,
}

/// Lambda's revision bookkeeping, kept by the proxy: moto 5 has none.
#[derive(Default)]
struct Guards {
    /// Function name → its $LATEST RevisionId.
    functions: std::collections::HashMap<String, u64>,
    /// (function, alias) → the alias's RevisionId.
    aliases: std::collections::HashMap<(String, String), u64>,
    /// Function name → its $LATEST CodeSha256, as last seen in an answer.
    code: std::collections::HashMap<String, String>,
    next: u64,
}

/// The Lambda call a request is, as far as the guards care.
enum Guarded {
    Function { name: String, qualified: bool },
    UpdateCode(String),
    Publish(String),
    Alias(String, String),
    UpdateAlias(String, String),
    Other,
}

impl Guarded {
    fn of(method: &str, path: &str) -> Guarded {
        let Some(rest) = path.strip_prefix("/2015-03-31/functions/") else {
            return Guarded::Other;
        };
        let (rest, query) = rest.split_once('?').unwrap_or((rest, ""));
        let parts: Vec<&str> = rest.split('/').collect();
        let name = parts[0].to_owned();
        match (method, &parts[1..]) {
            ("GET", [] | ["configuration"]) => Guarded::Function {
                name,
                qualified: query.contains("Qualifier="),
            },
            ("PUT", ["code"]) => Guarded::UpdateCode(name),
            ("POST", ["versions"]) => Guarded::Publish(name),
            ("GET", ["aliases", alias]) => Guarded::Alias(name, (*alias).to_owned()),
            ("PUT", ["aliases", alias]) => Guarded::UpdateAlias(name, (*alias).to_owned()),
            ("POST", ["aliases"]) => Guarded::Alias(name, String::new()),
            _ => Guarded::Other,
        }
    }
}

impl Guards {
    fn function(&mut self, name: &str) -> u64 {
        *self.functions.entry(name.to_owned()).or_default()
    }

    fn alias(&mut self, function: &str, alias: &str) -> u64 {
        *self
            .aliases
            .entry((function.to_owned(), alias.to_owned()))
            .or_default()
    }

    fn bump(&mut self) -> u64 {
        self.next += 1;
        self.next
    }

    /// `Some(reason)` when the request must fail with PreconditionFailedException.
    fn refuse(&mut self, call: &Guarded, body: &Value) -> Option<String> {
        let sent = body["RevisionId"].as_str();
        let stale = |current: u64| sent.is_some_and(|sent| sent != format!("r{current}"));
        match call {
            Guarded::UpdateCode(name) if stale(self.function(name)) => {
                Some("The Revision Id provided does not match the latest Revision Id.".into())
            }
            Guarded::Publish(name) => {
                if stale(self.function(name)) {
                    return Some(
                        "The Revision Id provided does not match the latest Revision Id.".into(),
                    );
                }
                let sha = body["CodeSha256"].as_str()?;
                let latest = self.code.get(name)?;
                (sha != latest).then(|| format!("CodeSha256 ({sha}) is different from current CodeSha256 in $LATEST ({latest}). Please try again with the CodeSha256 in $LATEST."))
            }
            Guarded::UpdateAlias(name, alias) if stale(self.alias(name, alias)) => {
                Some("The Revision Id provided does not match the latest Revision Id.".into())
            }
            _ => None,
        }
    }

    /// Records what a successful answer changed and puts the proxy's RevisionIds in it.
    fn observe(&mut self, call: &Guarded, answer: &mut Value) {
        match call {
            Guarded::Function {
                name,
                qualified: false,
            } => {
                let config = if answer.get("Configuration").is_some() {
                    &mut answer["Configuration"]
                } else {
                    &mut *answer
                };
                if let Some(sha) = config["CodeSha256"].as_str() {
                    self.code.insert(name.clone(), sha.to_owned());
                }
                config["RevisionId"] = format!("r{}", self.function(name)).into();
            }
            Guarded::UpdateCode(name) => {
                let revision = self.bump();
                self.functions.insert(name.clone(), revision);
                if let Some(sha) = answer["CodeSha256"].as_str() {
                    self.code.insert(name.clone(), sha.to_owned());
                }
                answer["RevisionId"] = format!("r{revision}").into();
            }
            Guarded::Alias(name, alias) => {
                let alias = if alias.is_empty() {
                    answer["Name"].as_str().unwrap_or_default().to_owned()
                } else {
                    alias.clone()
                };
                answer["RevisionId"] = format!("r{}", self.alias(name, &alias)).into();
            }
            Guarded::UpdateAlias(name, alias) => {
                let revision = self.bump();
                self.aliases.insert((name.clone(), alias.clone()), revision);
                answer["RevisionId"] = format!("r{revision}").into();
            }
            Guarded::Publish(_) | Guarded::Function { .. } | Guarded::Other => {}
        }
    }
}

type Failed = Box<dyn std::error::Error + Send + Sync>;

pub struct FaultProxy {
    pub port: u16,
    state: Arc<Mutex<State>>,
}

impl FaultProxy {
    /// Starts a proxy in front of `upstream` (e.g. moto's endpoint).
    pub fn start(upstream: &str) -> FaultProxy {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        let upstream = upstream.trim_end_matches('/').to_owned();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(serve(listener, upstream, shared));
        });
        FaultProxy { port, state }
    }

    /// A proxy that injects a fault, drawn from `seed`, into `rate` of the requests.
    pub fn chaos(upstream: &str, seed: u64, rate: f64) -> FaultProxy {
        use rand::SeedableRng as _;
        let proxy = FaultProxy::start(upstream);
        proxy.state.lock().unwrap().chaos = Some(Chaos {
            rng: rand::rngs::StdRng::seed_from_u64(seed),
            rate,
            counts: Default::default(),
        });
        proxy
    }

    /// Emulates Lambda's RevisionId and CodeSha256 guards in front of moto.
    pub fn with_lambda_guards(self) -> FaultProxy {
        self.state.lock().unwrap().guards = Some(Default::default());
        self
    }

    /// Keeps function URL configurations per qualifier, as Lambda does (moto does not).
    pub fn with_function_urls(self) -> FaultProxy {
        self.state.lock().unwrap().urls = Some(Default::default());
        self
    }

    /// The function URLs the proxy keeps.
    pub fn function_urls(&self) -> Vec<FunctionUrl> {
        let state = self.state.lock().unwrap();
        let Some(urls) = &state.urls else {
            return Vec::new();
        };
        urls.lock()
            .unwrap()
            .configs
            .iter()
            .map(|((function, qualifier), config)| FunctionUrl {
                function: function.clone(),
                qualifier: qualifier.clone(),
                auth_type: config["AuthType"].as_str().unwrap_or_default().to_owned(),
                url: config["FunctionUrl"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            })
            .collect()
    }

    /// How many faults of each kind chaos mode injected.
    pub fn injected(&self) -> std::collections::BTreeMap<Fault, usize> {
        let state = self.state.lock().unwrap();
        state
            .chaos
            .as_ref()
            .map(|c| c.counts.clone())
            .unwrap_or_default()
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn rule(&self, rule: Rule) -> &FaultProxy {
        self.state.lock().unwrap().rules.push(rule);
        self
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.state.lock().unwrap().log.clone()
    }

    /// Whether a `method` request whose path contains `path` has arrived (answered or not).
    pub fn arrived(&self, method: &str, path: &str) -> bool {
        let state = self.state.lock().unwrap();
        state
            .arrivals
            .iter()
            .any(|(m, p)| m == method && p.contains(path))
    }

    /// Requests whose method is `method` and whose path contains `path`.
    pub fn requests_to(&self, method: &str, path: &str) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|r| r.method == method && r.path.contains(path))
            .collect()
    }
}

async fn serve(listener: std::net::TcpListener, upstream: String, state: Arc<Mutex<State>>) {
    let listener = tokio::net::TcpListener::from_std(listener).unwrap();
    let client = reqwest::Client::new();
    loop {
        let Ok((stream, _)): std::io::Result<(tokio::net::TcpStream, SocketAddr)> =
            listener.accept().await
        else {
            continue;
        };
        let upstream = upstream.clone();
        let state = state.clone();
        let client = client.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request| {
                handle(request, upstream.clone(), state.clone(), client.clone())
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn handle(
    request: Request<Incoming>,
    upstream: String,
    state: Arc<Mutex<State>>,
    client: reqwest::Client,
) -> Result<Response<Full<Bytes>>, Failed> {
    let method = request.method().as_str().to_owned();
    let path = request
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_default();
    let headers = request.headers().clone();
    let body = request
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let body_text = String::from_utf8_lossy(&body).into_owned();
    let action = {
        let mut state = state.lock().unwrap();
        state.arrivals.push((method.clone(), path.clone()));
        let rule = state
            .rules
            .iter_mut()
            .find(|r| r.matches(&method, &path, &body_text));
        rule.map(|rule| {
            if let Some(n) = &mut rule.remaining {
                *n -= 1;
            }
            rule.action.clone()
        })
    };
    let guards = state.lock().unwrap().guards.clone();
    let urls = state.lock().unwrap().urls.clone();
    if action.is_none()
        && let Some(urls) = urls
        && let Some(response) = function_url(
            &urls, &client, &upstream, &method, &path, &headers, &body_text,
        )
        .await
    {
        state.lock().unwrap().log.push(Recorded {
            method: method.clone(),
            path: path.clone(),
            body: abbreviate(&body_text),
            status: response.status().as_u16(),
            injected: false,
            tenant_id: None,
        });
        return Ok(response);
    }
    let chaos = match action {
        Some(_) => None,
        None => state.lock().unwrap().chaos.as_mut().and_then(Chaos::draw),
    };
    let injected = action.is_some() || chaos.is_some();
    let tenant_id = headers
        .get("x-amz-tenant-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let record = |status: u16| {
        state.lock().unwrap().log.push(Recorded {
            method: method.clone(),
            path: path.clone(),
            body: abbreviate(&body_text),
            status,
            injected,
            tenant_id: tenant_id.clone(),
        });
    };
    let action = match chaos {
        Some((Fault::ResetBefore, _)) => {
            record(0);
            return Err("injected: connection reset".into());
        }
        Some((Fault::LostAnswer, _)) => {
            let lost = pass_on(
                &guards,
                &client,
                &upstream,
                &method,
                &path,
                &headers,
                body,
                &[],
            )
            .await;
            record(lost.status().as_u16());
            return Err("injected: answer lost".into());
        }
        Some((Fault::Slow, millis)) => {
            tokio::time::sleep(std::time::Duration::from_millis(millis)).await;
            None
        }
        Some((fault, _)) => fault.error_answer().map(|(status, code)| {
            let body = serde_json::json!({"message": "injected fault", "Type": "Service"});
            Action::Respond {
                status,
                headers: vec![
                    ("x-amzn-errortype".to_owned(), code.to_owned()),
                    ("content-type".to_owned(), "application/json".to_owned()),
                ],
                body: body.to_string().into_bytes(),
            }
        }),
        None => action,
    };
    let action = match action {
        Some(Action::Delay(millis)) => {
            tokio::time::sleep(std::time::Duration::from_millis(millis)).await;
            None
        }
        other => other,
    };
    let response = match action {
        Some(Action::Respond {
            status,
            headers,
            body,
        }) => {
            let mut builder = Response::builder().status(status);
            for (k, v) in headers {
                builder = builder.header(k, v);
            }
            builder.body(Full::new(Bytes::from(body))).unwrap()
        }
        other => {
            let patch = match other {
                Some(Action::Patch(fields)) => fields,
                _ => Vec::new(),
            };
            pass_on(
                &guards, &client, &upstream, &method, &path, &headers, body, &patch,
            )
            .await
        }
    };
    record(response.status().as_u16());
    Ok(response)
}

/// Answers `…/2021-10-31/functions/<name>/url[?Qualifier=<q>]` (Create, Get, Update, Delete)
/// from `urls`; `None` for every other request.
async fn function_url(
    urls: &Mutex<FunctionUrls>,
    client: &reqwest::Client,
    upstream: &str,
    method: &str,
    path: &str,
    headers: &hyper::HeaderMap,
    body: &str,
) -> Option<Response<Full<Bytes>>> {
    let (route, query) = path.split_once('?').unwrap_or((path, ""));
    let name = route
        .strip_prefix("/2021-10-31/functions/")?
        .strip_suffix("/url")?;
    let name = percent_decode(name);
    let name = name.rsplit(":function:").next().unwrap_or(&name).to_owned();
    let qualifier = query
        .split('&')
        .find_map(|pair| pair.strip_prefix("Qualifier="))
        .map(percent_decode)
        .unwrap_or_else(|| "$LATEST".to_owned());
    let error = |status: u16, code: &str, message: String| {
        let body = serde_json::json!({"message": message, "Type": "User"}).to_string();
        Response::builder()
            .status(status)
            .header("x-amzn-errortype", code)
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(body)))
            .unwrap()
    };
    if qualifier != "$LATEST" {
        let alias = forward(
            client,
            upstream,
            "GET",
            &format!("/2015-03-31/functions/{name}/aliases/{qualifier}"),
            headers,
            Bytes::new(),
            &[],
        )
        .await;
        if !alias.status().is_success() {
            return Some(error(
                404,
                "ResourceNotFoundException",
                format!(
                    "Function not found: arn:aws:lambda:us-east-1:123456789012:function:{name}:{qualifier}"
                ),
            ));
        }
    }
    let key = (name.clone(), qualifier.clone());
    let sent: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let now = "2026-11-30T12:00:00.000+0000";
    let mut urls = urls.lock().unwrap();
    let missing = || {
        error(
            404,
            "ResourceNotFoundException",
            format!("The resource you requested does not exist: {name}:{qualifier}"),
        )
    };
    let answer = |status: u16, config: &Value| {
        Response::builder()
            .status(status)
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(config.to_string())))
            .unwrap()
    };
    Some(match method {
        "POST" => {
            if urls.configs.contains_key(&key) {
                return Some(error(
                    409,
                    "ResourceConflictException",
                    format!(
                        "Failed to create function url config for [functionArn = {name}:{qualifier}]. Error message:  FunctionUrlConfig exists for this Lambda function"
                    ),
                ));
            }
            urls.next += 1;
            let config = serde_json::json!({
                "FunctionUrl": format!("https://url{}-{}.lambda-url.us-east-1.on.aws/", urls.next, qualifier.to_lowercase().replace('$', "")),
                "FunctionArn": format!("arn:aws:lambda:us-east-1:123456789012:function:{name}:{qualifier}"),
                "AuthType": sent["AuthType"].clone(),
                "CreationTime": now,
                "LastModifiedTime": now,
                "InvokeMode": "BUFFERED",
            });
            urls.configs.insert(key, config.clone());
            answer(201, &config)
        }
        "GET" => match urls.configs.get(&key) {
            Some(config) => answer(200, config),
            None => missing(),
        },
        "PUT" => match urls.configs.get_mut(&key) {
            Some(config) => {
                if !sent["AuthType"].is_null() {
                    config["AuthType"] = sent["AuthType"].clone();
                }
                config["LastModifiedTime"] = now.into();
                answer(200, config)
            }
            None => missing(),
        },
        "DELETE" => match urls.configs.remove(&key) {
            Some(_) => Response::builder()
                .status(204)
                .body(Full::new(Bytes::new()))
                .unwrap(),
            None => missing(),
        },
        _ => return None,
    })
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%'
            && let Some(byte) = text
                .get(index + 1..index + 3)
                .and_then(|hex| u8::from_str_radix(hex, 16).ok())
        {
            out.push(byte);
            index += 3;
        } else {
            out.push(bytes[index]);
            index += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn abbreviate(body: &str) -> String {
    if body.len() > 4096 {
        format!("<{} bytes>", body.len())
    } else {
        body.to_owned()
    }
}

/// Forwards the request, through the Lambda guards when they are on.
#[allow(clippy::too_many_arguments)]
async fn pass_on(
    guards: &Option<Arc<tokio::sync::Mutex<Guards>>>,
    client: &reqwest::Client,
    upstream: &str,
    method: &str,
    path: &str,
    headers: &hyper::HeaderMap,
    body: Bytes,
    patch: &[(String, Value)],
) -> Response<Full<Bytes>> {
    let Some(guards) = guards else {
        return forward(client, upstream, method, path, headers, body, patch).await;
    };
    let mut guards = guards.lock().await;
    let call = Guarded::of(method, path);
    let sent: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    if let Some(reason) = guards.refuse(&call, &sent) {
        let body = serde_json::json!({"message": reason, "Type": "User"}).to_string();
        return Response::builder()
            .status(412)
            .header("x-amzn-errortype", "PreconditionFailedException")
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(body)))
            .unwrap();
    }
    let answer = forward(client, upstream, method, path, headers, body, patch).await;
    if !answer.status().is_success() {
        return answer;
    }
    let (parts, answer_body) = answer.into_parts();
    let bytes = answer_body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let bytes = match serde_json::from_slice::<Value>(&bytes) {
        Ok(mut json) if json.is_object() => {
            guards.observe(&call, &mut json);
            Bytes::from(json.to_string())
        }
        _ => bytes,
    };
    Response::from_parts(parts, Full::new(bytes))
}

async fn forward(
    client: &reqwest::Client,
    upstream: &str,
    method: &str,
    path: &str,
    headers: &hyper::HeaderMap,
    body: Bytes,
    patch: &[(String, Value)],
) -> Response<Full<Bytes>> {
    let mut request = client.request(
        reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
        format!("{upstream}{path}"),
    );
    for (name, value) in headers {
        if !matches!(
            name.as_str(),
            "host" | "content-length" | "transfer-encoding"
        ) {
            request = request.header(name.as_str(), value.as_bytes());
        }
    }
    let answer = match request.body(body).send().await {
        Ok(answer) => answer,
        Err(err) => {
            return Response::builder()
                .status(502)
                .body(Full::new(Bytes::from(format!("proxy: {err}"))))
                .unwrap();
        }
    };
    let status = answer.status().as_u16();
    let mut builder = Response::builder().status(status);
    for (name, value) in answer.headers() {
        if !matches!(
            name.as_str(),
            "content-length" | "transfer-encoding" | "connection"
        ) {
            builder = builder.header(name.as_str(), value.as_bytes());
        }
    }
    let mut bytes = answer.bytes().await.unwrap_or_default();
    if !patch.is_empty()
        && let Ok(Value::Object(mut object)) = serde_json::from_slice::<Value>(&bytes)
    {
        for (field, value) in patch {
            set_path(&mut object, field, value.clone());
        }
        bytes = Bytes::from(Value::Object(object).to_string());
    }
    builder.body(Full::new(bytes)).unwrap()
}

/// Encodes JSON as CBOR (RFC 8949): enough for canned Smithy RPC v2 answers.
pub fn cbor(value: &Value) -> Vec<u8> {
    fn head(out: &mut Vec<u8>, major: u8, len: u64) {
        let major = major << 5;
        match len {
            0..=23 => out.push(major | len as u8),
            24..=0xff => out.extend([major | 24, len as u8]),
            0x100..=0xffff => {
                out.push(major | 25);
                out.extend((len as u16).to_be_bytes());
            }
            _ => {
                out.push(major | 26);
                out.extend((len as u32).to_be_bytes());
            }
        }
    }
    fn encode(out: &mut Vec<u8>, value: &Value) {
        match value {
            Value::Null => out.push(0xf6),
            Value::Bool(b) => out.push(if *b { 0xf5 } else { 0xf4 }),
            Value::Number(n) => match n.as_u64() {
                Some(u) => head(out, 0, u),
                None => {
                    out.push(0xfb);
                    out.extend(n.as_f64().unwrap_or_default().to_be_bytes());
                }
            },
            Value::String(s) => {
                head(out, 3, s.len() as u64);
                out.extend(s.as_bytes());
            }
            Value::Array(items) => {
                head(out, 4, items.len() as u64);
                items.iter().for_each(|i| encode(out, i));
            }
            Value::Object(map) => {
                head(out, 5, map.len() as u64);
                for (k, v) in map {
                    head(out, 3, k.len() as u64);
                    out.extend(k.as_bytes());
                    encode(out, v);
                }
            }
        }
    }
    let mut out = Vec::new();
    encode(&mut out, value);
    out
}

/// Sets `a.b.c` inside `object`, creating objects on the way.
fn set_path(object: &mut serde_json::Map<String, Value>, path: &str, value: Value) {
    match path.split_once('.') {
        None => {
            object.insert(path.to_owned(), value);
        }
        Some((head, rest)) => {
            let inner = object
                .entry(head.to_owned())
                .or_insert_with(|| Value::Object(Default::default()));
            if let Value::Object(inner) = inner {
                set_path(inner, rest, value);
            }
        }
    }
}
