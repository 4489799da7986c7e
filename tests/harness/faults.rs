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
//! The proxy runs on its own thread and runtime, so it serves synchronous tests that spawn the
//! binary as well as async ones.

use std::convert::Infallible;
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
}

#[derive(Default)]
struct State {
    rules: Vec<Rule>,
    log: Vec<Recorded>,
}

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
) -> Result<Response<Full<Bytes>>, Infallible> {
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
    let injected = action.is_some();
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
            forward(&client, &upstream, &method, &path, &headers, body, &patch).await
        }
    };
    state.lock().unwrap().log.push(Recorded {
        method,
        path,
        body: if body_text.len() > 4096 {
            format!("<{} bytes>", body_text.len())
        } else {
            body_text
        },
        status: response.status().as_u16(),
        injected,
    });
    Ok(response)
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
