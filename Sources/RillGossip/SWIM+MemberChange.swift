extension SWIM {
    /// One change to a member's record as an observer sees it (`GossipAgent.observe`), with the questions every
    /// user of liveness asks about it answered in one place: the node's Raft groups, the forwarder's leader
    /// board and the peer transport must agree on what "gone" and "back" mean.
    public struct MemberChange: Sendable {
        /// The record before the change; nil the first time this instance hears of the member.
        public let old: Member?
        public let new: Member

        public init(old: Member?, new: Member) {
            self.old = old
            self.new = new
        }

        /// Whether the status or the incarnation changed (a payload-only change, such as new hints, did not).
        public var livenessChanged: Bool {
            old?.status.name != new.status.name || old?.incarnation != new.incarnation
        }

        /// The member has a later incarnation: it restarted, and whatever the old process led it leads no more. A
        /// member refuting a suspicion raises its incarnation too, and nothing tells the two apart here, so a
        /// refutation counts as a restart: at worst, followers of a live leader campaign needlessly once.
        public var restarted: Bool {
            old.map { $0.incarnation != new.incarnation } ?? false
        }

        /// The member's process may be gone, or be a new one: it turned suspect, dead or left, or restarted.
        /// Followers of it stop counting on it, and calls to it that its group has moved away from are given up.
        public var mayBeGone: Bool {
            livenessChanged && (!new.status.isAlive || restarted)
        }

        /// The member answers again: alive after this instance saw it suspect, dead or left, or alive as a new
        /// process. Links backing off from it redial, and leaders make sure its replicas hear from them.
        public var isBack: Bool {
            guard let old, new.status.isAlive else { return false }
            return !old.status.isAlive || old.incarnation != new.incarnation
        }
    }
}
