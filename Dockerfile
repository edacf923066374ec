# pbxis-ws in a container: built in one stage, run from a slim image as a user without
# privileges. Not built by this project's tests or CI (their machines have no container
# engine): keep it minimal, and build it where one is:
#
#   docker build -t pbxis-ws .
#   docker run -p 58615:58615 -e PBXIS_AMI_HOST=pbx.example.com -e PBXIS_AMI_SECRET=... \
#     -e PBXIS_AUTH_KEYS='[{ name = "crm", sha256 = "...", scopes = ["events", "control"] }]' pbxis-ws
#
# It listens on 0.0.0.0:58615, which the service refuses without an API key: give it keys
# (PBXIS_AUTH_KEYS, or [[auth.keys]] in a file mounted at /etc/pbxis-ws/pbxis.toml with
# PBXIS_CONFIG=/etc/pbxis-ws/pbxis.toml). Every setting is a PBXIS_* variable (README,
# "Configuration").

FROM rust:1.88-slim-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src src
COPY web web
COPY tools tools
COPY benches benches
COPY pbxis.example.toml ./
RUN cargo build --release --locked --bin pbxis-ws

FROM debian:bookworm-slim
COPY --from=build /src/target/release/pbxis-ws /usr/local/bin/pbxis-ws
USER 65532:65532
ENV PBXIS_LISTEN=0.0.0.0:58615 PBXIS_LOG_FORMAT=json
EXPOSE 58615
ENTRYPOINT ["/usr/local/bin/pbxis-ws"]
CMD ["serve"]
