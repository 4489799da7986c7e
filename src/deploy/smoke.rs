//! The smoke test: invoke the new version with the `smoke-test` payload before any traffic
//! moves. A `FunctionError`, or a response that does not contain `smoke-test-expect` (a JSON
//! subset match), fails the deploy.
//! Owns: the invoke and the subset match. Must not: touch the alias.

use aws_sdk_lambda::primitives::Blob;
use serde_json::Value;
use tokio::time::Instant;

use super::retry::{self, Limiter};
use crate::settings::deploy::SmokeTest;

/// Invokes `function:version` and checks the answer.
pub async fn run(
    client: &aws_sdk_lambda::Client,
    limiter: &Limiter,
    function: &str,
    version: &str,
    test: &SmokeTest,
    deadline: Instant,
) -> Result<(), String> {
    let output = retry::call(limiter, "Invoke", deadline, || {
        client
            .invoke()
            .function_name(function)
            .qualifier(version)
            .set_tenant_id(test.tenant_id.clone())
            .payload(Blob::new(test.payload.as_bytes()))
            .send()
    })
    .await
    .map_err(|e| e.message)?;
    let body = output
        .payload()
        .map(|p| String::from_utf8_lossy(p.as_ref()).into_owned())
        .unwrap_or_default();
    if let Some(kind) = output.function_error() {
        return Err(format!(
            "version {version} answered with a FunctionError (`{kind}`): {}",
            shorten(&body)
        ));
    }
    let Some(expected) = &test.expect else {
        return Ok(());
    };
    let actual: Value = serde_json::from_str(&body).map_err(|_| {
        format!(
            "version {version} answered `{}`, which is not JSON; `smoke-test-expect` needs JSON",
            shorten(&body)
        )
    })?;
    match mismatch(expected, &actual, "$") {
        None => Ok(()),
        Some(why) => Err(format!(
            "version {version} answered `{}`, which does not match `smoke-test-expect`: {why}",
            shorten(&body)
        )),
    }
}

fn shorten(text: &str) -> String {
    let text = text.trim();
    if text.chars().count() <= 300 {
        text.to_owned()
    } else {
        format!("{}…", text.chars().take(300).collect::<String>())
    }
}

/// Where `actual` fails to contain `expected`: objects match when every expected key matches,
/// arrays element by element, scalars by equality. A string holding JSON (an API Gateway
/// `body`) is compared as the JSON it holds.
pub fn mismatch(expected: &Value, actual: &Value, path: &str) -> Option<String> {
    match (expected, actual) {
        (Value::Object(_) | Value::Array(_), Value::String(text)) => {
            match serde_json::from_str::<Value>(text) {
                Ok(inner) => mismatch(expected, &inner, path),
                Err(_) => Some(format!("{path} is a string, expected {expected}")),
            }
        }
        (Value::Object(want), Value::Object(have)) => want.iter().find_map(|(key, value)| {
            let at = format!("{path}.{key}");
            match have.get(key) {
                None => Some(format!("{at} is missing")),
                Some(found) => mismatch(value, found, &at),
            }
        }),
        (Value::Array(want), Value::Array(have)) => {
            if want.len() != have.len() {
                return Some(format!(
                    "{path} has {} items, expected {}",
                    have.len(),
                    want.len()
                ));
            }
            want.iter()
                .zip(have)
                .enumerate()
                .find_map(|(i, (w, h))| mismatch(w, h, &format!("{path}[{i}]")))
        }
        (Value::Number(want), Value::Number(have)) if want.as_f64() == have.as_f64() => None,
        (want, have) if want == have => None,
        (want, have) => Some(format!("{path} is {have}, expected {want}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn subset_matching() {
        let actual =
            json!({"statusCode": 200, "body": "{\"message\":\"hello, smoke\"}", "x": [1, 2]});
        assert_eq!(mismatch(&json!({"statusCode": 200}), &actual, "$"), None);
        assert_eq!(
            mismatch(&json!({"body": {"message": "hello, smoke"}}), &actual, "$"),
            None
        );
        assert_eq!(
            mismatch(&json!({"statusCode": 500}), &actual, "$").unwrap(),
            "$.statusCode is 200, expected 500"
        );
        assert_eq!(
            mismatch(&json!({"y": 1}), &actual, "$").unwrap(),
            "$.y is missing"
        );
    }
}
