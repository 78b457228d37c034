import NIOCore
import NIOHTTP1
import RillKinesis
import RillModel
import Synchronization

/// A response ready to write: status, headers and body.
package struct HTTPReply {
    package var status: HTTPResponseStatus
    package var headers: HTTPHeaders
    package var body: ByteBuffer

    static let contentType = WireProtocol.jsonContentType

    static func success(_ body: [UInt8], requestID: String, contentType: String = HTTPReply.contentType) -> HTTPReply {
        HTTPReply(
            status: .ok,
            headers: commonHeaders(requestID: requestID, contentType: contentType),
            body: ByteBuffer(bytes: body)
        )
    }

    /// The one rendering of a Kinesis error: status, `x-amzn-ErrorType`, and `{"__type", "message"}` in the
    /// client's encoding (a CBOR map for CBOR clients, with the same status and header).
    static func error(_ error: KinesisError, requestID: String, protocol wire: WireProtocol = .json) -> HTTPReply {
        var headers = commonHeaders(requestID: requestID, contentType: wire.contentType)
        headers.add(name: "x-amzn-ErrorType", value: error.code.rawValue)
        return HTTPReply(
            status: HTTPResponseStatus(statusCode: error.code.httpStatus),
            headers: headers,
            body: ByteBuffer(bytes: wire.errorBody(error))
        )
    }

    static func commonHeaders(requestID: String, contentType: String) -> HTTPHeaders {
        HTTPHeaders([
            ("Content-Type", contentType),
            ("x-amzn-RequestId", requestID),
            ("x-amz-id-2", RequestIDs.extendedID()),
        ])
    }
}

/// Request ids: a UUID per request, and the 96-character `x-amz-id-2` Java SDKs expose.
///
/// Ids only have to be unlikely to repeat, not secret. `SystemRandomNumberGenerator` is a `getrandom` system
/// call per 8 bytes on Linux (three per response when each id drew its own, about 1.5 % of a node's event loop
/// under 64 connections of PutRecord); now one draw seeds the process's SplitMix64 sequence, stepped atomically,
/// so every id is the mix of a state no other id in this process used.
enum RequestIDs {
    private static let state: Atomic<UInt64> = {
        var system = SystemRandomNumberGenerator()
        return Atomic(system.next())
    }()

    private static func next() -> UInt64 {
        SplitMix64.mix(state.wrappingAdd(SplitMix64.gamma, ordering: .relaxed).newValue)
    }

    static func make() -> String {
        let bits = (next(), next())
        let hex = Array("0123456789abcdef".utf8)
        var text = [UInt8]()
        text.reserveCapacity(36)
        for i in 0..<32 {
            if i == 8 || i == 12 || i == 16 || i == 20 { text.append(UInt8(ascii: "-")) }
            let word = i < 16 ? bits.0 : bits.1
            text.append(hex[Int((word >> UInt64(4 * (i % 16))) & 0xF)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// 72 bytes from one state of the shared sequence stretched by a SplitMix64 of its own.
    static func extendedID() -> String {
        var generator = SplitMix64(seed: next())
        var bytes = [UInt8]()
        bytes.reserveCapacity(72)
        for _ in 0..<9 { withUnsafeBytes(of: generator.next()) { bytes.append(contentsOf: $0) } }
        return Base64.encode(bytes)
    }
}
