import RillModel

extension Raft {
    /// One move of a leader toward a group's target membership: a single-server change (thesis §4.1) or,
    /// when the leader itself must leave the voters, handing leadership to a target voter first.
    public enum ReconfigurationStep: Sendable, Equatable {
        case addLearner(NodeID)
        /// Promotes a learner that has caught up.
        case promote(NodeID)
        /// Demotes a voter to learner (the metadata group keeps every node as at least a learner).
        case demote(NodeID)
        case remove(NodeID)
        case transferLeadership(to: NodeID)

        /// The configuration change this step proposes; nil for a transfer.
        public var change: ConfigurationChange? {
            switch self {
            case .addLearner(let id), .demote(let id): .addLearner(id)
            case .promote(let id): .addVoter(id)
            case .remove(let id): .remove(id)
            case .transferLeadership: nil
            }
        }
    }

    /// Where a group's membership should go, and how the leader gets it there one safe step at a time.
    ///
    /// Order matters for fault tolerance: every new voter joins as a learner and is promoted only once it has
    /// caught up (thesis §4.2.1, so it cannot stall commits), and nobody leaves until every target voter votes.
    /// Replacing C by D in {A, B, C} passes through {A, B, C, D}, which still tolerates one failure.
    public struct Reconfiguration: Sendable, Equatable {
        public var voters: Set<NodeID>
        public var learners: Set<NodeID>

        public init(voters: Set<NodeID>, learners: Set<NodeID> = []) {
            self.voters = voters
            self.learners = learners.subtracting(voters)
        }

        /// Whether `configuration` is the target already.
        public func isReached(by configuration: Configuration) -> Bool {
            configuration.voters == voters && configuration.learners == learners
        }

        /// The next step from `current`, as seen by leader `leader`, or nil when there is nothing to do yet
        /// (target reached, or waiting for a learner to catch up).
        ///
        /// - Parameters:
        ///   - lag: how many entries a member lacks, from the leader's progress; nil when unknown.
        ///   - promotionLag: a learner this close to the leader's log is promoted.
        public func nextStep(
            from current: Configuration,
            leader: NodeID,
            lag: (NodeID) -> UInt64?,
            promotionLag: UInt64
        ) -> ReconfigurationStep? {
            guard !voters.isEmpty else { return nil }
            for id in voters.union(learners).sorted() where !current.members.contains(id) {
                return .addLearner(id)
            }
            var waiting = false
            for id in voters.sorted() where current.learners.contains(id) {
                guard let behind = lag(id), behind <= promotionLag else {
                    waiting = true
                    continue
                }
                return .promote(id)
            }
            // Nobody leaves the voters before every target voter votes.
            if waiting { return nil }
            let leaving = current.voters.subtracting(voters)
            if leaving.contains(leader) {
                let heirs = voters.sorted().compactMap { id in lag(id).map { (id, $0) } }
                guard let heir = heirs.min(by: { $0.1 < $1.1 }), heir.1 <= promotionLag else { return nil }
                return .transferLeadership(to: heir.0)
            }
            for id in leaving.sorted() {
                return learners.contains(id) ? .demote(id) : .remove(id)
            }
            for id in current.learners.subtracting(learners).subtracting(voters).sorted() {
                return .remove(id)
            }
            return nil
        }
    }
}

extension Raft.Reconfiguration {
    /// The next step as `leader` sees it, each member's lag read from the leader's progress: the one reading
    /// the runtime's driver and the simulations share, so they judge "caught up" alike.
    ///
    /// A member that has matched nothing yet (match 0: it never acknowledged an append, perhaps it has not even
    /// opened the group) has no known lag, however short the log: a learner is promoted, or chosen as heir,
    /// only once it has answered. Promoting a silent learner of a short log (a closed parent, a new child) would
    /// count it in the quorum of a group it does not run yet; with one voter down, the group would have no
    /// majority left (found by `rill chaos --faults replace`: {A, B, C} with C dead became {A, B, C, D} with D
    /// silent, and no leader could be elected).
    public func nextStep(leading leader: Raft.Core, promotionLag: UInt64) -> Raft.ReconfigurationStep? {
        let last = leader.log.lastIndex.rawValue
        let lag: (NodeID) -> UInt64? = { peer in
            guard peer == leader.id || (leader.progress[peer]?.match ?? .zero) > .zero else { return nil }
            return leader.progress[peer].map { last &- min($0.match.rawValue, last) }
        }
        return nextStep(from: leader.configuration, leader: leader.id, lag: lag, promotionLag: promotionLag)
    }
}
