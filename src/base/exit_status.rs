//! The process exit codes. Which one a run ends with is decided by `commands::Outcome` alone.

/// How a run ended, as the process reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// The build (and deploy, when there is one) succeeded. A no-op deploy is a success.
    Success,
    /// A build phase or the deploy failed.
    Failure,
    /// An input or the buildspec is invalid; nothing ran.
    InvalidInput,
    /// SIGINT or SIGTERM stopped the run.
    Cancelled,
}

impl ExitStatus {
    pub fn code(self) -> u8 {
        match self {
            ExitStatus::Success => 0,
            ExitStatus::Failure => 1,
            ExitStatus::InvalidInput => 2,
            ExitStatus::Cancelled => 130,
        }
    }
}

impl From<ExitStatus> for std::process::ExitCode {
    fn from(status: ExitStatus) -> Self {
        std::process::ExitCode::from(status.code())
    }
}
