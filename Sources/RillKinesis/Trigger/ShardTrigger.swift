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
        /// Honour `batchItemFailures` in the handler's response (ReportBatchItemFailures); without it a handler
        /// that returns at all succeeded, whatever it returned.
        public var reportBatchItemFailures = false
        /// How long fresh records may wait for a full batch (MaximumBatchingWindowInSeconds, 0–300 s).
        public var batchWindowMillis: Int64 = 0

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
        /// Lambda's names for why a batch went to the on-failure destination.
        public enum Condition: String, Sendable, Equatable {
            case retryAttemptsExhausted = "RetryAttemptsExhausted"
            case recordAgeExceeded = "RecordAgeExceeded"
        }

        public var records: [Record]
        public var condition: Condition
        /// Failed invocations of these records counted against MaximumRetryAttempts (bisected halves are not).
        public var invocations: Int

        public init(records: [Record], condition: Condition, invocations: Int) {
            self.records = records
            self.condition = condition
            self.invocations = invocations
        }
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
        /// When the shell offered it: the batch window runs from the oldest waiting record's offer.
        var offeredMillis: Int64
        /// Records read fresh batch freely (nil); a retried or bisected batch keeps its own boundaries.
        var group: Int?
    }

    public init(settings: Settings) {
        precondition(
            (1...10).contains(settings.parallelization) && (1...10_000).contains(settings.batchSize)
                && (0...300_000).contains(settings.batchWindowMillis),
            "ShardTrigger settings out of range: \(settings)"
        )
        self.settings = settings
        lanes = Array(repeating: [], count: settings.parallelization)
    }

    /// Records not yet finished, waiting or in flight.
    public var backlog: Int { order.count - orderStart - order[orderStart...].filter(\.done).count }

    /// Whether the shell should read more of the shard: a bounded read-ahead of two batches per lane, so a
    /// slow handler does not make the trigger hold the shard in memory.
    public var wantsRecords: Bool { backlog < settings.batchSize * settings.parallelization * 2 }

    /// Nothing waiting and nothing in flight: at a closed shard's end, the shard is finished.
    public var isDrained: Bool { backlog == 0 && inFlight.isEmpty }

    /// The earliest instant at which `nextBatches` would do something it would not do now (a batch window
    /// closing, a record reaching its maximum age); nil when only an offer or a completion can change anything.
    public func nextDeadline() -> Int64? {
        var earliest: Int64? = nil
        for lane in lanes.indices where !busyLanes.contains(lane) {
            guard let head = lanes[lane].first else { continue }
            var candidates: [Int64] = []
            if head.group == nil, settings.batchWindowMillis > 0, lanes[lane].count < settings.batchSize {
                candidates.append(head.offeredMillis + settings.batchWindowMillis)
            }
            if let maxAge = settings.maxRecordAgeMillis { candidates.append(head.record.arrivalMillis + maxAge + 1) }
            for candidate in candidates { earliest = min(earliest ?? candidate, candidate) }
        }
        return earliest
    }

    /// Adds records read from the shard at `now`, in shard order.
    public mutating func offer(_ records: [Record], atMillis now: Int64 = 0) {
        for record in records {
            let lane = Int(HashKey(partitionKey: record.partitionKey).rawValue % UInt128(settings.parallelization))
            lanes[lane].append(Pending(record: record, attempt: 0, offeredMillis: now, group: nil))
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
                        Discard(
                            records: expired.map(\.record),
                            condition: .recordAgeExceeded,
                            invocations: expired.map(\.attempt).max() ?? 0
                        )
                    )
                }
            }
            guard let first = lanes[lane].first else { continue }
            // Fresh records wait for a full batch until the window closes (Lambda's batching window); a retry
            // goes at once.
            if first.group == nil, lanes[lane].count < settings.batchSize,
                now - first.offeredMillis < settings.batchWindowMillis
            {
                continue
            }
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
        case .partial where !settings.reportBatchItemFailures:
            // Without ReportBatchItemFailures, Lambda ignores what the function returns.
            finish(batch.records)
            return []
        case .partial(let failed):
            // Lambda retries from the lowest failed item; an identifier it cannot find fails the whole batch.
            let indices = failed.map { id in batch.records.firstIndex { $0.sequenceNumber == id } }
            if failed.isEmpty {
                finish(batch.records)
                return []
            }
            failedFrom = indices.contains(nil) ? 0 : indices.compactMap { $0 }.min()
        case .failure:
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
                    Pending(
                        record: record,
                        attempt: batch.attempt,
                        offeredMillis: 0,
                        group: index < half ? first : second
                    )
                },
                at: 0
            )
            return []
        }
        let attempt = batch.attempt + 1
        if let limit = settings.maxRetryAttempts, attempt > limit {
            finish(rest)
            return [Discard(records: rest, condition: .retryAttemptsExhausted, invocations: attempt)]
        }
        let group = newGroup()
        lanes[batch.lane].insert(
            contentsOf: rest.map { Pending(record: $0, attempt: attempt, offeredMillis: 0, group: group) },
            at: 0
        )
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
