import RillCluster
import RillNode
import Testing

@Suite struct FormationTests {
    static func founder(_ id: UInt64) -> MemberAddress {
        MemberAddress(
            id: id,
            zone: "az-\(id)",
            peer: "127.0.0.1:\(4600 + id)",
            api: "127.0.0.1:\(4500 + id)",
            nonce: "n\(id)"
        )
    }

    @Test func threeFoundersFormOneClusterWhoeverHearsFirst() {
        var first = Formation(me: Self.founder(1), expect: 3)
        var last = Formation(me: Self.founder(3), expect: 3)
        first.learn(Self.founder(2))
        #expect(first.outcome == nil)
        first.learn(Self.founder(3))
        last.learn(Self.founder(2))
        last.learn(Self.founder(1))
        guard case .formed(let id, let voters)? = first.outcome, case .formed(let other, _)? = last.outcome else {
            Issue.record("no cluster formed")
            return
        }
        #expect(id == other)
        #expect(voters.map(\.id) == [1, 2, 3])
    }

    /// A router asks the forming nodes for the cluster too; it must never be taken for a founder (it has no
    /// nonce), or a fourth "founder" would stop three nodes from forming.
    @Test func aRouterLookingForTheClusterIsNoFounder() {
        var formation = Formation(me: Self.founder(1), expect: 3)
        formation.learn(
            MemberAddress(id: 1 << 40, zone: "none", peer: "127.0.0.1:4667", api: "127.0.0.1:4567", nonce: "")
        )
        formation.learn(Self.founder(2))
        formation.learn(Self.founder(3))
        guard case .formed(_, let voters)? = formation.outcome else {
            Issue.record("the router kept the founders from forming")
            return
        }
        #expect(voters.map(\.id) == [1, 2, 3])
    }
}
