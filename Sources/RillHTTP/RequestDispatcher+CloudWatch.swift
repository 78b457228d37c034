import NIOCore
import NIOHTTP1
import RillKinesis

/// CloudWatch's metric reads on the Kinesis port (docs/metrics.md, "CloudWatch"): GetMetricStatistics,
/// GetMetricData and ListMetrics in whichever of CloudWatch's three protocols the client speaks, answered from
/// the metrics of every node (`APIBackend.cloudWatchMetrics`).
extension RequestDispatcher {
    /// The CloudWatch call `head` carries, or nil for anything else. Only requests that can be one (the RPC v2
    /// path, the JSON 1.0 target, a form body) have their body looked at.
    func cloudWatchCall(
        _ head: HTTPRequestHead,
        _ path: String,
        _ body: ByteBuffer
    ) -> (wire: CloudWatchWire, operation: String)? {
        let target = head.headers.first(name: "x-amz-target")
        let contentType = head.headers.first(name: "content-type")
        let candidate =
            path.hasPrefix("/service/") || target?.hasPrefix(CloudWatchWire.targetPrefix) == true
            || contentType?.lowercased().hasPrefix("application/x-www-form-urlencoded") == true
        guard candidate else { return nil }
        return CloudWatchWire.recognize(path: path, target: target, contentType: contentType, body: Array(buffer: body))

    }

    /// Authenticates (SigV4 for service `monitoring` when the process checks signatures), parses, gathers the
    /// cluster's metrics the call reads and answers.
    func cloudWatch(
        _ wire: CloudWatchWire,
        _ operation: String,
        _ head: HTTPRequestHead,
        _ body: ByteBuffer,
        _ requestID: String
    ) async -> HTTPReply {
        let started = ContinuousClock.now
        let bytes = Array(buffer: body)
        let reply: CloudWatchAPI.Reply
        do throws(CloudWatchError) {
            let region: String?
            do {
                region = try SigV4Scope.authenticated(
                    head,
                    bytes,
                    backend: backend,
                    secureTransport: secureTransport,
                    service: "monitoring"
                ).region
            } catch {
                throw CloudWatchError.refused(
                    code: error.code.rawValue,
                    message: error.message ?? error.code.rawValue,
                    status: error.code.httpStatus
                )
            }
            let call = try CloudWatchAPI.parse(wire: wire, operation: operation, body: bytes)
            let store = await backend.cloudWatchMetrics(call.selection, region: region)
            reply = CloudWatchAPI.answer(call, store: store, requestID: requestID)
        } catch {
            logger.debug(
                "CloudWatch request refused",
                metadata: ["operation": "\(operation)", "error.code": "\(error.code)"]
            )
            reply = CloudWatchAPI.failure(error, wire: wire, requestID: requestID)
        }
        // The operation is a label only when it is one of the three answered: bounded, like Kinesis's.
        let known = ["GetMetricStatistics", "GetMetricData", "ListMetrics"].contains(operation)
        metrics.requestAnswered(
            operation: known ? operation : "unknown",
            status: UInt(reply.status),
            after: started.duration(to: .now)
        )
        return HTTPReply(
            status: HTTPResponseStatus(statusCode: reply.status),
            headers: HTTPHeaders(reply.headers),
            body: ByteBuffer(bytes: reply.body)
        )
    }
}
