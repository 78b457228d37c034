import Logging
import NIOCore
import NIOHTTP1
import RillAPI
import RillKinesis
import RillNode

/// Turns one HTTP request into a reply: health and metrics endpoints, CORS, the 403 for other methods,
/// and `X-Amz-Target` dispatch to the node with errors rendered the Kinesis way.
package struct RequestDispatcher {
    let backend: any APIBackend
    let logger: Logger
    let metrics: APIMetrics
    /// Serves `GET /metrics` when set; without it that path is a plain unknown GET (403).
    let metricsEndpoint: MetricsEndpoint?
    /// The paths this listener answers; the others get the 403 of an unknown path.
    let endpoints: HTTPEndpoints
    /// Whether requests arrive over TLS (`aws:SecureTransport` in policies).
    let secureTransport: Bool

    package init(
        backend: any APIBackend,
        logger: Logger,
        metrics: APIMetrics,
        metricsEndpoint: MetricsEndpoint?,
        endpoints: HTTPEndpoints = .all,
        secureTransport: Bool = false
    ) {
        self.backend = backend
        self.logger = logger
        self.metrics = metrics
        self.metricsEndpoint = metricsEndpoint
        self.endpoints = endpoints
        self.secureTransport = secureTransport
    }

    /// A dispatcher that serves no `/metrics` and records its requests nowhere.
    package init(backend: any APIBackend, logger: Logger, endpoints: HTTPEndpoints = .all) {
        self.init(backend: backend, logger: logger, metrics: .discarded, metricsEndpoint: nil, endpoints: endpoints)
    }

    package func respond(to head: HTTPRequestHead, body: ByteBuffer) async -> HTTPReply {
        let requestID = RequestIDs.make()
        // Every line logged while serving it, here or in the node, carries the id the reply header names.
        var reply = await RequestLogContext.$requestID.withValue(requestID) { await self.reply(head, body, requestID) }
        if head.headers.contains(name: "origin") {
            reply.headers.replaceOrAdd(name: "Access-Control-Allow-Origin", value: "*")
            reply.headers.replaceOrAdd(
                name: "Access-Control-Expose-Headers",
                value: "x-amzn-RequestId,x-amzn-ErrorType,x-amz-request-id,x-amz-id-2,x-amzn-ErrorMessage,Date"
            )
        }
        return reply
    }

    private func reply(_ head: HTTPRequestHead, _ body: ByteBuffer, _ requestID: String) async -> HTTPReply {
        let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri
        if head.method == .GET, path == "/metrics", endpoints.contains(.operations), let metricsEndpoint {
            return metricsEndpoint.reply(requestID: requestID)
        }
        let operations = endpoints.contains(.operations)
        switch head.method {
        case .GET where path == "/health" && endpoints.contains(.probes):
            return plain(.ok, "ok\n", requestID)
        case .GET where path == "/ready" && endpoints.contains(.probes):
            let (ready, reason) = await backend.readiness()
            return plain(ready ? .ok : .serviceUnavailable, reason + "\n", requestID)
        case .GET where path == "/admin/status" && endpoints.contains(.status):
            return json(await backend.adminStatus(), requestID)
        case .GET where (path == "/console" || path == "/console/") && endpoints.contains(.console):
            return ConsolePage.reply(requestID: requestID)
        case .GET where path == "/admin/checksums" && operations:
            if let refusal = adminRefusal(head, body, "rill:ReadChecksums", requestID) { return refusal }
            do {
                return json(try await backend.replicaChecksums(), requestID)
            } catch {
                return plain(.internalServerError, "checksums failed: \(error)\n", requestID)
            }
        case .GET where path == "/admin/faults" && operations:
            if let refusal = adminRefusal(head, body, "rill:ReadFaults", requestID) { return refusal }
            return faults(backend.injectedFaults(), requestID)
        case .POST where path == "/admin/faults" && operations:
            if let refusal = adminRefusal(head, body, "rill:InjectFaults", requestID) { return refusal }
            return faults(backend.injectFaults(Array(buffer: body)), requestID)
        case .POST where path == "/admin/members/remove" && operations:
            if let refusal = adminRefusal(head, body, "rill:RemoveMember", requestID) { return refusal }
            let answer = await backend.removeMember(Array(buffer: body))
            return plain(HTTPResponseStatus(statusCode: answer.status), answer.message + "\n", requestID)
        case .OPTIONS where endpoints.contains(.kinesis):
            var reply = plain(.ok, "", requestID)
            if let headers = head.headers.first(name: "access-control-request-headers") {
                reply.headers.add(name: "Access-Control-Allow-Headers", value: headers)
            }
            if let method = head.headers.first(name: "access-control-request-method") {
                reply.headers.add(name: "Access-Control-Allow-Methods", value: method)
            }
            reply.headers.add(name: "Access-Control-Max-Age", value: "172800")
            return reply
        case .POST where endpoints.contains(.kinesis) && !path.hasPrefix("/admin/"):
            if let call = cloudWatchCall(head, path, body) {
                return await cloudWatch(call.wire, call.operation, head, body, requestID)
            }
        default:
            var reply = plain(
                .forbidden,
                "<AccessDeniedException>\n  <Message>Unable to determine service/operation name to be authorized</Message>\n</AccessDeniedException>\n",
                requestID
            )
            reply.headers.replaceOrAdd(name: "Content-Type", value: "application/xml")
            return reply
        }
        let started = ContinuousClock.now
        let operation = head.headers.first(name: "x-amz-target").flatMap(KinesisOperation.init(target:))
        let reply = await call(operation, head, body, requestID)
        metrics.requestAnswered(
            operation: operation?.rawValue ?? "unknown",
            status: reply.status.code,
            after: started.duration(to: .now)
        )
        return reply
    }

    private func call(
        _ operation: KinesisOperation?,
        _ head: HTTPRequestHead,
        _ body: ByteBuffer,
        _ requestID: String
    ) async -> HTTPReply {
        let wire = WireProtocol(contentType: head.headers.first(name: "content-type"))
        guard let operation else {
            return .error(KinesisError(.unknownOperation, nil), requestID: requestID, protocol: wire)
        }
        do {
            let bytes = Array(buffer: body)
            // The signature covers the bytes as sent. A CBOR body goes on as CBOR: the node that serves the call
            // reads it directly, and anything that forwards or routes it makes JSON of it first (APIRequest.inJSON).
            let (region, principal) = try SigV4Scope.authenticated(
                head,
                bytes,
                backend: backend,
                secureTransport: secureTransport
            )
            var request = APIRequest(
                operation: operation,
                body: bytes,
                signedRegion: region,
                requestID: requestID,
                replyProtocol: wire,
                bodyEncoding: wire,
                principal: principal
            )
            if operation == .putRecord || operation == .putRecords {
                request.producer = try ProducerStamp(
                    id: head.headers.first(name: ProducerStamp.idHeader),
                    sequence: head.headers.first(name: ProducerStamp.sequenceHeader)
                )
            }
            let response = try await backend.handle(request)
            // A node that served the call itself may have written the client's encoding already.
            let body = response.encoding == wire ? response.body : try wire.responseBody(response.body)
            return .success(body, requestID: requestID, contentType: wire.contentType)
        } catch let error as KinesisError {
            // The code only: messages of validation errors quote the client's values (partition keys too).
            logger.debug(
                "request refused",
                metadata: ["operation": "\(operation.rawValue)", "error.code": "\(error.code.rawValue)"]
            )
            return .error(error, requestID: requestID, protocol: wire)
        } catch {
            logger.error("request failed", metadata: ["operation": "\(operation.rawValue)", "error": "\(error)"])
            return .error(.internalFailure(), requestID: requestID, protocol: wire)
        }
    }

    /// An admin call on the listener clients use must be SigV4-signed by a key allowed `action` when the
    /// backend checks signatures (docs/security.md); a dedicated `--admin` listener is left to the network.
    /// Nil when the call may go on, else the Kinesis error reply.
    private func adminRefusal(
        _ head: HTTPRequestHead,
        _ body: ByteBuffer,
        _ action: String,
        _ requestID: String
    ) -> HTTPReply? {
        guard endpoints.contains(.kinesis), backend.verifiesSignatures else { return nil }
        do {
            let (_, principal) = try SigV4Scope.authenticated(
                head,
                Array(buffer: body),
                backend: backend,
                secureTransport: secureTransport
            )
            try backend.authorizeAdmin(principal, action: action)
            return nil
        } catch {
            logger.notice(
                "admin call refused",
                metadata: ["action": "\(action)", "error.code": "\(error.code.rawValue)"]
            )
            return .error(error, requestID: requestID, protocol: .json)
        }
    }

    private func faults(_ answer: FaultAnswer, _ requestID: String) -> HTTPReply {
        switch answer {
        case .current(let body): json(body, requestID)
        case .disabled(let message): plain(.forbidden, message + "\n", requestID)
        case .invalid(let message): plain(.badRequest, message + "\n", requestID)
        }
    }

    private func json(_ body: [UInt8], _ requestID: String) -> HTTPReply {
        HTTPReply(
            status: .ok,
            headers: HTTPHeaders([("Content-Type", "application/json"), ("x-amzn-RequestId", requestID)]),
            body: ByteBuffer(bytes: body)
        )
    }

    private func plain(_ status: HTTPResponseStatus, _ text: String, _ requestID: String) -> HTTPReply {
        HTTPReply(
            status: status,
            headers: HTTPHeaders([("Content-Type", "text/plain; charset=utf-8"), ("x-amzn-RequestId", requestID)]),
            body: ByteBuffer(string: text)
        )
    }
}

