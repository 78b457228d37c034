import RillModel
import RillReplication

/// This node cannot serve the call here: another node leads the group (or none does yet). Nothing was
/// proposed, so the one forwarder may send the call on (ARCHITECTURE.md, "One forwarder").
struct Redirect: Error {
    var hint: NodeID?
}

extension Redirect {
    /// The proposal outcomes that provably appended nothing; nil for the others (indeterminate or superseded).
    init?(_ error: RaftGroupDriver.ProposalError) {
        switch error {
        case .notLeader(let hint): self.init(hint: hint)
        case .dropped, .notRunning: self.init(hint: nil)
        case .indeterminate, .superseded: return nil
        }
    }
}
