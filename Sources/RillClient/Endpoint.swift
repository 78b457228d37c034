/// Where the server listens, parsed once from `--endpoint` (`http://host[:port][/]`).
public struct Endpoint: Sendable, CustomStringConvertible {
    public let host: String
    public let port: Int

    /// Parses `http://host:port`; the scheme may be left out, `https` is refused (the bench speaks plain HTTP).
    public init?(_ text: String) {
        var rest = Substring(text)
        if rest.hasPrefix("http://") {
            rest = rest.dropFirst("http://".count)
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
        host = String(hostPart)
        if let portPart {
            guard let port = Int(portPart), (1...65535).contains(port) else { return nil }
            self.port = port
        } else {
            port = 80
        }
        let name = host.contains(":") ? "[\(host)]" : host
        hostHeader = port == 80 ? name : "\(name):\(port)"
    }

    /// The Host header value: RFC 9110 §7.2 wants the port when it is not the scheme's default.
    /// Stored, not computed, because every request sends it.
    public private(set) var hostHeader = ""

    public var description: String { "http://\(hostHeader)" }
}
