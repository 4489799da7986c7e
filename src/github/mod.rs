//! GitHub reporting: check runs, deployments.
