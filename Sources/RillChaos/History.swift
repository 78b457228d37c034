import Foundation

/// A run's history: every write, read and fault, and the replicas' checksums, in the order they were recorded.
///
/// File format: JSON lines, one event per line, UTF-8, each line a flat object tagged by `"type"`. Keys are
/// written sorted so equal histories are equal files; a reader accepts any key order, skips blank lines and
/// ignores unknown keys. Times are milliseconds since the run started (a Double); sequence numbers are
/// decimal strings, as Kinesis sends them. Shortened (`…`) examples:
///
///     {"id":"w3-17","outcome":"ok","process":3,"sequence":"4964…360","shard":"shardId-…01","time":812.5,
///      "type":"write"}
///     {"error":"InternalFailureException","id":"w3-18","outcome":"info","process":3,"time":1503.2,"type":"write"}
///     {"final":false,"from":"TRIM_HORIZON","process":9,"records":[{"id":"w3-17","sequence":"4964…360"}],
///      "shard":"shardId-…01","time":900.1,"type":"read"}
///     {"detail":"SIGKILL","kind":"kill","phase":"start","target":"node-2","time":1000,"type":"fault"}
///     {"node":"node-1","shards":[{"applied":812,"records":4051,"sha256":"9f…","shardId":"shardId-…01"}],
///      "time":60010,"type":"checksums"}
///
/// - `write`: `outcome` is `ok` (acknowledged, with `shard` and `sequence`), `fail` (definitely not written,
///   with `error`) or `info` (indeterminate); see `WriteOutcome`. A writer that retries writes one line per
///   attempt with its `attempt` (from 1) and, as an idempotent producer, `producer` and `producerSequence`;
///   the checker merges a record's attempts (`WriteEvent.merging`).
/// - `read`: one GetRecords page in the order returned; `final` marks the full read after healing (a shard's
///   final events are concatenated). `from` is set only on the first page of a new iterator: its starting
///   sequence number, or `TRIM_HORIZON`, `LATEST`, `AT_TIMESTAMP`; pages read with `NextShardIterator` omit it.
/// - `fault`: `phase` `start` or `end`; an end closes the oldest open start of the same `kind` and `target`.
/// - `checksums`: one replica's digest per shard, taken after healing, each with that replica's `voters`.
/// - `placement`: one node's shard groups with their voters, its members' zones and its own placement
///   violations, taken after healing (`PlacementEvent`).
/// - `lineage`: the shards of the stream under test with their `parents` (one after a split, two after a
///   merge), as ListShards named them when the final read began; the key-order check follows it.
/// - `stream` (on `write` and `read`): set only for streams other than the one under test (the catalog
///   churn's); their shards are keyed `stream/shardId` (`RecordPosition.shardKey`).
///
/// Within one `process`, lines are in program order.
public struct History: Sendable, Equatable {
    public var events: [HistoryEvent]

    public init(events: [HistoryEvent] = []) {
        self.events = events
    }

    /// The history as JSON lines, each ending in a newline.
    ///
    /// Throws only for a value JSON cannot hold, such as a non-finite time.
    public func jsonLines() throws -> Data {
        let encoder = History.lineEncoder()
        var data = Data()
        for event in events {
            data.append(try encoder.encode(event))
            data.append(0x0A)
        }
        return data
    }

    /// Parses JSON lines; the error names the first malformed line.
    public init(jsonLines data: Data) throws(HistoryReadError) {
        self.events = try HistoryReader.decode(data)
    }

    /// The encoder every history line goes through, so that files are byte-for-byte reproducible.
    static func lineEncoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }
}
