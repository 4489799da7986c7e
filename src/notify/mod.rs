//! SNS notifications about a deploy.
