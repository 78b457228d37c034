import RillModel

/// Where to send a call for a group, best first: the one rule of nodes and routers.
public enum LeaderChoice {
    /// The candidates for a call: `hint` (a redirect's), then `known` (an answer's or gossip's), then `others`
    /// in their order; never `me`, each once, and without nodes `isDown` (unless nothing else is left).
    public static func candidates(
        hint: NodeID?,
        known: NodeID?,
        others: [NodeID],
        me: NodeID,
        isDown: (NodeID) -> Bool
    ) -> [NodeID] {
        var ordered: [NodeID] = []
        func add(_ id: NodeID?) {
            guard let id, id != me, !ordered.contains(id) else { return }
            ordered.append(id)
        }
        add(hint)
        add(known)
        for node in others { add(node) }
        let live = ordered.filter { !isDown($0) }
        return live.isEmpty ? ordered : live
    }
}
