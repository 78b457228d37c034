import RillModel

/// Proof in a peer's `hello` that it holds the cluster secret (`--cluster-secret-file`): an HMAC-SHA256 under
/// the secret over everything the hello claims, a fresh nonce and the sender's wall time. Pure.
///
/// It authenticates the connection, not each frame: whoever can reach a peer port but lacks the secret is
/// refused at the handshake, so it can neither forward a call as some caller nor append to a shard. It does
/// not stop an eavesdropper on the peer network from replaying a hello within the allowed skew or from
/// taking over an established plaintext connection; TLS between peers (later) is the answer to that.
public struct HelloProof: Sendable, Equatable {
    public var timestampMillis: Int64
    /// 16 random bytes, so two hellos of the same millisecond differ.
    public var nonce: [UInt8]
    /// 32 bytes.
    public var mac: [UInt8]

    public static let nonceBytes = 16
    public static let macBytes = 32
    /// How far the sender's clock may be from the acceptor's.
    public static let allowedSkewMillis: Int64 = 5 * 60 * 1000

    public init(timestampMillis: Int64, nonce: [UInt8], mac: [UInt8]) {
        self.timestampMillis = timestampMillis
        self.nonce = nonce
        self.mac = mac
    }

    /// The proof for `hello`, made at `nowMillis` with `nonce`.
    public static func make(
        for hello: PeerFrame.Hello,
        secret: [UInt8],
        nowMillis: Int64,
        nonce: [UInt8]
    ) -> HelloProof {
        HelloProof(
            timestampMillis: nowMillis,
            nonce: nonce,
            mac: SHA256.hmac(key: secret, message: signed(hello, nowMillis, nonce))
        )
    }

    /// Why `hello` must be refused under `secret`, or nil when its proof holds.
    public static func refusal(of hello: PeerFrame.Hello, secret: [UInt8], nowMillis: Int64) -> String? {
        guard let proof = hello.proof else { return "the hello carries no proof of the cluster secret" }
        guard abs(nowMillis - proof.timestampMillis) <= allowedSkewMillis else {
            return "the hello's proof is dated \(proof.timestampMillis - nowMillis) ms from this node's clock"
        }
        let expected = SHA256.hmac(key: secret, message: signed(hello, proof.timestampMillis, proof.nonce))
        guard constantTimeEqual(expected, proof.mac) else {
            return "the hello's proof does not match the cluster secret"
        }
        return nil
    }

    private static func signed(_ hello: PeerFrame.Hello, _ millis: Int64, _ nonce: [UInt8]) -> [UInt8] {
        var bytes = Array("rill-peer-hello-1\n".utf8)
        bytes.append(hello.channel.rawValue)
        for shift in stride(from: 56, through: 0, by: -8) {
            bytes.append(UInt8(truncatingIfNeeded: hello.nodeID.rawValue >> UInt64(shift)))
        }
        for shift in stride(from: 56, through: 0, by: -8) {
            bytes.append(UInt8(truncatingIfNeeded: hello.generation >> UInt64(shift)))
        }
        for shift in stride(from: 56, through: 0, by: -8) {
            bytes.append(UInt8(truncatingIfNeeded: UInt64(bitPattern: millis) >> UInt64(shift)))
        }
        bytes.append(contentsOf: nonce)
        bytes.append(contentsOf: hello.clusterID.utf8)
        return bytes
    }

    private static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for (x, y) in zip(a, b) { difference |= x ^ y }
        return difference == 0
    }
}
