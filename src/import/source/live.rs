//! The AWS API → `Imported`: GetPipeline for each `--pipeline`, BatchGetProjects for the
//! projects their CodeBuild actions name, GetDeploymentGroup for their CodeDeploy actions, and,
//! where the caller may (ListNotificationRules, DescribeNotificationRule), the notification
//! rules that point at each pipeline; a refusal there is a note in the report, not an error.
//! The SDK's values are copied into the same `model` types the saved JSON fills.
//! Owns: those calls (read-only). Must not: change anything in AWS, print.

use aws_config::SdkConfig;

use super::{ReadError, check_configuration, referenced_deployment_groups, referenced_projects};
use crate::aws::describe;
use crate::base::InputError;
use crate::import::model::{
    Action, ActionTypeId, Alarm, AlarmConfiguration, Artifact, AutoRollbackConfiguration,
    DeploymentGroup, EnvironmentVariable, EventType, Imported, NotificationRule, Pipeline,
    PipelineVariable, Project, ProjectCache, ProjectEnvironment, ProjectSource, Stage, Target,
    Trigger, VpcConfig,
};

/// Reads `names` and what they reference.
pub async fn read(names: &[String], config: &SdkConfig) -> Result<Imported, ReadError> {
    let region = config.region().map(|r| r.to_string()).unwrap_or_default();
    let mut imported = Imported::default();
    let codepipeline = aws_sdk_codepipeline::Client::new(config);
    for name in names {
        let output = codepipeline
            .get_pipeline()
            .name(name)
            .send()
            .await
            .map_err(|err| {
                if err
                    .as_service_error()
                    .is_some_and(|e| e.is_pipeline_not_found_exception())
                {
                    ReadError::Input(
                        InputError::new(
                            "pipeline",
                            format!("pipeline `{name}` does not exist in {region}"),
                        )
                        .with_hint(
                            "list the pipelines with `aws codepipeline list-pipelines`; set \
                             `--region` when they live in another region",
                        ),
                    )
                } else {
                    ReadError::Aws(format!("cannot read pipeline `{name}`: {}", describe(&err)))
                }
            })?;
        let Some(declaration) = output.pipeline() else {
            return Err(ReadError::Aws(format!(
                "GetPipeline returned no pipeline for `{name}`"
            )));
        };
        let mut pipeline = pipeline_from(declaration);
        pipeline.arn = output
            .metadata()
            .and_then(|m| m.pipeline_arn())
            .map(str::to_owned);
        imported.pipelines.push(pipeline);
    }
    crate::import::rules::check_providers(&imported.pipelines)?;
    check_configuration(&imported.pipelines)?;
    read_projects(&mut imported, config).await?;
    read_deployment_groups(&mut imported, config).await?;
    read_notification_rules(&mut imported, config).await;
    Ok(imported)
}

async fn read_projects(imported: &mut Imported, config: &SdkConfig) -> Result<(), ReadError> {
    let wanted = referenced_projects(&imported.pipelines);
    let client = aws_sdk_codebuild::Client::new(config);
    for chunk in wanted.chunks(100) {
        let names: Vec<String> = chunk.iter().map(|(name, _)| name.clone()).collect();
        let output = client
            .batch_get_projects()
            .set_names(Some(names.clone()))
            .send()
            .await
            .map_err(|err| {
                ReadError::Aws(format!(
                    "cannot read CodeBuild projects {}: {}",
                    names.join(", "),
                    describe(&err)
                ))
            })?;
        for project in output.projects() {
            let project = project_from(project);
            imported.projects.insert(project.name.clone(), project);
        }
    }
    for (name, place) in wanted {
        if !imported.projects.contains_key(&name) {
            return Err(ReadError::Input(
                InputError::new(
                    "pipeline",
                    format!("{place} builds CodeBuild project `{name}`, which does not exist"),
                )
                .with_hint("fix the pipeline, or create the project, and import again"),
            ));
        }
    }
    Ok(())
}

