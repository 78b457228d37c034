import Logging

/// The client request a task is serving, for its log lines: `request.id`, the `x-amzn-RequestId` the client
/// got back (a forwarded call keeps the id its first node gave it).
///
/// A task-local read by a metadata provider rather than a per-request `Logger` with the id set: the provider
/// runs only for lines that pass the level check, so PutRecords and GetRecords build no metadata dictionary
/// for lines that are dropped, and `Node`'s methods keep their one logger (node id and zone) unchanged.
public enum RequestLogContext {
    /// The id of the request this task serves, if any.
    @TaskLocal public static var requestID: String?

    /// Adds `request.id` to every line logged while a request id is bound; install it once per process
    /// (`LoggingSystem.bootstrap(_:metadataProvider:)`) or on a test's log handler.
    public static let metadataProvider = Logger.MetadataProvider {
        guard let requestID else { return [:] }
        return ["request.id": .string(requestID)]
    }

    /// Runs `operation` with no request bound: for tasks that outlive the request that happened to start them
    /// (a shard's Raft loops), whose lines are about the group, not that request.
    public static func unbound<T>(_ operation: () throws -> T) rethrows -> T {
        try $requestID.withValue(nil, operation: operation)
    }
}
