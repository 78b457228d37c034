import RillGossip
import RillModel
import Testing

/// SWIM §4.2 precedence, one row per rule, and what it means for a view.
@Suite struct MergeTests {
    struct Row: CustomTestStringConvertible, Sendable {
        var incoming: (SWIM.Status, UInt64)
        var current: (SWIM.Status, UInt64)
        var wins: Bool
        var testDescription: String { "\(incoming.0)(\(incoming.1)) over \(current.0)(\(current.1)): \(wins)" }
    }

    static let rows: [Row] = [
        // alive(i) overrides suspect(j) and alive(j) only if i > j, and dead only from a later life.
        Row(incoming: (.alive, 2), current: (.alive, 1), wins: true),
        Row(incoming: (.alive, 1), current: (.alive, 1), wins: false),
        Row(incoming: (.alive, 2), current: (Fixtures.suspect(3), 1), wins: true),
        Row(incoming: (.alive, 1), current: (Fixtures.suspect(3), 1), wins: false),
        Row(incoming: (.alive, 1), current: (.dead, 1), wins: false),
        Row(incoming: (.alive, 2), current: (.dead, 1), wins: true),
        // suspect(i) overrides alive(j) if i ≥ j and suspect(j) if i > j.
        Row(incoming: (Fixtures.suspect(3), 1), current: (.alive, 1), wins: true),
        Row(incoming: (Fixtures.suspect(3), 0), current: (.alive, 1), wins: false),
        Row(incoming: (Fixtures.suspect(3), 2), current: (Fixtures.suspect(4), 1), wins: true),
        Row(incoming: (Fixtures.suspect(3), 1), current: (Fixtures.suspect(4), 1), wins: false),
        Row(incoming: (Fixtures.suspect(3), 1), current: (.dead, 1), wins: false),
        // dead(i) overrides alive(j) and suspect(j) if i ≥ j.
        Row(incoming: (.dead, 1), current: (.alive, 1), wins: true),
        Row(incoming: (.dead, 1), current: (Fixtures.suspect(3), 1), wins: true),
        Row(incoming: (.dead, 0), current: (.alive, 1), wins: false),
        Row(incoming: (.dead, 1), current: (.dead, 1), wins: false),
        // left is final for its incarnation: it beats everything at i ≥ j, and only a later life beats it.
        Row(incoming: (.left, 1), current: (.dead, 1), wins: true),
        Row(incoming: (.left, 1), current: (.alive, 1), wins: true),
        Row(incoming: (.dead, 1), current: (.left, 1), wins: false),
        Row(incoming: (.alive, 1), current: (.left, 1), wins: false),
        Row(incoming: (.alive, 2), current: (.left, 1), wins: true),
    ]

    @Test("Status precedence", arguments: rows)
    func precedence(row: Row) {
        let incoming = Fixtures.member(2, incarnation: row.incoming.1, status: row.incoming.0)
        let current = Fixtures.member(2, incarnation: row.current.1, status: row.current.0)
        #expect(incoming.statusSupersedes(current) == row.wins)
    }

    @Test("A view applies the precedence: what loses changes nothing", arguments: rows)
    func viewFollowsPrecedence(row: Row) {
        var instance = Fixtures.instance(1)
        let current = Fixtures.member(2, incarnation: row.current.1, status: row.current.0)
        instance.receive(.gossip([current]), from: NodeID(3))
        instance.receive(
            .gossip([Fixtures.member(2, incarnation: row.incoming.1, status: row.incoming.0)]),
            from: NodeID(3)
        )
        let seen = instance.member(NodeID(2))!
        let expected = row.wins ? row.incoming : row.current
        #expect(seen.incarnation == expected.1)
        #expect(Fixtures.kind(seen.status) == Fixtures.kind(expected.0))
    }

    @Test("Suspicions at one incarnation pool their confirmations")
    func confirmationsUnion() {
        var instance = Fixtures.instance(1)
        instance.receive(.gossip([Fixtures.member(2, status: Fixtures.suspect(3))]), from: NodeID(3))
        instance.receive(.gossip([Fixtures.member(2, status: Fixtures.suspect(4, 5))]), from: NodeID(4))
        guard case .suspect(_, let confirmations) = instance.member(NodeID(2))?.status else {
            Issue.record("not suspect")
            return
        }
        #expect(confirmations == [NodeID(3), NodeID(4), NodeID(5)])
    }

    @Test("A dead verdict in a push-pull only starts our own suspicion")
    func pushPullDeathOnlySuspects() {
        var instance = Fixtures.instance(1)
        instance.receive(.gossip([Fixtures.member(2), Fixtures.member(3)]), from: NodeID(2))
        _ = instance.takeEffects()
        instance.receive(.pushPull(members: [Fixtures.member(2, status: .dead)], isReply: false), from: NodeID(3))
        #expect(instance.member(NodeID(2))?.status.description == "suspect(3)")
        let replies = Fixtures.sends(instance.takeEffects()).filter {
            if case .pushPull(_, true) = $0.message { Fixtures.target($0.to) == NodeID(3) } else { false }
        }
        #expect(replies.count == 1)
        // Piggybacked, the same verdict is taken as it is.
        instance.receive(.gossip([Fixtures.member(2, status: .dead)]), from: NodeID(3))
        #expect(instance.member(NodeID(2))?.status == .dead)
    }

    @Test("The payload follows (incarnation, hintsVersion), independently of the status")
    func payloadOrdering() {
        var instance = Fixtures.instance(1)
        var newer = Fixtures.member(2, incarnation: 3)
        newer.hintsVersion = 5
        newer.apiAddress = "new:1"
        instance.receive(.gossip([newer]), from: NodeID(2))
        // A suspicion at the same incarnation with an older payload takes the status only.
        var suspicion = Fixtures.member(2, incarnation: 3, status: Fixtures.suspect(4))
        suspicion.hintsVersion = 4
        suspicion.apiAddress = "old:1"
        instance.receive(.gossip([suspicion]), from: NodeID(4))
        let seen = instance.member(NodeID(2))!
        #expect(seen.status.isSuspect)
        #expect(seen.apiAddress == "new:1")
        #expect(seen.hintsVersion == 5)
    }
}
