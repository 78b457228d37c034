import Foundation
import RillKinesis
import Testing

/// Firehose's object names and prefixes, and its error records, as `rill archive` writes them.
@Suite struct ArchiveObjectNameTests {
    // 2026-12-06T17:05:09.250Z
    static let arrival: Int64 = 1_796_576_709_250

    @Test("the default prefix is the UTC hour of the first record; the name carries its second and a derived id")
    func defaultPrefix() {
        let name = ArchiveObjectName.data(
            settings: ArchiveSettings(streamName: "orders"),
            shardID: "shardId-000000000001",
            firstSequenceNumber: "49650",
            arrivalMillis: Self.arrival
        )
        #expect(name.folder == "2026/12/06/17/")
        let id = ArchiveObjectName.derivedID(shardID: "shardId-000000000001", firstSequenceNumber: "49650")
        #expect(name.fileName == "orders-1-2026-12-06-17-05-09-\(id)")
        #expect(name.path == "2026/12/06/17/" + name.fileName)
    }

    @Test("a custom prefix goes before the time folders; GZIP objects end in .gz")
    func customPrefixAndExtension() throws {
        let settings = ArchiveSettings(
            streamName: "logs",
            compression: .gzip,
            prefixes: try ArchivePrefixes(prefix: "raw/")
        )
        let name = ArchiveObjectName.data(
            settings: settings,
            shardID: "s",
            firstSequenceNumber: "1",
            arrivalMillis: Self.arrival
        )
        #expect(name.folder == "raw/2026/12/06/17/")
        #expect(name.fileName.hasSuffix(".gz"))
        let errors = ArchiveObjectName.errors(
            settings: settings,
            shardID: "s",
            firstSequenceNumber: "1",
            arrivalMillis: Self.arrival
        )
        #expect(errors.folder == "processing-failed/2026/12/06/17/")
        #expect(!errors.fileName.hasSuffix(".gz"))
        var custom = settings
        custom.prefixes = try ArchivePrefixes(prefix: "raw/", errorOutputPrefix: "failed/")
        #expect(
            ArchiveObjectName.errors(settings: custom, shardID: "s", firstSequenceNumber: "1", arrivalMillis: 0).folder
                == "failed/1970/01/01/00/"
        )
    }

    @Test("the id is a UUIDv8 that depends on shard and first sequence number only")
    func derivedID() {
        let id = ArchiveObjectName.derivedID(shardID: "shardId-000000000000", firstSequenceNumber: "42")
        #expect(id == ArchiveObjectName.derivedID(shardID: "shardId-000000000000", firstSequenceNumber: "42"))
        #expect(id != ArchiveObjectName.derivedID(shardID: "shardId-000000000001", firstSequenceNumber: "42"))
        #expect(id != ArchiveObjectName.derivedID(shardID: "shardId-000000000000", firstSequenceNumber: "43"))
        let groups = id.split(separator: "-").map(\.count)
        #expect(groups == [8, 4, 4, 4, 12])
        #expect(UUID(uuidString: id) != nil)
        #expect(Array(id)[14] == "8")
        #expect("89ab".contains(Array(id)[19]))
    }

    @Test("an error record is one JSON line per user record with Firehose's fields")
    func errorRecords() throws {
        let record = ArchiveBuffer.Record(
            sequenceNumber: "777",
            arrivalMillis: Self.arrival,
            payloads: [Array("hello".utf8), Array("world".utf8)]
        )
        let bytes = ArchiveErrorRecord.lines(
            ArchiveBuffer.Flush(records: [record], reason: .size),
            attemptsMade: 4,
            errorCode: ArchiveErrorRecord.writeFailed,
            errorMessage: "cannot rename: Not a directory",
            attemptEndingMillis: Self.arrival + 5
        )
        let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n")
        #expect(lines.count == 2)
        let object = try JSONSerialization.jsonObject(with: Data(lines[1].utf8))
        let second = try #require(object as? [String: Any])
        #expect(second["attemptsMade"] as? Int == 4)
        #expect((second["arrivalTimestamp"] as? NSNumber)?.int64Value == Self.arrival)
        #expect(second["errorCode"] as? String == "Archive.WriteFailed")
        #expect(second["errorMessage"] as? String == "cannot rename: Not a directory")
        #expect((second["attemptEndingTimestamp"] as? NSNumber)?.int64Value == Self.arrival + 5)
        #expect(second["rawData"] as? String == "d29ybGQ=")
        #expect(second["sequenceNumber"] as? String == "777")
        #expect(second["subSequenceNumber"] as? Int == 1)
    }
}
