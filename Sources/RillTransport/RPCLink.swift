import NIOCore
import RillModel
import Synchronization

/// The outbound RPC connection to one peer, separate from the Raft one so a large request never delays a
/// heartbeat. Requests are multiplexed by id; each waits for its response, its deadline or a broken connection.
final class RPCLink: Sendable {
    let peer: NodeID
    private let connector: PeerConnector
    /// Whether a response from this peer must be dropped (fault injection); checked per response.
    private let isIsolated: @Sendable (NodeID) -> Bool
    private let state: Mutex<State>

    private enum Connection {
        case idle
        case connecting(EventLoopFuture<any Channel>)
        case connected(any Channel)
    }

    private struct Pending {
        var continuation: CheckedContinuation<[UInt8], any Error>
        var channel: ObjectIdentifier
        var timer: Scheduled<Void>?
    }

    private struct State {
        var address: PeerAddress
        var connection: Connection = .idle
        var pending: [UInt64: Pending] = [:]
        var nextID: UInt64 = 1
        var closed = false
    }

    init(peer: NodeID, address: PeerAddress, connector: PeerConnector, isIsolated: @escaping @Sendable (NodeID) -> Bool)
    {
        self.peer = peer
        self.connector = connector
        self.isIsolated = isIsolated
        self.state = Mutex(State(address: address))
    }

    /// Sends `payload` and waits for the answer until `deadline`.
    func request(
        _ payload: [UInt8],
        deadline: NIODeadline,
        abandonment: RequestAbandonment? = nil
    ) async throws(TransportError) -> [UInt8] {
        let channel: any Channel
        do {
            channel = try await connection().get()
        } catch ChannelError.connectTimeout {
            throw .silent
        } catch {
            throw .unreachable
        }
        // Past the deadline or abandoned before anything was written: still provably not delivered.
        guard NIODeadline.now() < deadline, abandonment?.isAbandoned != true else { throw .unreachable }
        let id = state.withLock { state -> UInt64 in
            defer { state.nextID &+= 1 }
            return state.nextID
        }
        defer { abandonment?.clear() }
        do {
            return try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { continuation in
                    start(id: id, payload: payload, on: channel, deadline: deadline, continuation: continuation)
                    // Registered after the write was started: an abandoned wait is indeterminate.
                    if abandonment?.onAbandon({ self.complete(id, with: .failure(TransportError.abandoned)) }) == false
                    {
                        self.complete(id, with: .failure(TransportError.abandoned))
                    }
                }
            } onCancel: {
                self.complete(id, with: .failure(CancellationError()))
            }
        } catch let error as TransportError {
            throw error
        } catch {
            // Cancelled by the caller after the write: as indeterminate as a lost connection.
            throw .connectionLost
        }
    }

    private func start(
        id: UInt64,
        payload: [UInt8],
        on channel: any Channel,
        deadline: NIODeadline,
        continuation: CheckedContinuation<[UInt8], any Error>
    ) {
        let registered = state.withLock { state -> Bool in
            guard !state.closed else { return false }
            state.pending[id] = Pending(continuation: continuation, channel: ObjectIdentifier(channel))
            return true
        }
        guard registered else {
            continuation.resume(throwing: TransportError.shutdown)
            return
        }
        let timer = channel.eventLoop.scheduleTask(deadline: deadline) {
            self.complete(id, with: .failure(TransportError.timeout))
        }
        state.withLock { state in state.pending[id]?.timer = timer }
        channel.writeAndFlush(PeerFrame.request(id: id, payload: payload)).whenFailure { error in
            // A write refused on a closed channel never left this node; anything else may have.
            let notSent = (error as? ChannelError) == .ioOnClosedChannel
            self.complete(id, with: .failure(notSent ? TransportError.unreachable : TransportError.connectionLost))
        }
    }

    /// Resumes the waiter of `id` exactly once; later completions find nothing.
    private func complete(_ id: UInt64, with result: Result<[UInt8], any Error>) {
        guard let pending = state.withLock({ $0.pending.removeValue(forKey: id) }) else { return }
        pending.timer?.cancel()
        pending.continuation.resume(with: result)
    }

    /// The established connection, dialling when there is none. Concurrent callers share one dial.
    private func connection() -> EventLoopFuture<any Channel> {
        enum Step {
            case ready(EventLoopFuture<any Channel>)
            case dial(EventLoopPromise<any Channel>, PeerAddress)
        }
        let eventLoop = connector.group.next()
        let step = state.withLock { state -> Step in
            if state.closed { return .ready(eventLoop.makeFailedFuture(TransportError.shutdown)) }
            switch state.connection {
            case .connected(let channel): return .ready(channel.eventLoop.makeSucceededFuture(channel))
            case .connecting(let future): return .ready(future)
            case .idle:
                let promise = eventLoop.makePromise(of: (any Channel).self)
                state.connection = .connecting(promise.futureResult)
                return .dial(promise, state.address)
            }
        }
        switch step {
        case .ready(let future):
            return future
        case .dial(let promise, let address):
            var events = PeerConnectionEvents()
            let peer = peer
            let isIsolated = isIsolated
            events.responseReceived = { [weak self] id, payload in
                guard !isIsolated(peer) else { return }
                self?.complete(id, with: .success(payload))
            }
            events.closed = { [weak self] channel in self?.connectionClosed(channel) }
            connector.connect(to: peer, at: address, channel: .rpc, events: events).whenComplete { result in
                let keep = self.state.withLock { state -> Bool in
                    switch result {
                    case .success(let channel) where !state.closed:
                        state.connection = .connected(channel)
                        return true
                    case .success, .failure:
                        state.connection = .idle
                        return false
                    }
                }
                if case .success(let channel) = result, !keep { channel.close(promise: nil) }
                promise.completeWith(result)
            }
            return promise.futureResult
        }
    }

    /// Fails every request waiting on `channel`: they were written, so the outcome is unknown.
    private func connectionClosed(_ channel: any Channel) {
        let id = ObjectIdentifier(channel)
        let orphans = state.withLock { state -> [Pending] in
            if case .connected(let current) = state.connection, current === channel { state.connection = .idle }
            let orphans = state.pending.filter { $0.value.channel == id }
            for key in orphans.keys { state.pending.removeValue(forKey: key) }
            return Array(orphans.values)
        }
        for pending in orphans {
            pending.timer?.cancel()
            pending.continuation.resume(throwing: TransportError.connectionLost)
        }
    }

    func update(address: PeerAddress) {
        let channel = state.withLock { state -> (any Channel)? in
            guard state.address != address else { return nil }
            state.address = address
            if case .connected(let channel) = state.connection { return channel }
            return nil
        }
        channel?.close(promise: nil)
    }

    /// Closes the connection; waiting requests fail with `shutdown`.
    func close() {
        let (channel, orphans) = state.withLock { state -> ((any Channel)?, [Pending]) in
            state.closed = true
            let orphans = Array(state.pending.values)
            state.pending = [:]
            if case .connected(let channel) = state.connection { return (channel, orphans) }
            return (nil, orphans)
        }
        for pending in orphans {
            pending.timer?.cancel()
            pending.continuation.resume(throwing: TransportError.shutdown)
        }
        channel?.close(promise: nil)
    }
}
