import RillCluster
import RillModel
import RillReplication

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
