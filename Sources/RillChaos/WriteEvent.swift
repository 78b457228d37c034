/// One record a worker tried to write, with what it learned about the attempt.
public struct WriteEvent: Sendable, Equatable {
    /// Milliseconds since the run started, when the outcome was known.
    public var time: Double
    /// The worker that wrote it; one process issues one request at a time.
    public var process: Int
    /// The record's id, unique across the run; it is also the record's data.
    public var id: String
    public var outcome: WriteOutcome
    /// The shard the server named (always for `ok`; for failures only if the client knows where it aimed).
    public var shard: String?
    /// The acknowledged sequence number; present exactly when `outcome` is `ok`.
    public var sequence: DecimalSequenceNumber?
    /// The Kinesis error code or client-side label ("timeout", "connection") of a failure.
    public var error: String?
    /// The stream written to when it is not the stream under test (the catalog churn's streams); nil for it.
    public var stream: String?
    /// Which attempt at this record this was, from 1, for a writer that retries (`rill chaos
    /// --retrying-writers`); nil for a writer that sends each record once. Attempts share the record's id.
    public var attempt: Int?
    /// The idempotent-producer id the record was sent under (`x-rill-producer-id`), if any.
    public var producer: String?
    /// The record's number under `producer` (`x-rill-producer-sequence`): the same at every attempt.
    public var producerSequence: UInt64?

    public init(
        time: Double,
        process: Int,
        id: String,
        outcome: WriteOutcome,
        shard: String? = nil,
        sequence: DecimalSequenceNumber? = nil,
        error: String? = nil,
        stream: String? = nil,
        attempt: Int? = nil,
        producer: String? = nil,
        producerSequence: UInt64? = nil
    ) {
        self.time = time
        self.process = process
        self.id = id
        self.outcome = outcome
        self.shard = shard
        self.sequence = sequence
        self.error = error
        self.stream = stream
        self.attempt = attempt
        self.producer = producer
        self.producerSequence = producerSequence
    }

    /// A write the server acknowledged at `shard`/`sequence`.
    public static func acknowledged(
        time: Double,
        process: Int,
        id: String,
        shard: String,
        sequence: DecimalSequenceNumber
    ) -> WriteEvent {
        WriteEvent(time: time, process: process, id: id, outcome: .ok, shard: shard, sequence: sequence)
    }

    /// A write that failed with `error`, classified by `WriteOutcome.forError`.
    public static func failed(time: Double, process: Int, id: String, error: String, shard: String? = nil) -> WriteEvent
    {
        WriteEvent(time: time, process: process, id: id, outcome: .forError(error), shard: shard, error: error)
    }

    /// Where the server said it put the record; nil unless acknowledged.
    public var acknowledgedPosition: RecordPosition? {
        guard outcome == .ok, let shard, let sequence else { return nil }
        return RecordPosition(shard: RecordPosition.shardKey(stream: stream, shard: shard), sequence: sequence)
    }
}

// MARK: - Codable

extension WriteEvent: Codable {
    enum CodingKeys: String, CodingKey {
        case time, process, id, outcome, shard, sequence, error, stream, attempt, producer, producerSequence
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.time = try container.decode(Double.self, forKey: .time)
        self.process = try container.decode(Int.self, forKey: .process)
        self.id = try container.decode(String.self, forKey: .id)
        self.outcome = try container.decode(WriteOutcome.self, forKey: .outcome)
        self.shard = try container.decodeIfPresent(String.self, forKey: .shard)
        self.sequence = try container.decodeIfPresent(DecimalSequenceNumber.self, forKey: .sequence)
        self.error = try container.decodeIfPresent(String.self, forKey: .error)
        self.stream = try container.decodeIfPresent(String.self, forKey: .stream)
        self.attempt = try container.decodeIfPresent(Int.self, forKey: .attempt)
        self.producer = try container.decodeIfPresent(String.self, forKey: .producer)
        self.producerSequence = try container.decodeIfPresent(UInt64.self, forKey: .producerSequence)
        // An "ok" without a position could not be checked against reads; refuse it rather than guess.
        if outcome == .ok, shard == nil || sequence == nil {
            throw DecodingError.dataCorruptedError(
                forKey: .outcome,
                in: container,
                debugDescription: "an ok write needs \"shard\" and \"sequence\""
            )
        }
    }
}
