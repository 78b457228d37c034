import Foundation

/// Order on non-negative integers written in decimal, without converting them to a fixed-width integer.
///
/// Kinesis sequence numbers are 56 digits (186 bits), wider than any standard integer. Once leading zeros
/// are set aside, the number with more digits is the larger, and numbers with as many digits compare like
/// their text, digit by digit.
///
/// Inlinable so that callers in other modules get code specialized for their string type: generic UTF-8
/// iteration is several times slower, and a checker compares millions of numbers.
public enum DecimalOrder {
    /// Whether `text` is one or more ASCII digits and nothing else.
    @inlinable
    public static func isDecimal(_ text: some StringProtocol) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy(isDigit)
    }

    /// Three-way comparison of two decimal strings as integers; leading zeros do not count.
    ///
    /// Both arguments must satisfy `isDecimal`; anything else has no numeric order.
    @inlinable
    public static func compare(_ lhs: some StringProtocol, _ rhs: some StringProtocol) -> ComparisonResult {
        let left = lhs.utf8.drop(while: isZero)
        let right = rhs.utf8.drop(while: isZero)
        let leftCount = left.count
        let rightCount = right.count
        if leftCount != rightCount { return leftCount < rightCount ? .orderedAscending : .orderedDescending }
        for (l, r) in zip(left, right) where l != r {
            return l < r ? .orderedAscending : .orderedDescending
        }
        return .orderedSame
    }

    /// Whether `lhs` is numerically smaller than `rhs`; a predicate for `sort(by:)`.
    @inlinable
    public static func areInIncreasingOrder(_ lhs: some StringProtocol, _ rhs: some StringProtocol) -> Bool {
        compare(lhs, rhs) == .orderedAscending
    }

    /// The digits without leading zeros, keeping a single "0" for zero, so equal numbers get equal text.
    @inlinable
    public static func normalized(_ text: some StringProtocol) -> String {
        let digits = text.drop(while: { $0 == "0" })
        return digits.isEmpty ? "0" : String(digits)
    }

    @usableFromInline
    static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

    @usableFromInline
    static func isZero(_ byte: UInt8) -> Bool { byte == 0x30 }
}
