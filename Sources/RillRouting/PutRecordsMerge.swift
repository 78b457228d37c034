import RillKinesis
import RillModel

/// The answer to a PutRecords, put together from what became of each record, in request order. Node and
/// router both answer through it, so they share one rule of partial failure, Kinesis' own:
///
/// - Each record fails alone, as a value: `ErrorCode` `ProvisionedThroughputExceededException` when its shard
///   was over its limit, `InternalFailure` for anything else (no leader in time, an unknown outcome, a shard
///   that kept closing), with `ErrorMessage`; `FailedRecordCount` counts them.
/// - The call as a whole fails only when the request as a whole cannot be served — it is invalid, its stream
///   does not exist, access is denied (`KinesisError.failsWholeRequest`) — and then nothing was written.
///   Such errors are found before anything is appended; one that turns up while appending (a stream deleted
///   meanwhile) fails the call only when every other record failed definitely too (throttled, or the same
///   kind of error); if any record was written or may have been, it too is a record's InternalFailure.
///
/// The answer is written in the client's encoding, JSON or CBOR, by the same rule; a node's result objects
/// (`.result`) must be in that encoding already.
public struct PutRecordsMerge: Sendable {
    /// What became of one record.
    public enum Outcome: Sendable {
        case written(shard: ShardID, sequence: SequenceNumber)
        /// A node's result object for the record, byte for byte in the answer's encoding (the router passes it
        /// on), and whether it is an error.
        case result(ArraySlice<UInt8>, failed: Bool)
        case failed(KinesisError)
    }

    private var outcomes: [Outcome?]
    /// EncryptionType, when the answer names one.
    public var encryptionType: String?
    public let encoding: WireProtocol

    public init(count: Int, encoding: WireProtocol = .json) {
        outcomes = Array(repeating: nil, count: count)
        self.encoding = encoding
    }

    public mutating func set(_ slot: Int, _ outcome: Outcome) {
        outcomes[slot] = outcome
    }

    /// A node's answer to the records at `slots` (in the order they were sent to it): each record's result as
    /// the node wrote it, and the stream's encryption if this is the first answer to say.
    public mutating func take(_ answer: PutRecordsAnswer, at slots: [Int]) {
        for (slot, result) in zip(slots, answer.results) {
            set(slot, .result(answer.body[result.range], failed: result.failed))
        }
        encryptionType = encryptionType ?? answer.encryptionType
    }

    public mutating func fail(_ slots: some Sequence<Int>, _ error: KinesisError) {
        for slot in slots { outcomes[slot] = .failed(error) }
    }

    /// The answer's body; throws the error that fails the whole call, when there is one (see the type).
    public func answer() throws(KinesisError) -> [UInt8] {
        var failedCount = 0
        // The whole call fails only when no record was or may have been written: every outcome a definite
        // failure, one of them about the request as a whole.
        var nothingWritten = true
        var wholeCall: KinesisError?
        for outcome in outcomes {
            switch outcome {
            case .written: nothingWritten = false
            case .result(_, let failed):
                // A node's per-record error may be an unknown outcome: it never turns into a failed call.
                nothingWritten = false
                if failed { failedCount += 1 }
            case .failed(let error):
                failedCount += 1
                if error.failsWholeRequest {
                    wholeCall = wholeCall ?? error
                } else if error.code != .provisionedThroughputExceeded {
                    nothingWritten = false
                }
            case nil:
                failedCount += 1
                nothingWritten = false
            }
        }
        if nothingWritten, let wholeCall { throw wholeCall }
        if encoding == .cbor {
            var w = CBORWriter(capacity: 96 * outcomes.count + 64)
            write(failedCount: failedCount, into: &w)
            return w.bytes
        }
        var w = JSONWriter(capacity: 128 * outcomes.count + 64)
        write(failedCount: failedCount, into: &w)
        return w.bytes
    }

    /// The answer in `w`'s encoding; the CBOR one has the members in the JSON one's order (what `JSONToCBOR`
    /// makes of it).
    private func write<W: ResponseWriter>(failedCount: Int, into w: inout W) {
        w.beginObject()
        w.key("FailedRecordCount")
        w.int(failedCount)
        w.key("Records")
        w.beginArray()
        for outcome in outcomes {
            switch outcome {
            case .written(let shard, let sequence):
                w.beginObject()
                w.key("SequenceNumber")
                w.string(sequence.description)
                w.key("ShardId")
                w.string(shard.name)
                w.endObject()
            case .result(let bytes, _):
                w.encodedValue(bytes)
            case .failed(let error):
                Self.writeFailure(error, into: &w)
            case nil:
                Self.writeFailure(.internalFailure(), into: &w)
            }
        }
        w.endArray()
        if let encryptionType {
            w.key("EncryptionType")
            w.string(encryptionType)
        }
        w.endObject()
    }

    private static func failure(_ error: KinesisError) -> (code: String, message: String) {
        let throttled = error.code == .provisionedThroughputExceeded
        return (throttled ? error.code.rawValue : "InternalFailure", error.message ?? "Internal Service Failure")
    }

    private static func writeFailure<W: ResponseWriter>(_ error: KinesisError, into w: inout W) {
        let (code, message) = failure(error)
        w.beginObject()
        w.key("ErrorCode")
        w.string(code)
        w.key("ErrorMessage")
        w.string(message)
        w.endObject()
    }
}

extension KinesisError {
    /// Whether this error says the PutRecords request as a whole cannot be served (rather than one record):
    /// it is malformed or invalid, its stream is missing, or the caller may not make it.
    public var failsWholeRequest: Bool {
        switch code {
        case .validation, .invalidArgument, .serialization, .resourceNotFound, .accessDenied, .unknownOperation,
            .missingAuthenticationToken, .incompleteSignature, .invalidSignature, .unrecognizedClient:
            true
        case .resourceInUse, .limitExceeded, .provisionedThroughputExceeded, .expiredIterator, .expiredNextToken,
            .internalFailure, .serviceUnavailable, .kmsNotFound, .kmsDisabled, .kmsAccessDenied, .kmsInvalidState:
            // AWS reports KMS failures per record (ErrorCode KMSDisabledException, ...).
            false
        }
    }
}
