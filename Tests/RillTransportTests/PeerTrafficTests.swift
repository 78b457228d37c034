import RillModel
import RillTransport
import Testing

/// Per-peer traffic counters (`PeerTransport.trafficByPeer`, exported as `rill_transport_*` on `/metrics`).
@Suite struct PeerTrafficTests {
    @Test("traffic is counted per peer and channel, each side seeing what the other sent, adding up to the totals")
    func trafficByPeerAndChannel() async throws {
        let a = try await TestNode.start(1)
        let b = try await TestNode.start(2)
        connect([a, b])
        try await withNodes([a, b]) {
            a.transport.send((1...20).map { heartbeat(from: a.id, to: b.id, tag: $0) }, to: b.id)
            a.transport.send([append(from: a.id, to: b.id, tag: 21, bytes: 64 * 1024)], to: b.id)
            b.transport.send([heartbeat(from: b.id, to: a.id, tag: 1)], to: a.id)
            try await waitUntil("both batches arrive") { b.inbox.count == 21 && a.inbox.count == 1 }
            _ = try await a.transport.request([1, 2, 3], to: b.id, timeout: .seconds(5))

            // The receiving side counts once the bytes are read: wait for the two views to agree.
            try await waitUntil("a's sends to b match b's receipts from a, and the reverse") {
                let fromA = a.transport.trafficByPeer[b.id]?.channels ?? [:]
                let atB = b.transport.trafficByPeer[a.id]?.channels ?? [:]
                return [PeerChannelKind.raft, .rpc].allSatisfy { kind in
                    let sent = fromA[kind] ?? LinkTraffic()
                    let seen = atB[kind] ?? LinkTraffic()
                    return sent.framesSent == seen.framesReceived && sent.bytesSent == seen.bytesReceived
                        && sent.framesReceived == seen.framesSent && sent.bytesReceived == seen.bytesSent
                }
            }
            let raft = try #require(a.transport.trafficByPeer[b.id]?.channels[.raft])
            // hello plus at least one raft frame out; helloAck plus b's heartbeat frame in (on b's connection).
            #expect(raft.framesSent >= 2 && raft.framesReceived >= 2)
            #expect(raft.bytesSent > 64 * 1024)
            let rpc = try #require(a.transport.trafficByPeer[b.id]?.channels[.rpc])
            #expect(rpc.framesSent == 2 && rpc.framesReceived == 2)  // hello and request; helloAck and response
            #expect(a.transport.trafficByPeer[b.id]?.channels[.gossip] == LinkTraffic())

            // Every connection here names its peer, so the per-peer counters add up to the totals.
            for node in [a, b] {
                let peers = node.transport.trafficByPeer.values.flatMap(\.channels.values)
                let stats = node.transport.stats
                #expect(peers.reduce(0) { $0 + $1.framesSent } == stats.framesSent)
                #expect(peers.reduce(0) { $0 + $1.framesReceived } == stats.framesReceived)
                #expect(peers.reduce(0) { $0 + $1.bytesSent } == stats.bytesSent)
                #expect(peers.reduce(0) { $0 + $1.bytesReceived } == stats.bytesReceived)
            }
        }
    }

    @Test("Raft messages to a peer without an address count as dropped for that peer")
    func dropsArePerPeer() async throws {
        let a = try await TestNode.start(1)
        try await withNodes([a]) {
            a.transport.send([heartbeat(from: a.id, to: NodeID(9), tag: 1)], to: NodeID(9))
            #expect(a.transport.trafficByPeer[NodeID(9)]?.droppedQueueFull == 1)
            #expect(a.transport.stats.droppedQueueFull == 1)
        }
    }
}
