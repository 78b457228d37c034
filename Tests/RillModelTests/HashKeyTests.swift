import Foundation
import RillModel
import Testing

extension String {
    fileprivate func leftPadded(to width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}

@Suite struct HashKeyTests {
    @Test("MD5 routing matches the vectors of KINESIS-SEMANTICS §2.2")
    func partitionKeyVectors() {
        #expect(HashKey(partitionKey: "a").description == "16955237001963240173058271559858726497")
        #expect(HashKey(partitionKey: "1").description == "261578874264819908609102035485573088411")
    }

    @Test(
        "MD5 matches RFC 1321 test suite",
        arguments: [
            ("", "d41d8cd98f00b204e9800998ecf8427e"),
            ("abc", "900150983cd24fb0d6963f7d28e17f72"),
            ("message digest", "f96b697d7cb7938d525a2f31aaf161d0"),
            (
                "12345678901234567890123456789012345678901234567890123456789012345678901234567890",
                "57edf4a22be3c955ac49da2e2107b67a"
            ),
        ]
    )
    func md5(input: String, hex: String) {
        let digest = MD5.hash(Array(input.utf8)).map {
            String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16)
        }.joined()
        #expect(digest == hex)
    }

    /// Messages whose padding ends exactly at, just before and just after a 64-byte block, with Python's
    /// hashlib digests of the first `length` letters of the alphabet, repeated.
    @Test(
        "MD5 pads across block edges",
        arguments: [
            (55, "0d7ae056b2f015cd7dc67494efd658f1"), (56, "31fcfb5165169eb55898e7e4cf34d19a"),
            (57, "fd62afaf3aa1e2a52882cb464f5ccc4d"), (63, "1b30c0670c15e7da3c2ba7bce77ebe99"),
            (64, "a2eaf6295c32adc403865fd96a2f182b"), (65, "eba2cce0ca8df47e62414a736b3105a2"),
            (119, "b05187e08da41fa3ef16bd56afaafd99"), (120, "62af9b597a9f55e16ab2b897387fc052"),
            (128, "3e8c1ccbd71838ef3df4b72e57fb9bf6"),
        ]
    )
    func md5BlockEdges(length: Int, hex: String) {
        let input = (0..<length).map { UInt8(97 + $0 % 26) }
        #expect(MD5.hash(input).map { String(format: "%02x", $0) }.joined() == hex)
        let key = HashKey(partitionKey: String(decoding: input, as: UTF8.self))
        #expect(String(key.rawValue, radix: 16).leftPadded(to: 32) == hex)
        #expect(HashKey(partitionKeyUTF8: input[...]) == key)
    }

    @Test(
        "even split ends match AWS-observed ranges",
        arguments: [
            (2, ["170141183460469231731687303715884105727", "340282366920938463463374607431768211455"]),
            (
                3,
                [
                    "113427455640312821154458202477256070484", "226854911280625642308916404954512140969",
                    "340282366920938463463374607431768211455",
                ]
            ),
            (
                4,
                [
                    "85070591730234615865843651857942052863", "170141183460469231731687303715884105727",
                    "255211775190703847597530955573826158591", "340282366920938463463374607431768211455",
                ]
            ),
        ]
    )
    func evenSplit(count: Int, ends: [String]) {
        let ranges = HashRange.evenSplit(count: count)
        #expect(ranges.map(\.end.description) == ends)
        #expect(ranges.first?.start == .min)
        for (previous, next) in zip(ranges, ranges.dropFirst()) {
            #expect(previous.end.rawValue + 1 == next.start.rawValue)
        }
    }

    @Test("parsing tells too-large keys from malformed ones")
    func parsing() {
        #expect(HashKey.parse("0") == .valid(.min))
        #expect(HashKey.parse("340282366920938463463374607431768211455") == .valid(.max))
        #expect(HashKey.parse("340282366920938463463374607431768211456") == .outOfRange)
        #expect(HashKey.parse("-1") == .malformed)
        #expect(HashKey.parse("") == .malformed)
        #expect(HashKey.parse("12a") == .malformed)
    }

    @Test("shard ids format with 12 digits and parse leniently")
    func shardIDs() {
        #expect(ShardID(index: 7).name == "shardId-000000000007")
        #expect(ShardID(parsing: "shardId-000000000007") == ShardID(index: 7))
        #expect(ShardID(parsing: "shardId-7") == ShardID(index: 7))
        #expect(ShardID(parsing: "7") == ShardID(index: 7))
        #expect(ShardID(parsing: "shard-7") == nil)
        #expect(ShardID(parsing: "shardId-") == nil)
    }
}
