import RillAPI
import RillKinesis
import RillModel

/// The answer to a `PeerCall`.
package enum PeerAnswer: Sendable, Equatable {
    /// Discovery: the responder's cluster (nil while forming), its voters, and every node it has heard of.
    case discovered(clusterID: String?, voters: [MemberAddress], known: [MemberAddress])
    /// A forwarded call's successful body.
    case response([UInt8])
    /// A forwarded call's successful body, written in CBOR for a `cborReply` call.
    case cborResponse([UInt8])
    /// A Kinesis error: definite, nothing was written.
    case error(code: String, message: String?)
    case appended(index: UInt64, stampMillis: Int64)
    /// An idempotent producer's batch: each record's position (new, or its first copy's) or error, in order.
    case appendedOnce([Result<RecordPosition, KinesisError>])
    case sealed(index: UInt64)
    /// This node does not lead the group (leader hint attached if known); nothing was proposed, so the caller
    /// may try again elsewhere.
    case notLeader(hint: UInt64?)
    /// The shard was sealed by a reshard before the append; nothing readable was written.
    case shardSealed
    /// The outcome is unknown (leadership lost after proposing): the caller must not retry.
    case indeterminate(String)
    /// A stream's metadata as JSON (`StreamMetadata`), and the key its shard iterators are sealed with, so a
    /// router can route GetRecords by iterator.
    case routes(stream: [UInt8], iteratorKey: [UInt8])
    /// A shard leader's answer to `reconfigure`: whether its committed membership is the target now.
    case reconfiguration(reached: Bool)
    /// Discovery by a node that was removed from this cluster: it must not take part again.
    case removed(clusterID: String)
    /// A node's running write totals of on-demand shards, for the controller's scaling round.
    case writeTotals([ShardWriteMeter.Totals])
    /// This node's metrics for a `metrics` call.
    case metrics(MetricStore)
    /// A sealed shard's final producer window (`ProducerWindow.encoded()`), for `PeerCall.producerWindow`.
    case producerWindow([UInt8])
    /// The answer to `PeerCall.restCheck`: the positions, in the call's list, of the groups this node's
    /// replicas disagree with (`RestCheck.disagreeing`).
    case restCheck(disagreeing: [UInt32])

}
