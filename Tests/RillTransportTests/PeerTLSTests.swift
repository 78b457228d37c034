import Foundation
import NIOCore
import NIOPosix
import RillModel
import RillTLS
import RillTransport
import Testing

/// Mutual TLS on the peer port: members with certificates from the cluster CA talk; a peer with a certificate
/// from another CA, or none, is refused at the handshake and nothing it sends is delivered.
@Suite struct PeerTLSTests {
    /// A CA folder with certificates for `names`, in a fresh temporary directory.
    static func certificates(_ names: [String], ca: String = "Rill test CA") throws -> CertificateDirectory {
        let folder = CertificateDirectory(
            path: NSTemporaryDirectory() + "rill-peer-tls-\(UInt64.random(in: 0...UInt64.max))"
        )
        let (authority, _) = try folder.prepareCA(named: ca)
        for name in names {
            try folder.issue(name, hosts: ["127.0.0.1"], usage: .serverAndClient, signedBy: authority)
        }
        return folder
    }

    static func settings(_ folder: CertificateDirectory, _ name: String) throws -> TransportSettings {
        var settings = testSettings()
        let (server, client) = try PeerTLS.contexts(
            caFile: folder.caCertificate,
            certificateFile: folder.certificate(name),
            keyFile: folder.key(name)
        )
        settings.tls = PeerTLSContexts(server: server, client: client)
        return settings
    }

    @Test func membersOfOneCAExchangeRaftBatchesAndRequests() async throws {
        let folder = try Self.certificates(["node-1", "node-2"])
        let a = try await TestNode.start(1, settings: try Self.settings(folder, "node-1"))
        let b = try await TestNode.start(2, settings: try Self.settings(folder, "node-2"))
        connect([a, b])
        try await withNodes([a, b]) {
            let toB = (1...20).map { heartbeat(from: a.id, to: b.id, tag: $0) }
            a.transport.send(toB, to: b.id)
            try await waitUntil("b receives a's batch") { b.inbox.count == toB.count }
            #expect(b.inbox.messages(from: a.id) == toB)
            let big = (0..<(3 * 1024 * 1024)).map { UInt8(truncatingIfNeeded: $0) }
            let answer = try await b.transport.request(big, to: a.id, timeout: .seconds(10))
            #expect(answer == [2] + big.reversed())
            #expect(a.transport.stats.refusedHandshakes == 0 && b.transport.stats.refusedHandshakes == 0)
            // The byte counters sit below TLS: they count the ciphertext, which is a little longer.
            #expect(b.transport.stats.bytesSent > big.count)
        }
    }

    @Test func aPeerWithACertificateFromAnotherCAIsRefused() async throws {
        let cluster = try Self.certificates(["node-1"])
        let other = try Self.certificates(["intruder"], ca: "Another CA")
        let a = try await TestNode.start(1, settings: try Self.settings(cluster, "node-1"))
        let intruder = try await TestNode.start(2, settings: try Self.settings(other, "intruder"))
        connect([a, intruder])
        try await withNodes([a, intruder]) {
            await #expect(throws: TransportError.unreachable) {
                try await intruder.transport.request([1], to: a.id, timeout: .seconds(5))
            }
            await #expect(throws: TransportError.unreachable) {
                try await a.transport.request([1], to: intruder.id, timeout: .seconds(5))
            }
            intruder.transport.send([heartbeat(from: intruder.id, to: a.id, tag: 1)], to: a.id)
            try await waitUntil("a refuses the intruder's handshakes") { a.transport.stats.refusedHandshakes >= 1 }
            #expect(a.inbox.count == 0)
        }
    }

    @Test func aPlaintextPeerAndATLSPeerDoNotTalk() async throws {
        let folder = try Self.certificates(["node-1"])
        let secured = try await TestNode.start(1, settings: try Self.settings(folder, "node-1"))
        let plain = try await TestNode.start(2)
        connect([secured, plain])
        try await withNodes([secured, plain]) {
            await #expect(throws: TransportError.unreachable) {
                try await plain.transport.request([1], to: secured.id, timeout: .seconds(5))
            }
            await #expect(throws: TransportError.unreachable) {
                try await secured.transport.request([1], to: plain.id, timeout: .seconds(5))
            }
            try await waitUntil("the TLS peer refuses the plaintext hello") {
                secured.transport.stats.refusedHandshakes >= 1
            }
            #expect(secured.inbox.count == 0 && plain.inbox.count == 0)
        }
    }
}
