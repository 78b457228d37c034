import Logging
import RillAPI
import RillCluster
import RillKinesis
import RillModel
import RillStorage
import RillTransport

/// `/admin/faults` on a node started with `--fault-injection` (chaos testing): cuts, drops and delays on its peer
/// links, a skewed clock, and unsynced writes lost at a crash. The node owns one.
struct FaultInjector: Sendable {
    let me: NodeID
    let configuration: NodeConfiguration
    /// The links the faults act on; nil for a one-node cluster.
    let transport: PeerTransport?
    /// The node's clock when it runs with fault injection, so jumps and rates can move it.
    let faultClock: SkewableWallClock?
    let clock: any WallClock
    let logger: Logger

    static let faultInjectionOff =
        "fault injection is off: start the node with --fault-injection to use /admin/faults (chaos testing only)"

    /// `GET /admin/faults`: the faults in force.
    func injectedFaults() -> FaultAnswer {
        guard configuration.faultInjection else { return .disabled(Self.faultInjectionOff) }
        return .current(faultsJSON())
    }

    /// `POST /admin/faults`: applies a `FaultCommand` (heal first), then answers the faults in force.
    func injectFaults(_ body: [UInt8]) -> FaultAnswer {
        guard configuration.faultInjection else { return .disabled(Self.faultInjectionOff) }
        let command: FaultCommand
        switch FaultCommand.parse(body) {
        case .success(let parsed): command = parsed
        case .failure(let error): return .invalid(error.description)
        }
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
            metadata: ["faults": "\(String(decoding: faultsJSON(), as: UTF8.self))"]
        )
        return .current(faultsJSON())
    }

    private func faultsJSON() -> [UInt8] {
        let skew = faultClock?.skew ?? SkewableWallClock.Skew()
        var w = JSONWriter()
        w.beginObject()
        w.key("node")
        w.int(Int(me.rawValue))
        AdminJSON.writeTransportFaults(transport, into: &w)
        w.key("clock")
        w.beginObject()
        w.key("offsetMillis")
        w.int(skew.offsetMillis)
        w.key("rate")
        w.raw(Array("\(skew.rate)".utf8))
        w.key("nowMillis")
        w.int(clock.nowMillis())
        w.endObject()
        w.key("loseUnsyncedWrites")
        w.bool(StorageFaults.loseUnsyncedWrites)
        w.key("droppedMessages")
        w.int(transport?.faultDrops ?? 0)
        w.key("delayedMessages")
        w.int(transport?.faultDelays ?? 0)
        w.endObject()
        return w.bytes
    }
}
