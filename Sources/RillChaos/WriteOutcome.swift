/// What a client learned about one attempt at a record (and, merged over a retrying writer's attempts, about the
/// record: `WriteEvent.merging`).
public enum WriteOutcome: String, Sendable, Codable, CaseIterable {
    /// Acknowledged: the server returned the record's shard and sequence number.
    case ok
    /// Definitely not written: the server answered with an error that promises nothing was appended.
    case fail
    /// Indeterminate: the record may or may not have been written (Jepsen's `:info`).
    case info

    /// Kinesis error codes whose meaning is "nothing was appended": the request was refused before it reached
    /// a log (validation, unknown stream or shard, throttling, including PutRecords' per-record throttling).
    ///
    /// Every other failure, `InternalFailure` (the API model's only `fault`), `ServiceUnavailable`, timeouts and
    /// dropped connections, may come after the append, so it is indeterminate.
    public static let definiteErrorCodes: Set<String> = [
        "ValidationException",
        "InvalidArgumentException",
        "SerializationException",
        "ResourceNotFoundException",
        "ProvisionedThroughputExceededException",
    ]

    /// The outcome a failed write has, given its Kinesis error code or a client-side label such as "timeout".
    public static func forError(_ code: String) -> WriteOutcome {
        definiteErrorCodes.contains(code) ? .fail : .info
    }
}
