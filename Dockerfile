# Rill in a container: a Swift 6 build stage, then a slim runtime stage running as a non-root user.
#
#   docker build -t rill .
#   docker run -p 4567:4567 -v rill-data:/var/lib/rill rill node --api 0.0.0.0:4567
#
# The binary links the Swift standard library and Foundation statically, so the runtime image needs only the
# C and C++ runtimes Ubuntu ships, and zlib (`rill archive --compression GZIP`).

FROM swift:6.3-noble AS build
WORKDIR /src
# Resolve dependencies first so source edits do not refetch them.
COPY Package.swift ./
RUN swift package resolve
COPY Sources ./Sources
COPY Tests ./Tests
RUN swift build -c release --product rill --static-swift-stdlib \
    && install -D .build/release/rill /out/rill

FROM ubuntu:noble AS runtime
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ca-certificates tzdata zlib1g \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /var/lib/rill --create-home rill
COPY --from=build /out/rill /usr/local/bin/rill
USER rill
WORKDIR /var/lib/rill
VOLUME ["/var/lib/rill"]
EXPOSE 4567 4600
ENTRYPOINT ["/usr/local/bin/rill"]
CMD ["node", "--id", "1", "--az", "az-a", "--data-dir", "/var/lib/rill/node-1", "--api", "0.0.0.0:4567"]
