import NIOCore
import NIOHTTP1
import RillClient
import RillKinesis

/// What an invocation came to: the function returned (with its response), or it failed (an exception, a
/// non-zero exit, a timeout, an HTTP error), which fails the whole batch as a Lambda function error does.
enum InvocationResult: Sendable {
    case returned(JSONValue)
    case failed(String)
}

/// How `rill trigger` runs the function: `--handler`, `--command` or `--invoke-url`.
enum Invoker: Sendable {
    case python(PythonHostPool)
    case command(String, group: any EventLoopGroup)
    case url(InvokeURL, group: any EventLoopGroup)

    func invoke(event: [UInt8], requestID: String, timeout: Duration, wallMillis: Int64) async -> InvocationResult {
        let nanos = timeout.components.seconds * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000
        let deadline = NIODeadline.now() + .nanoseconds(nanos)
        switch self {
        case .python(let pool):
            return await pool.invoke(
                event: event,
                requestID: requestID,
                deadline: deadline,
                deadlineEpochMillis: wallMillis + nanos / 1_000_000
            )
        case .command(let command, let group):
            return await Self.runCommand(command, event: event, requestID: requestID, deadline: deadline, group: group)
        case .url(let url, let group):
            return await Self.post(url, event: event, requestID: requestID, deadline: deadline, group: group)
        }
    }

    func shutdown() async {
        if case .python(let pool) = self { await pool.shutdown() }
    }

    /// `--command`: `/bin/sh -c CMD` per batch, the event on its standard input, the response on its standard
    /// output; a non-zero exit is a function error. `AWS_LAMBDA_REQUEST_ID` names the invocation.
    private static func runCommand(
        _ command: String,
        event: [UInt8],
        requestID: String,
        deadline: NIODeadline,
        group: any EventLoopGroup
    ) async -> InvocationResult {
        let child: ChildProcess
        do {
            child = try await ChildProcess.spawn(
                ["/usr/bin/env", "AWS_LAMBDA_REQUEST_ID=\(requestID)", "/bin/sh", "-c", command],
                framing: .untilEOF,
                passStandardOutput: false,
                on: group
            )
        } catch {
            return .failed("could not start the command: \(error)")
        }
        let output: [UInt8]
        do {
            output = try await child.exchange(event, closeInput: true, deadline: deadline)
        } catch {
            // A command that exits without reading its event fails our write; its exit status says more than that.
            // Killing a process that already exited leaves its status as it was.
            let status = await child.stop(kill: true)
            if let status, status != 0 { return .failed("the command exited with status \(status)") }
            return .failed("\(error)")
        }
        guard let status = await child.stop(kill: false) else { return .failed("the command was killed by a signal") }
        guard status == 0 else { return .failed("the command exited with status \(status)") }
        return response(output)
    }

    /// `--invoke-url`: POST the event, as to the Lambda runtime interface emulator; a non-200 answer, or a body
    /// that is Lambda's error shape (`errorMessage` and `errorType`), is a function error.
    private static func post(
        _ url: InvokeURL,
        event: [UInt8],
        requestID: String,
        deadline: NIODeadline,
        group: any EventLoopGroup
    ) async -> InvocationResult {
        let connection: HTTPConnection
        do {
            connection = try await HTTPConnection.connect(to: url.endpoint, on: group)
        } catch {
            return .failed("could not connect to \(url.endpoint): \(HTTPClientError.code(of: error))")
        }
        var head = HTTPRequestHead(version: .http1_1, method: .POST, uri: url.path)
        head.headers.add(name: "Host", value: url.endpoint.hostHeader)
        head.headers.add(name: "Content-Type", value: "application/json")
        head.headers.add(name: "X-Amz-Request-Id", value: requestID)
        head.headers.add(name: "Content-Length", value: String(event.count))
        let channel = connection.channel
        // The function's timeout: closing the connection fails the call in flight.
        let timeout = channel.eventLoop.scheduleTask(deadline: deadline) { channel.close(promise: nil) }
        defer { timeout.cancel() }
        let reply: HTTPReply
        do {
            reply = try await connection.send(head: head, body: ByteBuffer(bytes: event))
        } catch {
            await connection.close()
            return .failed(deadline <= .now() ? "the handler timed out" : "\(HTTPClientError.code(of: error))")
        }
        await connection.close()
        guard reply.status == .ok else { return .failed("the invoke URL answered HTTP \(reply.status.code)") }
        let result = response(Array(reply.body.readableBytesView))
        if case .returned(.object(let object)) = result, object["errorMessage"] != nil, object["errorType"] != nil {
            return .failed(
                "\(KinesisReply.string(object, "errorType") ?? ""): \(KinesisReply.string(object, "errorMessage") ?? "")"
            )
        }
        return result
    }

    /// A response body: empty is `null` (a function that returns nothing); anything else must be JSON.
    private static func response(_ bytes: [UInt8]) -> InvocationResult {
        if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) { return .returned(.null) }
        guard let value = try? JSONParser.parse(bytes) else { return .failed("the response is not JSON") }
        return .returned(value)
    }
}

/// `--invoke-url http://HOST:PORT/PATH`, parsed once.
struct InvokeURL: Sendable {
    var endpoint: RillClient.Endpoint
    var path: String

    init?(_ text: String) {
        guard let scheme = text.range(of: "://") else { return nil }
        let rest = text[scheme.upperBound...]
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        guard text.hasPrefix("http://"), let endpoint = RillClient.Endpoint(String(text[..<slash])) else { return nil }
        self.endpoint = endpoint
        path = slash == rest.endIndex ? "/" : String(rest[slash...])
    }
}
