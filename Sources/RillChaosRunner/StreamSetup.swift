import NIOCore
import RillKinesis

/// Creates the run's stream and lists its shards, retrying through any node until `deadline`: the
/// cluster has only just formed, and set-up is not what the run checks.
struct StreamSetup: Sendable {
    let stream: String
    let shardCount: Int
    /// Encrypt the stream under this key before it counts as set up (nil: leave it unencrypted).
    let encryptionKeyID: String?
    let addresses: [APIAddress]
    let group: any EventLoopGroup

    func run(deadline: ContinuousClock.Instant) async throws(ChaosError) -> [String] {
        var caller = KinesisCaller(group: group)
        var last = "no attempt"
        var attempt = 0
        var created = false
        while ContinuousClock.now < deadline {
            let port = addresses[attempt % addresses.count]
            attempt += 1
            if !created {
                let result = await caller.call(.createStream, at: port, timeout: .seconds(10)) { writer in
                    writer.key("StreamName")
                    writer.string(stream)
                    writer.key("ShardCount")
                    writer.int(shardCount)
                }
                switch result {
                case .ok: created = true
                case .error(let code, _) where code == KinesisErrorCode.resourceInUse.rawValue: created = true
                default: last = "CreateStream: \(result.summary)"
                }
            }
            if created {
                let summary = await caller.call(.describeStreamSummary, at: port, timeout: .seconds(10)) { writer in
                    writer.key("StreamName")
                    writer.string(stream)
                }
                if case .ok(let reply) = summary, let description = reply["StreamDescriptionSummary"],
                    case .object(let fields) = description, fields.string("StreamStatus") == "ACTIVE",
                    let encryptionKeyID, fields.string("EncryptionType") != "KMS"
                {
                    // Active but not encrypted yet: start it; the next round waits for ACTIVE with KMS. A retry
                    // after a lost answer finds it encrypted already or UPDATING (ResourceInUse), both fine.
                    let started = await caller.call(.startStreamEncryption, at: port, timeout: .seconds(10)) { writer in
                        writer.key("StreamName")
                        writer.string(stream)
                        writer.key("EncryptionType")
                        writer.string("KMS")
                        writer.key("KeyId")
                        writer.string(encryptionKeyID)
                    }
                    last = "StartStreamEncryption: \(started.summary)"
                } else if case .ok(let reply) = summary, let description = reply["StreamDescriptionSummary"],
                    case .object(let fields) = description, fields.string("StreamStatus") == "ACTIVE"
                {
                    let listed = await caller.call(.listShards, at: port, timeout: .seconds(10)) { writer in
                        writer.key("StreamName")
                        writer.string(stream)
                    }
                    if case .ok(let reply) = listed, let shards = reply.objects("Shards") {
                        let ids = shards.compactMap { $0.string("ShardId") }
                        if ids.count == shardCount {
                            await caller.close()
                            return ids.sorted()
                        }
                        last = "ListShards returned \(ids.count) of \(shardCount) shards"
                    } else {
                        last = "ListShards: \(listed.summary)"
                    }
                } else {
                    last = "DescribeStreamSummary: \(summary.summary)"
                }
            }
            try? await Task.sleep(for: .milliseconds(200))
        }
        await caller.close()
        throw .unrecovered("stream \(stream) was not created in time; last answer: \(last)")
    }
}

extension StreamSetup {
    /// The ids of every shard of `stream`, closed parents included, sorted (`listShards`).
    static func allShards(
        of stream: String,
        cluster: any ChaosCluster,
        group: any EventLoopGroup,
        deadline: ContinuousClock.Instant
    ) async throws(ChaosError) -> [String] {
        try await listShards(of: stream, cluster: cluster, group: group, deadline: deadline)
            .compactMap { $0.string("ShardId") }.sorted()
    }

    /// Every shard of `stream` as ListShards describes it, closed parents included (it lists them while their
    /// records are retained), through any reachable node, retried until `deadline`.
    static func listShards(
        of stream: String,
        cluster: any ChaosCluster,
        group: any EventLoopGroup,
        deadline: ContinuousClock.Instant
    ) async throws(ChaosError) -> [JSONObject] {
        var caller = KinesisCaller(group: group)
        var last = "no attempt"
        while ContinuousClock.now < deadline, !Task.isCancelled {
            guard let address = await cluster.reachable().randomElement() else {
                try? await Task.sleep(for: .milliseconds(100))
                continue
            }
            var listed: [JSONObject] = []
            var token: String?
            var failed = false
            repeat {
                let result = await caller.call(.listShards, at: address, timeout: .seconds(10)) { writer in
                    // Kinesis refuses StreamName beside NextToken.
                    if let token {
                        writer.key("NextToken")
                        writer.string(token)
                    } else {
                        writer.key("StreamName")
                        writer.string(stream)
                    }
                }
                guard case .ok(let reply) = result, let shards = reply.objects("Shards") else {
                    last = "ListShards: \(result.summary)"
                    failed = true
                    break
                }
                listed += shards
                token = reply.string("NextToken")
            } while token != nil
            if !failed {
                await caller.close()
                return listed
            }
            try? await Task.sleep(for: .milliseconds(200))
        }
        await caller.close()
        throw .unrecovered("the shards of \(stream) could not be listed; last answer: \(last)")
    }
}
