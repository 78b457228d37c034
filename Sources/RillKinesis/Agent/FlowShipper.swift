/// Batches one flow's records into PutRecords calls and retries them, pure: the shell sends the call it is
/// given and reports the answer; time comes in as `now`, randomness as a generator.
///
/// Rules:
/// - **One call in flight, in file order.** A call holds the oldest records, all of one file generation (one
///   producer id per request), at most `maxRecords` and `maxBytes`. Records of a shard are therefore stored in
///   file order, and what is acknowledged is always a prefix of the file.
/// - A call goes when the buffer holds `maxRecords` or `maxBytes`, when its oldest record is `maxAge` old, or at
///   once when it is a retry (the Kinesis Agent's maxBufferSizeRecords, maxBufferSizeBytes, maxBufferAgeMillis).
/// - **Retries keep numbers.** A call that failed whole, or the records of a reply from the first retryable
///   failure on, go again first after `Backoff`, with the same producer sequences: those the stream already
///   stored are answered with their first sequence numbers, not stored twice. A call failing whole (a node down,
///   a missing stream) is retried without end: the lines are still in the file.
/// - A record refused for a reason a retry cannot fix, or failing `maxRecordAttempts` times, is counted failed
///   and passed, so one bad record cannot stall the file.
public struct FlowShipper: Sendable {
    public struct Settings: Sendable, Equatable {
        public var maxRecords = 500
        public var maxBytes = 5 << 20
        public var maxAge: Duration = .seconds(60)
        public var backoff = Backoff(base: .milliseconds(100), cap: .seconds(5))
        public var maxRecordAttempts = 20
        /// Records held before `acceptsInput` turns false.
        public var maxQueued = 5_000

        public init() {}
    }

    public struct Record: Sendable, Equatable {
        public var producerID: String
        public var sequence: UInt64
        public var entry: ProducerEntry
        /// The file offset just past the line: acknowledged, the checkpoint may move here.
        public var endOffset: Int64

        public init(producerID: String, sequence: UInt64, entry: ProducerEntry, endOffset: Int64) {
            self.producerID = producerID
            self.sequence = sequence
            self.entry = entry
            self.endOffset = endOffset
        }
    }

    public struct Call: Sendable, Equatable {
        public var producerID: String
        public var records: [Record]
        public var entries: [ProducerEntry] { records.map(\.entry) }
        public var sequences: [UInt64] { records.map(\.sequence) }
    }

    /// Records of `producerID` before `offset` are settled; the record at `offset` is line `nextLine`.
    public struct Acknowledgement: Sendable, Equatable {
        public var producerID: String
        public var offset: Int64
        public var nextLine: UInt64
    }

    public struct Counts: Sendable, Equatable {
        public var sent = 0
        public var failed = 0
        public var retries = 0
        public var calls = 0
        public var lastError: String?
    }

    public let settings: Settings
    public private(set) var counts = Counts()
    private var queue: [(record: Record, addedAt: Duration)] = []
    private var head = 0
    private var queuedBytes = 0
    private var inFlight: Call?
    private var attempt = 0
    private var notBefore: Duration = .zero

    public init(settings: Settings) {
        precondition(settings.maxRecords >= 1 && settings.maxBytes >= 1, "FlowShipper settings out of range")
        self.settings = settings
    }

    public var queued: Int { queue.count - head }
    public var acceptsInput: Bool { queued < settings.maxQueued }
    public var isIdle: Bool { queued == 0 && inFlight == nil }
    public var hasCallInFlight: Bool { inFlight != nil }

    public mutating func add(_ records: [Record], now: Duration) {
        for record in records {
            queue.append((record: record, addedAt: now))
            queuedBytes += record.entry.sizeBytes
        }
    }

    /// The call to make now, if one is due; nil otherwise (see `wakeAt`).
    public mutating func nextCall(now: Duration) -> Call? {
        guard inFlight == nil, head < queue.count, now >= notBefore else { return nil }
        let due =
            attempt > 0 || queued >= settings.maxRecords || queuedBytes >= settings.maxBytes
            || now - queue[head].addedAt >= settings.maxAge
        guard due else { return nil }
        let producerID = queue[head].record.producerID
        var records: [Record] = []
        var bytes = 0
        while head < queue.count, records.count < settings.maxRecords {
            let record = queue[head].record
            guard record.producerID == producerID else { break }
            if !records.isEmpty && bytes + record.entry.sizeBytes > settings.maxBytes { break }
            records.append(record)
            bytes += record.entry.sizeBytes
            queuedBytes -= record.entry.sizeBytes
            head += 1
        }
        if head > 1024 && head * 2 > queue.count {
            queue.removeFirst(head)
            head = 0
        }
        let call = Call(producerID: producerID, records: records)
        inFlight = call
        return call
    }

    /// When `nextCall` may next return a call, if nothing else happens first.
    public func wakeAt() -> Duration? {
        guard inFlight == nil, head < queue.count else { return nil }
        if attempt > 0 { return notBefore }
        return max(notBefore, queue[head].addedAt + settings.maxAge)
    }

    /// The reply to the call in flight: one outcome per record, in order.
    public mutating func answered(
        _ outcomes: [PutBatcher.RecordOutcome],
        now: Duration,
        random: inout some RandomNumberGenerator
    ) -> Acknowledgement? {
        guard let call = inFlight else { return nil }
        inFlight = nil
        counts.calls += 1
        var settled: Record?
        var firstRetry: Int?
        for (index, record) in call.records.enumerated() {
            let outcome =
                index < outcomes.count
                ? outcomes[index] : .failed(code: "InternalFailure", message: "no answer for this record")
            switch outcome {
            case .written:
                if firstRetry == nil {
                    counts.sent += 1
                    settled = record
                }
            case .failed(let code, let message):
                counts.lastError = "\(code): \(message)"
                if PutBatcher.retryableCodes.contains(code) {
                    if firstRetry == nil { firstRetry = index }
                } else if firstRetry == nil {
                    counts.failed += 1
                    settled = record
                }
            }
        }
        if var firstRetry {
            attempt += 1
            if attempt >= settings.maxRecordAttempts {
                // The first unsettled record has had its chances: pass it so the file goes on.
                counts.failed += 1
                settled = call.records[firstRetry]
                firstRetry += 1
                attempt = 0
            }
            requeue(Array(call.records[firstRetry...]), now: now, random: &random)
        } else {
            attempt = 0
        }
        return settled.map {
            Acknowledgement(producerID: $0.producerID, offset: $0.endOffset, nextLine: $0.sequence + 1)
        }
    }

    /// The call in flight got no per-record answers (`reason` for the log): all of it goes again.
    public mutating func failed(_ reason: String, now: Duration, random: inout some RandomNumberGenerator) {
        guard let call = inFlight else { return }
        inFlight = nil
        counts.calls += 1
        counts.lastError = reason
        attempt += 1
        requeue(call.records, now: now, random: &random)
    }

    private mutating func requeue(_ records: [Record], now: Duration, random: inout some RandomNumberGenerator) {
        guard !records.isEmpty else { return }
        counts.retries += records.count
        notBefore = now + settings.backoff.delay(attempt: max(1, attempt), using: &random)
        queue.replaceSubrange(head..<head, with: records.map { (record: $0, addedAt: now) })
        queuedBytes += records.reduce(0) { $0 + $1.entry.sizeBytes }
    }
}
