/// The batching and retry core of `rill put`: takes records, hands back PutRecords calls to make and when to wake
/// it, and takes each call's outcome. Pure: time comes in as `now` (any monotonic origin), randomness as a
/// generator; the shell sends the calls and sleeps.
///
/// Rules:
/// - A call has at most `maxRecordsPerCall` records and `maxBytesPerCall` bytes (PutRecords' 500 and 5 MiB).
/// - A record waits at most `linger` for others to share its call; a full call goes at once.
/// - **Order per key.** Only the oldest unresolved record of an ordering key may be in flight or sent: a record is
///   never sent before every earlier record with its key has succeeded. PutRecords can fail record 1 and write
///   record 2 of the same call, so two records of one key never share a call, and a retried record holds back the
///   records behind it. A single hot key therefore gets one record per round trip (aggregate to do better).
/// - Throttling (`ProvisionedThroughputExceededException`), `InternalFailure`, `ServiceUnavailable` and transport
///   failures are retried, the whole call or each failed record of a partial failure, after `Backoff` with
///   jitter, up to `maxAttempts` sends per record. Any other per-record error fails that record.
/// - A record that fails for good takes with it every later record of its key, unsent (they would otherwise
///   overtake it); the key stays failed for the rest of the run.
/// - Any other whole-call error (no such stream, access denied, a malformed request) ends the run: `fatal`.
public struct PutBatcher: Sendable {
    public struct Settings: Sendable, Equatable {
        public var maxRecordsPerCall = 500
        public var maxBytesPerCall = 5 << 20
        public var linger: Duration = .milliseconds(50)
        public var maxInFlightCalls = 4
        public var maxAttempts = 10
        public var backoff = Backoff()
        /// Records held (waiting or in flight) before `acceptsInput` turns false.
        public var maxBuffered = 10_000

        public init() {}
    }

    /// What the shell does next.
    public enum Directive: Sendable, Equatable {
        /// Make this PutRecords call and report its outcome with `callSucceeded` or `callFailed`.
        case send(Call)
        /// Call `tick(now:)` at this instant (earlier is harmless).
        case wake(at: Duration)
    }

    public struct Call: Sendable, Equatable {
        public var id: Int
        public var entries: [ProducerEntry]
        /// Each entry's producer sequence (`ProducerStamp`), strictly increasing: the same on every retry whose
        /// earlier attempt may have been stored, a new one after a definite refusal.
        public var recordNumbers: [UInt64] = []
    }

    /// The answer for one record of a PutRecords reply, in request order.
    public enum RecordOutcome: Sendable, Equatable {
        case written
        case failed(code: String, message: String)
    }

    /// A call that got no per-record answers.
    public enum CallFailure: Sendable, Equatable {
        /// An error response with this Kinesis error code (retried when retryable, else fatal).
        case error(code: String, message: String)
        /// The request may or may not have arrived (connection lost, timeout); always retried.
        case transport(String)
    }

    /// Counts of user records (aggregates count what they carry) and of calls.
    public struct Summary: Sendable, Equatable {
        public var written = 0
        /// Records that ran out of attempts or got a non-retryable error.
        public var failed = 0
        /// Records never sent because an earlier record of their key failed, or the run ended fatally.
        public var unsent = 0
        public var retries = 0
        public var calls = 0
        /// Kinesis records written (differs from `written` when aggregating).
        public var kinesisRecords = 0
        /// The last per-record or call error seen, for the final message.
        public var lastError: String?
    }

    public static let retryableCodes: Set<String> = [
        "ProvisionedThroughputExceededException", "InternalFailure", "ServiceUnavailable",
        "ServiceUnavailableException",
        "ThrottlingException", "LimitExceededException", "KMSThrottlingException",
    ]

    public let settings: Settings
    public private(set) var summary = Summary()
    /// Set when a call failed in a way retrying cannot fix; the run is over.
    public private(set) var fatal: String?

    private struct Pending: Sendable {
        var entry: ProducerEntry
        var attempts = 0
        /// Not sent again before this instant (backoff).
        var notBefore: Duration
        /// Sent by this instant even if its call is not full (linger).
        var dueAt: Duration
        var inFlight = false
        /// Its producer sequence (`Call.recordNumbers`): given when first sent, kept while an attempt's outcome is
        /// unknown, dropped after a definite refusal (nothing was stored, so a fresh number is safe and keeps the
        /// record from falling behind the shard's producer window while later records go ahead).
        var number: UInt64?
    }

    /// Errors that mean the record was not stored: it may take a new producer sequence.
    static let definiteRefusals: Set<String> = ["ProvisionedThroughputExceededException"]

    private var nextNumber: UInt64 = 0
    private var nextID = 0
    private var nextCallID = 0
    private var pending: [Int: Pending] = [:]
    /// Unresolved record ids per ordering key, oldest first; only the first may be sent.
    private var queues: [String: KeyQueue] = [:]
    private var failedKeys: Set<String> = []
    private var inFlight: [Int: [Int]] = [:]
    private var inputEnded = false
    /// Records and bytes held but not in flight: while they cannot fill a call, adding one more cannot start a
    /// call either, and `add` skips the search for sendable records (it sorts every key's head).
    private var idleRecords = 0
    private var idleBytes = 0

