import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import RillClient
import RillTLS

/// One plain `GET` against a node's admin endpoints (`rill status`), over the bench's HTTP connection.
public enum AdminFetch {
    /// GETs `path` from `endpoint` (`http://host:port`, or `https://` checked with `tls`); returns the status code
    /// and body.
    public static func get(
        _ endpoint: String,
        path: String,
        on group: any EventLoopGroup,
        tls: NIOSSLContext? = nil
    ) async throws -> (Int, [UInt8]) {
        guard let parsed = Endpoint(endpoint) else {
            throw BenchError("not an http(s)://host:port endpoint: \(endpoint)")
        }
        let target = parsed.withTLS(try tls ?? (parsed.secure ? APITLS.clientContext(trusting: nil) : nil))
        let connection = try await HTTPConnection.connect(to: target, on: group)
        var head = HTTPRequestHead(version: .http1_1, method: .GET, uri: path)
        head.headers.add(name: "Host", value: target.hostHeader)
        let reply: HTTPReply
        do {
            reply = try await connection.send(head: head, body: ByteBuffer())
        } catch {
            await connection.close()
            throw error
        }
        await connection.close()
        return (Int(reply.status.code), Array(buffer: reply.body))
    }
}
