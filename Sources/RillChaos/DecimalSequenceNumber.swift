import Foundation

/// A sequence number as a client saw it: decimal text, ordered as the integer it spells.
///
/// RillChaos reads histories from any Kinesis-compatible server, so it does not assume Rill's bit layout
/// (`RillModel.SequenceNumber`); it only needs equality and order. The text is kept without leading zeros,
/// so equal numbers are equal values and hash alike.
public struct DecimalSequenceNumber: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The decimal digits, without leading zeros.
    public let digits: String

    /// Parses decimal digits; nil for an empty string or any other character.
    @inlinable
    public init?(_ text: some StringProtocol) {
        guard DecimalOrder.isDecimal(text) else { return nil }
        self.digits = DecimalOrder.normalized(text)
    }

    public var description: String { digits }

    /// Without leading zeros, more digits means larger, and equal lengths order like ASCII text, which
    /// `String`'s own comparison does with a byte-wise fast path.
    @inlinable
    public static func < (lhs: DecimalSequenceNumber, rhs: DecimalSequenceNumber) -> Bool {
        let leftCount = lhs.digits.utf8.count
        let rightCount = rhs.digits.utf8.count
        return leftCount != rightCount ? leftCount < rightCount : lhs.digits < rhs.digits
    }
}

// MARK: - Codable

/// On the wire a sequence number is a JSON string, as in the Kinesis API (it does not fit a JSON number).
extension DecimalSequenceNumber: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let parsed = DecimalSequenceNumber(text) else {
            throw DecodingError.dataCorruptedError(
                in: container,
                debugDescription: "sequence number \"\(text.prefix(80))\" is not a decimal integer"
            )
        }
        self = parsed
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(digits)
    }
}
