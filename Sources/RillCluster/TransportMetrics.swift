import CoreMetrics
import RillModel
import RillTransport
import Synchronization

/// The peer transport's counters (docs/metrics.md, "Transport"), labelled `peer` (node id) and, for traffic,
/// `channel` (`raft`, `rpc`, `gossip`).
///
/// The transport counts in atomics on its hot path; `sample(_:)`, called once a second by the node's or the
/// router's sampler, adds what each counter gained since the last sample to its swift-metrics counter. So a
/// frame costs a few relaxed atomic adds, and the exposition lags the wire by at most a second. Series are
/// bounded by the peers this process ever talked to, times three channels.
public final class TransportMetrics: Sendable {
    private let factory: any MetricsFactory
    private let state = Mutex(State())
    private let refusedHandshakes: Counter

    private struct State {
        var peers: [NodeID: PeerSeries] = [:]
        /// What the last sample saw, so the next adds only the difference.
        var lastPeers: [NodeID: PeerTraffic] = [:]
        var lastRefused = 0
    }

    public init(factory: any MetricsFactory = MetricsSystem.factory) {
        self.factory = factory
        refusedHandshakes = Counter(label: "rill_transport_refused_handshakes_total", dimensions: [], factory: factory)
    }

    /// Brings the series up to `transport`'s counters.
    public func sample(_ transport: PeerTransport) {
        sample(traffic: transport.trafficByPeer, refusedHandshakes: transport.stats.refusedHandshakes)
    }

    /// `sample(_:)` on counters read already (tests feed these directly).
    func sample(traffic: [NodeID: PeerTraffic], refusedHandshakes refused: Int) {
        let factory = factory
        // Under the lock, so two samplers never add the same difference twice; a sample is a few dozen adds.
        state.withLock { state in
            for (peer, now) in traffic {
                let series: PeerSeries
                if let existing = state.peers[peer] {
                    series = existing
                } else {
                    series = PeerSeries(peer: peer, factory: factory)
                    state.peers[peer] = series
                }
                series.add(now, since: state.lastPeers[peer])
                state.lastPeers[peer] = now
            }
            Self.add(refusedHandshakes, refused, state.lastRefused)
            state.lastRefused = refused
        }
    }

    /// Adds the growth of a monotonic counter; nothing if it did not grow.
    fileprivate static func add(_ counter: Counter, _ now: Int, _ before: Int) {
        if now > before { counter.increment(by: now - before) }
    }
}

/// One peer's series.
private struct PeerSeries: Sendable {
    struct Channel: Sendable {
        let framesSent: Counter
        let framesReceived: Counter
        let bytesSent: Counter
        let bytesReceived: Counter
    }

    let channels: [PeerChannelKind: Channel]
    let reconnects: Counter
    let failedDials: Counter
    let droppedQueueFull: Counter
    let droppedByFault: Counter
    let delayedByFault: Counter
    let coalescedHeartbeats: Counter
    let heartbeatFrames: Counter

    init(peer: NodeID, factory: any MetricsFactory) {
        let peerLabel = ("peer", "\(peer.rawValue)")
        var channels: [PeerChannelKind: Channel] = [:]
        for kind in PeerChannelKind.allCases {
            let labels = [peerLabel, ("channel", Self.name(kind))]
            channels[kind] = Channel(
                framesSent: Counter(label: "rill_transport_frames_sent_total", dimensions: labels, factory: factory),
                framesReceived: Counter(
                    label: "rill_transport_frames_received_total",
                    dimensions: labels,
                    factory: factory
                ),
                bytesSent: Counter(label: "rill_transport_bytes_sent_total", dimensions: labels, factory: factory),
                bytesReceived: Counter(
                    label: "rill_transport_bytes_received_total",
                    dimensions: labels,
                    factory: factory
                )
            )
        }
        self.channels = channels
        reconnects = Counter(label: "rill_transport_reconnects_total", dimensions: [peerLabel], factory: factory)
        failedDials = Counter(label: "rill_transport_failed_dials_total", dimensions: [peerLabel], factory: factory)
        droppedQueueFull = Counter(
            label: "rill_transport_dropped_messages_total",
            dimensions: [peerLabel, ("reason", "queue_full")],
            factory: factory
        )
        droppedByFault = Counter(
            label: "rill_transport_dropped_messages_total",
            dimensions: [peerLabel, ("reason", "fault")],
            factory: factory
        )
        delayedByFault = Counter(label: "rill_transport_delayed_sends_total", dimensions: [peerLabel], factory: factory)
        coalescedHeartbeats = Counter(
            label: "rill_transport_coalesced_heartbeats_total",
            dimensions: [peerLabel],
            factory: factory
        )
        heartbeatFrames = Counter(
            label: "rill_transport_heartbeat_frames_total",
            dimensions: [peerLabel],
            factory: factory
        )
    }

    func add(_ now: PeerTraffic, since before: PeerTraffic?) {
        for (kind, series) in channels {
            let current = now.channels[kind] ?? LinkTraffic()
            let previous = before?.channels[kind] ?? LinkTraffic()
            TransportMetrics.add(series.framesSent, current.framesSent, previous.framesSent)
            TransportMetrics.add(series.framesReceived, current.framesReceived, previous.framesReceived)
            TransportMetrics.add(series.bytesSent, current.bytesSent, previous.bytesSent)
            TransportMetrics.add(series.bytesReceived, current.bytesReceived, previous.bytesReceived)
        }
        TransportMetrics.add(reconnects, now.reconnects, before?.reconnects ?? 0)
        TransportMetrics.add(failedDials, now.failedDials, before?.failedDials ?? 0)
        TransportMetrics.add(droppedQueueFull, now.droppedQueueFull, before?.droppedQueueFull ?? 0)
        TransportMetrics.add(droppedByFault, now.droppedByFault, before?.droppedByFault ?? 0)
        TransportMetrics.add(delayedByFault, now.delayedByFault, before?.delayedByFault ?? 0)
        TransportMetrics.add(coalescedHeartbeats, now.coalescedHeartbeats, before?.coalescedHeartbeats ?? 0)
        TransportMetrics.add(heartbeatFrames, now.heartbeatFrames, before?.heartbeatFrames ?? 0)
    }

    static func name(_ kind: PeerChannelKind) -> String {
        switch kind {
        case .raft: "raft"
        case .rpc: "rpc"
        case .gossip: "gossip"
        }
    }
}
