import NIOPosix
import RillModel
import RillTransport
import Synchronization
import Testing

/// Gossip rides its own connection: sent by address, answered back on the connection a stranger came in on,
/// cut by isolation like everything else.
@Suite struct GossipChannelTests {
    final class Received: Sendable {
        let messages = Mutex<[(payload: [UInt8], from: NodeID)]>([])
        var count: Int { messages.withLock { $0.count } }
        var handler: PeerTransport.GossipHandler {
            { payload, peer in self.messages.withLock { $0.append((payload, peer)) } }
        }
    }

    @Test func gossipGoesByAddressAndAnswersGoBackOnTheSameConnection() async throws {
        let a = try await TestNode.start(1)
        let b = try await TestNode.start(2)
        let atA = Received()
        let atB = Received()
        a.transport.setGossipHandler(atA.handler)
        b.transport.setGossipHandler(atB.handler)
        try await withNodes([a, b]) {
            // a knows b only by address (a seed); b has never heard of a.
            #expect(a.transport.sendGossip([1, 2, 3], to: nil, address: "127.0.0.1:\(b.port)"))
            try await waitUntil("b hears a") { atB.count == 1 }
            #expect(atB.messages.withLock { $0[0].from } == a.id)
            // b answers without an address: back on the connection a opened.
            #expect(b.transport.sendGossip([9], to: a.id, address: nil))
            try await waitUntil("a hears b's answer") { atA.count == 1 }
            #expect(atA.messages.withLock { $0[0].payload } == [9])
        }
    }

    @Test func gossipToANodeWithNoListenerIsDroppedNotQueuedForever() async throws {
        let a = try await TestNode.start(1)
        try await withNodes([a]) {
            // Port 1 on loopback refuses; the first message dials, later ones drop while the link backs off.
            a.transport.sendGossip([1], to: NodeID(9), address: "127.0.0.1:1")
            try await waitUntil("the dial fails") {
                !a.transport.sendGossip([2], to: NodeID(9), address: "127.0.0.1:1")
            }
            #expect(!a.transport.sendGossip([3], to: NodeID(9), address: nil))
        }
    }

    @Test func isolationCutsGossipBothWays() async throws {
        let a = try await TestNode.start(1, settings: testSettings(faults: true))
        let b = try await TestNode.start(2, settings: testSettings(faults: true))
        let atB = Received()
        b.transport.setGossipHandler(atB.handler)
        try await withNodes([a, b]) {
            try a.transport.isolate(peers: [b.id])
            #expect(!a.transport.sendGossip([1], to: b.id, address: "127.0.0.1:\(b.port)"))
            try a.transport.heal()
            #expect(a.transport.sendGossip([2], to: b.id, address: "127.0.0.1:\(b.port)"))
            try await waitUntil("b hears a after the heal") { atB.count == 1 }
            #expect(atB.messages.withLock { $0[0].payload } == [2])
        }
    }
}
