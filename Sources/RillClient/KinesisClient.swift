import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import RillKinesis
import RillModel

/// Kinesis calls over one `HTTPConnection`: AWS JSON 1.1, `POST /` with `X-Amz-Target`.
///
/// The request head per operation is built once; the hot loop only swaps in `Content-Length`.
public struct KinesisClient: Sendable {
    public private(set) var connection: HTTPConnection
    private let group: any EventLoopGroup
    /// The encoding this client's calls declare in `Content-Type`; the caller builds bodies to match.
    public let wire: WireProtocol
    /// Signs each call as an SDK does (the body's SHA-256 included); nil sends `unsigned`.
    public let signer: SigV4Signer?

    /// Without credentials the server does not verify signatures, but it reads the region from the credential scope.
    public static let unsigned =
        "AWS4-HMAC-SHA256 Credential=AKIDBENCH/20260101/us-east-1/kinesis/aws4_request, SignedHeaders=host, Signature=0"

    public static func connect(
        to endpoint: Endpoint,
        on group: any EventLoopGroup,
        wire: WireProtocol = .json,
        signer: SigV4Signer? = nil
    ) async throws -> KinesisClient {
        KinesisClient(
            connection: try await HTTPConnection.connect(to: endpoint, on: group),
            group: group,
            wire: wire,
            signer: signer
        )
    }

    /// Replaces a broken connection with a fresh one to the same endpoint.
    public mutating func reconnect() async throws {
        await connection.close()
        connection = try await HTTPConnection.connect(to: connection.endpoint, on: group)
    }

    public func close() async { await connection.close() }

    /// Sends one call; Kinesis errors come back as a reply with a non-200 status, transport failures throw.
    public func call(
        _ operation: KinesisOperation,
        body: ByteBuffer,
        at deadline: NIODeadline? = nil,
        wire override: WireProtocol? = nil,
        headers extra: [(String, String)] = []
    ) async throws -> HTTPReply {
        var head = HTTPRequestHead(version: .http1_1, method: .POST, uri: "/")
        head.headers.reserveCapacity(6 + extra.count)
        head.headers.add(name: "Host", value: connection.endpoint.hostHeader)
        head.headers.add(name: "Content-Type", value: (override ?? wire).contentType)
        head.headers.add(name: "X-Amz-Target", value: operation.target)
        // Signed with the rest (SigV4 signs every header it is given).
        for (name, value) in extra { head.headers.add(name: name, value: value) }
        if let signer {
            // Hashing the body and the HMACs cost what they cost an SDK; they are part of what a signed run measures.
            let signed = signer.sign(
                headers: head.headers.map { ($0.name, $0.value) },
                payloadHash: SigV4.hex(SHA256.hash(Array(buffer: body))),
                nowMillis: Int64(Date().timeIntervalSince1970 * 1000)
            )
            head.headers.add(name: "X-Amz-Date", value: signed.amzDate)
            head.headers.add(name: "Authorization", value: signed.authorization)
        } else {
            head.headers.add(name: "Authorization", value: Self.unsigned)
        }
        head.headers.add(name: "Content-Length", value: String(body.readableBytes))
        return try await connection.send(head: head, body: body, at: deadline)
    }

    /// A control-plane call whose failure ends the run: returns the parsed reply or throws `BenchError`.
    /// Always JSON, whatever the client's protocol: only the measured calls change encoding.
    public func callChecked(
        _ operation: KinesisOperation,
        _ build: (inout JSONWriter) -> Void
    ) async throws -> JSONObject {
        var writer = JSONWriter()
        writer.beginObject()
        build(&writer)
        writer.endObject()
        let reply = try await call(operation, body: ByteBuffer(bytes: writer.bytes), wire: .json)
        guard reply.status == .ok else {
            let (code, message) = KinesisReply.error(in: reply)
            throw BenchError("\(operation.rawValue) failed: \(code) \(message)")
        }
        return try KinesisReply.object(reply.body, operation: operation)
    }
}

/// Reading replies without Foundation: the byte-level `JSONParser` and a few typed field readers. A CBOR
/// reply (a map head rather than `{`) is read through the server's own CBOR-to-JSON transcoder.
public enum KinesisReply {
    /// The reply body as JSON bytes.
    public static func jsonBytes(_ body: ByteBuffer) throws -> [UInt8] {
        let bytes = Array(body.readableBytesView)
        guard isCBOR(body) else { return bytes }
        return try CBORToJSON.transcode(bytes)
    }

    /// Whether a reply body is CBOR (a map head, 0xa0–0xbf) rather than JSON (`{`).
    public static func isCBOR(_ body: ByteBuffer) -> Bool {
        guard let first = body.readableBytesView.first else { return false }
        return first >= 0xA0 && first <= 0xBF
    }

    /// Parses a reply body that must be a JSON object.
    public static func object(_ body: ByteBuffer, operation: KinesisOperation) throws -> JSONObject {
        // Calls with no output shape (CreateStream, DeleteStream) may answer with an empty body.
        if body.readableBytes == 0 { return JSONObject() }
        let value: JSONValue
        do {
            value = try JSONParser.parse(try jsonBytes(body))
        } catch let error as CBORFailure {
            throw BenchError("\(operation.rawValue) reply is not CBOR: \(error.reason) at byte \(error.offset)")
        } catch let error as JSONParser.Failure {
            throw BenchError("\(operation.rawValue) reply is not JSON: \(error.reason) at byte \(error.offset)")
        }
        guard case .object(let object) = value else { throw BenchError("\(operation.rawValue) reply is not an object") }
        return object
    }

    /// The error code (`__type` without any `namespace#` prefix) and message of a non-200 reply.
    public static func error(in reply: HTTPReply) -> (code: String, message: String) {
        let fallback = "HTTP \(reply.status.code)"
        guard let bytes = try? jsonBytes(reply.body), case .object(let object)? = try? JSONParser.parse(bytes) else {
            return (fallback, "")
        }
        let message = string(object, "message") ?? string(object, "Message") ?? ""
        guard let type = string(object, "__type") else { return (fallback, message) }
        let code = type.split(separator: "#").last.map(String.init) ?? type
        return (code.isEmpty ? fallback : code, message)
    }

    public static func string(_ object: JSONObject, _ key: String) -> String? {
        guard case .string(let text)? = object[key] else { return nil }
        return text
    }

    public static func int(_ object: JSONObject, _ key: String) -> Int? {
        guard case .number(let text)? = object[key] else { return nil }
        return Int(text)
    }

    public static func array(_ object: JSONObject, _ key: String) -> [JSONValue]? {
        guard case .array(let values)? = object[key] else { return nil }
        return values
    }

    public static func object(_ object: JSONObject, _ key: String) -> JSONObject? {
        guard case .object(let value)? = object[key] else { return nil }
        return value
    }

    /// Bytes that padded base64 text of this length decodes to, without decoding it.
    public static func decodedLength(ofBase64 text: String) -> Int {
        let utf8 = text.utf8
        let count = utf8.count
        guard count >= 4 else { return 0 }
        var padding = 0
        var index = utf8.index(before: utf8.endIndex)
        if utf8[index] == UInt8(ascii: "=") {
            padding += 1
            index = utf8.index(before: index)
            if utf8[index] == UInt8(ascii: "=") { padding += 1 }
        }
        return count / 4 * 3 - padding
    }
}

/// A failure that ends the run, with a message for the operator.
public struct BenchError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
