import RillKinesis
import RillModel

extension AdminReport {
    /// Writes `"streams": [...]`: every stream in the catalog with its shards' hash ranges, lineage and placed
    /// replicas, and its enhanced fan-out consumers. The catalog is replicated, so any node answers for all.
    func writeStreams(into w: inout JSONWriter) {
        w.key("streams")
        w.beginArray()
        for stream in metadata.catalog.allStreams.sorted(by: { ($0.name, $0.id) < ($1.name, $1.id) }) {
            w.beginObject()
            w.key("name")
            w.string(stream.name)
            w.key("streamId")
            w.string(stream.id)
            w.key("status")
            w.string(stream.status.rawValue)
            w.key("mode")
            w.string(stream.mode.rawValue)
            w.key("shards")
            w.beginArray()
            for shard in stream.shards.sorted(by: { $0.index < $1.index }) { write(shard: shard, into: &w) }
            w.endArray()
            w.key("consumers")
            w.beginArray()
            for consumer in stream.consumers ?? [] {
                w.beginObject()
                w.key("name")
                w.string(consumer.name)
                w.key("createdSeconds")
                w.int(consumer.createdSeconds)
                w.endObject()
            }
            w.endArray()
            w.endObject()
        }
        w.endArray()
    }

    /// Writes `"subscriptions": [...]`: the SubscribeToShard calls streaming from this node now, each consumer's
    /// ARN, shard and start. They live where they are served, so the console gathers them from every node.
    func writeSubscriptions(into w: inout JSONWriter) {
        w.key("subscriptions")
        w.beginArray()
        for subscription in subscriptionLeases.subscriptions {
            w.beginObject()
            w.key("consumerARN")
            w.string(subscription.consumerARN)
            w.key("shardId")
            w.string(subscription.shard)
            w.key("sinceMillis")
            w.int(subscription.sinceMillis)
            w.endObject()
        }
        w.endArray()
    }

    private func write(shard: ShardMetadata, into w: inout JSONWriter) {
        w.beginObject()
        w.key("shardId")
        w.string(shard.id.name)
        w.key("startingHashKey")
        w.string(shard.startingHashKey)
        w.key("endingHashKey")
        w.string(shard.endingHashKey)
        if let parent = shard.parent {
            w.key("parentShardId")
            w.string(ShardID(index: parent).name)
        }
        if let adjacent = shard.adjacentParent {
            w.key("adjacentParentShardId")
            w.string(ShardID(index: adjacent).name)
        }
        w.key("open")
        w.bool(shard.isOpen)
        w.key("replicas")
        w.beginArray()
        for replica in shard.replicas ?? [] { w.int(replica) }
        w.endArray()
        w.endObject()
    }
}
