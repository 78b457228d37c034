import RillModel

extension SWIM {
    /// Whether the process `me`, whose view holds `members` (itself among them, or not), sees no other node alive
    /// while it knows of some (routers, which hold no groups, and nodes that left aside): it is cut off, or every
    /// other node is down, so no leader it could find is reachable. Its calls then fail at once as
    /// ServiceUnavailable instead of being forwarded, and the calls already waiting are abandoned, so clients ask
    /// another node rather than wait out a deadline (a node cut off in the kernel held every writer that called
    /// it for its whole 3 s timeout).
    public static func isCutOff(me: NodeID, members: some Sequence<Member>) -> Bool {
        var others = false
        for member in members where member.role == .node && member.id != me && !member.status.isLeft {
            if member.status.isAlive { return false }
            others = true
        }
        return others
    }
}

extension SWIM.Instance {
    /// `SWIM.isCutOff` for this instance's view.
    public var isCutOff: Bool { SWIM.isCutOff(me: myself.id, members: others.values) }
}
