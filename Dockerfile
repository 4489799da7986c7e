# lambda-pipeline: the container GitHub Action.
#
# Stages:
#   docker-cli  the docker CLI alone, taken from Debian's docker.io package (no daemon: builds
#            use the runner's, through the /var/run/docker.sock the runner mounts).
#   aws-tools  a current aws CLI (PyPI `awscli`, v1: it honours AWS_ENDPOINT_URL and keeps
#            `ecr get-login`) and the SAM CLI (PyPI `aws-sam-cli`), in one venv at /opt/aws.
#   base     Debian bookworm-slim with the tools real buildspecs call (bash, git, zip, curl, jq,
#            python3 with pip and venv, nodejs with npm and corepack (`yarn`, `pnpm`), the aws
#            and sam CLIs from aws-tools, the docker CLI). Other python and nodejs versions come
#            on demand through `runtime-versions`.
#   builder  builds the release binary from source in a rust image.
#   release  base + the binary from builder:            docker build --target release .
#   runtime  base + a binary built outside (default):   docker build --build-arg BINARY=path .
#            With BuildKit the default path is dist/<arch>/lambda-pipeline, so a multi-arch build
#            takes one binary per platform. CI assembles the image this way, without rust.
#            Build that binary on bookworm (e.g. in rust:1.95-bookworm): a binary linked on a
#            newer distribution asks for a newer glibc than the image has.
#
# Rules for a container action (GitHub's Dockerfile support page): run as root (no USER), no
# WORKDIR (the runner forces /github/workspace), an absolute exec-form ENTRYPOINT.

ARG BASE_IMAGE=debian:bookworm-slim
ARG RUST_IMAGE=rust:1.95-slim-bookworm

FROM ${BASE_IMAGE} AS docker-cli
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
# Debian bookworm has no docker-cli or docker-buildx package; docker.io holds the CLI with the
# daemon, and only the CLI is kept.
WORKDIR /tmp/docker
RUN apt-get update \
    && apt-get download docker.io \
    && dpkg-deb -x docker.io_*.deb root \
    && install -D -m 0755 root/usr/bin/docker /out/docker \
    && rm -rf /var/lib/apt/lists/*

FROM ${BASE_IMAGE} AS aws-tools
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
ARG AWSCLI_VERSION=1.46.3
ARG SAM_VERSION=1.170.0
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        ca-certificates python3 python3-venv \
    && rm -rf /var/lib/apt/lists/*
# One venv for both: pip picks a botocore that satisfies both pins. Byte code and tests are
# left out (they are written again on first use where the directory is writable). A build
# behind a TLS-inspecting proxy passes its CA bundle as the secret `ca-bundle` (not kept).
RUN --mount=type=secret,id=ca-bundle \
    if [ -s /run/secrets/ca-bundle ]; then export PIP_CERT=/run/secrets/ca-bundle; fi \
    && python3 -m venv /opt/aws \
    && /opt/aws/bin/pip install --no-cache-dir --no-compile \
        "awscli==${AWSCLI_VERSION}" "aws-sam-cli==${SAM_VERSION}" \
    && /opt/aws/bin/pip uninstall -y pip setuptools wheel >/dev/null 2>&1 || true \
    && find /opt/aws -name __pycache__ -type d -prune -exec rm -rf {} + \
    && find /opt/aws -path '*/tests' -type d -prune -exec rm -rf {} + \
    && find /opt/aws -name 'examples-1.json*' -delete \
    && rm -rf /opt/aws/lib/python3*/site-packages/awscli/examples \
    && /opt/aws/bin/aws --version && /opt/aws/bin/sam --version

FROM ${BASE_IMAGE} AS base
LABEL org.opencontainers.image.source="https://github.com/OWNER/lambda-pipeline" \
      org.opencontainers.image.description="Run a CodeBuild buildspec, package a zip, deploy it to AWS Lambda" \
      org.opencontainers.image.licenses="MIT"
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
# Keep documentation and translations out of the image, as debian:*-slim does.
RUN printf '%s\n' 'path-exclude /usr/share/doc/*' 'path-include /usr/share/doc/*/copyright' \
        'path-exclude /usr/share/man/*' 'path-exclude /usr/share/info/*' \
        'path-exclude /usr/share/locale/*' 'path-include /usr/share/locale/locale.alias' \
        'path-exclude /usr/share/lintian/*' > /etc/dpkg/dpkg.cfg.d/lambda-pipeline-slim \
    && apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        bash \
        ca-certificates \
        curl \
        git \
        jq \
        nodejs \
        openssh-client \
        python3 \
        python3-pip \
        python3-venv \
        unzip \
        zip \
    && apt-get clean \
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/* /var/log/apt /var/log/dpkg.log \
        /usr/share/doc/*/changelog* \
    && find / -xdev -name __pycache__ -type d -prune -exec rm -rf {} + \
    && git config --system --add safe.directory '*' \
    && ln -s lambda-pipeline /usr/local/bin/lambda-pipeline-post
