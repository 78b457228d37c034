import NIOCore
import RillKinesis

// MARK: - Control plane: the few calls around the measured phases

extension KinesisClient {
    public func createStream(_ name: String, shards: Int) async throws {
        _ = try await callChecked(.createStream) { writer in
            writer.key("StreamName")
            writer.string(name)
            writer.key("ShardCount")
            writer.int(shards)
        }
    }

    /// Polls DescribeStreamSummary until the stream is ACTIVE; gives up after `timeout`.
    public func waitUntilActive(_ name: String, timeout: Duration = .seconds(60)) async throws {
        let clock = ContinuousClock()
        let giveUp = clock.now + timeout
        while clock.now < giveUp {
            let reply = try await callChecked(.describeStreamSummary) { writer in
                writer.key("StreamName")
                writer.string(name)
            }
            let summary = KinesisReply.object(reply, "StreamDescriptionSummary")
            if let summary, KinesisReply.string(summary, "StreamStatus") == StreamStatus.active.rawValue { return }
            // Creation is a metadata commit; polling ten times a second costs the server nothing.
            try await Task.sleep(for: .milliseconds(100))
        }
        throw BenchError("stream \(name) not ACTIVE after \(timeout)")
    }

    /// StartStreamEncryption with KMS and `keyId` (an id, ARN or alias of the server's key store).
    public func startStreamEncryption(_ name: String, keyId: String) async throws {
        _ = try await callChecked(.startStreamEncryption) { writer in
            writer.key("StreamName")
            writer.string(name)
            writer.key("EncryptionType")
            writer.string("KMS")
            writer.key("KeyId")
            writer.string(keyId)
        }
    }

    public func deleteStream(_ name: String) async throws {
        _ = try await callChecked(.deleteStream) { writer in
            writer.key("StreamName")
            writer.string(name)
            writer.key("EnforceConsumerDeletion")
            writer.bool(true)
        }
    }

    /// Every shard id of the stream, following NextToken (bounded: a stream has at most a few thousand shards).
    public func listShards(_ name: String) async throws -> [String] {
        var shards: [String] = []
        var nextToken: String? = nil
        for _ in 0..<1000 {
            let reply = try await callChecked(.listShards) { writer in
                // ListShards refuses StreamName together with NextToken.
                if let nextToken {
                    writer.key("NextToken")
                    writer.string(nextToken)
                } else {
                    writer.key("StreamName")
                    writer.string(name)
                }
            }
            for case .object(let shard) in KinesisReply.array(reply, "Shards") ?? [] {
                if let id = KinesisReply.string(shard, "ShardId") { shards.append(id) }
            }
            nextToken = KinesisReply.string(reply, "NextToken")
            if nextToken == nil { return shards }
        }
        throw BenchError("ListShards did not finish after 1000 pages")
    }

    public func trimHorizonIterator(stream: String, shard: String) async throws -> String {
        let reply = try await callChecked(.getShardIterator) { writer in
            writer.key("StreamName")
            writer.string(stream)
            writer.key("ShardId")
            writer.string(shard)
            writer.key("ShardIteratorType")
            writer.string("TRIM_HORIZON")
        }
        guard let iterator = KinesisReply.string(reply, "ShardIterator") else {
            throw BenchError("GetShardIterator for \(shard) returned no ShardIterator")
        }
        return iterator
    }
}
