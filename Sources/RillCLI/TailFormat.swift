import RillClient
import RillKinesis

/// How `rill tail` prints records: raw data lines, or JSON lines. De-aggregates KPL records when asked.
struct TailFormat: Sendable {
    var json: Bool
    var deaggregate: Bool

    /// One printed record: a Kinesis record, or one user record inside an aggregate.
    struct Line: Sendable, Equatable {
        var shardID: String
        var sequenceNumber: String
        var subSequenceNumber: Int?
        var partitionKey: String
        var explicitHashKey: String?
        var arrival: Double?
        var data: [UInt8]
    }

    /// The records one Kinesis record stands for, in order (an aggregate with no records stands for none,
    /// as for the KCL).
    func lines(of record: KinesisClient.StreamRecord, shardID: String) -> [Line] {
        if deaggregate, let users = KPLAggregation.deaggregate(record.data) {
            return users.enumerated().map { index, user in
                Line(
                    shardID: shardID,
                    sequenceNumber: record.sequenceNumber,
                    subSequenceNumber: index,
                    partitionKey: user.partitionKey,
                    explicitHashKey: user.explicitHashKey,
                    arrival: record.approximateArrivalTimestamp,
                    data: user.data
                )
            }
        }
        return [
            Line(
                shardID: shardID,
                sequenceNumber: record.sequenceNumber,
                subSequenceNumber: nil,
                partitionKey: record.partitionKey,
                explicitHashKey: nil,
                arrival: record.approximateArrivalTimestamp,
                data: record.data
            )
        ]
    }

    /// The bytes printed for `line`, newline included.
    func render(_ line: Line, into output: inout [UInt8]) {
        guard json else {
            output += line.data
            output.append(0x0A)
            return
        }
        var writer = JSONWriter(capacity: line.data.count * 4 / 3 + 200)
        writer.beginObject()
        writer.key("shardId")
        writer.string(line.shardID)
        writer.key("sequenceNumber")
        writer.string(line.sequenceNumber)
        if let sub = line.subSequenceNumber {
            writer.key("subSequenceNumber")
            writer.int(sub)
        }
        writer.key("partitionKey")
        writer.string(line.partitionKey)
        if let hashKey = line.explicitHashKey {
            writer.key("explicitHashKey")
            writer.string(hashKey)
        }
        if let arrival = line.arrival {
            writer.key("approximateArrivalTimestamp")
            writer.timestamp(millis: Int64((arrival * 1000).rounded()))
        }
        writer.key("data")
        writer.base64(line.data)
        writer.endObject()
        output += writer.bytes
        output.append(0x0A)
    }
}
