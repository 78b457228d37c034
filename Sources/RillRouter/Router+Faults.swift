import RillAPI
import RillCluster
import RillKinesis
import RillModel

extension Router {
    static let faultInjectionOff =
        "fault injection is off: start the router with --fault-injection to use /admin/faults (chaos testing only)"

    /// `GET /admin/faults`: the transport faults in force on this router.
    public func injectedFaults() -> FaultAnswer {
        guard settings.faultInjection else { return .disabled(Self.faultInjectionOff) }
        return .current(faultsJSON())
    }

    /// `POST /admin/faults`: isolate, drop, delay and heal, as on a node; a router has no clock or disk to fault.
    public func injectFaults(_ body: [UInt8]) -> FaultAnswer {
        guard settings.faultInjection else { return .disabled(Self.faultInjectionOff) }
        let command: FaultCommand
        switch FaultCommand.parse(body) {
        case .success(let parsed): command = parsed
        case .failure(let error): return .invalid(error.description)
        }
        guard command.clockJumpMillis == nil, command.clockRate == nil, command.loseUnsyncedWrites == nil else {
            return .invalid("a router has no clock or disk faults; only isolate, drop, delay and heal")
        }
        do {
            if command.heal { try transport.heal() }
            if !command.isolate.isEmpty { try transport.isolate(peers: Set(command.isolate)) }
            for drop in command.drops { try transport.setDropProbability(drop.probability, to: drop.peer) }
            for delay in command.delays { try transport.setDelay(delay.linkDelay, to: delay.peer) }
        } catch {
            return .invalid("the transport refused the fault: \(error)")
        }
        logger.warning(
            "injected faults changed",
            metadata: ["faults": "\(String(decoding: faultsJSON(), as: UTF8.self))"]
        )
        return .current(faultsJSON())
    }

    private func faultsJSON() -> [UInt8] {
        var w = JSONWriter()
        w.beginObject()
        w.key("node")
        w.int(settings.id.rawValue)
        AdminJSON.writeTransportFaults(transport, into: &w)
        w.key("droppedMessages")
        w.int(transport.faultDrops)
        w.key("delayedMessages")
        w.int(transport.faultDelays)
        w.endObject()
        return w.bytes
    }
}
