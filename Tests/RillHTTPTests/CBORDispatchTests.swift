import Logging
import NIOCore
import NIOHTTP1
import RillHTTP
import RillKinesis
import Testing

/// CBOR clients through the dispatcher and a real single node: replies and errors come back in CBOR.
@Suite struct CBORDispatchTests {
    static func cbor(_ target: String) -> HTTPRequestHead {
        RequestDispatcherTests.head(
            .POST,
            target: "Kinesis_20131202." + target,
            headers: [("Content-Type", WireProtocol.cborContentType)]
        )
    }

    static func body(_ build: (inout CBORWriter) -> Void) -> ByteBuffer {
        var writer = CBORWriter()
        writer.beginMap()
        build(&writer)
        writer.endMap()
        return ByteBuffer(bytes: writer.bytes)
    }

    @Test("replies and errors are CBOR with the JSON statuses and x-amzn-ErrorType")
    func repliesAndErrors() async throws {
        try await RequestDispatcherTests.withDispatcher { dispatcher in
            let list = await dispatcher.respond(to: Self.cbor("ListStreams"), body: Self.body { _ in })
            #expect(list.status == .ok)
            #expect(list.headers.first(name: "Content-Type") == WireProtocol.cborContentType)
            let streams = try CBORDecoder.decode(Array(list.body.readableBytesView))
            #expect(streams["StreamNames"] == .array([]))
            #expect(streams["HasMoreStreams"] == .bool(false))

            let missing = await dispatcher.respond(
                to: Self.cbor("DescribeStream"),
                body: Self.body {
                    $0.text("StreamName")
                    $0.text("nope")
                }
            )
            #expect(missing.status == .badRequest)
            #expect(missing.headers.first(name: "x-amzn-ErrorType") == "ResourceNotFoundException")
            #expect(missing.headers.first(name: "Content-Type") == WireProtocol.cborContentType)
            let error = try CBORDecoder.decode(Array(missing.body.readableBytesView))
            #expect(error["__type"] == .text("ResourceNotFoundException"))
            #expect(error["message"] != nil)

            // A length running past the end of the body: refused, in CBOR, and the node keeps serving.
            let malformed = await dispatcher.respond(
                to: Self.cbor("DescribeStream"),
                body: ByteBuffer(bytes: [0xA1, 0x7B, 0xFF, 0xFF])
            )
            #expect(malformed.status == .badRequest)
            #expect(
                try CBORDecoder.decode(Array(malformed.body.readableBytesView))["__type"]
                    == .text("SerializationException")
            )
        }
    }
}
