import RillModel

extension SWIM.Instance {
    /// Publishes the groups this member knows the leader of (typically the ones it leads). Duplicates per group
    /// collapse to the newest term; an unchanged list sends nothing.
    public mutating func setLeadershipHints(_ hints: [SWIM.LeadershipHint]) {
        let canonical = SWIM.LeadershipHint.canonical(hints)
        guard canonical != myself.hints else { return }
        updateMyself {
            $0.hints = canonical
            $0.hintsVersion += 1
        }
    }

    /// Publishes one more group this member leads, at once (a leader just elected), keeping the others; the
    /// next `setLeadershipHints` replaces the whole list as usual.
    public mutating func addLeadershipHint(_ hint: SWIM.LeadershipHint) {
        setLeadershipHints(myself.hints + [hint])
    }

    /// The best-known leader of every group any live member (ourselves included) published a hint for: the
    /// newest term wins across members.
    public func leadershipHints() -> [RaftGroupID: SWIM.LeadershipHint] {
        var best: [RaftGroupID: SWIM.LeadershipHint] = [:]
        for member in members where member.status.isLive {
            for hint in member.hints {
                if let known = best[hint.group], !hint.supersedes(known) { continue }
                best[hint.group] = hint
            }
        }
        return best
    }
}
