import RillKinesis
import RillModel

extension AdminReport {
    /// Every consumer group in this node's catalog, for `GET /admin/status` (`rill status` shows the metadata
    /// leader's): each lease's owner, whether it is held now by this node's clock, and its checkpoint with the log
    /// index it names, which `rill status` sets against the shard's last index to show the lag.
    func writeConsumerGroups(into w: inout JSONWriter) {
        let now = clock.nowMillis()
        w.beginArray()
        for (stream, group) in metadata.catalog.allConsumerGroups {
            w.beginObject()
            w.key("stream")
            w.string(stream.name)
            w.key("streamId")
            w.string(stream.id)
            w.key("group")
            w.string(group.name)
            w.key("failoverMillis")
            w.int(group.failoverMillis)
            w.key("leases")
            w.beginArray()
            for lease in group.leases.leases.values.sorted(by: { $0.shardID < $1.shardID }) {
                w.beginObject()
                w.key("shardId")
                w.string(lease.shardID)
                if let owner = lease.owner {
                    w.key("owner")
                    w.string(owner)
                }
                w.key("held")
                w.bool(lease.isHeld(atMillis: now))
                w.key("token")
                w.int(lease.token)
                w.key("workable")
                w.bool(lease.checkpoint != .shardEnd && group.leases.unfinishedParents(of: lease).isEmpty)
                w.key("checkpoint")
                switch lease.checkpoint {
                case .initial: w.string("INITIAL")
                case .shardEnd: w.string("SHARD_END")
                case .at(let sequenceNumber, let subSequence):
                    w.string(sequenceNumber)
                    w.key("subSequence")
                    w.int(subSequence)
                    if let number = SequenceNumber(parsing: sequenceNumber) {
                        w.key("checkpointIndex")
                        w.int(number.index.rawValue)
                    }
                }
                w.endObject()
            }
            w.endArray()
            w.endObject()
        }
        w.endArray()
    }
}
