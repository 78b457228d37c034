/// Why a chaos run could not be completed or judged: a harness failure, as opposed to a verdict.
public enum ChaosError: Error, Sendable, CustomStringConvertible {
    /// The harness itself failed (cannot spawn, cannot write files, cannot reach the cluster at all).
    case harness(String)
    /// The cluster never recovered enough to be checked: not ready, final read incomplete.
    case unrecovered(String)
    /// Stopped by a signal before the check.
    case interrupted

    public var description: String {
        switch self {
        case .harness(let message): "harness error: \(message)"
        case .unrecovered(let message): "cluster did not recover: \(message)"
        case .interrupted: "interrupted; every node was stopped, the partial history is kept"
        }
    }
}
