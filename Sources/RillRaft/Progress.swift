import RillModel

extension Raft {
    /// The leader's view of one follower's log (Raft §5.3 `nextIndex`/`matchIndex`), with etcd-io/raft's flow
    /// control: probe one append at a time until the match is found, then stream up to `maxInflight` appends.
    public struct Progress: Sendable, Equatable {
        /// How the leader currently sends to the follower.
        public enum State: Sendable, Equatable {
            /// Searching for the match point: one append per heartbeat interval.
            case probe
            /// Match known: appends are pipelined.
            case replicate
            /// Waiting for an InstallSnapshot of `index` to land.
            case snapshot(index: LogIndex)
        }

        /// The highest index known to match the leader's log.
        public var match: LogIndex
        /// The next index to send.
        public var next: LogIndex
        public var state: State = .probe
        /// In `probe`: an append is outstanding, wait for its answer or the next heartbeat.
        public var probeSent = false
        /// Whether the follower answered since the last check-quorum round (thesis §6.2).
        public var recentActive = false
        /// Last indexes of appends in flight while replicating, oldest first.
        public var inflight: [LogIndex] = []
        /// The commit index carried by the last append sent. Heartbeats cap the commit they carry at the
        /// match, so a follower learns the full commit index only from an append (etcd-io/raft `sentCommit`);
        /// an abstaining follower waits for exactly that.
        public var sentCommit: LogIndex = .zero

        public init(match: LogIndex, next: LogIndex) {
            self.match = match
            self.next = next
        }

        /// Whether the leader should hold further appends back.
        func isPaused(maxInflight: Int) -> Bool {
            switch state {
            case .probe: probeSent
            case .replicate: inflight.count >= maxInflight
            case .snapshot: true
            }
        }

        mutating func becomeProbe() {
            if case .snapshot(let index) = state {
                next = max(match.next, index.next)
            } else {
                next = match.next
            }
            state = .probe
            probeSent = false
            inflight = []
            sentCommit = .zero
        }

        mutating func becomeReplicate() {
            state = .replicate
            next = match.next
            probeSent = false
            inflight = []
        }

        mutating func becomeSnapshot(index: LogIndex) {
            state = .snapshot(index: index)
            probeSent = false
            inflight = []
        }

        /// Records an acknowledgement up to `index`; false when it tells nothing new.
        mutating func maybeUpdate(_ index: LogIndex) -> Bool {
            var updated = false
            if index > match {
                match = index
                updated = true
                probeSent = false
            }
            next = max(next, index.next)
            inflight.removeAll { $0 <= index }
            return updated
        }

        /// The follower no longer holds entries it acknowledged (its disk was wiped or cut by damage): start
        /// over from what it says it has.
        mutating func regress(to hint: LogIndex) {
            match = hint
            state = .probe
            next = hint.next
            probeSent = false
            inflight = []
        }

        /// Handles a rejection of the append at `rejected`; `matchHint` is the highest index that may match.
        /// False when the rejection is stale (an answer to an older append).
        mutating func maybeDecrease(rejected: LogIndex, matchHint: LogIndex) -> Bool {
            if state == .replicate {
                // Pipelined appends: a rejection at or below the match is a late duplicate.
                if rejected <= match { return false }
                next = match.next
                return true
            }
            // Probing: only the answer to the latest probe counts.
            if next.previous != rejected { return false }
            next = max(min(rejected, matchHint.next), match.next)
            probeSent = false
            return true
        }
    }
}
