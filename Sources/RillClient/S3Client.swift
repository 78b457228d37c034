import Foundation
import NIOCore
import NIOHTTP1
import RillKinesis
import RillModel

/// The two S3 calls `rill archive` makes, PutObject and DeleteObject, to an S3-compatible endpoint: path-style URLs
/// (`/BUCKET/KEY`, which every S3-compatible server answers, where virtual hosts need DNS), SigV4-signed for the
/// `s3` service with the body's SHA-256 in `x-amz-content-sha256`, as S3 requires.
///
/// Like an SDK's standard retry mode, a call is tried up to `attempts` times, with backoff, when the answer is a
/// 5xx, a throttle (429, 503 SlowDown) or a timeout (408), or the connection fails: PUT and DELETE are idempotent,
/// so sending one twice is harmless. Any other 4xx is the caller's to report (`S3Error.rejected`).
public struct S3Client: Sendable {
    public let endpoint: Endpoint
    public let bucket: String
    let signer: SigV4Signer
    /// `AWS_SESSION_TOKEN` for temporary credentials, sent and signed as `x-amz-security-token`.
    let sessionToken: String?
    private let connections: S3Connections

    /// Tries per call, the first included (the SDKs' standard retry mode's number).
    public static let attempts = 3

    public init(
        endpoint: Endpoint,
        bucket: String,
        signer: SigV4Signer,
        sessionToken: String?,
        on group: any EventLoopGroup
    ) {
        self.endpoint = endpoint
        self.bucket = bucket
        self.signer = signer
        self.sessionToken = sessionToken
        self.connections = S3Connections(endpoint: endpoint, group: group)
    }

    /// Stores `body` as `key`, replacing an object of that name. Returns once S3 answered 200: the object is then
    /// durable and whole (S3 never shows a partial PUT).
    public func putObject(key: String, body: [UInt8]) async throws(S3Error) {
        _ = try await call(.PUT, key: key, body: body)
    }

    /// Removes `key`; removing an object that is not there succeeds, as S3 answers 204 either way.
    public func deleteObject(key: String) async throws(S3Error) {
        _ = try await call(.DELETE, key: key, body: [])
    }

    public func close() async { await connections.closeAll() }

    /// `/BUCKET/KEY` with each segment URI-encoded once: what is sent and what SigV4 signs for S3.
    public static func path(bucket: String, key: String) -> String {
        "/" + SigV4.uriEncoded(bucket) + "/"
            + key.split(separator: "/", omittingEmptySubsequences: false).map { SigV4.uriEncoded(String($0)) }
            .joined(separator: "/")
    }

    /// Whether an answer with `status` is worth sending again.
    public static func isRetryable(status: Int) -> Bool { status >= 500 || status == 429 || status == 408 }

    private func call(_ method: HTTPMethod, key: String, body: [UInt8]) async throws(S3Error) -> HTTPReply {
        let path = Self.path(bucket: bucket, key: key)
        var random = SystemRandomNumberGenerator()
        var last = S3Error.unavailable(attempts: 0, reason: "not tried")
        for attempt in 1...Self.attempts {
            if attempt > 1 {
                // 100 ms doubling, with full jitter (the SDKs' backoff); a cancelled task stops retrying.
                let ceiling = 100 << (attempt - 1)
                do {
                    try await Task.sleep(for: .milliseconds(Int.random(in: ceiling / 2...ceiling, using: &random)))
                } catch {
                    throw last
                }
            }
            let connection: HTTPConnection
            do {
                connection = try await connections.take()
            } catch {
                last = .unavailable(attempts: attempt, reason: "cannot connect to \(endpoint): \(error)")
                continue
            }
            let reply: HTTPReply
            do {
                reply = try await connection.send(
                    head: head(method, path: path, body: body),
                    body: ByteBuffer(bytes: body)
                )
            } catch {
                await connection.close()
                last = .unavailable(attempts: attempt, reason: "\(method.rawValue) \(path): \(error)")
                continue
            }
            await connections.give(connection)
            let status = Int(reply.status.code)
            if (200..<300).contains(status) { return reply }
            let (code, message) = S3ErrorReply.parse(Array(reply.body.readableBytesView), status: status)
            if Self.isRetryable(status: status) {
                last = .unavailable(
                    attempts: attempt,
                    reason: "\(method.rawValue) \(path): \(status) \(code): \(message)"
                )
                continue
            }
            throw .rejected(status: status, code: code, message: message, request: "\(method.rawValue) \(path)")
        }
        throw last
    }

