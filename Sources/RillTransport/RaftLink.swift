import Logging
import NIOCore
import RillModel
import Synchronization

/// The outbound Raft connection to one peer: a bounded queue, a lazily dialled connection that redials with
/// capped exponential backoff, and a drain that packs queued messages into frames of about 1 MiB.
///
/// Votes, heartbeats and responses sit in their own queue and go out before queued appends and snapshots;
/// Raft tolerates the reordering (and the loss when the queue is full).
///
/// Heartbeats and their answers wait up to `heartbeatCoalescingDelay` for the other groups' beats of the same
/// round (or until some other message is sent), then leave together as one `heartbeats` frame
/// (`HeartbeatCoalescer`). Resting leaders wake on a
/// shared grid (`RaftGroupDriver.nextNudge`), so an idle node pair exchanges one small frame per direction per
/// round, however many groups it hosts.
final class RaftLink: Sendable {
    let peer: NodeID
    private let connector: PeerConnector
    /// This peer's counters, looked up once rather than per drain.
    private let traffic: PeerCounters?
    private let state: Mutex<State>

    private enum Connection {
        case idle
        case connecting
        case connected(any Channel)
        case backingOff(Scheduled<Void>)
    }

    private struct State {
        var address: PeerAddress
        var control: [GroupMessage] = []
        var bulk: [GroupMessage] = []
        /// Heartbeats and answers waiting for the coalescing timer (`beatTimer`), or due (`beatsDue`).
        var beats: [GroupMessage] = []
        var beatsDue = false
        var beatTimer: Scheduled<Void>?
        var queuedBytes = 0
        var connection: Connection = .idle
        var backoff: Duration
        var drainScheduled = false
        var everConnected = false
        /// The connection closed under us: dial once even with nothing queued, to learn whether the peer's
        /// process is gone (`onGone`).
        var checkAfterLoss = false
        var closed = false
        /// What the connected peer reads (`PeerProtocol`): a version-1 peer gets heartbeats as `raft` messages.
        var peerVersion = PeerProtocol.oldestVersion

        /// Whether a drain now would send anything: beats count only once their coalescing delay is over.
        var hasWorkNow: Bool {
            !(control.isEmpty && bulk.isEmpty) || (beatsDue && !beats.isEmpty)
        }
    }

    /// Told once when the connection closed and the redial was refused (`isConnectionRefused`): the peer's
    /// process is gone. Kill -9 closes a process's sockets at once, so this comes about `initialBackoff` after the
    /// death, where gossip needs a probe period or more. Called on an event loop; it must not block.
    private let onGone: @Sendable (NodeID) -> Void

    init(
        peer: NodeID,
        address: PeerAddress,
        connector: PeerConnector,
        onGone: @escaping @Sendable (NodeID) -> Void = { _ in }
    ) {
        self.peer = peer
        self.connector = connector
        self.onGone = onGone
        self.traffic = connector.counters.peer(peer)
        self.state = Mutex(State(address: address, backoff: connector.settings.initialBackoff))
    }

    /// Queues `messages`, dropping (and counting) what does not fit; dials or drains as needed. Never blocks
    /// on I/O: the lock covers only queue bookkeeping.
    func enqueue(_ messages: [GroupMessage]) {
        let settings = connector.settings
        let coalescing = settings.heartbeatCoalescingDelay > .zero
        enum Next {
            case nothing, connect
            case drain(any Channel)
        }
        let (next, dropped) = state.withLock { state -> (Next, Int) in
            guard !state.closed else { return (.nothing, messages.count) }
            var dropped = 0
            for message in messages {
                let size = message.wireSizeEstimate
                // The encoder would refuse it and the connection would close for it: drop it here instead.
                guard size <= PeerFrame.maximumLength - 64 else {
                    dropped += 1
                    continue
                }
                let count = state.control.count + state.bulk.count + state.beats.count
                guard count < settings.maximumQueuedMessages,
                    state.queuedBytes + size <= settings.maximumQueuedBytes || count == 0
                else {
                    dropped += 1
                    continue
                }
                state.queuedBytes += size
                if coalescing, message.beat != nil {
                    state.beats.append(message)
                    if state.beatTimer == nil {
                        // The timer, not the connection, decides when beats leave: it runs while dialling too.
                        let loop = connector.group.next()
                        state.beatTimer = loop.scheduleTask(in: settings.heartbeatCoalescingDelay.timeAmount) {
                            self.beatsElapsed()
                        }
                    }
                } else if message.isBulk {
                    state.bulk.append(message)
                } else {
                    state.control.append(message)
                }
            }
            switch state.connection {
            case .idle:
                state.connection = .connecting
                return (.connect, dropped)
            case .connected(let channel) where !state.drainScheduled && state.hasWorkNow:
                state.drainScheduled = true
                return (.drain(channel), dropped)
            case .connected, .connecting, .backingOff:
                return (.nothing, dropped)
            }
        }
        if dropped > 0 { connector.counters.droppedQueueFull(dropped, to: peer) }
        switch next {
        case .nothing: break
        case .connect: connect()
        case .drain(let channel): channel.eventLoop.execute { self.drain(channel) }
        }
    }