    public init(settings: Settings = Settings()) {
        precondition(
            settings.maxRecordsPerCall >= 1 && settings.maxInFlightCalls >= 1 && settings.maxAttempts >= 1,
            "PutBatcher settings out of range: \(settings)"
        )
        self.settings = settings
    }

    /// Whether the shell should read more input now (false while `maxBuffered` records are held).
    public var acceptsInput: Bool { fatal == nil && !inputEnded && pending.count < settings.maxBuffered }

    /// Every record resolved after the end of input, or a fatal error with no call left in flight.
    public var isFinished: Bool { fatal != nil ? inFlight.isEmpty : inputEnded && pending.isEmpty }

    public var callsInFlight: Int { inFlight.count }
    public var buffered: Int { pending.count }

    // MARK: - Events

    public mutating func add(_ entry: ProducerEntry, now: Duration) -> [Directive] {
        precondition(!inputEnded, "PutBatcher.add after endOfInput")
        if fatal != nil || failedKeys.contains(entry.orderingKey) {
            summary.unsent += entry.userRecords
            return []
        }
        let id = nextID
        nextID += 1
        pending[id] = Pending(entry: entry, notBefore: now, dueAt: now + settings.linger)
        queues[entry.orderingKey, default: KeyQueue()].append(id)
        markIdle(entry, +1)
        let canFill = idleRecords >= settings.maxRecordsPerCall || idleBytes >= settings.maxBytesPerCall
        if inFlight.count >= settings.maxInFlightCalls || (!canFill && pending.count < settings.maxBuffered) {
            // No call can start now; the record leaves when its linger is up, or with others before.
            return [.wake(at: now + settings.linger)]
        }
        return directives(now: now)
    }

    /// No more records will come: whatever waits goes out without lingering.
    public mutating func endOfInput(now: Duration) -> [Directive] {
        inputEnded = true
        return directives(now: now)
    }

    public mutating func tick(now: Duration) -> [Directive] { directives(now: now) }

    /// A PutRecords reply: one outcome per record, in the call's order.
    public mutating func callSucceeded(
        id: Int,
        outcomes: [RecordOutcome],
        now: Duration,
        random: inout some RandomNumberGenerator
    ) -> [Directive] {
        guard let ids = inFlight.removeValue(forKey: id) else { return directives(now: now) }
        summary.calls += 1
        for (index, recordID) in ids.enumerated() {
            // A reply with fewer answers than records leaves the rest unknown: retried, like a lost call.
            let outcome =
                index < outcomes.count
                ? outcomes[index] : .failed(code: "InternalFailure", message: "no answer for this record")
            switch outcome {
            case .written: resolveWritten(recordID)
            case .failed(let code, let message):
                summary.lastError = "\(code): \(message)"
                if Self.definiteRefusals.contains(code) { pending[recordID]?.number = nil }
                if Self.retryableCodes.contains(code) {
                    retry(recordID, now: now, random: &random)
                } else {
                    giveUp(recordID)
                }
            }
        }
        return directives(now: now)
    }

    /// A call that got no per-record answers.
    public mutating func callFailed(
        id: Int,
        failure: CallFailure,
        now: Duration,
        random: inout some RandomNumberGenerator
    ) -> [Directive] {
        guard let ids = inFlight.removeValue(forKey: id) else { return directives(now: now) }
        summary.calls += 1
        switch failure {
        case .transport(let reason):
            summary.lastError = reason
            for recordID in ids { retry(recordID, now: now, random: &random) }
        case .error(let code, let message):
            summary.lastError = "\(code): \(message)"
            if Self.retryableCodes.contains(code) {
                for recordID in ids {
                    if Self.definiteRefusals.contains(code) { pending[recordID]?.number = nil }
                    retry(recordID, now: now, random: &random)
                }
            } else {
                for recordID in ids {
                    pending[recordID]?.inFlight = false
                    if let entry = pending[recordID]?.entry { markIdle(entry, +1) }
                }
                endFatally("\(code): \(message)")
            }
        }
        return directives(now: now)
    }

    // MARK: - Resolution

    private mutating func resolveWritten(_ id: Int) {
        guard let record = pending.removeValue(forKey: id) else { return }
        summary.written += record.entry.userRecords
        summary.kinesisRecords += 1
        queues[record.entry.orderingKey]?.removeFirst(expected: id)
        if queues[record.entry.orderingKey]?.isEmpty == true { queues[record.entry.orderingKey] = nil }
    }

    private mutating func retry(_ id: Int, now: Duration, random: inout some RandomNumberGenerator) {
        guard var record = pending[id] else { return }
        record.inFlight = false
        markIdle(record.entry, +1)
        if record.attempts >= settings.maxAttempts {
            pending[id] = record
            giveUp(id)
            return
        }
        summary.retries += record.entry.userRecords
        record.notBefore = now + settings.backoff.delay(attempt: record.attempts, using: &random)
        record.dueAt = record.notBefore
        pending[id] = record
    }

