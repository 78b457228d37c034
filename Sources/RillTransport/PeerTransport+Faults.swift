import RillModel

/// Injected faults for chaos testing. Only with `TransportSettings.faultInjection`; otherwise the setters
/// throw and the send path skips the checks entirely.
struct FaultState: Sendable {
    var isolated: Set<NodeID> = []
    var dropProbability: [NodeID: Double] = [:]
    var delays: [NodeID: LinkDelay] = [:]
    /// Frames waiting out a delay, per peer; a line outlives its delay until it has drained.
    var lines: [NodeID: DelayLine<@Sendable () -> Void>] = [:]
    var generator: SplitMix64

    init(seed: UInt64) { generator = SplitMix64(seed: seed) }
}

extension PeerTransport {
    /// Drops each outbound Raft and gossip message to `peer` with probability `probability` (0 restores delivery).
    public func setDropProbability(_ probability: Double, to peer: NodeID) throws(TransportError) {
        guard settings.faultInjection else { throw .faultInjectionDisabled }
        let clamped = min(max(probability, 0), 1)
        faults.withLock { $0.dropProbability[peer] = clamped > 0 ? clamped : nil }
    }

    /// Drops everything to and from `peers`, Raft and RPC alike, until `heal()`: a network partition.
    /// Requests to an isolated peer fail at once with `unreachable` (they are never written).
    public func isolate(peers: Set<NodeID>) throws(TransportError) {
        guard settings.faultInjection else { throw .faultInjectionDisabled }
        faults.withLock { $0.isolated.formUnion(peers) }
    }

    /// Ends every isolation, drop probability and delay; frames waiting out a delay go out at once, in order.
    public func heal() throws(TransportError) {
        guard settings.faultInjection else { throw .faultInjectionDisabled }
        faults.withLock { state in
            state.isolated = []
            state.dropProbability = [:]
        }
        try setDelays([:])
    }

    /// The faults in force, for the admin endpoint; empty without fault injection.
    public var injectedFaults: InjectedTransportFaults {
        guard settings.faultInjection else { return InjectedTransportFaults() }
        return faults.withLock {
            InjectedTransportFaults(isolated: $0.isolated, dropProbability: $0.dropProbability, delays: $0.delays)
        }
    }

    /// Messages (Raft messages and requests) dropped by injected faults so far.
    public var faultDrops: Int { counters.droppedByFault.load(ordering: .relaxed) }

    /// Outbound sends (Raft batches, requests, responses, gossip) that waited out an injected delay so far.
    public var faultDelays: Int { counters.delayedByFault.load(ordering: .relaxed) }

    func isIsolated(_ peer: NodeID) -> Bool {
        guard settings.faultInjection else { return false }
        return faults.withLock { $0.isolated.contains(peer) }
    }

    /// What survives the faults on the way out; drops are counted.
    func applyOutboundFaults(_ messages: [GroupMessage], to peer: NodeID) -> [GroupMessage] {
        let surviving = faults.withLock { state -> [GroupMessage] in
            if state.isolated.contains(peer) { return [] }
            guard let probability = state.dropProbability[peer] else { return messages }
            return messages.filter { _ in Double.random(in: 0..<1, using: &state.generator) >= probability }
        }
        let dropped = messages.count - surviving.count
        if dropped > 0 { counters.droppedByFault(dropped, peer: peer) }
        return surviving
    }

    /// Whether an outbound gossip message to `peer` falls to an isolation or a drop probability; counts it.
    func dropsGossip(to peer: NodeID) -> Bool {
        let dropped = faults.withLock { state -> Bool in
            if state.isolated.contains(peer) { return true }
            guard let probability = state.dropProbability[peer] else { return false }
            return Double.random(in: 0..<1, using: &state.generator) < probability
        }
        if dropped { counters.droppedByFault(1, peer: peer) }
        return dropped
    }

    /// Whether inbound traffic from `peer` is cut by an isolation; counts what is dropped.
    func dropInbound(_ count: Int, from peer: NodeID) -> Bool {
        guard isIsolated(peer) else { return false }
        counters.droppedByFault(count, peer: peer)
        return true
    }
}

/// What `PeerTransport.injectedFaults` reports.
public struct InjectedTransportFaults: Sendable, Equatable {
    public var isolated: Set<NodeID> = []
    public var dropProbability: [NodeID: Double] = [:]
    public var delays: [NodeID: LinkDelay] = [:]

    public init(isolated: Set<NodeID> = [], dropProbability: [NodeID: Double] = [:], delays: [NodeID: LinkDelay] = [:])
    {
        self.isolated = isolated
        self.dropProbability = dropProbability
        self.delays = delays
    }
}
