import NIOCore
import RillModel
import Synchronization

/// The outbound gossip connection to one address. Gossip is best effort: a message that cannot go out now is
/// dropped (SWIM only detects a little later), so the link never queues more than a handful of messages while
/// it dials, and after a failed dial it drops everything until its backoff has passed.
final class GossipLink: Sendable {
    let address: PeerAddress
    /// The member at `address` when the first sender named it: whose counters the traffic goes to. Nil for a
    /// seed address, known by address only, whose gossip counts in the totals alone.
    let member: NodeID?
    private let connector: PeerConnector
    private let events: PeerConnectionEvents
    private let state: Mutex<State>

    /// Messages held while the connection is being dialled; more are dropped.
    static let maximumQueued = 32

    private enum Connection {
        case idle
        case connecting
        case connected(any Channel)
        case backingOff(until: NIODeadline)
    }

    private struct State {
        var connection: Connection = .idle
        var queued: [[UInt8]] = []
        var backoff: Duration
        var closed = false
    }

    init(address: PeerAddress, member: NodeID?, connector: PeerConnector, events: PeerConnectionEvents) {
        self.address = address
        self.member = member
        self.connector = connector
        self.events = events
        self.state = Mutex(State(backoff: connector.settings.initialBackoff))
    }

    /// Sends `payload` now if connected, dials if idle; returns false when the message was dropped.
    @discardableResult
    func send(_ payload: [UInt8]) -> Bool {
        enum Next {
            case drop, queued, dial
            case write(any Channel)
        }
        let next = state.withLock { state -> Next in
            guard !state.closed else { return .drop }
            switch state.connection {
            case .connected(let channel):
                return .write(channel)
            case .backingOff(let until) where NIODeadline.now() < until:
                return .drop
            case .idle, .backingOff:
                state.connection = .connecting
                state.queued = [payload]
                return .dial
            case .connecting:
                guard state.queued.count < Self.maximumQueued else { return .drop }
                state.queued.append(payload)
                return .queued
            }
        }
        switch next {
        case .drop:
            return false
        case .queued:
            return true
        case .dial:
            dial()
            return true
        case .write(let channel):
            channel.writeAndFlush(PeerFrame.gossip(payload), promise: nil)
            return true
        }
    }

    func close() {
        let channel = state.withLock { state -> (any Channel)? in
            state.closed = true
            state.queued = []
            if case .connected(let channel) = state.connection { return channel }
            return nil
        }
        channel?.close(promise: nil)
    }

    private func dial() {
        var events = events
        let closed = events.closed
        events.closed = { [weak self] channel in
            self?.connectionClosed(channel)
            closed(channel)
        }
        let dialled = connector.connect(
            to: NodeID(0),
            at: address,
            channel: .gossip,
            events: events,
            countingAs: member
        )
        dialled.whenComplete { result in
            switch result {
            case .success(let channel): self.connected(channel)
            case .failure: self.failed()
            }
        }
    }

    private func connected(_ channel: any Channel) {
        let queued = state.withLock { state -> [[UInt8]]? in
            guard !state.closed else { return nil }
            state.connection = .connected(channel)
            state.backoff = connector.settings.initialBackoff
            defer { state.queued = [] }
            return state.queued
        }
        guard let queued else {
            channel.close(promise: nil)
            return
        }
        for payload in queued { channel.write(PeerFrame.gossip(payload), promise: nil) }
        channel.flush()
    }

    private func failed() {
        state.withLock { state in
            state.queued = []
            let delay = state.backoff
            state.backoff = min(delay * 2, connector.settings.maximumBackoff)
            state.connection = .backingOff(until: NIODeadline.now() + delay.timeAmount)
        }
    }

    private func connectionClosed(_ channel: any Channel) {
        state.withLock { state in
            guard case .connected(let current) = state.connection, current === channel else { return }
            state.connection = .idle
        }
    }
}
