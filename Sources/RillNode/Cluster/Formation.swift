import RillCluster
import RillModel

/// Forming a new cluster from `--bootstrap-expect N` nodes that find each other through `--join`: a pure
/// value fed with what discovery hears. Every founder derives the same cluster UUID from the founders'
/// nonces, so no node has to be first and no second cluster can start from the same founders.
package struct Formation: Sendable {
    package let me: MemberAddress
    package let expect: Int
    package private(set) var known: [UInt64: MemberAddress]

    /// What discovery decided.
    package enum Outcome: Equatable {
        /// A new cluster of exactly these founders.
        case formed(clusterID: String, voters: [MemberAddress])
        /// The peers already form a cluster: this node joins it (a node with a wiped data dir lands here).
        case joined(clusterID: String, voters: [MemberAddress])
    }

    package init(me: MemberAddress, expect: Int) {
        self.me = me
        self.expect = max(1, expect)
        self.known = [me.id: me]
    }

    /// Takes in one node heard of; a newer address for a known id replaces the old one. A member without a
    /// nonce is a router looking for the cluster: it never founds one.
    package mutating func learn(_ member: MemberAddress) {
        guard member.id != me.id, !member.nonce.isEmpty else { return }
        known[member.id] = member
    }

    /// Takes in a peer's answer; an answer naming an existing cluster decides at once.
    mutating func learn(_ answer: PeerAnswer) -> Outcome? {
        guard case .discovered(let clusterID, let voters, let heard) = answer else { return nil }
        if let clusterID, !voters.isEmpty { return .joined(clusterID: clusterID, voters: voters) }
        for member in heard { learn(member) }
        return outcome
    }

    /// Formed once exactly `expect` founders are known. More than that is an operator error (two clusters'
    /// worth of nodes pointed at each other), so nothing forms and the caller says so.
    package var outcome: Outcome? {
        guard known.count == expect else { return nil }
        let voters = known.values.sorted { $0.id < $1.id }
        return .formed(clusterID: Self.clusterID(of: voters), voters: voters)
    }

    var tooMany: Bool { known.count > expect }

    /// A UUID-shaped digest of the founders' ids and nonces.
    static func clusterID(of founders: [MemberAddress]) -> String {
        let text = founders.sorted { $0.id < $1.id }.map { "\($0.id):\($0.nonce)" }.joined(separator: ",")
        let digest = SHA256.hash(Array(text.utf8))
        let hex = digest.prefix(16).map { byte in
            let digits = Array("0123456789abcdef")
            return String([digits[Int(byte >> 4)], digits[Int(byte & 15)]])
        }.joined()
        let characters = Array(hex)
        let groups = [0..<8, 8..<12, 12..<16, 16..<20, 20..<32].map { String(characters[$0]) }
        return groups.joined(separator: "-")
    }
}
