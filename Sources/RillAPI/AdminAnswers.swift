/// The answer to a `/admin/faults` call.
public enum FaultAnswer: Sendable {
    /// The faults now in force, as JSON.
    case current([UInt8])
    /// The node was not started with `--fault-injection`: nothing changed (HTTP 403).
    case disabled(String)
    /// The body is not a fault command this node can apply: nothing changed (HTTP 400).
    case invalid(String)
}

/// The answer of an operator endpoint that changes the cluster: an HTTP status and a line saying what happened.
public struct AdminAnswer: Sendable, Equatable {
    public var status: Int
    public var message: String
    public init(status: Int, message: String) {
        self.status = status
        self.message = message
    }
}
