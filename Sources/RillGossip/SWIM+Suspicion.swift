import RillModel

extension SWIM.Instance {
    /// Marks `id` suspect after our own probe of `incarnation` failed, or adds us to its confirmations.
    mutating func suspect(_ id: NodeID, incarnation: UInt64) {
        // A refutation or a verdict that arrived during the probe is newer than the probe's evidence.
        guard let current = others[id], current.status.isLive, current.incarnation == incarnation else { return }
        var suspected = current
        switch current.status {
        case .suspect(let since, let confirmations):
            guard !confirmations.contains(myself.id) else { return }
            suspected.status = .suspect(since: since, confirmations: confirmations.union([myself.id]))
        default:
            suspected.status = .suspect(since: now, confirmations: [myself.id])
        }
        store(suspected, replacing: current)
    }

    /// Declares dead every suspect whose timeout ran out. The timeout counts from when *we* first suspected it
    /// and shrinks as independent suspicions arrive (Lifeguard §4.2).
    mutating func checkSuspicions() {
        guard !suspects.isEmpty else { return }
        let live = liveMemberCount
        for id in suspects.sorted() {
            guard let current = others[id], case .suspect(let since, let confirmations) = current.status else {
                continue
            }
            // The first suspecter starts the timer; only the others confirm.
            let timeout = settings.suspicionTimeout(confirmations: confirmations.count - 1, liveMembers: live)
            guard now.ticks(since: since) >= UInt64(timeout) else { continue }
            var dead = current
            dead.status = .dead
            store(dead, replacing: current)
        }
    }

    /// The ticks `id` has left before we declare it dead, or nil when we do not suspect it.
    public func remainingSuspicionTicks(of id: NodeID) -> Int? {
        guard let current = others[id], case .suspect(let since, let confirmations) = current.status else {
            return nil
        }
        let timeout = settings.suspicionTimeout(confirmations: confirmations.count - 1, liveMembers: liveMemberCount)
        return max(0, timeout - Int(clamping: now.ticks(since: since)))
    }

    /// Lifeguard local health (memberlist `awareness.ApplyDelta`), kept in `0..<maxLocalHealth`.
    mutating func adjustLocalHealth(by delta: Int) {
        localHealth = min(max(localHealth + delta, 0), settings.maxLocalHealth - 1)
    }
}
