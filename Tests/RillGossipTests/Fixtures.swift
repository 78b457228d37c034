import RillGossip
import RillModel

/// Records and instances for single-instance tests.
enum Fixtures {
    static func member(_ id: UInt64, incarnation: UInt64 = 0, status: SWIM.Status = .alive) -> SWIM.Member {
        SWIM.Member(
            id: NodeID(id),
            zone: Zone("az-\(id % 3)"),
            role: .node,
            apiAddress: "10.0.0.\(id):4567",
            peerAddress: "10.0.0.\(id):7946",
            incarnation: incarnation,
            status: status
        )
    }

    static func instance(_ id: UInt64, settings: SWIM.Settings = .default, seed: UInt64 = 1) -> SWIM.Instance {
        SWIM.Instance(
            id: NodeID(id),
            zone: Zone("az-\(id % 3)"),
            role: .node,
            apiAddress: "10.0.0.\(id):4567",
            peerAddress: "10.0.0.\(id):7946",
            settings: settings,
            random: SplitMix64(seed: seed)
        )
    }

    static func suspect(_ by: UInt64...) -> SWIM.Status {
        .suspect(since: .zero, confirmations: Set(by.map { NodeID($0) }))
    }

    /// The messages among `effects`, with where they go.
    static func sends(_ effects: [SWIM.Effect]) -> [(message: SWIM.Message, to: SWIM.Destination)] {
        effects.compactMap { effect in
            guard case .send(let message, let destination) = effect else { return nil }
            return (message, destination)
        }
    }

    /// The status without its details: alive, suspect, dead or left.
    static func kind(_ status: SWIM.Status) -> String {
        String(status.description.prefix { $0 != "(" })
    }

    static func target(_ destination: SWIM.Destination) -> NodeID? {
        if case .node(let id, _) = destination { id } else { nil }
    }
}
