import Foundation
import RillChaos
import Testing

@Suite struct DecimalOrderTests {
    @Test(
        "decimal strings compare as integers",
        arguments: [
            ("9", "10", ComparisonResult.orderedAscending),
            ("10", "9", .orderedDescending),
            ("123", "123", .orderedSame),
            ("0", "0", .orderedSame),
            ("007", "7", .orderedSame),
            ("0010", "9", .orderedDescending),
            ("000", "0", .orderedSame),
            ("99999999999999999999", "100000000000000000000", .orderedAscending),
            (
                "49646437577108476416917854477500630499570332833060749360",
                "49646437577108476416917854477500630499570332833060749361", .orderedAscending
            ),
            (
                "59646437577108476416917854477500630499570332833060749360",
                "49646437577108476416917854477500630499570332833060749361", .orderedDescending
            ),
            (
                "4964643757710847641691785447750063049957033283306074936",
                "49646437577108476416917854477500630499570332833060749360", .orderedAscending
            ),
        ]
    )
    func compares(lhs: String, rhs: String, expected: ComparisonResult) {
        #expect(DecimalOrder.compare(lhs, rhs) == expected)
        #expect(DecimalOrder.areInIncreasingOrder(lhs, rhs) == (expected == .orderedAscending))
    }

    @Test("agrees with UInt64 order on seeded random pairs")
    func agreesWithIntegers() {
        var generator = SplitMix(seed: 42)
        for _ in 0..<10_000 {
            // Mix magnitudes so that unequal lengths and equal lengths both come up often.
            let a = generator.next() >> (generator.next() % 64)
            let b = generator.next() >> (generator.next() % 64)
            let expected: ComparisonResult = a < b ? .orderedAscending : a > b ? .orderedDescending : .orderedSame
            #expect(DecimalOrder.compare(String(a), String(b)) == expected, "\(a) vs \(b)")
        }
    }

    @Test("only ASCII digits are decimal", arguments: ["", " 1", "1 ", "-1", "+1", "1.0", "1e3", "٣", "0x10", "１"])
    func refuses(text: String) {
        #expect(!DecimalOrder.isDecimal(text))
        #expect(DecimalSequenceNumber(text) == nil)
    }

    @Test("sequence numbers drop leading zeros so equal numbers are equal values")
    func normalizes() throws {
        let padded = try #require(DecimalSequenceNumber("000123"))
        let plain = try #require(DecimalSequenceNumber("123"))
        #expect(padded == plain)
        #expect(padded.hashValue == plain.hashValue)
        #expect(padded.description == "123")
        #expect(DecimalSequenceNumber("0000")?.digits == "0")
        #expect(try #require(DecimalSequenceNumber("99")) < (try #require(DecimalSequenceNumber("100"))))
    }

    @Test("sorting 56-digit numbers matches their numeric order")
    func sorts() {
        let numbers = [30, 1, 200, 7, 10_000_000].map(sequence)
        #expect(numbers.sorted() == [1, 7, 30, 200, 10_000_000].map(sequence))
    }
}

/// A seeded generator (SplitMix64), so failures replay.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
