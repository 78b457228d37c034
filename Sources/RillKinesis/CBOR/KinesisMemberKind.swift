/// What a Kinesis member's name says about how CBOR carries its value, for the transcoders.
///
/// In the Kinesis model (botocore `kinesis/2013-12-02/service-2.json`) every member name has one type
/// wherever it appears: `Data` is the only blob; `ApproximateArrivalTimestamp`, `ConsumerCreationTimestamp`,
/// `EarliestAllowedEndAt`, `EndedAt`, `StartedAt`, `StreamCreationTimestamp` and `Timestamp` are the only
/// timestamps; `Tags` is the only map (`TagMap`, input only), whose keys are the client's and mean nothing.
/// So a member's name, not the operation, is enough to know its type in both directions.
enum KinesisMemberKind {
    case plain
    /// A blob: a CBOR byte string, base64 text in JSON.
    case blob
    /// A timestamp: tag 1 with integer epoch milliseconds in CBOR, epoch seconds in JSON.
    case timestamp
    /// The value of a `Tags` member: when it is a map, its keys are tag keys, not member names.
    case tagMap

    private static let timestamps: [StaticString] = [
        "ApproximateArrivalTimestamp", "ConsumerCreationTimestamp", "EarliestAllowedEndAt", "EndedAt", "StartedAt",
        "StreamCreationTimestamp", "Timestamp",
    ]

    /// The kind of the member named by these UTF-8 bytes.
    static func of(_ name: UnsafeBufferPointer<UInt8>) -> KinesisMemberKind {
        if matches(name, "Data") { return .blob }
        if matches(name, "Tags") { return .tagMap }
        // Every timestamp name ends in "Timestamp" or "At"; skip the table for the rest.
        guard let last = name.last, last == UInt8(ascii: "p") || last == UInt8(ascii: "t") else { return .plain }
        for candidate in timestamps where matches(name, candidate) { return .timestamp }
        return .plain
    }

    private static func matches(_ name: UnsafeBufferPointer<UInt8>, _ candidate: StaticString) -> Bool {
        guard name.count == candidate.utf8CodeUnitCount else { return false }
        return name.elementsEqual(UnsafeBufferPointer(start: candidate.utf8Start, count: candidate.utf8CodeUnitCount))
    }
}
