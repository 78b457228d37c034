import RillKinesis
import RillTransport
import RillModel
import RillStorage

/// The answer to a `/admin/faults` call.
public enum FaultAnswer: Sendable {
    /// The faults now in force, as JSON.
    case current([UInt8])
    /// The node was not started with `--fault-injection`: nothing changed (HTTP 403).
    case disabled(String)
    /// The body is not a fault command this node can apply: nothing changed (HTTP 400).
    case invalid(String)
}

extension Node {
    static let faultInjectionOff =
        "fault injection is off: start the node with --fault-injection to use /admin/faults (chaos testing only)"

    /// `GET /admin/faults`: the faults in force.
    public func injectedFaults() -> FaultAnswer {
        guard configuration.faultInjection else { return .disabled(Self.faultInjectionOff) }
        return .current(faultsJSON())
    }

    /// `POST /admin/faults`: applies a `FaultCommand` (heal first), then answers the faults in force.
    public func injectFaults(_ body: [UInt8]) -> FaultAnswer {
        guard configuration.faultInjection else { return .disabled(Self.faultInjectionOff) }
        let command: FaultCommand
        switch FaultCommand.parse(body) {
        case .success(let parsed): command = parsed
        case .failure(let error): return .invalid(error.description)
        }
        let transport = cluster?.transport
        if command.needsPeers, transport == nil { return .invalid("a one-node cluster has no peers to cut") }
        if let ours = command.peers.first(where: { $0 == me }) {
            return .invalid("node \(ours) is this node")
        }
        do {
            if command.heal {
                try transport?.heal()
                faultClock?.heal()
                StorageFaults.loseUnsyncedWrites = false
            }
            if !command.isolate.isEmpty { try transport?.isolate(peers: Set(command.isolate)) }
            for drop in command.drops { try transport?.setDropProbability(drop.probability, to: drop.peer) }
            for delay in command.delays { try transport?.setDelay(delay.linkDelay, to: delay.peer) }
        } catch {
            // The transport was built with fault injection off although the node has it on: a wiring bug.
            return .invalid("the transport refused the fault: \(error)")
        }
        if let jump = command.clockJumpMillis { faultClock?.jump(byMillis: jump) }
        if let rate = command.clockRate { faultClock?.setRate(rate) }
        if let lose = command.loseUnsyncedWrites { StorageFaults.loseUnsyncedWrites = lose }
        logger.warning(
            "injected faults changed",
            metadata: ["faults": "\(String(decoding: faultsJSON(), as: UTF8.self))"])
        return .current(faultsJSON())
    }

    private func faultsJSON() -> [UInt8] {
        let skew = faultClock?.skew ?? SkewableWallClock.Skew()
        var w = JSONWriter()
        w.beginObject()
        w.key("node"); w.int(Int(me.rawValue))
        Self.writeTransportFaults(cluster?.transport, into: &w)
        w.key("clock")
        w.beginObject()
        w.key("offsetMillis"); w.int(skew.offsetMillis)
        w.key("rate"); w.raw(Array("\(skew.rate)".utf8))
        w.key("nowMillis"); w.int(clock.nowMillis())
        w.endObject()
        w.key("loseUnsyncedWrites"); w.bool(StorageFaults.loseUnsyncedWrites)
        w.key("droppedMessages"); w.int(cluster?.transport.faultDrops ?? 0)
        w.key("delayedMessages"); w.int(cluster?.transport.faultDelays ?? 0)
        w.endObject()
        return w.bytes
    }

    /// The `isolated`, `drop` and `delay` members of a fault answer, shared by nodes and routers.
    static func writeTransportFaults(_ transport: PeerTransport?, into w: inout JSONWriter) {
        let faults = transport?.injectedFaults ?? InjectedTransportFaults()
        let (isolated, drops) = (faults.isolated, faults.dropProbability)
        w.key("isolated")
        w.beginArray()
        for peer in isolated.sorted(by: { $0.rawValue < $1.rawValue }) { w.int(Int(peer.rawValue)) }
        w.endArray()
        w.key("drop")
        w.beginArray()
        for (peer, probability) in drops.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            w.beginObject()
            w.key("peer"); w.int(Int(peer.rawValue))
            w.key("probability"); w.raw(Array("\(probability)".utf8))
            w.endObject()
        }
        w.endArray()
        w.key("delay")
        w.beginArray()
        for (peer, delay) in faults.delays.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            w.beginObject()
            w.key("peer"); w.int(Int(peer.rawValue))
            w.key("millis"); w.int(Int(delay.fixed / .milliseconds(1)))
            w.key("jitterMillis"); w.int(Int(delay.jitter / .milliseconds(1)))
            w.endObject()
        }
        w.endArray()
    }
}

extension FaultCommand.Delay {
    /// The transport's form; zero and zero ends the delay.
    var linkDelay: LinkDelay? {
        millis == 0 && jitterMillis == 0 ? nil : LinkDelay(fixed: .milliseconds(millis), jitter: .milliseconds(jitterMillis))
    }
}
