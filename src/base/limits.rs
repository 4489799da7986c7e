//! Lambda's documented limits, in one place: what packaging checks before zipping and what the
//! deploy checks before uploading when the account does not say (`GetAccountSettings`).

use std::time::Duration;

/// Unzipped code (function and layers) may not exceed 250 MB.
pub const MAX_UNZIPPED: u64 = 262_144_000;
/// A zip uploaded directly (ZipFile) may not exceed 50 MB; above it the upload goes through S3.
pub const MAX_DIRECT_UPLOAD: u64 = 52_428_800;
/// Code storage of an account in a region: 75 GB, every published version counted.
pub const TOTAL_CODE_STORAGE: u64 = 80_530_636_800;
/// The default bound on every wait for a function to settle.
pub const DEFAULT_WAIT_TIMEOUT: Duration = Duration::from_secs(300);