    /// Points the link at a new address; an open connection to the old one is closed.
    func update(address: PeerAddress) {
        let channel = state.withLock { state -> (any Channel)? in
            guard state.address != address else { return nil }
            state.address = address
            if case .connected(let channel) = state.connection { return channel }
            return nil
        }
        channel?.close(promise: nil)
    }

    /// Closes the connection and cancels any redial; queued messages are dropped.
    func close() {
        let channel = state.withLock { state -> (any Channel)? in
            state.closed = true
            state.control = []
            state.bulk = []
            state.beats = []
            state.beatTimer?.cancel()
            state.beatTimer = nil
            state.queuedBytes = 0
            let connection = state.connection
            state.connection = .idle
            switch connection {
            case .connected(let channel): return channel
            case .backingOff(let timer):
                timer.cancel()
                return nil
            case .idle, .connecting: return nil
            }
        }
        channel?.close(promise: nil)
    }

    /// The peer answers again (gossip saw it come back, often as a new process): a link waiting out its backoff
    /// stops waiting, and the backoff starts again from `initialBackoff`. While the peer was down the backoff
    /// doubled at every refused dial, so without this the first messages to a restarted node waited up to half a
    /// second more after it could take them.
    func peerIsBack() {
        let redial = state.withLock { state -> Bool in
            state.backoff = connector.settings.initialBackoff
            guard !state.closed, case .backingOff(let timer) = state.connection else { return false }
            timer.cancel()
            // As after a backoff: with nothing queued the next `enqueue` dials.
            let redial = state.checkAfterLoss || !(state.control.isEmpty && state.bulk.isEmpty && state.beats.isEmpty)
            state.connection = redial ? .connecting : .idle
            return redial
        }
        if redial { connect() }
    }

    private func connect() {
        let address = state.withLock { $0.address }
        var events = PeerConnectionEvents()
        events.writable = { [weak self] channel in self?.scheduleDrain(channel) }
        events.closed = { [weak self] channel in self?.connectionClosed(channel) }
        connector.connectNegotiating(to: peer, at: address, channel: .raft, events: events).whenComplete { result in
            switch result {
            case .success(let (channel, peerVersion)): self.connected(channel, peerVersion: peerVersion)
            case .failure(let error): self.connectFailed(error)
            }
        }
    }

    private func connected(_ channel: any Channel, peerVersion: UInt8) {
        let (keep, reconnect, hasWork) = state.withLock { state -> (Bool, Bool, Bool) in
            guard !state.closed else { return (false, false, false) }
            state.connection = .connected(channel)
            state.checkAfterLoss = false
            state.peerVersion = peerVersion
            state.backoff = connector.settings.initialBackoff
            let reconnect = state.everConnected
            state.everConnected = true
            if reconnect {
                // Queued while the peer was unreachable: possibly for a process that no longer exists (a node
                // restarted, or wiped and rejoining, must not get its predecessor's mail). Raft resends.
                state.control.removeAll()
                state.bulk.removeAll()
                state.beats.removeAll()
                state.beatsDue = false
                state.queuedBytes = 0
            }
            let hasWork = state.hasWorkNow && !state.drainScheduled
            if hasWork { state.drainScheduled = true }
            return (true, reconnect, hasWork)
        }
        guard keep else {
            channel.close(promise: nil)
            return
        }
        connector.logger.debug("raft connection up", metadata: ["peer": "\(peer)"])
        if reconnect {
            connector.counters.reconnects.add(1, ordering: .relaxed)
            connector.counters.peer(peer)?.reconnects.add(1, ordering: .relaxed)
        }
        if hasWork { channel.eventLoop.execute { self.drain(channel) } }
    }

    private func connectFailed(_ error: any Error) {
        connector.logger.debug("raft connect failed", metadata: ["peer": "\(peer)", "error": "\(error)"])
        traffic?.failedDials.add(1, ordering: .relaxed)
        let gone = state.withLock { state -> Bool in
            defer { state.checkAfterLoss = false }
            return state.checkAfterLoss && !state.closed && isConnectionRefused(error)
        }
        // Backing off before the news goes out: whoever hears it finds the link waiting, not still dialling.
        backOff()
        if gone {
            connector.logger.info(
                "peer refuses connections after its connection closed: its process is gone",
                metadata: ["peer": "\(peer)"]
            )
            onGone(peer)
        }
    }

    /// Waits the current backoff, doubling it for next time, then redials if anything is queued.
    private func backOff() {
        let eventLoop = connector.group.next()
        state.withLock { state in
            guard !state.closed else { return }
            let delay = state.backoff
            state.backoff = min(delay * 2, connector.settings.maximumBackoff)
            let timer = eventLoop.scheduleTask(in: delay.timeAmount) { self.backoffElapsed() }
            state.connection = .backingOff(timer)
        }
    }

