//! Publishes a `Notification` to SNS: redacted JSON body, subject, and the `status`,
//! `environment` and `function` message attributes for subscription filters.
//! Owns: the SNS call. Must not: retry forever or fail the run.

use aws_sdk_sns::types::MessageAttributeValue;

use super::Notification;
use crate::redact::Redactor;
use crate::settings::NotifySettings;

/// Publishes and returns the message id, or a message describing why it failed.
pub async fn publish(
    config: &aws_config::SdkConfig,
    settings: &NotifySettings,
    notification: &Notification,
    redactor: &Redactor,
) -> Result<String, String> {
    let body = serde_json::to_string_pretty(notification).map_err(|e| e.to_string())?;
    let body = redactor.redact(&body).into_owned();
    let subject = redactor.redact(&notification.subject()).into_owned();
    let client = aws_sdk_sns::Client::new(config);
    let attribute = |value: &str| {
        MessageAttributeValue::builder()
            .data_type("String")
            .string_value(redactor.redact(value).into_owned())
            .build()
            .map_err(|e| e.to_string())
    };
    let function = if notification.functions.is_empty() {
        "-".to_owned()
    } else {
        notification.functions.join(",")
    };
    let environment = if notification.environment.is_empty() {
        "-"
    } else {
        notification.environment.as_str()
    };
    let mut request = client
        .publish()
        .topic_arn(&settings.topic_arn)
        .subject(subject)
        .message(body)
        .message_attributes("status", attribute(notification.status)?)
        .message_attributes("environment", attribute(environment)?)
        .message_attributes("function", attribute(&function)?);
    if settings.topic_arn.ends_with(".fifo") {
        request = request.message_group_id(format!("lambda-pipeline-{environment}"));
    }
    let output = request.send().await.map_err(|err| {
        format!(
            "cannot publish to `{}`: {}",
            settings.topic_arn,
            crate::aws::describe(&err)
        )
    })?;
    Ok(output.message_id().unwrap_or_default().to_owned())
}
