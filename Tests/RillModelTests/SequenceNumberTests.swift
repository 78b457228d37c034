import RillModel
import Testing

@Suite struct SequenceNumberTests {
    @Test("numbers are 56 digits, 186 bits, version 2, with the shard index where KCL reads it")
    func kclShape() throws {
        let number = SequenceNumber(
            epoch: 1_700_000_000,
            index: LogIndex(12345),
            slot: 7,
            arrivalSeconds: 1_700_000_123,
            shardIndex: 3
        )
        let text = number.description
        #expect(text.count == 56)
        // Computed independently: 2<<184 | epoch<<148 | (index<<16 | slot)<<80 | arrival<<36 | shard<<4.
        #expect(text == "49646437577108476416917854477500630499570332833060749360")
        // Bits 184..187 hold the version, bits 4..35 the shard index (KCL SequenceNumberValidator).
        let parsed = try #require(SequenceNumber(parsing: text))
        #expect(parsed == number)
        #expect(parsed.shardIndex == 3)
    }

    @Test(
        "round trip over extreme fields",
        arguments: [
            (UInt64(0), UInt64(0), UInt16(0), UInt64(0), UInt32(0)),
            (SequenceNumber.maxEpoch, SequenceNumber.maxIndex, UInt16.max, UInt64(1 << 36 - 1), UInt32.max),
            (UInt64(1), UInt64(1), UInt16(1), UInt64(1), UInt32(1)),
        ]
    )
    func roundTrip(epoch: UInt64, index: UInt64, slot: UInt16, seconds: UInt64, shard: UInt32) throws {
        let number = SequenceNumber(
            epoch: epoch,
            index: LogIndex(index),
            slot: slot,
            arrivalSeconds: seconds,
            shardIndex: shard
        )
        #expect(SequenceNumber(parsing: number.description) == number)
    }

    @Test("order follows (index, slot) within a shard, whatever the arrival clock says")
    func ordering() {
        let early = SequenceNumber(epoch: 10, index: LogIndex(5), slot: 3, arrivalSeconds: 999, shardIndex: 0)
        let later = SequenceNumber(epoch: 10, index: LogIndex(6), slot: 0, arrivalSeconds: 1, shardIndex: 0)
        #expect(early < later)
        // Decimal strings of equal length compare like the numbers.
        #expect(early.description.count == later.description.count)
        #expect(early.description < later.description)
    }

    @Test("garbage and other layouts are refused")
    func refusals() {
        #expect(SequenceNumber(parsing: "") == nil)
        #expect(SequenceNumber(parsing: "12x") == nil)
        #expect(SequenceNumber(parsing: "1") == nil)
        #expect(SequenceNumber(parsing: String(repeating: "9", count: 70)) == nil)
    }

    @Test("SHA-256 and HMAC match FIPS 180-4 and RFC 4231 vectors")
    func sha256() {
        func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format2($0)) }.joined() }
        #expect(
            hex(SHA256.hash(Array("abc".utf8))) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        )
        #expect(hex(SHA256.hash([])) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        let mac = SHA256.hmac(key: [UInt8](repeating: 0x0b, count: 20), message: Array("Hi There".utf8))
        #expect(hex(mac) == "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7")
        // RFC 4231 case 6: a key longer than the block is hashed first.
        let long = SHA256.hmac(
            key: [UInt8](repeating: 0xaa, count: 131),
            message: Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8)
        )
        #expect(hex(long) == "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")
        // FIPS 180-4: a message of two blocks.
        #expect(
            hex(SHA256.hash(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)))
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
        )
    }
}

private func format2(_ byte: UInt8) -> String {
    let text = String(byte, radix: 16)
    return text.count == 1 ? "0" + text : text
}

@Suite struct LogIndexTests {
    @Test("indexes past Int64.max compare and stride without trapping")
    func hugeIndexes() {
        let huge = LogIndex(.max)
        #expect(huge == LogIndex(.max))
        #expect(LogIndex(1).distance(to: LogIndex(3)) == 2)
        #expect(LogIndex(3).distance(to: LogIndex(1)) == -2)
        #expect(LogIndex(5).advanced(by: -2) == LogIndex(3))
        #expect(huge.distance(to: huge) == 0)
    }
}