    private func head(_ method: HTTPMethod, path: String, body: [UInt8]) -> HTTPRequestHead {
        var head = HTTPRequestHead(version: .http1_1, method: method, uri: path)
        let payloadHash = SigV4.hex(SHA256.hash(body))
        head.headers.add(name: "Host", value: endpoint.hostHeader)
        head.headers.add(name: "Content-Length", value: String(body.count))
        head.headers.add(name: "x-amz-content-sha256", value: payloadHash)
        if let sessionToken { head.headers.add(name: "x-amz-security-token", value: sessionToken) }
        let signed = signer.sign(
            service: "s3",
            method: method.rawValue,
            path: path,
            headers: head.headers.map { ($0.name, $0.value) },
            payloadHash: payloadHash,
            nowMillis: Int64(Date().timeIntervalSince1970 * 1000)
        )
        head.headers.add(name: "X-Amz-Date", value: signed.amzDate)
        head.headers.add(name: "Authorization", value: signed.authorization)
        return head
    }
}

/// Why an S3 call failed.
public enum S3Error: Error, Sendable, Equatable, CustomStringConvertible {
    /// A 4xx other than a throttle or timeout (NoSuchBucket, AccessDenied, InvalidAccessKeyId...): sending it again
    /// would fail the same way; the operator must act.
    case rejected(status: Int, code: String, message: String, request: String)
    /// 5xx, throttling or connection failures on every attempt.
    case unavailable(attempts: Int, reason: String)

    public var description: String {
        switch self {
        case .rejected(let status, let code, let message, let request):
            "\(request) was refused: \(status) \(code)\(message.isEmpty ? "" : ": \(message)")"
        case .unavailable(let attempts, let reason):
            "S3 unavailable after \(attempts) attempts: \(reason)"
        }
    }
}

/// S3's error body: `<Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message>…`.
public enum S3ErrorReply {
    /// The code and message of an error reply; `HTTP <status>` and an empty message when the body has none.
    public static func parse(_ body: [UInt8], status: Int) -> (code: String, message: String) {
        let text = String(decoding: body, as: UTF8.self)
        let code = element("Code", in: text) ?? "HTTP \(status)"
        return (code, element("Message", in: text) ?? "")
    }

    private static func element(_ name: String, in text: String) -> String? {
        guard let open = text.range(of: "<\(name)>"),
            let close = text.range(of: "</\(name)>", range: open.upperBound..<text.endIndex)
        else { return nil }
        return unescaped(String(text[open.upperBound..<close.lowerBound]))
    }

    private static func unescaped(_ text: String) -> String {
        text.replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&apos;", with: "'")
            .replacingOccurrences(of: "&amp;", with: "&")
    }
}

/// Idle keep-alive connections to one endpoint, so concurrent calls (one per shard worker) each have their own and
/// a call reuses one a finished call gave back. A connection whose call failed is closed, never given back.
actor S3Connections {
    let endpoint: Endpoint
    let group: any EventLoopGroup
    private var idle: [HTTPConnection] = []

    init(endpoint: Endpoint, group: any EventLoopGroup) {
        self.endpoint = endpoint
        self.group = group
    }

    func take() async throws -> HTTPConnection {
        while let connection = idle.popLast() {
            // The server may have closed it while idle (keep-alive timeout).
            if connection.channel.isActive { return connection }
            await connection.close()
        }
        return try await HTTPConnection.connect(to: endpoint, on: group)
    }

    func give(_ connection: HTTPConnection) { idle.append(connection) }

    func closeAll() async {
        let all = idle
        idle = []
        for connection in all { await connection.close() }
    }
}
