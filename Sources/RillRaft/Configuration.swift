import RillModel

extension Raft {
    /// The members of a group: voters decide elections and commits; learners only receive the log.
    ///
    /// Stored in `config` entries as: version byte `1`, voter count (UInt32 BE), voter ids (UInt64 BE),
    /// learner count (UInt32 BE), learner ids (UInt64 BE), ids ascending.
    public struct Configuration: Sendable, Equatable, CustomStringConvertible {
        public var voters: Set<NodeID>
        public var learners: Set<NodeID>

        public init(voters: Set<NodeID>, learners: Set<NodeID> = []) {
            self.voters = voters
            self.learners = learners.subtracting(voters)
        }

        /// Voters and learners: everyone the leader replicates to.
        public var members: Set<NodeID> { voters.union(learners) }

        public var description: String {
            let v = voters.sorted().map(\.description).joined(separator: ",")
            let l = learners.sorted().map(\.description).joined(separator: ",")
            return l.isEmpty ? "voters=(\(v))" : "voters=(\(v)) learners=(\(l))"
        }

        /// The configuration after one single-server change (thesis §4.1), or nil if the change is invalid.
        public func applying(_ change: ConfigurationChange) -> Configuration? {
            var next = self
            switch change {
            case .addVoter(let id):
                guard !voters.contains(id) else { return nil }
                next.learners.remove(id)
                next.voters.insert(id)
            case .addLearner(let id):
                guard !learners.contains(id) else { return nil }
                // Demoting a voter is a change of the voter set; keep at least one voter.
                if voters.contains(id) && voters.count == 1 { return nil }
                next.voters.remove(id)
                next.learners.insert(id)
            case .remove(let id):
                guard members.contains(id), voters != [id] else { return nil }
                next.voters.remove(id)
                next.learners.remove(id)
            }
            return next
        }

        /// The payload of a `config` entry.
        public var encoded: [UInt8] {
            var bytes: [UInt8] = [1]
            for set in [voters, learners] {
                let ids = set.sorted()
                withUnsafeBytes(of: UInt32(ids.count).bigEndian) { bytes.append(contentsOf: $0) }
                for id in ids { withUnsafeBytes(of: id.rawValue.bigEndian) { bytes.append(contentsOf: $0) } }
            }
            return bytes
        }

        /// Decodes a `config` entry payload; nil when it is malformed.
        public init?(decoding bytes: [UInt8]) {
            guard bytes.first == 1 else { return nil }
            var offset = 1
            func readInteger(width: Int) -> UInt64? {
                guard offset + width <= bytes.count else { return nil }
                var value: UInt64 = 0
                for byte in bytes[offset..<offset + width] { value = value << 8 | UInt64(byte) }
                offset += width
                return value
            }
            var sets: [Set<NodeID>] = []
            for _ in 0..<2 {
                guard let count = readInteger(width: 4), count <= UInt64(bytes.count) else { return nil }
                var set: Set<NodeID> = []
                for _ in 0..<count {
                    guard let id = readInteger(width: 8) else { return nil }
                    set.insert(NodeID(id))
                }
                sets.append(set)
            }
            guard offset == bytes.count, sets[0].isDisjoint(with: sets[1]) else { return nil }
            self.init(voters: sets[0], learners: sets[1])
        }
    }

    /// One single-server membership change (thesis §4.1). Replacing a replica is add-learner, add-voter, remove.
    public enum ConfigurationChange: Sendable, Equatable {
        /// Adds a voter, or promotes a learner.
        case addVoter(NodeID)
        /// Adds a learner, or demotes a voter.
        case addLearner(NodeID)
        /// Removes a voter or learner.
        case remove(NodeID)
    }
}
