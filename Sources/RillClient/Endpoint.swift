import NIOSSL

/// Where the server listens, parsed once from `--endpoint` (`http[s]://host[:port][/]`).
public struct Endpoint: Sendable, CustomStringConvertible {
    public let host: String
    public let port: Int
    /// `https://`: connections go over TLS, checked against `tls` (see `withTLS`).
    public let secure: Bool
    /// The client context for an `https` endpoint; nil until `withTLS` sets one.
    public private(set) var tls: NIOSSLContext?
    /// Speak HTTP/2 (`--http2`): with prior knowledge in cleartext, by ALPN over TLS.
    public private(set) var http2 = false

    /// Parses `http://host:port` or `https://host:port`; the scheme may be left out (plain HTTP).
    public init?(_ text: String) {
        var rest = Substring(text)
        var secure = false
        if rest.hasPrefix("http://") {
            rest = rest.dropFirst("http://".count)
        } else if rest.hasPrefix("https://") {
            rest = rest.dropFirst("https://".count)
            secure = true
        } else if rest.contains("://") {
            return nil
        }
        if let slash = rest.firstIndex(of: "/") {
            guard rest[slash...].allSatisfy({ $0 == "/" }) else { return nil }
            rest = rest[..<slash]
        }
        var hostPart = rest
        var portPart: Substring? = nil
        if rest.hasPrefix("[") {
            // An IPv6 literal keeps its colons inside the brackets.
            guard let close = rest.firstIndex(of: "]") else { return nil }
            hostPart = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            if after.hasPrefix(":") { portPart = after.dropFirst() } else if !after.isEmpty { return nil }
        } else if let colon = rest.lastIndex(of: ":") {
            hostPart = rest[..<colon]
            portPart = rest[rest.index(after: colon)...]
        }
        guard !hostPart.isEmpty else { return nil }
        self.secure = secure
        host = String(hostPart)
        if let portPart {
            guard let port = Int(portPart), (1...65535).contains(port) else { return nil }
            self.port = port
        } else {
            port = secure ? 443 : 80
        }
        let name = host.contains(":") ? "[\(host)]" : host
        hostHeader = port == (secure ? 443 : 80) ? name : "\(name):\(port)"
    }

    /// The same endpoint spoken to over HTTP/2.
    public func withHTTP2() -> Endpoint {
        var endpoint = self
        endpoint.http2 = true
        return endpoint
    }

    /// The same endpoint with the client context its `https` connections use; plain endpoints ignore it.
    public func withTLS(_ context: NIOSSLContext?) -> Endpoint {
        var endpoint = self
        endpoint.tls = secure ? context : nil
        return endpoint
    }

    /// The Host header value: RFC 9110 §7.2 wants the port when it is not the scheme's default.
    /// Stored, not computed, because every request sends it.
    public private(set) var hostHeader = ""

    public var description: String { "\(secure ? "https" : "http")://\(hostHeader)" }
}
