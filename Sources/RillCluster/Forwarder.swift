import RillAPI
import RillGossip
import RillKinesis
import RillMembership
import RillModel
import RillRouting
import RillTransport
import Synchronization

/// The one forwarder of nodes and routers (ARCHITECTURE.md, "One forwarder"): where a group is led (leader
/// choice and the leader cache), sending a call to a peer and reading its answer, what an answer means as an
/// error, and the retry loop that sends again only what provably did not happen. A node forwards the calls it
/// cannot serve and its appends to shard leaders; a router forwards everything (`Forwarder+PutRecords`).
package final class Forwarder: Sendable {
    /// What the forwarder tells its owner's metrics.
    package struct Events: Sendable {
        package var onForward: @Sendable () -> Void = {}
        package var onRedirect: @Sendable () -> Void = {}
        package var onRetry: @Sendable () -> Void = {}
        package var onGiveUp: @Sendable () -> Void = {}

        package init(
            onForward: @escaping @Sendable () -> Void = {},
            onRedirect: @escaping @Sendable () -> Void = {},
            onRetry: @escaping @Sendable () -> Void = {},
            onGiveUp: @escaping @Sendable () -> Void = {}
        ) {
            self.onForward = onForward
            self.onRedirect = onRedirect
            self.onRetry = onRetry
            self.onGiveUp = onGiveUp
        }
    }

    /// This process: never a candidate for its own calls.
    package let me: NodeID
    let transport: PeerTransport
    let gossip: GossipAgent
    /// How long one call may spend finding a leader before ServiceUnavailable.
    package let deadline: Duration
    /// How long a peer may take to answer one call before its outcome counts as unknown.
    package let callTimeout: Duration
    let events: Events
    /// Every node worth trying when nothing better is known, best first (a router's fallback).
    let nodesByHealth: @Sendable () -> [NodeID]
    /// Leaders learned from answers; they win over gossip hints until a call to them fails.
    private let leaders = Mutex<[RaftGroupID: NodeID]>([:])
    /// Who leads what as this process last saw it: a node's replicas report to it, and gossip's hints feed it
    /// (a router's only source). A call to a leader whose term the board sees end is abandoned
    /// (`watchingLeadership`).
    package let board: LeaderBoard

    package init(
        me: NodeID,
        transport: PeerTransport,
        gossip: GossipAgent,
        deadline: Duration,
        callTimeout: Duration = .seconds(5),
        events: Events = Events(),
        board: LeaderBoard? = nil,
        nodesByHealth: @escaping @Sendable () -> [NodeID] = { [] }
    ) {
        self.me = me
        self.transport = transport
        self.gossip = gossip
        self.deadline = deadline
        self.callTimeout = callTimeout
        self.events = events
        self.nodesByHealth = nodesByHealth
        let board = board ?? Self.board(watching: gossip)
        self.board = board
        // Every leader a member publishes (a new leader publishes at once) tells the board a term began.
        gossip.observe { [board, weak gossip] old, new in
            if SWIM.MemberChange(old: old, new: new).mayBeGone {
                // Cut off from every other node, this process can have no call answered, whichever groups moved:
                // its callers hear so now and ask another node, rather than wait out the call timeout (a node
                // cut off in the kernel held every writer that called it for their whole timeout).
                if gossip?.isCutOff ?? false {
                    board.abandonEveryCall()
                } else {
                    board.memberMayBeGone(new.id)
                }
            }
            guard new.hints != old?.hints else { return }
            for hint in new.hints { board.learn(hint.group, term: hint.term, leader: hint.leader) }
        }
    }

    /// A leader board that asks `gossip` whether a call's target is alive: a call is abandoned only once gossip
    /// no longer sees it alive, too (`LeaderBoard`). A node makes its board before its forwarder (its replicas
    /// report to it from their start) and hands it over.
    package static func board(watching gossip: GossipAgent) -> LeaderBoard {
        LeaderBoard { [weak gossip] node in gossip?.member(node)?.status.isAlive ?? false }
    }

    // MARK: - Leader choice

    /// Where `group` is led as far as this process knows without running it: the leader an answer named last,
    /// else the newest gossiped hint. nil when neither knows.
    package func knownLeader(of group: RaftGroupID) -> NodeID? {
        leaders.withLock { $0[group] } ?? gossip.leadershipHints()[group]?.leader
    }

    /// Records where `group` is led (nil: forget it), as an answer or a redirect said.
    package func setLeader(_ leader: NodeID?, of group: RaftGroupID) {
        leaders.withLock { $0[group] = leader }
    }

    /// Forgets the leader of `group` if it is `node` (a call to it failed).
    package func forgetLeader(of group: RaftGroupID, ifItIs node: NodeID) {
        leaders.withLock { table in
            if table[group] == node { table[group] = nil }
        }
    }

    /// Whether gossip has declared `node` dead or gone: a call to it is not worth its connect timeout.
    package func isDown(_ node: NodeID) -> Bool {
        guard let status = gossip.member(node)?.status else { return false }
        return status.isDead || status.isLeft
    }

    /// Whether gossip sees no other node alive while it knows of some (`SWIM.isCutOff`): no leader this process
    /// could find is reachable, so a call fails now as ServiceUnavailable instead of being forwarded.
    package var isCutOff: Bool { gossip.isCutOff }

    /// Where to try `group`, best first: a redirect's hint, the known leader, then every node by health;
    /// never this process, and without nodes gossip has declared dead (unless nothing else is left).
    package func candidates(for group: RaftGroupID, hint: NodeID?) -> [NodeID] {
        LeaderChoice.candidates(
            hint: hint,
            known: knownLeader(of: group),
            others: nodesByHealth(),
            me: me,
            isDown: isDown
        )
    }

    // MARK: - Calls

    /// Sends `call` to `peer` (`PeerTransport.call`): `.notDelivered` only when it provably never arrived.
    package func send(
        _ call: PeerCall,
        to peer: NodeID,
        timeout: Duration? = nil,
        abandonment: RequestAbandonment? = nil
    ) async throws -> PeerOutcome {
        try await transport.call(call, to: peer, timeout: timeout ?? callTimeout, abandonment: abandonment)
    }

    /// Sends a whole client call to `target` (as JSON, or as the client's CBOR for `takesCBORBody`) and reads
    /// its answer; nil when it provably never arrived, so the caller may try again. An answer other than a
    /// response throws what it means (`failure`).
    package func forward(
        _ request: APIRequest,
        to target: NodeID,
        abandonment: RequestAbandonment? = nil
    ) async throws -> APIResponse? {
        let cborReply = request.replyProtocol == .cbor && Self.repliesInCBOR.contains(request.operation)
        return try await forward(request, to: target, cborReply: cborReply, abandonment: abandonment)
    }

    /// `forward(_:to:)`, asking for a CBOR reply when `cborReply`, and sending a CBOR body as it is when the
    /// operation takes one. A node older than the CBOR reply (kind 12) or the CBOR body (kind 13) answers that
    /// it could not read the call, so did nothing: the same call goes again, all in JSON.
    private func forward(
        _ request: APIRequest,
        to target: NodeID,
        cborReply: Bool,
        abandonment: RequestAbandonment?
    ) async throws -> APIResponse? {
        let cborBody =
            cborReply && request.bodyEncoding == .cbor && request.producer == nil
            && Self.takesCBORBody.contains(request.operation)
        let body = cborBody ? request.body : try request.inJSON().body
        let call =
            if let producer = request.producer {
                PeerCall.forwardOnce(
                    operation: request.operation.rawValue,
                    signedRegion: request.signedRegion,
                    requestID: request.requestID,
                    body: body,
                    producer: producer,
                    caller: request.principal
                )
            } else {
                PeerCall.forward(
                    operation: request.operation.rawValue,
                    signedRegion: request.signedRegion,
                    requestID: request.requestID,
                    body: body,
                    caller: request.principal,
                    cborReply: cborReply,
                    cborBody: cborBody
                )
            }
        switch try await send(call, to: target, abandonment: abandonment) {
        case .notDelivered: return nil
        case .answered(.response(let body)): return APIResponse(body: body)
        case .answered(.cborResponse(let body)): return APIResponse(body: body, encoding: .cbor)
        case .answered(.error(let code, let message))
        where cborReply && request.producer == nil && code == KinesisErrorCode.internalFailure.rawValue
            && message == Self.unreadableRequest:
            return try await forward(request.inJSON(), to: target, cborReply: false, abandonment: abandonment)
        case .answered(let other): throw Self.failure(other, from: target)
        }
    }

    /// The operations whose serving node writes a CBOR reply itself (`RecordsService.getRecords`,
    /// `PutRecordsMerge`): only for them is a CBOR reply worth asking for; the rest are small and written in
    /// JSON anyway.
    static let repliesInCBOR: Set<KinesisOperation> = [.getRecords, .putRecords]

    /// The operations whose CBOR body goes to the serving node as the client wrote it (`PeerCall.forward`'s
    /// `cborBody`): a PutRecords, megabytes a transcoding to JSON would base64-encode on the way.
    static let takesCBORBody: Set<KinesisOperation> = [.putRecords]

    /// What a node answers a call it cannot read (`Node.answer(_:from:)`).
    package static let unreadableRequest = "unreadable peer request"

    /// Sends the whole call to the node that leads `group` and returns its answer, following redirects and
    /// skipping nodes that cannot be reached (`untilServed(_:_:)`).
    package func forward(_ request: APIRequest, toLeaderOf group: RaftGroupID) async throws -> APIResponse {
        try await untilServed(group) { target in
            try await self.watchingLeadership(of: group, at: target) { abandonment in
                try await self.forward(request, to: target, abandonment: abandonment)
            }
        }
    }

    /// Runs `body`, a call to `target` as the leader of `group`, and abandons it when the board sees `target`'s
    /// term end (`LeaderBoard.abandoningIfLeaderMoves`): a paused or cut-off leader is replaced within an
    /// election, and its callers need not wait out the call timeout. The abandoned call's outcome is unknown
    /// (InternalFailure), and `target` is forgotten as the group's leader, so the retry goes to its successor.
    package func watchingLeadership<T>(
        of group: RaftGroupID,
        at target: NodeID,
        with abandonment: RequestAbandonment = RequestAbandonment(),
        _ body: (RequestAbandonment) async throws -> T
    ) async throws -> T {
        do {
            return try await board.abandoningIfLeaderMoves(group, from: target, with: abandonment, body)
        } catch {
            if abandonment.isAbandoned { forgetLeader(of: group, ifItIs: target) }
            throw error
        }
    }

    /// The error a peer's answer stands for: `Redirect` when nothing was done there (NotLeader, with the hint
    /// unless it names the answerer itself), `ShardSealed` for an append a reshard refused, the Kinesis error
    /// it carries, or InternalFailure for an unknown outcome or an answer out of turn.
    package static func failure(_ answer: PeerAnswer, from target: NodeID) -> any Error {
        switch answer {
        case .notLeader(let hint): return Redirect(hint: hint.map { NodeID($0) }.flatMap { $0 == target ? nil : $0 })
        case .error(let code, let message):
            return KinesisError(KinesisErrorCode(rawValue: code) ?? .internalFailure, message)
        case .shardSealed: return ShardSealed()
        case .indeterminate(let reason): return KinesisError.internalFailure("\(reason); retry.")
        default: return KinesisError.internalFailure("node \(target) answered out of turn")
        }
    }

    // MARK: - Retrying

    /// Runs `attempt` until it returns a value (`ForwardRetry`): `attempt` gets the previous redirect's hint
    /// and returns nil when its target could not be reached.
    package func untilServed<T>(_ attempt: (NodeID?) async throws -> T?) async throws -> T {
        let retry = ForwardRetry(
            deadline: deadline,
            onRetry: events.onRetry,
            onGiveUp: events.onGiveUp,
            isCutOff: { [weak self] in self?.isCutOff ?? false }
        )
        return try await retry.untilServed(attempt)
    }

    /// Runs `attempt` against the best candidate for `group` until one answers: a redirect's hint first, then
    /// the known leader and every other node in order of health. A node that could not be reached is skipped
    /// for the rest of this call. `attempt` returns nil when its target was not reached.
    package func untilServed<T>(
        _ group: RaftGroupID,
        _ attempt: @escaping (NodeID) async throws -> T?
    ) async throws -> T {
        var unreachable: Set<NodeID> = []
        return try await untilServed { hint in
            let candidates = self.candidates(for: group, hint: hint).filter { !unreachable.contains($0) }
            guard let target = candidates.first else {
                // Everyone failed once: an election or a restart may have changed that; start over.
                unreachable = []
                return nil
            }
            self.events.onForward()
            do {
                guard let value = try await attempt(target) else {
                    unreachable.insert(target)
                    self.forgetLeader(of: group, ifItIs: target)
                    return nil
                }
                self.setLeader(target, of: group)
                return value
            } catch let redirect as Redirect {
                self.events.onRedirect()
                self.forgetLeader(of: group, ifItIs: target)
                if let next = redirect.hint { self.setLeader(next, of: group) }
                throw redirect
            }
        }
    }
}
