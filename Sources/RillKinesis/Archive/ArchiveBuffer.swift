/// One shard's buffer in `rill archive`: gathers the records read from the shard and says when an object is due, by
/// Firehose's buffering hints (whichever of size and interval comes first), and which records it holds.
///
/// The crash rule lives here: at most one object per shard is written and not yet checkpointed (`inFlight`), and
/// an object always starts at the record after the last checkpoint. After a crash, the replay reads from that
/// checkpoint, so its first object starts at the same record, gets the same name (`ArchiveObjectName`) and
/// replaces the one written before the crash, whatever records each holds: the old object's records are either in
/// the replacement or read again after it, never in two objects. Pure: instants come in as wall milliseconds.
public struct ArchiveBuffer: Sendable {
    /// A Kinesis record and the user records it carries (one, or a KPL aggregate's several): an object holds whole
    /// Kinesis records, since a checkpoint is a Kinesis sequence number.
    public struct Record: Sendable, Equatable {
        public var sequenceNumber: String
        public var arrivalMillis: Int64
        public var payloads: [[UInt8]]

        public init(sequenceNumber: String, arrivalMillis: Int64, payloads: [[UInt8]]) {
            self.sequenceNumber = sequenceNumber
            self.arrivalMillis = arrivalMillis
            self.payloads = payloads
        }
    }

    /// An object to write, then checkpoint at `checkpoint`.
    public struct Flush: Sendable, Equatable {
        public var records: [Record]
        /// Why now: the buffer reached its size, its interval passed, or the shard stops (shutdown, shard end).
        public var reason: Reason

        public var first: Record { records[0] }
        /// The last Kinesis record in the object: what the checkpoint names once it is in place.
        public var checkpoint: String { records[records.count - 1].sequenceNumber }
        public var userRecords: Int { records.reduce(0) { $0 + $1.payloads.count } }

        /// The object's contents before compression: the records' data back to back, each followed by `\n` when
        /// `newline`.
        public func body(newline: Bool) -> [UInt8] {
            var body: [UInt8] = []
            body.reserveCapacity(records.reduce(0) { $0 + ArchiveBuffer.size(of: $1, newline: newline) })
            for record in records {
                for payload in record.payloads {
                    body += payload
                    if newline { body.append(0x0A) }
                }
            }
            return body
        }
    }

    public enum Reason: String, Sendable, Equatable {
        case size
        case interval
        case drain
    }

    public let settings: ArchiveSettings
    /// Records read and not yet in an object, each with the instant it was read.
    private var pending: [(record: Record, readAtMillis: Int64)] = []
    public private(set) var pendingBytes = 0
    /// The object written and not yet checkpointed; no other is taken until `checkpointed()`.
    public private(set) var inFlight: Flush?

    public init(settings: ArchiveSettings) { self.settings = settings }

    public var isEmpty: Bool { pending.isEmpty && inFlight == nil }

    /// Reading pauses while two objects' worth wait, so a slow disk bounds memory rather than growing it.
    public var wantsRecords: Bool { pendingBytes < 2 * settings.bufferBytes }

    public mutating func offer(_ records: [Record], atMillis now: Int64) {
        for record in records {
            pending.append((record, now))
            pendingBytes += Self.size(of: record, newline: settings.newlineDelimiter)
        }
    }

    /// When the oldest pending record's interval runs out; nil when nothing is pending.
    public var deadlineMillis: Int64? {
        pending.first.map { $0.readAtMillis + settings.bufferIntervalMillis }
    }

    /// The object due at `now`, if one is: records from the oldest pending up to the size hint (at least one
    /// record, so a record larger than the hint makes an object of its own). `drain` takes whatever is pending.
    public mutating func takeFlush(atMillis now: Int64, drain: Bool = false) -> Flush? {
        guard inFlight == nil, let oldest = pending.first else { return nil }
        let reason: Reason
        if pendingBytes >= settings.bufferBytes {
            reason = .size
        } else if now >= oldest.readAtMillis + settings.bufferIntervalMillis {
            reason = .interval
        } else if drain {
            reason = .drain
        } else {
            return nil
        }
        var count = 0
        var bytes = 0
        for entry in pending {
            let size = Self.size(of: entry.record, newline: settings.newlineDelimiter)
            if count > 0 && bytes + size > settings.bufferBytes { break }
            count += 1
            bytes += size
        }
        let flush = Flush(records: pending.prefix(count).map(\.record), reason: reason)
        pending.removeFirst(count)
        pendingBytes -= bytes
        inFlight = flush
        return flush
    }

    /// The in-flight object is in place and checkpointed: the next may be taken.
    public mutating func checkpointed() { inFlight = nil }

    static func size(of record: Record, newline: Bool) -> Int {
        record.payloads.reduce(0) { $0 + $1.count + (newline ? 1 : 0) }
    }
}