extension SigV4Scope {
    /// The request's region and caller: verified against the node's credentials when it has any (a bad or
    /// missing signature throws the Kinesis error), the region read from the credential scope otherwise.
    static func authenticated(
        _ head: HTTPRequestHead,
        _ body: [UInt8],
        backend: any APIBackend,
        secureTransport: Bool,
        service: String = "kinesis"
    ) throws(KinesisError) -> (region: String?, principal: Principal) {
        let parts = head.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        guard backend.verifiesSignatures else {
            let region = region(head.headers) ?? (parts.count > 1 ? presignedRegion(query: String(parts[1])) : nil)
            return (region, Principal(secureTransport: secureTransport))
        }
        let request = SigV4Verifier.Request(
            method: head.method.rawValue,
            path: parts.first.map(String.init) ?? "/",
            query: parts.count > 1 ? String(parts[1]) : "",
            headers: head.headers.map { ($0.name, $0.value) },
            body: body,
            service: service
        )
        guard let verified = try backend.authenticate(request, secureTransport: secureTransport) else {
            return (nil, Principal(secureTransport: secureTransport))
        }
        return (verified.region, verified.principal)
    }
}

/// Reads the region out of a SigV4 credential scope (`Credential=AKID/20240101/us-west-2/kinesis/aws4_request`).
package enum SigV4Scope {
    package static func region(_ headers: HTTPHeaders) -> String? {
        guard let authorization = headers.first(name: "authorization") else { return nil }
        // Over the UTF-8 bytes: Foundation's `range(of:)` and Character-wise slicing were 4 % of an event loop
        // serving small PutRecords.
        let bytes = Array(authorization.utf8)
        guard let key = bytes.firstRange(of: Array("Credential=".utf8)) else { return nil }
        let scope = bytes[key.upperBound...].prefix { $0 != UInt8(ascii: ",") && $0 != UInt8(ascii: " ") }
        let parts = scope.split(separator: UInt8(ascii: "/"))
        guard parts.count >= 5 else { return nil }
        return String(decoding: parts[2], as: UTF8.self)
    }

    /// The region of a presigned URL's `X-Amz-Credential` (`AKID%2F20240101%2Fus-west-2%2Fkinesis%2Faws4_request`).
    package static func presignedRegion(query: String) -> String? {
        guard let credential = SigV4.queryParameters(query)["X-Amz-Credential"] else { return nil }
        let parts = credential.split(separator: "/")
        guard parts.count >= 5, !parts[2].isEmpty else { return nil }
        return String(parts[2])
    }
}
