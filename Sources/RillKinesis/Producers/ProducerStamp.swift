/// What an idempotent producer adds to a PutRecord or PutRecords: its id and one producer sequence per record,
/// in request order. Sent as two HTTP headers (docs/producers.md); plain Kinesis clients never send them.
///
/// A producer numbers every record it sends with the next number of its own counter (across all shards), and a
/// retry carries the number the record had the first time. Within one request the numbers strictly increase.
public struct ProducerStamp: Sendable, Equatable, Hashable {
    /// `x-rill-producer-id`: 1 to 128 characters of `[A-Za-z0-9._:-]`, unique per producer instance.
    public static let idHeader = "x-rill-producer-id"
    /// `x-rill-producer-sequence`: one number per record, comma-separated; `a-b` stands for a, a+1, ..., b.
    public static let sequenceHeader = "x-rill-producer-sequence"
    public static let maxIDLength = 128

    public var producerID: String
    public var sequences: [UInt64]

    public init(producerID: String, sequences: [UInt64]) {
        self.producerID = producerID
        self.sequences = sequences
    }

    /// Reads the two header values; nil when neither is present (a plain client). Malformed values, or one
    /// header without the other, are an InvalidArgumentException: the records must not be stored without the
    /// protection their producer asked for.
    public init?(id: String?, sequence: String?) throws(KinesisError) {
        guard id != nil || sequence != nil else { return nil }
        guard let id, let sequence else {
            throw KinesisError(
                .invalidArgument,
                "\(Self.idHeader) and \(Self.sequenceHeader) must be sent together."
            )
        }
        guard (1...Self.maxIDLength).contains(id.utf8.count),
            id.utf8.allSatisfy({ Self.isIDByte($0) })
        else {
            throw KinesisError(
                .invalidArgument,
                "\(Self.idHeader) must be 1 to \(Self.maxIDLength) characters of A-Z, a-z, 0-9, '.', '_', ':' and '-'."
            )
        }
        self.producerID = id
        self.sequences = try Self.parseSequences(sequence)
    }

    /// The header value for `sequences`, runs of consecutive numbers written as `a-b`.
    public static func headerValue(_ sequences: [UInt64]) -> String {
        var parts: [String] = []
        var index = 0
        while index < sequences.count {
            var end = index
            while end + 1 < sequences.count, sequences[end + 1] == sequences[end] &+ 1 { end += 1 }
            parts.append(end == index ? "\(sequences[index])" : "\(sequences[index])-\(sequences[end])")
            index = end + 1
        }
        return parts.joined(separator: ",")
    }

    /// The stamp of the records at `slots` (request positions), for the part of a request sent to one shard.
    public func subset(_ slots: [Int]) -> ProducerStamp {
        ProducerStamp(producerID: producerID, sequences: slots.map { sequences[$0] })
    }

    /// Throws unless the stamp numbers exactly `count` records.
    public func check(recordCount count: Int) throws(KinesisError) {
        guard sequences.count == count else {
            throw KinesisError(
                .invalidArgument,
                "\(Self.sequenceHeader) names \(sequences.count) records; the request has \(count)."
            )
        }
    }

    private static func isIDByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: ":"),
            UInt8(ascii: "-"):
            true
        default: false
        }
    }

    /// At most the PutRecords limit of numbers, strictly increasing.
    private static func parseSequences(_ value: String) throws(KinesisError) -> [UInt64] {
        let invalid = KinesisError(
            .invalidArgument,
            "\(sequenceHeader) must list strictly increasing numbers, comma-separated, with a-b for a run "
                + "(at most 500)."
        )
        var sequences: [UInt64] = []
        for part in value.split(separator: ",", omittingEmptySubsequences: false) {
            let bounds = part.trimmingWhitespace().split(separator: "-", omittingEmptySubsequences: false)
            guard bounds.count == 1 || bounds.count == 2,
                let first = UInt64(bounds[0]),
                let last = bounds.count == 2 ? UInt64(bounds[1]) : first,
                first <= last, last - first < 500, sequences.count + Int(last - first) < 500
            else { throw invalid }
            if let previous = sequences.last, first <= previous { throw invalid }
            sequences.append(contentsOf: first...last)
        }
        guard !sequences.isEmpty else { throw invalid }
        return sequences
    }
}

extension Substring {
    fileprivate func trimmingWhitespace() -> Substring {
        var slice = self
        while slice.first == " " { slice = slice.dropFirst() }
        while slice.last == " " { slice = slice.dropLast() }
        return slice
    }
}
