import RillModel

extension RaftGroupDriver {
    /// A sole voter that did not lead and apply its log within its deadline.
    public struct StartTimeout: Error, Sendable, CustomStringConvertible {
        public var group: RaftGroupID
        public var deadline: Duration
        public var description: String { "group \(group) did not become leader within \(deadline)" }
    }

    /// Starts a group whose only voter is this node, elects it at once rather than after an election
    /// timeout, and waits until everything committed before is applied.
    ///
    /// - Throws: the storage error that halted the group, or `StartTimeout`.
    public func startAsSoleVoter(deadline: Duration = .seconds(30)) async throws {
        start()
        campaign()
        let end = clock.elapsed + deadline
        let target = storage.log.lastIndex
        while true {
            let status = self.status
            if status.role == .leader, status.applied >= target { return }
            if let failure { throw failure }
            guard clock.elapsed < end else { throw StartTimeout(group: group, deadline: deadline) }
            // Polled: the group elects and applies within a few Readys, each far shorter than this.
            try await clock.sleep(until: clock.elapsed + .milliseconds(2))
        }
    }
}
