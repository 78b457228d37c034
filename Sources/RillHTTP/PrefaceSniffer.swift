/// Tells HTTP/2 with prior knowledge (h2c) from HTTP/1.1 by a cleartext connection's first bytes: an HTTP/2
/// client opens with the 24-byte preface `PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n` (RFC 9113 §3.4), which no HTTP/1.1
/// request line begins with. Pure: fed bytes as they arrive, it decides as soon as they differ from the
/// preface or match all of it, and never needs more than 24.
struct PrefaceSniffer: Sendable {
    /// The HTTP/2 connection preface, RFC 9113 §3.4.
    static let preface: [UInt8] = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)

    enum Decision: Equatable, Sendable {
        /// Every byte so far matches the preface; wait for more.
        case needMore
        case http1
        case http2
    }

    /// How many preface bytes have matched so far.
    private(set) var matched = 0
    private(set) var decision = Decision.needMore

    /// Feeds the next bytes of the connection; once decided, the decision never changes.
    mutating func feed<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> Decision {
        guard decision == .needMore else { return decision }
        for byte in bytes {
            guard byte == Self.preface[matched] else {
                decision = .http1
                return decision
            }
            matched += 1
            if matched == Self.preface.count {
                decision = .http2
                return decision
            }
        }
        return decision
    }

    /// The connection ended before a decision: what it sent (a preface prefix, or nothing) is HTTP/1.1's to refuse.
    mutating func end() -> Decision {
        if decision == .needMore { decision = .http1 }
        return decision
    }
}
