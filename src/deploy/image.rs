//! Container images for image functions (`PackageType: Image`): the `image-uri` input, expanded
//! after the build (`${IMAGE_URI}` from the buildspec's exported variables), split into
//! registry, repository, tag and digest, and resolved to its digest: through ECR
//! `DescribeImages` for an ECR URI, through the registry's v2 API (anonymous) for any other.
//! Owns: image naming and digest lookup. Must not: update functions.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::Regex;

use crate::base::InputError;

/// `<account>.dkr.ecr.<region>.amazonaws.com[.cn]`
static ECR_HOST: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$").expect("valid regex")
});

/// An image reference, split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageName {
    /// As given (after expansion).
    pub uri: String,
    /// `host[:port]`; empty for Docker Hub names.
    pub registry: String,
    pub repository: String,
    pub tag: Option<String>,
    /// `sha256:<hex>` when the URI pins one.
    pub digest: Option<String>,
}

/// The image a deploy sends, with what the registry says about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    pub name: ImageName,
    /// `sha256:<hex>`; `None` when the registry could not be asked.
    pub digest: Option<String>,
    /// When the image was pushed (ECR only), RFC 3339.
    pub pushed_at: Option<String>,
}

impl Image {
    /// What UpdateFunctionCode receives: pinned to the digest when it is known, so that the
    /// image compared is the image deployed even if the tag moves meanwhile.
    pub fn deploy_uri(&self) -> String {
        match &self.digest {
            Some(digest) => format!("{}@{digest}", self.name.without_tag_or_digest()),
            None => self.name.uri.clone(),
        }
    }

    /// Lambda's CodeSha256 for this image: the digest's hex.
    pub fn code_sha256(&self) -> Option<&str> {
        self.digest
            .as_deref()
            .and_then(|d| d.strip_prefix("sha256:"))
    }
}

impl ImageName {
    pub fn parse(uri: &str) -> Result<ImageName, InputError> {
        let bad = |why: &str| {
            InputError::new("image-uri", format!("`{uri}` {why}")).with_hint(
                "write `<account>.dkr.ecr.<region>.amazonaws.com/<repository>:<tag>` or `...@sha256:<digest>`",
            )
        };
        let uri = uri.trim();
        if uri.is_empty() || uri.contains(char::is_whitespace) {
            return Err(bad("is not an image reference"));
        }
        let (rest, digest) = match uri.split_once('@') {
            Some((rest, digest)) => {
                let hex = digest.strip_prefix("sha256:").unwrap_or("");
                if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(bad("has a digest that is not `sha256:` and 64 hex digits"));
                }
                (rest, Some(digest.to_owned()))
            }
            None => (uri, None),
        };
        let (registry, path) = match rest.split_once('/') {
            Some((first, path)) if first.contains(['.', ':']) || first == "localhost" => {
                (first.to_owned(), path)
            }
            _ => (String::new(), rest),
        };
        let (repository, tag) = match path.rsplit_once(':') {
            Some((repository, tag)) if !tag.contains('/') => (repository, Some(tag.to_owned())),
            _ => (path, None),
        };
        if repository.is_empty() || tag.as_deref() == Some("") {
            return Err(bad("has no repository or an empty tag"));
        }
        Ok(ImageName {
            uri: uri.to_owned(),
            registry,
            repository: repository.to_owned(),
            tag,
            digest,
        })
    }

    /// `<registry>/<repository>`.
    pub fn without_tag_or_digest(&self) -> String {
        if self.registry.is_empty() {
            self.repository.clone()
        } else {
            format!("{}/{}", self.registry, self.repository)
        }
    }

    /// `(account, region)` for an ECR registry.
    pub fn ecr(&self) -> Option<(String, String)> {
        let captures = ECR_HOST.captures(&self.registry)?;
        Some((captures[1].to_owned(), captures[2].to_owned()))
    }
}

/// Expands `${NAME}` and `$NAME` from `vars` (the build's exported variables, then the
/// process environment). An unknown name is an error: deploying a literal `${IMAGE_URI}` would
/// fail far less clearly.
pub fn expand(value: &str, vars: &BTreeMap<String, String>) -> Result<String, InputError> {
    static VAR: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)")
            .expect("valid regex")
    });
    let mut missing = None;
    let expanded = VAR.replace_all(value, |captures: &regex::Captures<'_>| {
        let name = captures
            .get(1)
            .or(captures.get(2))
            .map_or("", |m| m.as_str());
        match vars.get(name) {
            Some(value) => value.clone(),
            None => {
                missing.get_or_insert_with(|| name.to_owned());
                String::new()
            }
        }
    });
    match missing {
        Some(name) => Err(InputError::new(
            "image-uri",
            format!("`{value}` uses `{name}`, which the build did not set"),
        )
        .with_hint(format!(
            "export it from the buildspec (`env: exported-variables: [{name}]`) or set it in the environment"
        ))),
        None => Ok(expanded.into_owned()),
    }
}

