//! Cancellation: SIGINT/SIGTERM and the build timeout, as one shared token.
//!
//! Stages poll or await the token; whoever owns a child process kills its process group when
//! the token fires. Owns: signal handling. Must not: decide exit codes (that is `pipeline`).

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

use tokio::sync::Notify;

/// Why a run was stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// SIGINT or SIGTERM.
    Cancelled,
    /// The `timeout` input fired.
    TimedOut,
}

#[derive(Clone, Default)]
pub struct CancelToken {
    state: Arc<(AtomicU8, Notify)>,
}

impl std::fmt::Debug for CancelToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CancelToken({:?})", self.reason())
    }
}

impl CancelToken {
    pub fn new() -> CancelToken {
        CancelToken::default()
    }

    /// Stops the run. The first reason wins.
    pub fn stop(&self, reason: StopReason) {
        let code = match reason {
            StopReason::Cancelled => 1,
            StopReason::TimedOut => 2,
        };
        if self
            .state
            .0
            .compare_exchange(0, code, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
        {
            self.state.1.notify_waiters();
        }
    }

    pub fn reason(&self) -> Option<StopReason> {
        match self.state.0.load(Ordering::SeqCst) {
            1 => Some(StopReason::Cancelled),
            2 => Some(StopReason::TimedOut),
            _ => None,
        }
    }

    pub fn is_stopped(&self) -> bool {
        self.reason().is_some()
    }

    /// Resolves once the token is stopped.
    pub async fn stopped(&self) -> StopReason {
        loop {
            let notified = self.state.1.notified();
            if let Some(reason) = self.reason() {
                return reason;
            }
            notified.await;
        }
    }

    /// Stops the token on SIGINT or SIGTERM. Call once, inside the runtime.
    pub fn listen_for_signals(&self) {
        use tokio::signal::unix::{SignalKind, signal};
        for kind in [SignalKind::interrupt(), SignalKind::terminate()] {
            let token = self.clone();
            if let Ok(mut stream) = signal(kind) {
                tokio::spawn(async move {
                    if stream.recv().await.is_some() {
                        token.stop(StopReason::Cancelled);
                    }
                });
            }
        }
    }

    /// Stops the token with `TimedOut` after `limit`.
    pub fn stop_after(&self, limit: std::time::Duration) {
        let token = self.clone();
        tokio::spawn(async move {
            tokio::time::sleep(limit).await;
            token.stop(StopReason::TimedOut);
        });
    }
}
