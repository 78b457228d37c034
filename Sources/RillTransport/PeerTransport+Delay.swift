import NIOCore
import RillModel

/// Injected link delay (chaos testing): every outbound frame to a delayed peer (Raft batches, RPC requests
/// and responses, gossip) waits in that peer's `DelayLine`, released by a timer on an event loop, never by
/// sleeping on one. The line is FIFO across all of them, so no frame overtakes an earlier one to that peer.
extension PeerTransport {
    /// Delays every outbound frame to `peer` by `delay` (nil ends it; what waits then goes out at once).
    public func setDelay(_ delay: LinkDelay?, to peer: NodeID) throws(TransportError) {
        guard settings.faultInjection else { throw .faultInjectionDisabled }
        var delays = faults.withLock { $0.delays }
        delays[peer] = delay
        try setDelays(delays)
    }

    /// Replaces every link delay; lines of peers no longer delayed release what they hold.
    func setDelays(_ delays: [NodeID: LinkDelay]) throws(TransportError) {
        guard settings.faultInjection else { throw .faultInjectionDisabled }
        let now = NIODeadline.now().uptimeNanoseconds
        let arm = faults.withLock { state -> [(NodeID, UInt64)] in
            state.delays = delays.filter { $0.value.fixed > .zero || $0.value.jitter > .zero }
            var arm: [(NodeID, UInt64)] = []
            for peer in Array(state.lines.keys) where state.delays[peer] == nil {
                if let deadline = state.lines[peer]?.releaseAll(now: now) { arm.append((peer, deadline)) }
            }
            return arm
        }
        for (peer, deadline) in arm { armDelayTimer(peer: peer, deadline: deadline) }
    }

    /// Runs `deliver` now, or once the delay to `peer` has passed and everything queued before it went out.
    func afterLinkDelay(to peer: NodeID, _ deliver: @escaping @Sendable () -> Void) {
        guard settings.faultInjection else { return deliver() }
        let now = NIODeadline.now().uptimeNanoseconds
        let admission = faults.withLock { state -> DelayLine<@Sendable () -> Void>.Admission in
            guard state.delays[peer] != nil || state.lines[peer] != nil else { return .deliverNow }
            let delay = state.delays[peer].map { $0.sample(using: &state.generator) }
            return state.lines[peer, default: DelayLine()].admit(deliver, now: now, delay: delay)
        }
        switch admission {
        case .deliverNow:
            deliver()
        case .queued:
            counters.delayedByFault(to: peer)
        case .queuedArm(let deadline):
            counters.delayedByFault(to: peer)
            armDelayTimer(peer: peer, deadline: deadline)
        }
    }

    /// Whether sends to `peer` go through its delay line now (a delay is set, or frames still wait).
    func isDelaying(_ peer: NodeID) -> Bool {
        guard settings.faultInjection else { return false }
        return faults.withLock { $0.delays[peer] != nil || $0.lines[peer] != nil }
    }

    /// Waits out the delay to `peer` (behind anything queued for it) before a request is written.
    func waitLinkDelay(to peer: NodeID) async {
        guard isDelaying(peer) else { return }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            afterLinkDelay(to: peer) { continuation.resume() }
        }
    }

    /// Every line's timers run on one event loop per peer, so its releases never run concurrently.
    private func armDelayTimer(peer: NodeID, deadline: UInt64) {
        let loop = delayLoop(for: peer)
        loop.scheduleTask(deadline: .uptimeNanoseconds(deadline)) { self.releaseDue(peer: peer, firedFor: deadline) }
    }

    private func delayLoop(for peer: NodeID) -> any EventLoop {
        // A fixed choice per peer: the group's loops in turn would let two releases of one line overlap.
        let loops = Array(group.makeIterator())
        return loops[Int(peer.rawValue % UInt64(max(1, loops.count)))]
    }

    private func releaseDue(peer: NodeID, firedFor deadline: UInt64) {
        let now = NIODeadline.now().uptimeNanoseconds
        let due = faults.withLock { $0.lines[peer]?.takeDue(firedFor: deadline, now: now) ?? [] }
        for deliver in due { deliver() }
        let next = faults.withLock { state -> UInt64? in
            let next = state.lines[peer]?.finishRelease()
            // A drained line of a healed link goes away, so its sends take the fast path again.
            if state.delays[peer] == nil, state.lines[peer]?.isIdle == true { state.lines[peer] = nil }
            return next
        }
        if let next { armDelayTimer(peer: peer, deadline: next) }
    }
}