async fn read_deployment_groups(
    imported: &mut Imported,
    config: &SdkConfig,
) -> Result<(), ReadError> {
    let wanted = referenced_deployment_groups(&imported.pipelines);
    if wanted.is_empty() {
        return Ok(());
    }
    let client = aws_sdk_codedeploy::Client::new(config);
    for ((app, group), place) in wanted {
        let output = client
            .get_deployment_group()
            .application_name(&app)
            .deployment_group_name(&group)
            .send()
            .await
            .map_err(|err| {
                let missing = err.as_service_error().is_some_and(|e| {
                    e.is_application_does_not_exist_exception()
                        || e.is_deployment_group_does_not_exist_exception()
                });
                if missing {
                    ReadError::Input(InputError::new(
                        "pipeline",
                        format!(
                            "{place} deploys with CodeDeploy deployment group `{group}` of \
                             application `{app}`, which does not exist ({})",
                            describe(&err)
                        ),
                    ))
                } else {
                    ReadError::Aws(format!(
                        "cannot read CodeDeploy deployment group `{group}` of `{app}`: {}",
                        describe(&err)
                    ))
                }
            })?;
        let Some(info) = output.deployment_group_info() else {
            return Err(ReadError::Aws(format!(
                "GetDeploymentGroup returned nothing for `{group}` of `{app}`"
            )));
        };
        imported
            .deployment_groups
            .insert((app.clone(), group.clone()), deployment_group_from(info));
    }
    Ok(())
}

/// The rules that point at each pipeline. Reading them needs `codestar-notifications:List*`
/// and `Describe*`; without them the report says so and the import goes on.
async fn read_notification_rules(imported: &mut Imported, config: &SdkConfig) {
    use aws_sdk_codestarnotifications::types::{
        ListNotificationRulesFilter, ListNotificationRulesFilterName,
    };
    let client = aws_sdk_codestarnotifications::Client::new(config);
    for pipeline in &imported.pipelines {
        let Some(arn) = pipeline.arn.clone() else {
            continue;
        };
        let Ok(filter) = ListNotificationRulesFilter::builder()
            .name(ListNotificationRulesFilterName::Resource)
            .value(&arn)
            .build()
        else {
            continue;
        };
        let mut rule_arns = Vec::new();
        let mut token: Option<String> = None;
        let listed = loop {
            let result = client
                .list_notification_rules()
                .filters(filter.clone())
                .set_next_token(token.clone())
                .send()
                .await;
            match result {
                Ok(output) => {
                    rule_arns.extend(
                        output
                            .notification_rules()
                            .iter()
                            .filter_map(|r| r.arn().map(str::to_owned)),
                    );
                    token = output.next_token().map(str::to_owned);
                    if token.is_none() {
                        break Ok(());
                    }
                }
                Err(err) => break Err(describe(&err)),
            }
        };
        if let Err(why) = listed {
            imported.notes.push(format!(
                "the notification rules of pipeline `{}` could not be read ({why}); check them \
                 in the console (Developer Tools → Notifications) or import with \
                 `--notification-rule-file`",
                pipeline.name
            ));
            continue;
        }
        for rule_arn in rule_arns {
            match client
                .describe_notification_rule()
                .arn(&rule_arn)
                .send()
                .await
            {
                Ok(rule) => imported.notification_rules.push(NotificationRule {
                    arn: rule.arn().to_owned(),
                    name: rule.name().map(str::to_owned),
                    event_types: rule
                        .event_types()
                        .iter()
                        .filter_map(|e| e.event_type_id())
                        .map(|id| EventType {
                            event_type_id: id.to_owned(),
                        })
                        .collect(),
                    resource: rule.resource().map(str::to_owned),
                    targets: rule
                        .targets()
                        .iter()
                        .map(|t| Target {
                            target_address: t.target_address().unwrap_or_default().to_owned(),
                            target_type: t.target_type().unwrap_or_default().to_owned(),
                            target_status: t.target_status().map(|s| s.as_str().to_owned()),
                        })
                        .collect(),
                    status: rule.status().map(|s| s.as_str().to_owned()),
                }),
                Err(err) => imported.notes.push(format!(
                    "notification rule `{rule_arn}` of pipeline `{}` could not be read ({})",
                    pipeline.name,
                    describe(&err)
                )),
            }
        }
    }
}

fn pipeline_from(p: &aws_sdk_codepipeline::types::PipelineDeclaration) -> Pipeline {
    Pipeline {
        name: p.name().to_owned(),
        arn: None,
        stages: p
            .stages()
            .iter()
            .map(|stage| Stage {
                name: stage.name().to_owned(),
                actions: stage.actions().iter().map(action_from).collect(),
            })
            .collect(),
        pipeline_type: p.pipeline_type().map(|t| t.as_str().to_owned()),
        triggers: p
            .triggers()
            .iter()
            .map(|t| Trigger {
                provider_type: t.provider_type().as_str().to_owned(),
            })
            .collect(),
        variables: p
            .variables()
            .iter()
            .map(|v| PipelineVariable {
                name: v.name().to_owned(),
            })
            .collect(),
    }
}

