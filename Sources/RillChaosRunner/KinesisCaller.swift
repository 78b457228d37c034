import NIOCore
import NIOHTTP1
import RillKinesis

/// Kinesis calls (AWS JSON 1.1) from one worker to whichever node it picks, over one kept-alive connection
/// per node. Never retries: what happened to each call is the caller's to record.
struct KinesisCaller {
    private let group: any EventLoopGroup
    private var connections: [APIAddress: HTTPConnection] = [:]

    /// The server does not verify signatures without credentials, but reads the region from the scope.
    static let authorization =
        "AWS4-HMAC-SHA256 Credential=AKIDCHAOS/20260101/us-east-1/kinesis/aws4_request, SignedHeaders=host, Signature=0"

    init(group: any EventLoopGroup) {
        self.group = group
    }

    /// Sends one call to the node serving the API at `address`, with `headers` besides the usual ones.
    mutating func call(
        _ operation: KinesisOperation,
        at address: APIAddress,
        timeout: Duration,
        headers: [(name: String, value: String)] = [],
        _ build: (inout JSONWriter) -> Void
    ) async -> KinesisResult {
        var writer = JSONWriter()
        writer.beginObject()
        build(&writer)
        writer.endObject()
        let connection: HTTPConnection
        do {
            connection = try await self.connection(to: address, timeout: timeout)
        } catch {
            return .failed(error)
        }
        var head = HTTPRequestHead(version: .http1_1, method: .POST, uri: "/")
        head.headers.add(name: "Host", value: "\(address)")
        head.headers.add(name: "Content-Type", value: "application/x-amz-json-1.1")
        head.headers.add(name: "X-Amz-Target", value: operation.target)
        head.headers.add(name: "Authorization", value: Self.authorization)
        head.headers.add(name: "Content-Length", value: String(writer.bytes.count))
        for header in headers { head.headers.add(name: header.name, value: header.value) }
        do {
            let response = try await connection.send(
                head: head,
                body: ByteBuffer(bytes: writer.bytes),
                timeout: timeout
            )
            return KinesisResult(response)
        } catch {
            // The connection is in an unknown state after a timeout or a break; start afresh next time.
            connections[address] = nil
            await connection.close()
            return .failed(error)
        }
    }

    /// Closes every connection.
    mutating func close() async {
        for connection in connections.values { await connection.close() }
        connections = [:]
    }

    private mutating func connection(
        to address: APIAddress,
        timeout: Duration
    ) async throws(HTTPFailure) -> HTTPConnection {
        if let existing = connections[address] {
            if existing.isActive { return existing }
            // Closed by the server (a node that restarted): replace it before sending, so no request is lost
            // to a connection already known dead.
            connections[address] = nil
            await existing.close()
        }
        let fresh = try await HTTPConnection.connect(to: address, on: group, timeout: min(timeout, .seconds(2)))
        connections[address] = fresh
        return fresh
    }
}

/// What one call came to.
enum KinesisResult: Sendable {
    /// HTTP 200 with a JSON object (an empty body reads as an empty object).
    case ok(JSONObject)
    /// A Kinesis error reply: the `__type` without namespace, and the message.
    case error(code: String, message: String)
    /// No reply: the call failed below HTTP.
    case failed(HTTPFailure)

    init(_ response: HTTPResponse) {
        let bytes = response.bytes
        let parsed: JSONValue? = bytes.isEmpty ? .object(JSONObject()) : try? JSONParser.parse(bytes)
        guard response.status == .ok else {
            let fallback = "HTTP \(response.status.code)"
            guard case .object(let object)? = parsed else {
                self = .error(code: fallback, message: String(decoding: bytes.prefix(200), as: UTF8.self))
                return
            }
            let message = object.string("message") ?? object.string("Message") ?? ""
            let type = object.string("__type").flatMap { $0.split(separator: "#").last.map(String.init) }
            self = .error(code: type.flatMap { $0.isEmpty ? nil : $0 } ?? fallback, message: message)
            return
        }
        guard case .object(let object)? = parsed else {
            // A 200 the client cannot read leaves the outcome unknown, like a timeout.
            self = .failed(.connectionLost("unreadable reply"))
            return
        }
        self = .ok(object)
    }

    /// A short description for logs and error messages.
    var summary: String {
        switch self {
        case .ok: "ok"
        case .error(let code, let message): "\(code): \(message)"
        case .failed(let failure): "\(failure)"
        }
    }
}

// MARK: - Reading reply fields

extension JSONObject {
    func string(_ key: String) -> String? {
        guard case .string(let text)? = self[key] else { return nil }
        return text
    }

    func int(_ key: String) -> Int? {
        guard case .number(let text)? = self[key] else { return nil }
        return Int(text)
    }

    func bool(_ key: String) -> Bool? {
        guard case .bool(let value)? = self[key] else { return nil }
        return value
    }

    func array(_ key: String) -> [JSONValue]? {
        guard case .array(let values)? = self[key] else { return nil }
        return values
    }

    func objects(_ key: String) -> [JSONObject]? {
        array(key)?.compactMap {
            guard case .object(let object) = $0 else { return nil }
            return object
        }
    }
}
