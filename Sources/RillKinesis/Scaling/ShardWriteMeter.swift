import RillModel

/// What one node has written to each on-demand shard since it started: running totals and a sample of the
/// hash keys of recent records, read by the controller (`TrafficWindow`) to find hot and cold shards and where a
/// hot shard's load is. Pure; the records service keeps one behind a lock and feeds it after each durable write.
///
/// Counted where a write is served (the node that ran PutRecord or PutRecords), not where the shard leads: the
/// totals of one node never reset on a leader change, and the controller sums the nodes.
public struct ShardWriteMeter: Sendable {
    public struct Key: Hashable, Sendable {
        public var streamID: String
        public var shard: UInt32

        public init(streamID: String, shard: UInt32) {
            self.streamID = streamID
            self.shard = shard
        }
    }

    /// One shard's running totals on this node, and its most recent sampled hash keys (oldest first).
    public struct Totals: Sendable, Equatable {
        public var key: Key
        public var records: UInt64
        public var bytes: UInt64
        public var sampledHashKeys: [HashKey]

        public init(key: Key, records: UInt64, bytes: UInt64, sampledHashKeys: [HashKey]) {
            self.key = key
            self.records = records
            self.bytes = bytes
            self.sampledHashKeys = sampledHashKeys
        }
    }

    /// Sampled hash keys kept per shard: enough for a median that moves little from one round to the next.
    public static let sampleCapacity = 128
    /// One record in this many is sampled, so a busy shard's ring covers the last few hundred records.
    public static let sampleEvery = 4

    private struct Entry {
        var records: UInt64 = 0
        var bytes: UInt64 = 0
        /// A ring of `sampleCapacity` keys; `next` is where the next sample goes once it is full.
        var ring: [HashKey] = []
        var next = 0
        var sinceSample = 0
    }

    private var entries: [Key: Entry] = [:]

    public init() {}

    /// Counts `hashKeys.count` records of `bytes` bytes in all, written durably to one shard.
    public mutating func record(_ key: Key, bytes: Int, hashKeys: some Collection<HashKey>) {
        var entry = entries[key, default: Entry()]
        entry.records &+= UInt64(hashKeys.count)
        entry.bytes &+= UInt64(max(0, bytes))
        for hashKey in hashKeys {
            entry.sinceSample += 1
            guard entry.sinceSample >= Self.sampleEvery else { continue }
            entry.sinceSample = 0
            if entry.ring.count < Self.sampleCapacity {
                entry.ring.append(hashKey)
            } else {
                entry.ring[entry.next] = hashKey
                entry.next = (entry.next + 1) % Self.sampleCapacity
            }
        }
        entries[key] = entry
    }

    /// Every shard's totals, in a stable order.
    public var totals: [Totals] {
        entries.map { key, entry in
            Totals(
                key: key,
                records: entry.records,
                bytes: entry.bytes,
                sampledHashKeys: Array(entry.ring[entry.next...] + entry.ring[..<entry.next])
            )
        }
        .sorted { ($0.key.streamID, $0.key.shard) < ($1.key.streamID, $1.key.shard) }
    }

    /// Forgets the shards of streams that are gone or no longer on demand.
    public mutating func keep(streams: Set<String>) {
        entries = entries.filter { streams.contains($0.key.streamID) }
    }
}
