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
let prometheus: Target.Dependency = .product(name: "Prometheus", package: "swift-prometheus")
let nioHTTP2: Target.Dependency = .product(name: "NIOHTTP2", package: "swift-nio-http2")
let nioSSL: Target.Dependency = .product(name: "NIOSSL", package: "swift-nio-ssl")

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
        .package(url: "https://github.com/apple/swift-nio-http2", from: "1.46.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    ],
    targets: [
        // Pure cores: no NIO, no files, no clocks.
        .target(name: "RillModel"),
        .target(name: "RillKinesis", dependencies: ["RillModel"]),
        .target(name: "RillRaft", dependencies: ["RillModel"]),
        .target(name: "RillGossip", dependencies: ["RillModel"]),
        // Chaos histories and their checker: Foundation only, so it can judge any Kinesis endpoint.
        .target(name: "RillChaos"),
        .target(name: "RillTestKit", dependencies: ["RillModel", "RillRaft", "RillKinesis", log, inMemoryLogging]),
        // Shells: the only places that touch sockets, files and clocks.
        // CRC-32C with the CPU instruction; RillStorage falls back to tables where there is none.
        .target(name: "CRillCRC"),
        .target(name: "RillStorage", dependencies: ["RillModel", "CRillCRC", log] + nio),
        .target(name: "RillTransport", dependencies: ["RillModel", "RillRaft", log] + nio),
        .target(name: "RillMembership", dependencies: ["RillGossip", "RillModel", "RillTransport", log, metrics]),
        .target(
            name: "RillNode",
            dependencies: ["RillModel", "RillKinesis", "RillStorage", "RillRaft", "RillTransport", "RillGossip", "RillMembership", log, metrics] + nio
        ),
        // Server certificates and TLS contexts for the API port: a local CA for `rill up --tls`, PEM files otherwise.
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
                "RillModel", "RillKinesis", "RillNode", "RillTransport", log, metrics, prometheus,
                .product(name: "NIOHTTP1", package: "swift-nio"), .product(name: "NIOTLS", package: "swift-nio"), nioHTTP2, nioSSL,
            ] + nio
        ),
        .target(
            name: "RillBench",
            dependencies: [
                "RillModel", "RillKinesis", "RillTLS", argumentParser, .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Histogram", package: "hdrhistogram-swift"), nioSSL, nioHTTP2,
            ] + nio
        ),
        .target(
            name: "RillChaosRunner",
            dependencies: ["RillChaos", "RillKinesis", "RillModel", .product(name: "NIOHTTP1", package: "swift-nio")] + nio
        ),
        .target(
            name: "RillCLI",
            dependencies: ["RillKinesis", "RillNode", "RillHTTP", "RillTLS", "RillBench", "RillChaosRunner", argumentParser, log, metrics, nioSSL] + nio
        ),
        .executableTarget(name: "rill", dependencies: ["RillCLI"]),

        .testTarget(name: "RillModelTests", dependencies: ["RillModel"]),
        .testTarget(name: "RillKinesisTests", dependencies: ["RillKinesis", "RillModel"]),
        .testTarget(name: "RillStorageTests", dependencies: ["RillStorage", "RillModel"] + nio),
        .testTarget(name: "RillRaftTests", dependencies: ["RillRaft", "RillModel"], resources: [.copy("testdata")]),
        .testTarget(name: "RillSimulationTests", dependencies: ["RillTestKit", "RillRaft", "RillModel", "RillKinesis"]),
        .testTarget(name: "RillGossipTests", dependencies: ["RillGossip", "RillModel"]),
        .testTarget(name: "RillChaosTests", dependencies: ["RillChaos"]),
        .testTarget(name: "RillTLSTests", dependencies: ["RillTLS", nioSSL, .product(name: "X509", package: "swift-certificates")]),
        .testTarget(name: "RillChaosRunnerTests", dependencies: ["RillChaosRunner", "RillChaos", "RillKinesis"]),
        .testTarget(
            name: "RillTransportTests",
            dependencies: ["RillTransport", "RillRaft", "RillModel", .product(name: "NIOTestUtils", package: "swift-nio")] + nio
        ),
        .testTarget(
            name: "RillNodeTests",
            dependencies: ["RillNode", "RillKinesis", "RillModel", "RillStorage", "RillRaft", "RillTransport", "RillTestKit", log, inMemoryLogging, metricsTestKit]
        ),
        .testTarget(
            name: "RillHTTPTests",
            dependencies: [
                "RillHTTP", "RillNode", "RillKinesis", "RillCLI", "RillTestKit", inMemoryLogging, metricsTestKit,
                .product(name: "NIOHTTP1", package: "swift-nio"), .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"), nioHTTP2,
            ] + nio
        ),
    ],
    swiftLanguageModes: [.v6]
)
