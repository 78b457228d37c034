import NIOCore
import NIOHTTP1
import RillKinesis
import RillModel

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
/// `SystemRandomNumberGenerator` is one `getrandom` system call per 8 bytes on Linux. Drawing a character or
/// a byte at a time cost 104 of them per response, ~94 per acknowledged PutRecord in a `perf stat` of three
/// nodes. Each id now takes what it needs from whole draws: two for a request id, one seed for the extended id.
enum RequestIDs {
    static func make() -> String {
        var generator = SystemRandomNumberGenerator()
        let bits = (generator.next(), generator.next())
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

    /// 72 bytes from one system draw stretched by SplitMix64: the id only has to be unlikely to repeat, not
    /// secret.
    static func extendedID() -> String {
        var system = SystemRandomNumberGenerator()
        var generator = SplitMix64(seed: system.next())
        var bytes = [UInt8]()
        bytes.reserveCapacity(72)
        for _ in 0..<9 { withUnsafeBytes(of: generator.next()) { bytes.append(contentsOf: $0) } }
        return Base64.encode(bytes)
    }
}
