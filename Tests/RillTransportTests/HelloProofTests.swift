import RillModel
import Testing

@testable import RillTransport

/// The cluster secret at the handshake (`HelloProof`): an acceptor given a secret takes only hellos that prove it.
@Suite struct HelloProofTests {
    let secret = Array("0123456789abcdef0123456789abcdef".utf8)
    let now: Int64 = 1_700_000_000_000
    let nonce = [UInt8](repeating: 7, count: HelloProof.nonceBytes)

    func hello(proving secret: [UInt8]?, at millis: Int64? = nil) -> PeerFrame.Hello {
        var hello = PeerFrame.Hello(clusterID: "cluster-1", nodeID: NodeID(2), generation: 9, channel: .rpc)
        if let secret {
            hello.proof = HelloProof.make(for: hello, secret: secret, nowMillis: millis ?? now, nonce: nonce)
        }
        return hello
    }

    func answer(_ hello: PeerFrame.Hello, secret: [UInt8]?) -> PeerConnectionHandler.StateMachine.Action {
        var machine = PeerConnectionHandler.StateMachine(role: .acceptor(clusterID: "cluster-1", secret: secret))
        return machine.frameReceived(.hello(hello), nowMillis: now)
    }

    @Test("a hello proving the secret is accepted; without one, with another secret, or too old, it is refused")
    func acceptorChecksTheProof() {
        let good = hello(proving: secret)
        #expect(answer(good, secret: secret) == .accept(good))
        #expect(
            answer(hello(proving: nil), secret: secret)
                == .refuse(reason: "the hello carries no proof of the cluster secret")
        )
        let forged = hello(proving: Array("another secret of thirty-two bytes".utf8))
        #expect(
            answer(forged, secret: secret) == .refuse(reason: "the hello's proof does not match the cluster secret")
        )
        let stale = hello(proving: secret, at: now - HelloProof.allowedSkewMillis - 1)
        guard case .refuse(let reason) = answer(stale, secret: secret) else {
            Issue.record("a stale hello was accepted")
            return
        }
        #expect(reason.hasPrefix("the hello's proof is dated"))
    }

    @Test("the proof covers what the hello claims: another node id or cluster under the same proof is refused")
    func proofCoversTheClaims() {
        var moved = hello(proving: secret)
        moved.nodeID = NodeID(3)
        #expect(answer(moved, secret: secret) == .refuse(reason: "the hello's proof does not match the cluster secret"))
        var other = hello(proving: secret)
        other.channel = .raft
        #expect(answer(other, secret: secret) == .refuse(reason: "the hello's proof does not match the cluster secret"))
    }

    @Test("an acceptor without a secret takes hellos with or without a proof, as before")
    func noSecretNoCheck() {
        let plain = hello(proving: nil)
        #expect(answer(plain, secret: nil) == .accept(plain))
        let proved = hello(proving: secret)
        #expect(answer(proved, secret: nil) == .accept(proved))
    }

    @Test("a hello with a proof survives the wire, and one without keeps its old encoding")
    func wireRoundTrip() throws {
        let proved = PeerFrame.hello(hello(proving: secret))
        #expect(try PeerFrame(decoding: proved.encoded) == proved)
        let plain = PeerFrame.hello(hello(proving: nil))
        let bytes = plain.encoded
        #expect(try PeerFrame(decoding: bytes) == plain)
        #expect(proved.encoded.count == bytes.count + 8 + HelloProof.nonceBytes + HelloProof.macBytes)
        // A proof cut short is refused as a frame, not read as a shorter one.
        var cut = proved.encoded
        cut.removeLast(5)
        let length = UInt32(cut.count - 4)
        cut.replaceSubrange(0..<4, with: (0..<4).map { UInt8(truncatingIfNeeded: length >> (24 - 8 * $0)) })
        #expect(throws: PeerFrameError.self) { try PeerFrame(decoding: cut) }
    }
}
