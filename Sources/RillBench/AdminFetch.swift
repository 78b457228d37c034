import NIOCore
import NIOHTTP1
import NIOPosix
import RillClient

/// One plain `GET` against a node's admin endpoints (`rill status`), over the bench's HTTP connection.
public enum AdminFetch {
    /// GETs `path` from `endpoint` (`http://host:port`); returns the status code and body.
    public static func get(_ endpoint: String, path: String, on group: any EventLoopGroup) async throws -> (Int, [UInt8]) {
        guard let target = Endpoint(endpoint) else { throw BenchError("not an http://host:port endpoint: \(endpoint)") }
        let connection = try await HTTPConnection.connect(to: target, on: group)
        defer { Task { await connection.close() } }
        var head = HTTPRequestHead(version: .http1_1, method: .GET, uri: path)
        head.headers.add(name: "Host", value: target.hostHeader)
        let reply = try await connection.send(head: head, body: ByteBuffer())
        return (Int(reply.status.code), Array(buffer: reply.body))
    }
}