/// Looks the image up: ECR `DescribeImages` for an ECR URI, the registry's v2 API otherwise.
pub async fn resolve(config: &aws_config::SdkConfig, name: ImageName) -> Result<Image, String> {
    if let Some(digest) = &name.digest {
        let digest = Some(digest.clone());
        let pushed_at = match name.ecr() {
            Some(_) => describe_ecr(config, &name)
                .await
                .ok()
                .and_then(|(_, at)| at),
            None => None,
        };
        return Ok(Image {
            name,
            digest,
            pushed_at,
        });
    }
    let (digest, pushed_at) = match name.ecr() {
        Some(_) => describe_ecr(config, &name).await?,
        None => (registry_digest(&name).await?, None),
    };
    Ok(Image {
        name,
        digest: Some(digest),
        pushed_at,
    })
}

/// `(digest, pushed at)` from ECR.
async fn describe_ecr(
    config: &aws_config::SdkConfig,
    name: &ImageName,
) -> Result<(String, Option<String>), String> {
    let (account, region) = name.ecr().expect("an ECR name");
    let ecr_config = aws_sdk_ecr::config::Builder::from(config)
        .region(aws_config::Region::new(region))
        .build();
    let client = aws_sdk_ecr::Client::from_conf(ecr_config);
    let id = aws_sdk_ecr::types::ImageIdentifier::builder()
        .set_image_tag(
            name.tag
                .clone()
                .or_else(|| name.digest.is_none().then(|| "latest".to_owned())),
        )
        .set_image_digest(name.digest.clone())
        .build();
    let output = client
        .describe_images()
        .registry_id(account)
        .repository_name(&name.repository)
        .image_ids(id)
        .send()
        .await
        .map_err(|err| {
            use aws_sdk_ecr::error::ProvideErrorMetadata as _;
            format!(
                "ECR DescribeImages for `{}`: {}",
                name.uri,
                err.message()
                    .map(str::to_owned)
                    .unwrap_or_else(|| { crate::aws::error_chain(&err) })
            )
        })?;
    let detail = output
        .image_details()
        .first()
        .ok_or_else(|| format!("ECR has no image `{}`", name.uri))?;
    let digest = detail
        .image_digest()
        .ok_or_else(|| format!("ECR returned no digest for `{}`", name.uri))?
        .to_owned();
    let pushed_at = detail
        .image_pushed_at()
        .and_then(|t| t.fmt(aws_smithy_types::date_time::Format::DateTime).ok());
    Ok((digest, pushed_at))
}

/// The digest a v2 registry serves for the tag (anonymous HEAD on the manifest). Plain HTTP
/// for a registry on the loopback interface, HTTPS otherwise.
async fn registry_digest(name: &ImageName) -> Result<String, String> {
    let registry = if name.registry.is_empty() {
        "registry-1.docker.io"
    } else {
        name.registry.as_str()
    };
    let host = registry.split(':').next().unwrap_or(registry);
    let scheme = if matches!(host, "localhost" | "127.0.0.1" | "[::1]") {
        "http"
    } else {
        "https"
    };
    let reference = name.tag.as_deref().unwrap_or("latest");
    let url = format!(
        "{scheme}://{registry}/v2/{}/manifests/{reference}",
        name.repository
    );
    let accept = [
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    ]
    .join(", ");
    let answer = reqwest::Client::new()
        .head(&url)
        .header("accept", accept)
        .timeout(std::time::Duration::from_secs(30))
        .send()
        .await
        .map_err(|err| format!("cannot reach the registry for `{}`: {err}", name.uri))?;
    if !answer.status().is_success() {
        return Err(format!(
            "the registry answered {} for `{}`",
            answer.status(),
            name.uri
        ));
    }
    answer
        .headers()
        .get("docker-content-digest")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .ok_or_else(|| format!("the registry sent no digest for `{}`", name.uri))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_split_into_registry_repository_tag_and_digest() {
        let name =
            ImageName::parse("123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/hello:v1").unwrap();
        assert_eq!(
            name.registry,
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
        );
        assert_eq!(name.repository, "team/hello");
        assert_eq!(name.tag.as_deref(), Some("v1"));
        assert_eq!(
            name.ecr(),
            Some(("123456789012".into(), "eu-west-1".into()))
        );
        let name = ImageName::parse("127.0.0.1:5000/hello").unwrap();
        assert_eq!(
            (name.registry.as_str(), name.tag.as_deref()),
            ("127.0.0.1:5000", None)
        );
        assert_eq!(name.ecr(), None);
        let digest = format!("sha256:{}", "a".repeat(64));
        let name = ImageName::parse(&format!("localhost/x@{digest}")).unwrap();
        assert_eq!(name.digest.as_deref(), Some(digest.as_str()));
        assert!(ImageName::parse("x@sha256:123").is_err());
        assert!(ImageName::parse("hello:").is_err());
        assert!(ImageName::parse("two words").is_err());
    }

    #[test]
    fn expansion_uses_exported_variables_and_names_a_missing_one() {
        let vars = BTreeMap::from([("IMAGE_URI".to_owned(), "repo/app:1".to_owned())]);
        assert_eq!(expand("${IMAGE_URI}", &vars).unwrap(), "repo/app:1");
        assert_eq!(expand("$IMAGE_URI", &vars).unwrap(), "repo/app:1");
        let err = expand("${IMAGE_TAG}", &vars).unwrap_err();
        assert_eq!(err.input, "image-uri");
        assert!(err.message.contains("IMAGE_TAG"), "{}", err.message);
    }
}