# npm and corepack (`yarn`, `pnpm`) from the npm registry, each checked against the registry's
# sha512 integrity: Debian's npm package would bring some 140 MB of node-* packages, and
# Debian's nodejs has no corepack. npm 10 and corepack 0.32 are the last for node 18.
ARG NPM_VERSION=10.9.9
ARG NPM_INTEGRITY=sha512-1g+6jLQvaIuB4zwvHL7yrXuXcWZwDsCtBX8bbWDqbvJSSr9nPiDDWTHNgwXR27iIcTTW7v3A57hDW9RYv2W4Yg==
ARG COREPACK_VERSION=0.32.0
ARG COREPACK_INTEGRITY=sha512-KhahVUFy7xL8OTty/ToY646hXMQhih8rnvUkA9/qnk/u4QUF2+SbQneX/zZnDxG1NiABFm5ojZCWnIv93oyhhQ==
RUN --mount=type=secret,id=ca-bundle \
    if [ -s /run/secrets/ca-bundle ]; then export CURL_CA_BUNDLE=/run/secrets/ca-bundle; fi \
    && fetch() { \
        curl -fsSL --retry 3 -o "/tmp/$1.tgz" "https://registry.npmjs.org/$1/-/$1-$2.tgz" \
        && actual=$(python3 -c 'import base64, hashlib, sys; print("sha512-" + base64.b64encode(hashlib.sha512(open(sys.argv[1], "rb").read()).digest()).decode())' "/tmp/$1.tgz") \
        && { [ "$actual" = "$3" ] || { echo "$1 $2: integrity $actual, expected $3" >&2; exit 1; }; } \
        && mkdir -p "/usr/local/lib/node_modules/$1" \
        && tar -xzf "/tmp/$1.tgz" -C "/usr/local/lib/node_modules/$1" --strip-components=1 --no-same-owner \
        && rm "/tmp/$1.tgz"; } \
    && fetch npm "$NPM_VERSION" "$NPM_INTEGRITY" \
    && fetch corepack "$COREPACK_VERSION" "$COREPACK_INTEGRITY" \
    && for link in npm:npm/bin/npm-cli.js npx:npm/bin/npx-cli.js corepack:corepack/dist/corepack.js; do \
        chmod 0755 "/usr/local/lib/node_modules/${link#*:}" \
        && ln -s "../lib/node_modules/${link#*:}" "/usr/local/bin/${link%%:*}"; done \
    && corepack enable --install-directory /usr/local/bin \
    && npm --version && corepack --version
COPY --from=docker-cli /out/docker /usr/bin/docker
COPY --from=aws-tools /opt/aws /opt/aws
# `aws` is a wrapper in front of /opt/aws/bin/aws (it keeps `ecr get-login` as v1 prints it,
# built on `get-login-password`, and passes everything else through); `sam` is the SAM CLI.
COPY --chmod=0755 docker/aws /usr/local/bin/aws
RUN ln -s /opt/aws/bin/sam /usr/local/bin/sam
ENV LANG=C.UTF-8 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_BREAK_SYSTEM_PACKAGES=1 \
    NPM_CONFIG_UPDATE_NOTIFIER=false \
    NPM_CONFIG_FUND=false \
    COREPACK_ENABLE_DOWNLOAD_PROMPT=0 \
    COREPACK_DEFAULT_TO_LATEST=0 \
    SAM_CLI_TELEMETRY=0
ENTRYPOINT ["/usr/local/bin/lambda-pipeline"]

FROM ${RUST_IMAGE} AS builder
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
RUN cargo build --release --locked --bin lambda-pipeline \
    && install -D -m 0755 target/release/lambda-pipeline /out/lambda-pipeline

FROM base AS release
COPY --from=builder /out/lambda-pipeline /usr/local/bin/lambda-pipeline
RUN ["/usr/local/bin/lambda-pipeline", "--version"]

FROM base AS runtime
ARG TARGETARCH
ARG BINARY=dist/${TARGETARCH}/lambda-pipeline
COPY --chmod=0755 ${BINARY} /usr/local/bin/lambda-pipeline
RUN ["/usr/local/bin/lambda-pipeline", "--version"]
