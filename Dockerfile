# Debrief as a container: a release build, then a small runtime image that
# holds only the binary (templates, styles and migrations are compiled in).

FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
# The committed .sqlx/ query data lets the build run without a database.
ENV SQLX_OFFLINE=true
RUN cargo build --release --locked --bin debrief

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --no-create-home debrief
COPY --from=build /src/target/release/debrief /usr/local/bin/debrief
USER debrief
ENV DEBRIEF_LISTEN=0.0.0.0:3000 \
    DEBRIEF_LOG_FORMAT=json
EXPOSE 3000
ENTRYPOINT ["debrief"]
CMD ["serve"]
