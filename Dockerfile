# Build: docker build -t voxport .
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin voxport

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* && useradd --system --uid 10001 voxport \
    && mkdir -p /var/lib/voxport && chown voxport /var/lib/voxport
COPY --from=build /src/target/release/voxport /usr/local/bin/voxport
USER voxport
WORKDIR /var/lib/voxport
EXPOSE 8080
ENTRYPOINT ["voxport"]
CMD ["serve"]
