import RillClient

/// An event of a worker loop (`rill tail --group`, `rill trigger`) that may carry the connection its call used,
/// so the connection goes back to the loop's pool when the event is handled.
protocol PooledCallEvent: Sendable {
    /// The Kinesis error code of the call's failure, if it failed; "transport" when the connection broke.
    var failureCode: String? { get }
    /// The same event carrying `connection`.
    func with(_ connection: KinesisClient) -> Self
}

extension ThrowingTaskGroup where ChildTaskResult: PooledCallEvent, Failure == any Error {
    /// Runs `call` after `delay` on `pooled`, an idle connection of the loop's pool, or on a new one from
    /// `connect`, and returns its event carrying the connection. A transport failure leaves the connection in
    /// doubt: it is replaced before it goes back to the pool.
    mutating func addPooledCall(
        after delay: Duration,
        on pooled: KinesisClient?,
        connect: @escaping @Sendable () async throws -> KinesisClient,
        _ call: @escaping @Sendable (KinesisClient) async -> ChildTaskResult
    ) {
        addTask {
            if delay > .zero { try await Task.sleep(for: delay) }
            var connection = if let pooled { pooled } else { try await connect() }
            let event = await call(connection)
            if event.failureCode == "transport" { try? await connection.reconnect() }
            return event.with(connection)
        }
    }
}
