import MetricsTestKit
import NIOPosix
import RillModel
import RillTransport
import Testing

@testable import RillCluster

/// The transport's counters as `rill_transport_*` series: each sample adds what grew since the last one.
@Suite struct TransportMetricsTests {
    @Test("samples become per-peer, per-channel counters that add only the growth since the last sample")
    func samplesAddDifferences() throws {
        let metrics = TestMetrics()
        let exporter = TransportMetrics(factory: metrics)
        var traffic = PeerTraffic(
            channels: [.raft: LinkTraffic(framesSent: 10, framesReceived: 8, bytesSent: 1000, bytesReceived: 800)],
            droppedQueueFull: 2
        )
        exporter.sample(traffic: [NodeID(2): traffic], refusedHandshakes: 1)
        traffic.channels[.raft]?.framesSent = 15
        traffic.channels[.gossip] = LinkTraffic(framesSent: 3, framesReceived: 3, bytesSent: 90, bytesReceived: 60)
        traffic.droppedByFault = 4
        traffic.coalescedHeartbeats = 30
        traffic.heartbeatFrames = 3
        exporter.sample(traffic: [NodeID(2): traffic, NodeID(3): PeerTraffic(reconnects: 1)], refusedHandshakes: 1)

        let raft = [("peer", "2"), ("channel", "raft")]
        #expect(try metrics.expectCounter("rill_transport_frames_sent_total", raft).totalValue == 15)
        #expect(try metrics.expectCounter("rill_transport_frames_received_total", raft).totalValue == 8)
        #expect(try metrics.expectCounter("rill_transport_bytes_sent_total", raft).totalValue == 1000)
        #expect(try metrics.expectCounter("rill_transport_bytes_received_total", raft).totalValue == 800)
        let gossip = [("peer", "2"), ("channel", "gossip")]
        #expect(try metrics.expectCounter("rill_transport_frames_sent_total", gossip).totalValue == 3)
        #expect(try metrics.expectCounter("rill_transport_bytes_received_total", gossip).totalValue == 60)
        // Every channel has its series from the first sample, so dashboards see zeros rather than gaps.
        let rpc = [("peer", "2"), ("channel", "rpc")]
        #expect(try metrics.expectCounter("rill_transport_frames_sent_total", rpc).totalValue == 0)
        let dropped = "rill_transport_dropped_messages_total"
        #expect(try metrics.expectCounter(dropped, [("peer", "2"), ("reason", "queue_full")]).totalValue == 2)
        #expect(try metrics.expectCounter(dropped, [("peer", "2"), ("reason", "fault")]).totalValue == 4)
        #expect(try metrics.expectCounter("rill_transport_reconnects_total", [("peer", "3")]).totalValue == 1)
        let beats = try metrics.expectCounter("rill_transport_coalesced_heartbeats_total", [("peer", "2")])
        #expect(beats.totalValue == 30)
        #expect(try metrics.expectCounter("rill_transport_heartbeat_frames_total", [("peer", "2")]).totalValue == 3)
        #expect(try metrics.expectCounter("rill_transport_refused_handshakes_total", []).totalValue == 1)
    }

    @Test("a real transport's traffic reaches the series")
    func sampledFromTransport() async throws {
        let metrics = TestMetrics()
        let exporter = TransportMetrics(factory: metrics)
        let group = MultiThreadedEventLoopGroup.singleton
        let a = PeerTransport(nodeID: NodeID(1), clusterID: "c", generation: 1, group: group)
        let b = PeerTransport(nodeID: NodeID(2), clusterID: "c", generation: 1, group: group)
        b.setRequestHandler { _, payload in payload }
        let port = try await b.listen(host: "127.0.0.1", port: 0)
        a.setPeers([NodeID(2): (host: "127.0.0.1", port: port)])
        #expect(try await a.request([7], to: NodeID(2), timeout: .seconds(5)) == [7])
        exporter.sample(a)
        let rpc = [("peer", "2"), ("channel", "rpc")]
        // The response is read before the request returns, so a's counters already hold both ways.
        #expect(try metrics.expectCounter("rill_transport_frames_sent_total", rpc).totalValue == 2)
        #expect(try metrics.expectCounter("rill_transport_frames_received_total", rpc).totalValue == 2)
        #expect(try metrics.expectCounter("rill_transport_bytes_received_total", rpc).totalValue > 0)
        await a.shutdown()
        await b.shutdown()
    }
}
