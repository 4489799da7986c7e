# lambda-pipeline: the container GitHub Action.
#
# Stages:
#   docker-cli  the docker CLI alone, taken from Debian's docker.io package (no daemon: builds
#            use the runner's, through the /var/run/docker.sock the runner mounts).
#   base     Debian bookworm-slim with the tools real buildspecs call (bash, git, zip, curl, jq,
#            python3 with pip and venv, nodejs with npm, the aws CLI with an `ecr get-login`
#            shim, the docker CLI).
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
        awscli \
        bash \
        ca-certificates \
        curl \
        git \
        jq \
        nodejs \
        npm \
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
COPY --from=docker-cli /out/docker /usr/bin/docker
# In front of /usr/bin/aws: adds `aws ecr get-login`, passes everything else through.
COPY --chmod=0755 docker/aws /usr/local/bin/aws
ENV LANG=C.UTF-8 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_BREAK_SYSTEM_PACKAGES=1 \
    NPM_CONFIG_UPDATE_NOTIFIER=false \
    NPM_CONFIG_FUND=false
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
