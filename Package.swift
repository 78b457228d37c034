// swift-tools-version: 6.0
import PackageDescription

let nio: [Target.Dependency] = [
    .product(name: "NIOCore", package: "swift-nio"),
    .product(name: "NIOPosix", package: "swift-nio"),
]
let log: Target.Dependency = .product(name: "Logging", package: "swift-log")
let inMemoryLogging: Target.Dependency = .product(name: "InMemoryLogging", package: "swift-log")
let argumentParser: Target.Dependency = .product(name: "ArgumentParser", package: "swift-argument-parser")
let metrics: Target.Dependency = .product(name: "Metrics", package: "swift-metrics")
let metricsTestKit: Target.Dependency = .product(name: "MetricsTestKit", package: "swift-metrics")
let protobuf: Target.Dependency = .product(name: "SwiftProtobuf", package: "swift-protobuf")
let prometheus: Target.Dependency = .product(name: "Prometheus", package: "swift-prometheus")
let nioHTTP2: Target.Dependency = .product(name: "NIOHTTP2", package: "swift-nio-http2")
let nioSSL: Target.Dependency = .product(name: "NIOSSL", package: "swift-nio-ssl")
let crypto: Target.Dependency = .product(name: "Crypto", package: "swift-crypto")

let package = Package(
    name: "rill",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "rill", targets: ["rill"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        .package(url: "https://github.com/apple/swift-nio-http2", from: "1.46.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    ],
    targets: [
        // Pure cores: no NIO, no files, no clocks.
        // swift-crypto for SHA-256 and HMAC (iterators, SigV4): computation only, no I/O.
        .target(name: "RillModel", dependencies: [.product(name: "Crypto", package: "swift-crypto")]),
        // Aggregation/KPLAggregation.pb.swift is generated from the .proto beside it (scripts/generate-protos) and committed.
        .target(name: "RillKinesis", dependencies: ["RillModel", protobuf, crypto], exclude: ["Aggregation/KPLAggregation.proto"]),
        // Shard maps, a record's hash key and shard, the PutRecords split and merge, leader choice.
        .target(name: "RillRouting", dependencies: ["RillModel", "RillKinesis"]),
        // The request pipeline's types: requests, replies, the backend a front end serves, authorization.
        .target(name: "RillAPI", dependencies: ["RillModel", "RillKinesis"]),
        .target(name: "RillRaft", dependencies: ["RillModel"]),
        .target(name: "RillGossip", dependencies: ["RillModel"]),
        // Chaos histories and their checker: Foundation only, so it can judge any Kinesis endpoint.
        .target(name: "RillChaos"),
        .target(
            name: "RillTestKit",
            dependencies: ["RillModel", "RillRaft", "RillKinesis", "RillStorage", "RillReplication", log, inMemoryLogging]
        ),
        // Shells: the only places that touch sockets, files and clocks.
        // CRC-32C with the CPU instruction; RillStorage falls back to tables where there is none.
        .target(name: "CRillCRC"),
        // The system zlib, for `rill archive --compression GZIP`.
        .target(name: "CRillZlib", linkerSettings: [.linkedLibrary("z")]),
        .target(name: "RillStorage", dependencies: ["RillModel", "CRillCRC", log] + nio),
        .target(name: "RillTransport", dependencies: ["RillModel", "RillRaft", log, nioSSL] + nio),
        // One Raft group's serial owner over its segmented log, with the flush rounds, file system and clock
        // injected, so the simulation runs it as nodes do.
        .target(name: "RillReplication", dependencies: ["RillModel", "RillRaft", "RillStorage", log, metrics]),
        .target(name: "RillMembership", dependencies: ["RillGossip", "RillModel", "RillTransport", log, metrics]),
        // What nodes and routers share to work in a cluster: peer calls and answers, the one forwarder.
        .target(
            name: "RillCluster",
            dependencies: ["RillAPI", "RillGossip", "RillKinesis", "RillMembership", "RillModel", "RillRouting", "RillTransport", log, metrics] + nio
        ),
        .target(
            name: "RillNode",
            dependencies: [
                "RillAPI", "RillCluster", "RillModel", "RillKinesis", "RillRouting", "RillStorage", "RillRaft", "RillReplication", "RillTransport",
                "RillGossip", "RillMembership", log, metrics, crypto,
            ] + nio
        ),
        // The stateless front end: no storage, no Raft.
        .target(
            name: "RillRouter",
            dependencies: ["RillAPI", "RillCluster", "RillGossip", "RillKinesis", "RillMembership", "RillModel", "RillRouting", "RillTransport", log, metrics] + nio
        ),
        // Certificates and TLS contexts: the API port's (a local CA for `rill up --tls`, PEM files otherwise) and the
        // peer port's mutual TLS under a cluster CA (`rill cert`, made by `rill up`).
        .target(
            name: "RillTLS",
            dependencies: [
                nioSSL, .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .target(
            name: "RillHTTP",
            dependencies: [
                "RillAPI", "RillModel", "RillKinesis", "RillNode", "RillTransport", log, metrics, prometheus,
                .product(name: "NIOHTTP1", package: "swift-nio"), .product(name: "NIOTLS", package: "swift-nio"), nioHTTP2, nioSSL,
            ] + nio
        ),
        // The Kinesis client of the CLI's tools (bench, put, tail, status): AWS JSON 1.1 over NIO HTTP/1.1, SigV4.
        .target(
            name: "RillClient",
            dependencies: ["RillModel", "RillKinesis", "RillTLS", .product(name: "NIOHTTP1", package: "swift-nio"), nioSSL, nioHTTP2] + nio
        ),
        .target(
            name: "RillBench",
            dependencies: [
                "RillClient", "RillModel", "RillKinesis", "RillTLS", argumentParser, .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Histogram", package: "hdrhistogram-swift"), nioSSL, nioHTTP2,
            ] + nio
        ),
        .target(
            name: "RillChaosRunner",
            dependencies: ["RillChaos", "RillKinesis", "RillModel", .product(name: "NIOHTTP1", package: "swift-nio")] + nio
        ),
        .target(
            name: "RillCLI",
            dependencies: [
                "RillAPI", "RillCluster", "RillKinesis", "RillClient", "RillNode", "RillRouter", "RillHTTP", "RillTLS", "RillBench",
                "RillChaosRunner", "RillModel", "RillStorage", "RillTransport", "CRillZlib", argumentParser, log, metrics, nioSSL,
            ] + nio
        ),
        .executableTarget(name: "rill", dependencies: ["RillCLI"]),

        .testTarget(name: "RillModelTests", dependencies: ["RillModel"]),
        .testTarget(name: "RillKinesisTests", dependencies: ["RillKinesis", "RillModel", protobuf, crypto]),
        .testTarget(name: "RillCLITests", dependencies: ["RillCLI", "RillClient", "RillKinesis", "RillModel"]),
        .testTarget(name: "RillRoutingTests", dependencies: ["RillRouting", "RillKinesis", "RillModel"]),
        .testTarget(
            name: "RillClusterTests",
            dependencies: ["RillCluster", "RillAPI", "RillGossip", "RillKinesis", "RillModel", "RillTransport", metricsTestKit] + nio
        ),
        .testTarget(name: "RillStorageTests", dependencies: ["RillStorage", "RillModel"] + nio),
        .testTarget(name: "RillRaftTests", dependencies: ["RillRaft", "RillModel"], resources: [.copy("testdata")]),
        .testTarget(name: "RillSimulationTests", dependencies: ["RillTestKit", "RillRaft", "RillModel", "RillKinesis"]),
        .testTarget(name: "RillGossipTests", dependencies: ["RillGossip", "RillModel"]),
        .testTarget(name: "RillChaosTests", dependencies: ["RillChaos"]),
        .testTarget(name: "RillTLSTests", dependencies: ["RillTLS", nioSSL, .product(name: "X509", package: "swift-certificates")]),
        .testTarget(name: "RillChaosRunnerTests", dependencies: ["RillChaosRunner", "RillChaos", "RillKinesis"]),
        .testTarget(
            name: "RillTransportTests",
            dependencies: ["RillTransport", "RillRaft", "RillModel", "RillTLS", .product(name: "NIOTestUtils", package: "swift-nio")] + nio
        ),
        .testTarget(
            name: "RillNodeTests",
            dependencies: [
                "RillNode", "RillAPI", "RillCluster", "RillRouter", "RillKinesis", "RillModel", "RillStorage", "RillRaft", "RillReplication",
                "RillTransport", "RillTestKit", log, inMemoryLogging, metricsTestKit,
            ]
        ),
        .testTarget(
            name: "RillHTTPTests",
            dependencies: [
                "RillHTTP", "RillAPI", "RillNode", "RillKinesis", "RillCLI", "RillTestKit", inMemoryLogging, metricsTestKit,
                .product(name: "NIOHTTP1", package: "swift-nio"), .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"), nioHTTP2,
            ] + nio
        ),
    ],
    swiftLanguageModes: [.v6]
)
