import RillChaos

/// A 56-digit sequence number, like the ones Rill and Kinesis hand out, ordered by `n`.
func sequence(_ n: Int) -> DecimalSequenceNumber {
    let digits = String(n)
    guard let number = DecimalSequenceNumber("49" + String(repeating: "0", count: 54 - digits.count) + digits) else {
        preconditionFailure("test sequence \(n) is not decimal")
    }
    return number
}

let shard0 = "shardId-000000000000"
let shard1 = "shardId-000000000001"

/// Builds synthetic histories: a pretend server log per shard, and the events clients would record about it.
struct HistoryBuilder {
    var events: [HistoryEvent] = []
    /// What each shard's log really holds, in order.
    var logs: [String: [ReadRecord]] = [:]
    var now: Double = 0
    private var counter = 0

    /// Moves time on and returns the new instant.
    @discardableResult
    mutating func advance(_ milliseconds: Double = 1) -> Double {
        now += milliseconds
        return now
    }

    /// Appends to a shard's log without any write event, as a server would for a write whose client gave up.
    @discardableResult
    mutating func append(_ id: String, to shard: String = shard0) -> ReadRecord {
        counter += 1
        let record = ReadRecord(id: id, sequence: sequence(counter * 10))
        logs[shard, default: []].append(record)
        return record
    }

    /// A write the server appended and acknowledged.
    @discardableResult
    mutating func ack(_ id: String, shard: String = shard0, process: Int = 0, at time: Double? = nil) -> ReadRecord {
        let record = append(id, to: shard)
        if let time { now = time } else { advance() }
        events.append(
            .write(.acknowledged(time: now, process: process, id: id, shard: shard, sequence: record.sequence))
        )
        return record
    }

    /// A write that failed with `error`; `appended` says whether the server wrote it anyway.
    mutating func fail(
        _ id: String,
        error: String,
        appendedTo shard: String? = nil,
        process: Int = 0,
        at time: Double? = nil
    ) {
        if let shard { append(id, to: shard) }
        if let time { now = time } else { advance() }
        events.append(.write(.failed(time: now, process: process, id: id, error: error)))
    }

    mutating func read(
        _ records: [ReadRecord],
        shard: String = shard0,
        process: Int = 100,
        from: String? = nil
    ) {
        advance()
        events.append(
            .read(ReadEvent(time: now, process: process, shard: shard, isFinal: false, records: records, from: from))
        )
    }

    /// Reads a shard's whole log in pages of `pageSize`, as one consumer.
    mutating func consume(_ shard: String = shard0, process: Int = 100, pageSize: Int = 2) {
        let log = logs[shard] ?? []
        var start = 0
        while start < log.count {
            read(
                Array(log[start..<min(start + pageSize, log.count)]),
                shard: shard,
                process: process,
                from: start == 0 ? "TRIM_HORIZON" : nil
            )
            start += pageSize
        }
    }

    /// The final read of a shard, from its log unless `records` says otherwise.
    mutating func finalRead(_ shard: String = shard0, records: [ReadRecord]? = nil) {
        advance()
        events.append(
            .read(
                ReadEvent(time: now, process: 999, shard: shard, isFinal: true, records: records ?? logs[shard] ?? [])
            )
        )
    }

    mutating func fault(_ kind: FaultKind, _ target: String, _ phase: FaultPhase, at time: Double? = nil) {
        if let time { now = time } else { advance() }
        events.append(.fault(FaultEvent(time: now, kind: kind, target: target, phase: phase)))
    }

    mutating func placement(_ report: PlacementEvent) {
        advance()
        var report = report
        report.time = now
        events.append(.placement(report))
    }

    mutating func checksums(_ node: String, _ shards: [ShardChecksum]) {
        advance()
        events.append(.checksums(ChecksumsEvent(time: now, node: node, shards: shards)))
    }
}