    private func backoffElapsed() {
        let redial = state.withLock { state -> Bool in
            guard case .backingOff = state.connection, !state.closed else { return false }
            // Lazy: with nothing queued the next `enqueue` dials, unless a lost connection is to be checked.
            let redial = state.checkAfterLoss || !(state.control.isEmpty && state.bulk.isEmpty && state.beats.isEmpty)
            state.connection = redial ? .connecting : .idle
            return redial
        }
        if redial { connect() }
    }

    private func connectionClosed(_ channel: any Channel) {
        let wasCurrent = state.withLock { state -> Bool in
            guard case .connected(let current) = state.connection, current === channel else { return false }
            state.connection = .idle
            state.drainScheduled = false
            state.checkAfterLoss = true
            return true
        }
        guard wasCurrent else { return }
        connector.logger.debug("raft connection lost", metadata: ["peer": "\(peer)"])
        // Wait a little before redialling, so a peer that accepts and drops does not cause a connect storm.
        backOff()
    }

    /// The coalescing delay of the oldest queued beat is over: the beats go with the next drain.
    private func beatsElapsed() {
        enum Next {
            case nothing, connect
            case drain(any Channel)
        }
        let next = state.withLock { state -> Next in
            state.beatTimer = nil
            guard !state.closed, !state.beats.isEmpty else { return .nothing }
            state.beatsDue = true
            switch state.connection {
            case .connected(let channel) where !state.drainScheduled:
                state.drainScheduled = true
                return .drain(channel)
            case .idle:
                state.connection = .connecting
                return .connect
            case .connected, .connecting, .backingOff:
                return .nothing
            }
        }
        switch next {
        case .nothing: break
        case .connect: connect()
        case .drain(let channel): channel.eventLoop.execute { self.drain(channel) }
        }
    }

    private func scheduleDrain(_ channel: any Channel) {
        let schedule = state.withLock { state -> Bool in
            guard case .connected(let current) = state.connection, current === channel, !state.drainScheduled else {
                return false
            }
            state.drainScheduled = true
            return true
        }
        if schedule { channel.eventLoop.execute { self.drain(channel) } }
    }

    /// On the channel's event loop: writes queued messages while the channel is writable, all control messages
    /// first, then about one frame of bulk messages per pass. Flushing per pass keeps NIO's outbound buffer
    /// near its watermark, so a heartbeat queued behind megabytes of appends waits for at most one frame.
    /// When the channel is not writable, messages wait (and overflow into drops) until `writable` fires.
    private func drain(_ channel: any Channel) {
        let maximumFrame = connector.settings.maximumRaftFrameBytes
        var passes = 0
        while passes < 1024 {  // bounded: the writability check normally ends the loop much sooner
            passes += 1
            let (batch, peerVersion) = state.withLock { state -> ([GroupMessage], UInt8) in
                state.drainScheduled = false
                guard case .connected(let current) = state.connection, current === channel, channel.isWritable else {
                    return ([], state.peerVersion)
                }
                var batch = state.control
                state.control = []
                // Beats not yet due ride along too: this flush is happening anyway, and they stay ahead of bulk.
                if !state.beats.isEmpty {
                    batch += state.beats
                    state.beats = []
                    state.beatsDue = false
                }
                var taken = batch.reduce(0) { $0 + $1.wireSizeEstimate }
                var bulkTaken = 0
                var bulkBytes = 0
                for message in state.bulk {
                    let size = message.wireSizeEstimate
                    if bulkTaken > 0 && bulkBytes + size > maximumFrame { break }
                    bulkTaken += 1
                    bulkBytes += size
                }
                batch += state.bulk.prefix(bulkTaken)
                state.bulk.removeFirst(bulkTaken)
                taken += bulkBytes
                state.queuedBytes = max(0, state.queuedBytes - taken)
                return (batch, state.peerVersion)
            }
            guard !batch.isEmpty else { return }
            let frames = HeartbeatCoalescer.frames(
                for: batch,
                maximumFrameBytes: maximumFrame,
                coalescingHeartbeats: peerVersion >= 2
            )
            for frame in frames { channel.write(frame, promise: nil) }
            // Counted as they pass the connection's handler (`PeerConnectionHandler.write`).
            channel.flush()
            countCoalescing(frames)
        }
        // Still work left after the bound: continue in a later turn of the event loop.
        scheduleDrain(channel)
    }

    /// How well heartbeats coalesce: the beats that went out in `heartbeats` frames, and those frames.
    private func countCoalescing(_ frames: [PeerFrame]) {
        guard let traffic else { return }
        var beats = 0
        var beatFrames = 0
        for case .heartbeats(let batch) in frames {
            beats += batch.beats.count
            beatFrames += 1
        }
        guard beatFrames > 0 else { return }
        traffic.coalescedHeartbeats.add(beats, ordering: .relaxed)
        traffic.heartbeatFrames.add(beatFrames, ordering: .relaxed)
    }
}
