import NIOCore
import NIOHTTP1
import RillKinesis

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
enum RequestIDs {
    static func make() -> String {
        var generator = SystemRandomNumberGenerator()
        let hex = Array("0123456789abcdef")
        var text = ""
        for i in 0..<32 {
            if i == 8 || i == 12 || i == 16 || i == 20 { text.append("-") }
            text.append(hex[Int(generator.next() % 16)])
        }
        return text
    }

    static func extendedID() -> String {
        var generator = SystemRandomNumberGenerator()
        return Base64.encode((0..<72).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }
}
