import Foundation
import RillKinesis
import RillModel
import RillNode
import Testing

@Suite struct NodeTests {
    func createStream(_ harness: NodeHarness, _ name: String, shards: Int = 1) async throws {
        try await harness.call(.createStream, #"{"StreamName": "\#(name)", "ShardCount": \#(shards)}"#)
    }

    func put(_ harness: NodeHarness, _ stream: String, _ data: String, key: String = "k") async throws -> String {
        let encoded = Base64.encode(Array(data.utf8))
        let reply = try await harness.call(
            .putRecord,
            #"{"StreamName": "\#(stream)", "PartitionKey": "\#(key)", "Data": "\#(encoded)"}"#
        )
        return reply["SequenceNumber"]?.string ?? ""
    }

    func iterator(_ harness: NodeHarness, _ stream: String, type: String = "TRIM_HORIZON") async throws -> String {
        let reply = try await harness.call(
            .getShardIterator,
            #"{"StreamName": "\#(stream)", "ShardId": "shardId-000000000000", "ShardIteratorType": "\#(type)"}"#
        )
        return reply["ShardIterator"]?.string ?? ""
    }

    func read(_ harness: NodeHarness, _ iterator: String) async throws -> (data: [String], next: String?) {
        let reply = try await harness.call(.getRecords, #"{"ShardIterator": "\#(iterator)"}"#)
        let records = reply["Records"]?.array ?? []
        let data = records.compactMap { $0.object?["Data"]?.string }.map {
            String(decoding: (try? Base64.decode($0)) ?? [], as: UTF8.self)
        }
        return (data, reply["NextShardIterator"]?.string)
    }

    @Test("records put are read back in order with increasing sequence numbers, across a restart")
    func putGetRestart() async throws {
        var harness = try await NodeHarness.start()
        try await createStream(harness, "s")
        var sequences: [String] = []
        for i in 0..<20 { sequences.append(try await put(harness, "s", "r\(i)")) }
        #expect(sequences == sequences.sorted())
        #expect(Set(sequences).count == 20)
        harness = try await harness.restart()
        let (data, next) = try await read(harness, try await iterator(harness, "s"))
        #expect(data == (0..<20).map { "r\($0)" })
        #expect(next != nil)
        try await harness.cleanUp()
    }

    @Test("LATEST sees only records written after it; an iterator expires after 300 s")
    func latestAndExpiry() async throws {
        let harness = try await NodeHarness.start()
        try await createStream(harness, "s")
        _ = try await put(harness, "s", "before")
        let latest = try await iterator(harness, "s", type: "LATEST")
        _ = try await put(harness, "s", "after")
        #expect(try await read(harness, latest).data == ["after"])
        harness.clock.advance(byMillis: 300_001)
        let error = await harness.failure(.getRecords, #"{"ShardIterator": "\#(latest)"}"#)
        #expect(error?.code == .expiredIterator)
        try await harness.cleanUp()
    }

    @Test("retention trims whole expired segments through a trim entry and hides expired records")
    func retention() async throws {
        let harness = try await NodeHarness.start(segmentBytes: 4096)
        try await createStream(harness, "s")
        let payload = String(repeating: "x", count: 1000)
        for _ in 0..<20 { _ = try await put(harness, "s", payload) }
        harness.clock.advance(byMillis: 25 * 3_600_000)
        _ = try await put(harness, "s", "fresh")
        try await harness.node.retention.enforce()
        let (data, _) = try await read(harness, try await iterator(harness, "s"))
        #expect(data == ["fresh"])
        let shardDirectory = try FileManager.default.contentsOfDirectory(atPath: harness.directory + "/shards")
        let segments = try FileManager.default.contentsOfDirectory(
            atPath: harness.directory + "/shards/\(shardDirectory[0])/shardId-000000000000"
        )
        .filter { $0.hasSuffix(".log") }
        #expect(segments.count < 5, "expired segments should be deleted, found \(segments.sorted())")
        try await harness.cleanUp()
    }

    @Test("streams are per region namespace, and ARNs carry the region")
    func namespaces() async throws {
        let harness = try await NodeHarness.start()
        try await harness.call(.createStream, #"{"StreamName": "s", "ShardCount": 1}"#, region: "eu-west-1")
        let listed = try await harness.call(.listStreams, "{}", region: "us-east-1")
        #expect(listed["StreamNames"]?.array == [])
        let described = try await harness.call(.describeStreamSummary, #"{"StreamName": "s"}"#, region: "eu-west-1")
        #expect(
            described["StreamDescriptionSummary"]?.object?["StreamARN"]?.string
                == "arn:aws:kinesis:eu-west-1:000000000000:stream/s"
        )
        try await harness.cleanUp()
    }

    @Test("a deleted stream's data is gone, and a re-created stream refuses the old iterators")
    func deleteAndRecreate() async throws {
        let harness = try await NodeHarness.start()
        try await createStream(harness, "s")
        _ = try await put(harness, "s", "old")
        let old = try await iterator(harness, "s")
        try await harness.call(.deleteStream, #"{"StreamName": "s"}"#)
        try await createStream(harness, "s")
        let error = await harness.failure(.getRecords, #"{"ShardIterator": "\#(old)"}"#)
        #expect(error?.code == .resourceNotFound)
        #expect(try await read(harness, try await iterator(harness, "s")).data == [])
        try await harness.cleanUp()
    }

    @Test("PutRecords answers in request order with per-shard increasing numbers")
    func putRecordsOrder() async throws {
        let harness = try await NodeHarness.start()
        try await createStream(harness, "s", shards: 4)
        let records = (0..<100).map {
            #"{"Data": "\#(Base64.encode(Array("d\($0)".utf8)))", "PartitionKey": "key-\#($0)"}"#
        }
        let reply = try await harness.call(
            .putRecords,
            #"{"StreamName": "s", "Records": [\#(records.joined(separator: ","))]}"#
        )
        #expect(reply["FailedRecordCount"]?.number == "0")
        let results = reply["Records"]?.array ?? []
        #expect(results.count == 100)
        var lastByShard: [String: String] = [:]
        for (i, result) in results.enumerated() {
            let shard = result.object?["ShardId"]?.string ?? ""
            let sequence = result.object?["SequenceNumber"]?.string ?? ""
            let expected = HashRange.evenSplit(count: 4).firstIndex { $0.contains(HashKey(partitionKey: "key-\(i)")) }
            #expect(shard == ShardID(index: UInt32(expected ?? 99)).name)
            if let last = lastByShard[shard] { #expect(last < sequence) }
            lastByShard[shard] = sequence
        }
        try await harness.cleanUp()
    }
}

@Suite struct ThroughputLimitTests {
    @Test("with limits on, PutRecords fails only the records over the shard's limit and counts them")
    func putRecordsThrottled() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rill-node-\(UUID().uuidString)")
            .path
        let harness = try await NodeHarness.start(directory: directory, throughputLimits: true)
        try await harness.call(.createStream, #"{"StreamName": "s", "ShardCount": 1}"#)
        let data = Base64.encode([UInt8](repeating: 1, count: 4000))
        let records = (0..<500).map { #"{"Data": "\#(data)", "PartitionKey": "k\#($0)"}"# }.joined(separator: ",")
        let reply = try await harness.call(.putRecords, #"{"StreamName": "s", "Records": [\#(records)]}"#)
        let results = reply["Records"]?.array?.compactMap(\.object) ?? []
        let failed = results.filter { $0["ErrorCode"]?.string == "ProvisionedThroughputExceededException" }
        // 1 MiB/s at ~4 KB a record admits about 260 of the 500 in the same instant.
        #expect(failed.count > 200 && failed.count < 300)
        #expect(reply["FailedRecordCount"]?.number == String(failed.count))
        #expect(results.first?["SequenceNumber"] != nil)
        let single = await harness.failure(.putRecord, #"{"StreamName": "s", "PartitionKey": "k", "Data": "\#(data)"}"#)
        #expect(single?.code == .provisionedThroughputExceeded)
        harness.clock.advance(byMillis: 1000)
        try await harness.call(.putRecord, #"{"StreamName": "s", "PartitionKey": "k", "Data": "\#(data)"}"#)
        try await harness.cleanUp()
    }
}

@Suite struct DiskDamageTests {
    @Test("a damaged metadata log stops the node with a clear error, on every start, and keeps the shard data")
    func metadataDamageRefusesToStart() async throws {
        let harness = try await NodeHarness.start()
        try await harness.call(.createStream, #"{"StreamName": "a", "ShardCount": 1}"#)
        try await harness.call(.createStream, #"{"StreamName": "b", "ShardCount": 1}"#)
        try await harness.node.shutdown()
        let meta = harness.directory + "/meta/00000000000000000001.log"
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: meta)))
        bytes[20 + 30] ^= 0xFF  // inside the first entry, with valid entries after it
        try Data(bytes).write(to: URL(fileURLWithPath: meta))
        for _ in 0..<2 {
            await #expect(throws: (any Error).self) {
                _ = try await NodeHarness.start(directory: harness.directory, clock: harness.clock)
            }
        }
        let shards = try FileManager.default.contentsOfDirectory(atPath: harness.directory + "/shards")
        #expect(shards.count == 2)
        try? FileManager.default.removeItem(atPath: harness.directory)
    }
}
