import RillKinesis

/// The events of one SubscribeToShard call, as the HTTP layer writes them out: the `initial-response`, then
/// events until `next()` returns nil. A node's `ShardSubscription` is the one implementation.
public protocol EventSubscription: Sendable {
    /// The mandatory first message.
    var initialResponse: EventStreamMessage { get }
    /// The next event, or nil when the subscription is over. Throws when the task is cancelled.
    mutating func next() async throws -> EventStreamMessage?
}
