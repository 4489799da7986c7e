//! A function's paged Lambda listings, read whole: its versions and its aliases. Owns the
//! pagination and nothing else; what to keep from a listing is the caller's business.

use aws_sdk_lambda::Client;
use aws_sdk_lambda::types::{AliasConfiguration, FunctionConfiguration};
use tokio::time::Instant;

use super::retry::{self, Limiter};

/// Every version of `function` (`$LATEST` included), page after page.
pub async fn versions(
    client: &Client,
    limiter: &Limiter,
    deadline: Instant,
    function: &str,
) -> Result<Vec<FunctionConfiguration>, String> {
    let mut versions = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let page = retry::call(limiter, "ListVersionsByFunction", deadline, || {
            client
                .list_versions_by_function()
                .function_name(function)
                .set_marker(marker.clone())
                .send()
        })
        .await
        .map_err(|e| e.message)?;
        versions.extend(page.versions().iter().cloned());
        marker = page.next_marker().map(str::to_owned);
        if marker.is_none() {
            return Ok(versions);
        }
    }
}

/// Every alias of `function`, page after page.
pub async fn aliases(
    client: &Client,
    limiter: &Limiter,
    deadline: Instant,
    function: &str,
) -> Result<Vec<AliasConfiguration>, String> {
    let mut aliases = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let page = retry::call(limiter, "ListAliases", deadline, || {
            client
                .list_aliases()
                .function_name(function)
                .set_marker(marker.clone())
                .send()
        })
        .await
        .map_err(|e| e.message)?;
        aliases.extend(page.aliases().iter().cloned());
        marker = page.next_marker().map(str::to_owned);
        if marker.is_none() {
            return Ok(aliases);
        }
    }
}
