//! The account's Lambda limits, read once per region and role (`GetAccountSettings`):
//! `CodeSizeZipped` (direct upload), `CodeSizeUnzipped` and `TotalCodeSize` with what is used
//! of it. When the call is refused or an emulator lacks it, the documented limits
//! (`base::limits`) stand in.
//! Owns: that read and the storage check. Must not: change anything.

use tokio::time::Instant;

use super::retry::{self, Limiter};
use crate::base::limits::{MAX_DIRECT_UPLOAD, MAX_UNZIPPED, TOTAL_CODE_STORAGE};

/// The limits a deploy checks before it uploads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountLimits {
    /// Largest zip Lambda takes directly; above it the upload goes through S3.
    pub code_size_zipped: u64,
    pub code_size_unzipped: u64,
    pub total_code_size: u64,
    /// Code storage in use, when the account said.
    pub used: Option<u64>,
    /// Where the figures came from: `GetAccountSettings`, or why the documented ones are used.
    pub source: String,
}

impl AccountLimits {
    /// Lambda's documented limits.
    pub fn documented(why: &str) -> AccountLimits {
        AccountLimits {
            code_size_zipped: MAX_DIRECT_UPLOAD,
            code_size_unzipped: MAX_UNZIPPED,
            total_code_size: TOTAL_CODE_STORAGE,
            used: None,
            source: format!("documented limits ({why})"),
        }
    }

    /// Fails when `size` more bytes would not fit in the account's code storage.
    pub fn check_storage(&self, size: u64) -> Result<(), String> {
        let Some(used) = self.used else {
            return Ok(());
        };
        let free = self.total_code_size.saturating_sub(used);
        if size <= free {
            return Ok(());
        }
        Err(format!(
            "the account's Lambda code storage in this region is {used} of {} bytes used; a new version of {size} bytes does not fit (free: {free} bytes)",
            self.total_code_size
        ))
    }
}

/// `GetAccountSettings`, or the documented limits when it is refused or missing.
pub async fn read(
    client: &aws_sdk_lambda::Client,
    limiter: &Limiter,
    deadline: Instant,
) -> AccountLimits {
    let result = retry::call(limiter, "GetAccountSettings", deadline, || {
        client.get_account_settings().send()
    })
    .await;
    let output = match result {
        Ok(output) => output,
        Err(err) => return AccountLimits::documented(&err.message),
    };
    let Some(limit) = output.account_limit() else {
        return AccountLimits::documented("GetAccountSettings gave no AccountLimit");
    };
    let positive = |value: i64, fallback: u64| {
        u64::try_from(value)
            .ok()
            .filter(|v| *v > 0)
            .unwrap_or(fallback)
    };
    AccountLimits {
        code_size_zipped: positive(limit.code_size_zipped(), MAX_DIRECT_UPLOAD),
        code_size_unzipped: positive(limit.code_size_unzipped(), MAX_UNZIPPED),
        total_code_size: positive(limit.total_code_size(), TOTAL_CODE_STORAGE),
        used: output
            .account_usage()
            .and_then(|u| u64::try_from(u.total_code_size()).ok()),
        source: "GetAccountSettings".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_that_would_overflow_is_refused() {
        let limits = AccountLimits {
            used: Some(900),
            total_code_size: 1000,
            ..AccountLimits::documented("test")
        };
        assert!(limits.check_storage(100).is_ok());
        let err = limits.check_storage(101).unwrap_err();
        assert!(err.contains("900 of 1000 bytes used"), "{err}");
        assert!(
            AccountLimits::documented("x")
                .check_storage(u64::MAX)
                .is_ok()
        );
    }
}
