import RillModel

/// What a Lambda event source mapping does with one shard, as a state machine: batches of records to invoke
/// the handler with, up to `parallelization` at once with every partition key in one lane (so one key is never
/// in two batches at once and stays in order), retries, bisecting, partial batch responses, records given up
/// on, and the checkpoint: the last record before which everything is finished. Pure: the shell reads the
/// shard, invokes the handler, and reports back with the time.
public struct ShardTrigger: Sendable {
    public struct Settings: Sendable, Equatable {
        /// Records per invocation (Lambda: 1–10,000, default 100).
        public var batchSize = 100
        /// Concurrent batches per shard (Lambda's ParallelizationFactor, 1–10).
        public var parallelization = 1
        /// Retries of a failed batch before its records are given up on; nil retries until they expire.
        public var maxRetryAttempts: Int? = nil
        /// Records older than this are given up on instead of invoked; nil keeps them until retention does.
        public var maxRecordAgeMillis: Int64? = nil
        /// On a failed batch, retry the two halves separately (it does not count as a retry).
        public var bisectOnError = false
        /// Honour `batchItemFailures` in the handler's response (ReportBatchItemFailures).
        public var reportBatchItemFailures = false

        public init() {}
    }

    public struct Record: Sendable, Equatable {
        public var sequenceNumber: String
        public var partitionKey: String
        public var data: [UInt8]
        public var arrivalMillis: Int64

        public init(sequenceNumber: String, partitionKey: String, data: [UInt8], arrivalMillis: Int64) {
            self.sequenceNumber = sequenceNumber
            self.partitionKey = partitionKey
            self.data = data
            self.arrivalMillis = arrivalMillis
        }
    }

    public struct Batch: Sendable, Equatable {
        public var id: Int
        public var lane: Int
        public var records: [Record]
        /// 0 for the first invocation of these records.
        public var attempt: Int
    }

    public enum Outcome: Sendable, Equatable {
        case success
        /// The invocation failed (an error, a timeout, a crash of the handler).
        case failure
        /// `batchItemFailures`: the sequence numbers the handler could not process.
        case partial(failed: [String])
    }

    /// Records given up on, for the on-failure destination, and why.
    public struct Discard: Sendable, Equatable {
        public var records: [Record]
        public var reason: String
    }

    public let settings: Settings
    private var lanes: [[Pending]]
    private var inFlight: [Int: Batch] = [:]
    private var busyLanes = Set<Int>()
    private var nextBatchID = 0
    private var nextGroup = 0
    /// Every offered record in shard order with whether it is finished (succeeded or given up on).
    private var order: [(sequenceNumber: String, done: Bool)] = []
    private var orderStart = 0
    private var position: [String: Int] = [:]
    public private(set) var checkpoint: String?

    struct Pending: Sendable {
        var record: Record
        var attempt: Int
        /// Records read fresh batch freely (nil); a retried or bisected batch keeps its own boundaries.
        var group: Int?
    }

    public init(settings: Settings) {
        precondition((1...10).contains(settings.parallelization) && (1...10_000).contains(settings.batchSize))
        self.settings = settings
        lanes = Array(repeating: [], count: settings.parallelization)
    }

    /// Records not yet finished, waiting or in flight.
    public var backlog: Int { order.count - orderStart - order[orderStart...].filter(\.done).count }

    /// Adds records read from the shard, in shard order.
    public mutating func offer(_ records: [Record]) {
        for record in records {
            let lane = Int(HashKey(partitionKey: record.partitionKey).rawValue % UInt128(settings.parallelization))
            lanes[lane].append(Pending(record: record, attempt: 0, group: nil))
            position[record.sequenceNumber] = order.count
            order.append((record.sequenceNumber, false))
        }
    }

    /// The batches to invoke now: the head of every idle lane. Records past their maximum age are given up on
    /// instead (returned in `discarded`).
    public mutating func nextBatches(atMillis now: Int64) -> (batches: [Batch], discarded: [Discard]) {
        var batches: [Batch] = []
        var discarded: [Discard] = []
        for lane in lanes.indices where !busyLanes.contains(lane) {
            if let maxAge = settings.maxRecordAgeMillis {
                let expired = lanes[lane].prefix { now - $0.record.arrivalMillis > maxAge }
                if !expired.isEmpty {
                    lanes[lane].removeFirst(expired.count)
                    finish(expired.map(\.record))
                    discarded.append(
                        Discard(records: expired.map(\.record), reason: "older than MaximumRecordAgeInSeconds")
                    )
                }
            }
            guard let first = lanes[lane].first else { continue }
            // A retried or bisected batch goes again as it was, never merged with fresh records.
            let take = lanes[lane].prefix(settings.batchSize).prefix { $0.group == first.group }
            lanes[lane].removeFirst(take.count)
            let batch = Batch(id: nextBatchID, lane: lane, records: take.map(\.record), attempt: first.attempt)
            nextBatchID += 1
            inFlight[batch.id] = batch
            busyLanes.insert(lane)
            batches.append(batch)
        }
        return (batches, discarded)
    }

    /// Reports how an invocation went; returns what is given up on.
    public mutating func completed(_ batchID: Int, _ outcome: Outcome) -> [Discard] {
        guard let batch = inFlight.removeValue(forKey: batchID) else { return [] }
        busyLanes.remove(batch.lane)
        var failedFrom: Int? = nil
        switch outcome {
        case .success:
            finish(batch.records)
            return []
        case .partial(let failed) where settings.reportBatchItemFailures:
            // Lambda retries from the lowest failed item; an identifier it cannot find fails the whole batch.
            let indices = failed.map { id in batch.records.firstIndex { $0.sequenceNumber == id } }
            if failed.isEmpty {
                finish(batch.records)
                return []
            }
            failedFrom = indices.contains(nil) ? 0 : indices.compactMap { $0 }.min()
        case .partial, .failure:
            failedFrom = 0
        }
        let start = failedFrom ?? 0
        finish(Array(batch.records[..<start]))
        let rest = Array(batch.records[start...])
        if settings.bisectOnError, rest.count > 1, case .failure = outcome {
            // Both halves go back in order, each its own batch; the split itself is not a retry.
            let half = rest.count / 2
            let first = newGroup()
            let second = newGroup()
            lanes[batch.lane].insert(
                contentsOf: rest.enumerated().map { index, record in
                    Pending(record: record, attempt: batch.attempt, group: index < half ? first : second)
                },
                at: 0
            )
            return []
        }
        let attempt = batch.attempt + 1
        if let limit = settings.maxRetryAttempts, attempt > limit {
            finish(rest)
            return [Discard(records: rest, reason: "retries exhausted (MaximumRetryAttempts \(limit))")]
        }
        let group = newGroup()
        lanes[batch.lane].insert(contentsOf: rest.map { Pending(record: $0, attempt: attempt, group: group) }, at: 0)
        return []
    }

    private mutating func newGroup() -> Int {
        nextGroup += 1
        return nextGroup
    }

    private mutating func finish(_ records: [Record]) {
        for record in records {
            if let index = position.removeValue(forKey: record.sequenceNumber) { order[index].done = true }
        }
        while orderStart < order.count, order[orderStart].done {
            checkpoint = order[orderStart].sequenceNumber
            orderStart += 1
        }
        if orderStart > 4_096 {
            order.removeFirst(orderStart)
            position = position.mapValues { $0 - orderStart }
            orderStart = 0
        }
    }
}
