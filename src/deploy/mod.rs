//! The Lambda deploy state machine.
