import RillModel
import SwiftProtobuf

#if canImport(FoundationEssentials)
import FoundationEssentials  // `Data`, the type of protobuf bytes fields
#else
import Foundation
#endif

extension KPLAggregation {
    /// The user records inside `data` when it is a valid aggregate, in order (their index is the sub-sequence
    /// number); nil when it is not one, and the record is then plain data, as the KCL treats it.
    ///
    /// Not an aggregate: too short, wrong magic, an MD5 trailer that does not match, a protobuf message that does
    /// not parse or lacks required fields, or a key index outside its table. Never traps, whatever the bytes.
    public static func deaggregate(_ data: [UInt8]) -> [KPLUserRecord]? {
        // aws-kinesis-agg also requires more than the digest after the magic; an empty message is then plain data.
        guard data.count > overheadBytes, data.starts(with: magic) else { return nil }
        let messageEnd = data.count - digestBytes
        let message = Array(data[magic.count..<messageEnd])
        guard MD5.hash(message)[...] == data[messageEnd...] else { return nil }
        let aggregate: KPLAggregatedRecord
        do {
            aggregate = try KPLAggregatedRecord(serializedBytes: message)
        } catch {
            // A damaged or foreign message: the KCL falls back to the record as it is.
            return nil
        }
        let keys = aggregate.partitionKeyTable
        let hashKeys = aggregate.explicitHashKeyTable
        var records: [KPLUserRecord] = []
        records.reserveCapacity(aggregate.records.count)
        for record in aggregate.records {
            guard record.partitionKeyIndex < UInt64(keys.count) else { return nil }
            var explicitHashKey: String? = nil
            if record.hasExplicitHashKeyIndex {
                guard record.explicitHashKeyIndex < UInt64(hashKeys.count) else { return nil }
                explicitHashKey = hashKeys[Int(record.explicitHashKeyIndex)]
            }
            records.append(
                KPLUserRecord(
                    partitionKey: keys[Int(record.partitionKeyIndex)],
                    explicitHashKey: explicitHashKey,
                    data: Array(record.data)
                )
            )
        }
        return records
    }
}