    /// Fails `id` and every later record of its key, and marks the key failed.
    private mutating func giveUp(_ id: Int) {
        guard let record = pending.removeValue(forKey: id) else { return }
        if !record.inFlight { markIdle(record.entry, -1) }
        summary.failed += record.entry.userRecords
        let key = record.entry.orderingKey
        failedKeys.insert(key)
        for later in queues.removeValue(forKey: key)?.ids ?? [] where later != id {
            if let dropped = pending.removeValue(forKey: later) {
                summary.unsent += dropped.entry.userRecords
                markIdle(dropped.entry, -1)
            }
        }
    }

    private mutating func markIdle(_ entry: ProducerEntry, _ sign: Int) {
        idleRecords += sign
        idleBytes += sign * entry.sizeBytes
        assert(idleRecords >= 0 && idleBytes >= 0, "PutBatcher idle count went negative: \(idleRecords), \(idleBytes)")
    }

    /// Ends the run; `directives` then drops every record not in flight.
    private mutating func endFatally(_ reason: String) {
        fatal = reason
        queues = [:]
    }

    // MARK: - Calls

    private mutating func directives(now: Duration) -> [Directive] {
        var directives: [Directive] = []
        if fatal != nil {
            // Records whose calls came back after the run ended are not sent again.
            for (id, record) in pending where !record.inFlight {
                summary.unsent += record.entry.userRecords
                markIdle(record.entry, -1)
                pending[id] = nil
            }
        } else {
            while inFlight.count < settings.maxInFlightCalls, let call = nextCall(now: now) {
                directives.append(.send(call))
            }
        }
        if let wake = nextWake(now: now) { directives.append(.wake(at: wake)) }
        return directives
    }

    /// The records that may go now: the head of each key's queue, not in flight, past its backoff; oldest first.
    private func sendable(now: Duration) -> [Int] {
        queues.values.compactMap { queue in
            guard let id = queue.first, let record = pending[id], !record.inFlight, record.notBefore <= now else {
                return nil
            }
            return id
        }.sorted()
    }

    private mutating func nextCall(now: Duration) -> Call? {
        let candidates = sendable(now: now)
        guard !candidates.isEmpty else { return nil }
        var chosen: [Int] = []
        var bytes = 0
        for id in candidates {
            guard let size = pending[id]?.entry.sizeBytes else { continue }
            if chosen.count == settings.maxRecordsPerCall { break }
            if !chosen.isEmpty && bytes + size > settings.maxBytesPerCall { break }
            chosen.append(id)
            bytes += size
        }
        let full = chosen.count < candidates.count || chosen.count == settings.maxRecordsPerCall
        let due = candidates.contains { (pending[$0]?.dueAt ?? now) <= now }
        // Input held back by a full buffer cannot fill the call any further: send rather than wait.
        guard full || due || inputEnded || pending.count >= settings.maxBuffered else { return nil }
        for id in chosen where pending[id]?.number == nil {
            pending[id]?.number = nextNumber
            nextNumber += 1
        }
        // A producer stamp's numbers strictly increase within a call; the replies follow this order.
        chosen.sort { (pending[$0]?.number ?? 0) < (pending[$1]?.number ?? 0) }
        var entries: [ProducerEntry] = []
        entries.reserveCapacity(chosen.count)
        for id in chosen {
            pending[id]?.inFlight = true
            if let entry = pending[id]?.entry { markIdle(entry, -1) }
            pending[id]?.attempts += 1
            if let entry = pending[id]?.entry { entries.append(entry) }
        }
        let call = Call(id: nextCallID, entries: entries, recordNumbers: chosen.map { pending[$0]?.number ?? 0 })
        nextCallID += 1
        inFlight[call.id] = chosen
        return call
    }

    /// The earliest instant after `now` at which a waiting head becomes sendable or due.
    private func nextWake(now: Duration) -> Duration? {
        var earliest: Duration?
        for queue in queues.values {
            guard let id = queue.first, let record = pending[id], !record.inFlight else { continue }
            let at = record.notBefore > now ? record.notBefore : (record.dueAt > now ? record.dueAt : nil)
            if let at, earliest.map({ at < $0 }) ?? true { earliest = at }
        }
        return earliest
    }
}

/// Record ids of one ordering key, oldest first, with O(1) removal from the front.
private struct KeyQueue: Sendable {
    private(set) var storage: [Int] = []
    private var head = 0

    var first: Int? { head < storage.count ? storage[head] : nil }
    var isEmpty: Bool { head >= storage.count }
    var ids: ArraySlice<Int> { storage[head...] }

    mutating func append(_ id: Int) { storage.append(id) }

    mutating func removeFirst(expected id: Int) {
        precondition(first == id, "record \(id) resolved while \(String(describing: first)) is first of its key")
        head += 1
        if head > 64 && head * 2 > storage.count {
            storage.removeFirst(head)
            head = 0
        }
    }
}
