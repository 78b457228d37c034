import RillChaos
import RillKinesis

/// A consumer's place in one shard: the iterator it reads with and the last record it saw.
///
/// After any error the iterator is dropped and a new one made at AFTER_SEQUENCE_NUMBER of the last record
/// seen (TRIM_HORIZON before the first), so a consumer never skips ahead. The first page that carries
/// records after a new iterator gets `from` (the checker's rule: set only on the first page of a new
/// iterator); an empty first page passes `from` on, since the iterator's first records come later.
struct ShardCursor: Sendable {
    let stream: String
    let shard: String
    private(set) var iterator: String?
    private(set) var lastSequence: String?
    private var pendingFrom: String?

    init(stream: String, shard: String) {
        self.stream = stream
        self.shard = shard
    }

    /// One page, ready to record.
    struct Page: Sendable {
        var records: [ReadRecord]
        /// Set on the first page with records after a new iterator.
        var from: String?
        var millisBehindLatest: Int
        /// No NextShardIterator: the shard is closed and read to its end.
        var closed: Bool
    }

    enum Step: Sendable {
        case page(Page)
        case failed(String)
    }

    /// Makes an iterator if needed, then reads one page through the node at `port`.
    mutating func read(limit: Int, at port: APIAddress, caller: inout KinesisCaller, timeout: Duration) async -> Step {
        if iterator == nil {
            let start = lastSequence
            let result = await caller.call(.getShardIterator, at: port, timeout: timeout) { writer in
                writer.key("StreamName")
                writer.string(stream)
                writer.key("ShardId")
                writer.string(shard)
                writer.key("ShardIteratorType")
                if let start {
                    writer.string("AFTER_SEQUENCE_NUMBER")
                    writer.key("StartingSequenceNumber")
                    writer.string(start)
                } else {
                    writer.string("TRIM_HORIZON")
                }
            }
            guard case .ok(let reply) = result, let made = reply.string("ShardIterator") else {
                return .failed("GetShardIterator: \(result.summary)")
            }
            iterator = made
            pendingFrom = start ?? "TRIM_HORIZON"
        }
        guard let current = iterator else { return .failed("no iterator") }
        let result = await caller.call(.getRecords, at: port, timeout: timeout) { writer in
            writer.key("ShardIterator")
            writer.string(current)
            writer.key("Limit")
            writer.int(limit)
        }
        guard case .ok(let reply) = result else {
            iterator = nil
            return .failed("GetRecords: \(result.summary)")
        }
        guard let page = Self.parse(reply) else {
            iterator = nil
            return .failed("GetRecords: malformed reply")
        }
        iterator = reply.string("NextShardIterator")
        var out = Page(
            records: page,
            from: nil,
            millisBehindLatest: reply.int("MillisBehindLatest") ?? 0,
            closed: iterator == nil
        )
        if let last = page.last {
            out.from = pendingFrom
            pendingFrom = nil
            lastSequence = last.sequence.digits
        }
        return .page(out)
    }

    /// The records of a GetRecords reply; nil if any record lacks a sequence number or readable data.
    static func parse(_ reply: JSONObject) -> [ReadRecord]? {
        guard let records = reply.array("Records") else { return nil }
        var out: [ReadRecord] = []
        out.reserveCapacity(records.count)
        for case .object(let record) in records {
            guard let sequence = record.string("SequenceNumber").flatMap(DecimalSequenceNumber.init),
                let data = record.string("Data"), let bytes = try? Base64.decode(data)
            else { return nil }
            out.append(ReadRecord(id: String(decoding: bytes, as: UTF8.self), sequence: sequence))
        }
        return out.count == records.count ? out : nil
    }
}
