import RillKinesis
import Testing

@Suite struct EventStreamTests {
    @Test("CRC-32 matches the IEEE check value")
    func crc32() {
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(CRC32.checksum([]) == 0)
    }

    @Test("messages round trip, and a flipped byte fails a CRC")
    func roundTrip() throws {
        let message = EventStreamMessage.event("SubscribeToShardEvent", payload: Array(#"{"Records":[]}"#.utf8))
        let bytes = message.encoded()
        let decoded = try #require(EventStreamMessage.decode(bytes))
        #expect(decoded.message == message)
        #expect(decoded.length == bytes.count)
        for position in [0, 5, 9, 14, bytes.count - 10, bytes.count - 1] {
            var damaged = bytes
            damaged[position] ^= 0x40
            #expect(EventStreamMessage.decode(damaged) == nil)
        }
    }

    @Test("exceptions carry the shape name and a JSON message")
    func exception() throws {
        let decoded = try #require(
            EventStreamMessage.decode(EventStreamMessage.exception(.resourceNotFound, message: "gone").encoded())
        )
        #expect(decoded.message.headers.first { $0.name == ":exception-type" }?.value == "ResourceNotFoundException")
        #expect(String(decoding: decoded.message.payload, as: UTF8.self) == #"{"message":"gone"}"#)
    }
}
