import RillModel

extension SWIM {
    /// What a member does in the cluster; routers hold no replicas.
    public enum Role: UInt8, Hashable, Sendable, CaseIterable, CustomStringConvertible {
        case node = 1
        case router = 2

        public var description: String {
            switch self {
            case .node: "node"
            case .router: "router"
            }
        }
    }

    /// One member as some instance sees it: identity, addresses, liveness and published leadership hints.
    ///
    /// The same value travels as gossip. Two versions order independently (`SWIM+Merge.swift`): the status by
    /// (`incarnation`, status precedence), the payload (zone, role, addresses, hints) by
    /// (`incarnation`, `hintsVersion`), so a newer hint list never clears a suspicion and a suspicion never
    /// reverts a hint list.
    public struct Member: Hashable, Sendable, CustomStringConvertible {
        public var id: NodeID
        public var zone: Zone
        public var role: Role
        /// Where clients reach the member's Kinesis API, `host:port`.
        public var apiAddress: String
        /// Where peers reach the member's gossip, Raft and RPC listener, `host:port`.
        public var peerAddress: String
        /// Raised only by the member itself: to refute a suspicion, or on restart. Orders its status updates.
        public var incarnation: UInt64
        public var status: Status
        /// Raised by the member whenever it publishes a new hint list, never lowered within one incarnation.
        public var hintsVersion: UInt64
        /// The Raft groups this member last knew the leader of. Hints, not truth: Raft decides.
        public var hints: [LeadershipHint]

        public init(
            id: NodeID,
            zone: Zone,
            role: Role,
            apiAddress: String,
            peerAddress: String,
            incarnation: UInt64 = 0,
            status: Status = .alive,
            hintsVersion: UInt64 = 0,
            hints: [LeadershipHint] = []
        ) {
            self.id = id
            self.zone = zone
            self.role = role
            self.apiAddress = apiAddress
            self.peerAddress = peerAddress
            self.incarnation = incarnation
            self.status = status
            self.hintsVersion = hintsVersion
            self.hints = hints
        }

        public var description: String {
            "\(id)@\(peerAddress) \(status) inc=\(incarnation) zone=\(zone) role=\(role)"
                + " hints=\(hints.count)v\(hintsVersion)"
        }
    }

    /// A member's liveness in one instance's view.
    public enum Status: Hashable, Sendable, CustomStringConvertible {
        /// Answering probes, or refuted the last suspicion.
        case alive
        /// A probe failed. `since` is on the clock of the instance holding the value (a receiver restamps it);
        /// `confirmations` are the members that suspected it independently, each of which shortens the
        /// suspicion timeout (Lifeguard §4.2).
        case suspect(since: Tick, confirmations: Set<NodeID>)
        /// Suspected for the whole suspicion timeout without refuting. A later incarnation revives it.
        case dead
        /// Left gracefully. Final for this incarnation: only a later one (a restart) comes back.
        case left

        public var isAlive: Bool { if case .alive = self { true } else { false } }
        public var isSuspect: Bool { if case .suspect = self { true } else { false } }
        public var isDead: Bool { if case .dead = self { true } else { false } }
        public var isLeft: Bool { if case .left = self { true } else { false } }
        /// Alive or suspect: still probed, still counted in the cluster size.
        public var isLive: Bool { isAlive || isSuspect }

        /// The status without its details, for logs and metric labels.
        public var name: String {
            switch self {
            case .alive: "alive"
            case .suspect: "suspect"
            case .dead: "dead"
            case .left: "left"
            }
        }

        /// Precedence at equal incarnation: alive < suspect < dead < left (SWIM §4.2; left is memberlist's
        /// "dead, from the member itself", which nothing at the same incarnation may undo).
        var rank: Int {
            switch self {
            case .alive: 0
            case .suspect: 1
            case .dead: 2
            case .left: 3
            }
        }

        public var description: String {
            switch self {
            case .alive: "alive"
            case .suspect(_, let confirmations):
                "suspect(\(confirmations.sorted().map(\.description).joined(separator: ",")))"
            case .dead: "dead"
            case .left: "left"
            }
        }
    }
}