fn action_from(a: &aws_sdk_codepipeline::types::ActionDeclaration) -> Action {
    let type_id = a.action_type_id();
    Action {
        name: a.name().to_owned(),
        action_type_id: ActionTypeId {
            category: type_id
                .map(|t| t.category().as_str().to_owned())
                .unwrap_or_default(),
            owner: type_id
                .map(|t| t.owner().as_str().to_owned())
                .unwrap_or_default(),
            provider: type_id.map(|t| t.provider().to_owned()).unwrap_or_default(),
            version: type_id.map(|t| t.version().to_owned()).unwrap_or_default(),
        },
        run_order: a.run_order().unwrap_or(1),
        configuration: a
            .configuration()
            .map(|c| c.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default(),
        input_artifacts: a
            .input_artifacts()
            .iter()
            .map(|i| Artifact {
                name: i.name().to_owned(),
            })
            .collect(),
        output_artifacts: a
            .output_artifacts()
            .iter()
            .map(|o| Artifact {
                name: o.name().to_owned(),
            })
            .collect(),
        region: a.region().map(str::to_owned),
        commands: a.commands().to_vec(),
    }
}

fn project_from(p: &aws_sdk_codebuild::types::Project) -> Project {
    let source = |s: &aws_sdk_codebuild::types::ProjectSource| ProjectSource {
        kind: s.r#type().as_str().to_owned(),
        buildspec: s.buildspec().map(str::to_owned),
        source_identifier: s.source_identifier().map(str::to_owned),
    };
    let environment = p.environment();
    Project {
        name: p.name().unwrap_or_default().to_owned(),
        arn: p.arn().map(str::to_owned),
        source: p.source().map(source).unwrap_or(ProjectSource {
            kind: String::new(),
            buildspec: None,
            source_identifier: None,
        }),
        environment: ProjectEnvironment {
            kind: environment
                .map(|e| e.r#type().as_str().to_owned())
                .unwrap_or_default(),
            image: environment
                .map(|e| e.image().to_owned())
                .unwrap_or_default(),
            compute_type: environment
                .map(|e| e.compute_type().as_str().to_owned())
                .unwrap_or_default(),
            environment_variables: environment
                .map(|e| {
                    e.environment_variables()
                        .iter()
                        .map(|v| EnvironmentVariable {
                            name: v.name().to_owned(),
                            value: v.value().to_owned(),
                            kind: v
                                .r#type()
                                .map(|t| t.as_str().to_owned())
                                .unwrap_or_else(|| "PLAINTEXT".to_owned()),
                        })
                        .collect()
                })
                .unwrap_or_default(),
            privileged_mode: environment.and_then(|e| e.privileged_mode()),
        },
        service_role: p.service_role().map(str::to_owned),
        timeout_in_minutes: p.timeout_in_minutes(),
        secondary_sources: p.secondary_sources().iter().map(source).collect(),
        vpc_config: p.vpc_config().map(|v| VpcConfig {
            vpc_id: v.vpc_id().map(str::to_owned),
        }),
        cache: p.cache().map(|c| ProjectCache {
            kind: c.r#type().as_str().to_owned(),
        }),
    }
}

fn deployment_group_from(g: &aws_sdk_codedeploy::types::DeploymentGroupInfo) -> DeploymentGroup {
    DeploymentGroup {
        application_name: g.application_name().unwrap_or_default().to_owned(),
        deployment_group_name: g.deployment_group_name().unwrap_or_default().to_owned(),
        deployment_config_name: g.deployment_config_name().map(str::to_owned),
        compute_platform: g.compute_platform().map(|c| c.as_str().to_owned()),
        alarm_configuration: g.alarm_configuration().map(|a| AlarmConfiguration {
            enabled: a.enabled(),
            ignore_poll_alarm_failure: a.ignore_poll_alarm_failure(),
            alarms: a
                .alarms()
                .iter()
                .filter_map(|alarm| alarm.name())
                .map(|name| Alarm {
                    name: name.to_owned(),
                })
                .collect(),
        }),
        auto_rollback_configuration: g.auto_rollback_configuration().map(|r| {
            AutoRollbackConfiguration {
                enabled: r.enabled(),
                events: r.events().iter().map(|e| e.as_str().to_owned()).collect(),
            }
        }),
    }
}
