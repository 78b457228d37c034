import RillModel
import SwiftProtobuf

#if canImport(FoundationEssentials)
import FoundationEssentials  // `Data`, the type of protobuf bytes fields
#else
import Foundation
#endif

/// Packs user records bound for one shard into KPL aggregates, in order, as the KPL's per-shard aggregator does.
///
/// A finished aggregate of two or more records goes out under partition key `"a"` with the first user record's
/// hash key as its explicit hash key, so it lands on the shard the caller predicted for all of them
/// (`KinesisRecord::partition_key` and `explicit_hash_key` in the KPL). A lone record goes out as itself,
/// not wrapped: the KPL does the same, and any consumer reads it. Pure: no clock, the caller decides when to flush.
public struct KPLAggregator: Sendable {
    /// What to send to Kinesis: one record, aggregated or plain, and how many user records it carries.
    public struct Output: Sendable, Equatable {
        public var partitionKey: String
        public var explicitHashKey: String?
        public var data: [UInt8]
        /// The user records inside, in order: their sub-sequence numbers are their positions.
        public var userRecords: Int

        public init(partitionKey: String, explicitHashKey: String?, data: [UInt8], userRecords: Int) {
            self.partitionKey = partitionKey
            self.explicitHashKey = explicitHashKey
            self.data = data
            self.userRecords = userRecords
        }
    }

    /// The largest Kinesis record (data plus partition key) this aggregator makes: the KPL's `AggregationMaxSize`.
    public let maxBytes: Int
    private var message = KPLAggregatedRecord()
    private var first: KPLUserRecord?
    private var partitionKeys: [String: UInt64] = [:]
    private var explicitHashKeys: [String: UInt64] = [:]
    /// Bytes of the protobuf message so far, counted as they are added (aws-kinesis-agg counts the same way).
    private var messageBytes = 0

    /// `maxBytes` at most 1 MiB, Kinesis' record limit; the KPL's default is 51,200.
    public init(maxBytes: Int = 51_200) {
        precondition(
            maxBytes > KPLAggregation.overheadBytes && maxBytes <= KPLAggregation.maxKinesisRecordBytes,
            "aggregate size limit \(maxBytes) outside \(KPLAggregation.overheadBytes + 1)…\(KPLAggregation.maxKinesisRecordBytes)"
        )
        self.maxBytes = maxBytes
    }

    /// User records waiting in the current aggregate.
    public var count: Int { message.records.count }

    /// The Kinesis record's size (data plus partition key) if it were flushed now.
    public var sizeBytes: Int {
        switch count {
        case 0: 0
        case 1: first.map { $0.data.count + $0.partitionKey.utf8.count } ?? 0
        default: KPLAggregation.overheadBytes + messageBytes + KPLAggregation.aggregatePartitionKey.utf8.count
        }
    }

    /// Adds `record`. When it does not fit beside the records already waiting, those are returned as a finished
    /// aggregate first and `record` starts the next one. A record too big for any aggregate of `maxBytes` is
    /// returned (after whatever waited) as a plain record of its own.
    public mutating func add(_ record: KPLUserRecord) -> [Output] {
        var outputs: [Output] = []
        let alone =
            KPLAggregation.overheadBytes + Self.growth(of: record, partitionKeyIndex: 0, hashKeyIndex: 0, keysNew: true)
            + KPLAggregation.aggregatePartitionKey.utf8.count
        if alone > maxBytes {
            if let waiting = flush() { outputs.append(waiting) }
            outputs.append(
                Output(
                    partitionKey: record.partitionKey,
                    explicitHashKey: record.explicitHashKey,
                    data: record.data,
                    userRecords: 1
                )
            )
            return outputs
        }
        if count > 0 && KPLAggregation.overheadBytes + messageBytes + growth(of: record) + 1 > maxBytes {
            if let waiting = flush() { outputs.append(waiting) }
        }
        append(record)
        return outputs
    }

    /// The records waiting, as one Kinesis record; nil when none wait.
    public mutating func flush() -> Output? {
        defer { self = KPLAggregator(maxBytes: maxBytes) }
        guard let first else { return nil }
        if count == 1 {
            return Output(
                partitionKey: first.partitionKey,
                explicitHashKey: first.explicitHashKey,
                data: first.data,
                userRecords: 1
            )
        }
        let body: [UInt8]
        do {
            body = try message.serializedBytes()
        } catch {
            // Every required field is set by `append`; serialising a complete message cannot fail.
            preconditionFailure("KPL aggregate with \(count) records failed to serialise: \(error)")
        }
        precondition(body.count == messageBytes, "KPL aggregate size estimate \(messageBytes) != \(body.count)")
        return Output(
            partitionKey: KPLAggregation.aggregatePartitionKey,
            explicitHashKey: first.hashKey.description,
            data: KPLAggregation.magic + body + MD5.hash(body),
            userRecords: count
        )
    }

    // MARK: - Sizes

    private mutating func append(_ record: KPLUserRecord) {
        messageBytes += growth(of: record)
        if first == nil { first = record }
        var entry = KPLRecord()
        entry.data = .init(record.data)
        entry.partitionKeyIndex = Self.index(
            of: record.partitionKey,
            in: &partitionKeys,
            table: &message.partitionKeyTable
        )
        if let hashKey = record.explicitHashKey {
            entry.explicitHashKeyIndex = Self.index(
                of: hashKey,
                in: &explicitHashKeys,
                table: &message.explicitHashKeyTable
            )
        }
        message.records.append(entry)
    }

    private static func index(of key: String, in lookup: inout [String: UInt64], table: inout [String]) -> UInt64 {
        if let index = lookup[key] { return index }
        let index = UInt64(table.count)
        lookup[key] = index
        table.append(key)
        return index
    }

    /// Bytes `record` adds to the message now: new table entries plus its own field.
    private func growth(of record: KPLUserRecord) -> Int {
        let keyIndex = partitionKeys[record.partitionKey]
        let hashIndex = record.explicitHashKey.flatMap { explicitHashKeys[$0] }
        var bytes = Self.growth(
            of: record,
            partitionKeyIndex: keyIndex ?? UInt64(partitionKeys.count),
            hashKeyIndex: hashIndex ?? UInt64(explicitHashKeys.count),
            keysNew: false
        )
        if keyIndex == nil { bytes += Self.lengthDelimited(record.partitionKey.utf8.count) }
        if let hashKey = record.explicitHashKey, hashIndex == nil { bytes += Self.lengthDelimited(hashKey.utf8.count) }
        return bytes
    }

    /// The record field's bytes, plus both table entries when `keysNew`.
    private static func growth(
        of record: KPLUserRecord,
        partitionKeyIndex: UInt64,
        hashKeyIndex: UInt64,
        keysNew: Bool
    ) -> Int {
        var inner = 1 + varintBytes(partitionKeyIndex) + lengthDelimited(record.data.count)
        if record.explicitHashKey != nil { inner += 1 + varintBytes(hashKeyIndex) }
        var bytes = lengthDelimited(inner)
        if keysNew {
            bytes += lengthDelimited(record.partitionKey.utf8.count)
            if let hashKey = record.explicitHashKey { bytes += lengthDelimited(hashKey.utf8.count) }
        }
        return bytes
    }

    /// A one-byte tag, the length as a varint, then `length` bytes.
    private static func lengthDelimited(_ length: Int) -> Int { 1 + varintBytes(UInt64(length)) + length }

    private static func varintBytes(_ value: UInt64) -> Int {
        var value = value
        var bytes = 1
        while value >= 0x80 {
            value >>= 7
            bytes += 1
        }
        return bytes
    }
}
