import NIOConcurrencyHelpers
import NIOPosix
import RillCluster
import RillGossip
import RillKinesis
import RillModel
import RillRaft
import RillReplication
import RillStorage

extension AdminReport {
    /// The controller's recent on-demand decisions, for `GET /admin/status`.
    func writeOnDemandDecisions(_ events: [OnDemandScaling.Event], into w: inout JSONWriter) {
        let names = streamNames()
        w.beginArray()
        for event in events {
            w.beginObject()
            w.key("timeMillis")
            w.int(Int(event.wallMillis))
            w.key("stream")
            w.string(names[event.streamID] ?? event.streamID)
            switch event.decision {
            case .split(let shard, let key, let utilization):
                w.key("decision")
                w.string("split")
                w.key("shards")
                w.beginArray()
                w.string(shard)
                w.endArray()
                w.key("newStartingHashKey")
                w.string(key.description)
                w.key("utilizationPercent")
                w.int(Int((utilization * 100).rounded()))
            case .merge(let lower, let upper, let utilization):
                w.key("decision")
                w.string("merge")
                w.key("shards")
                w.beginArray()
                w.string(lower)
                w.string(upper)
                w.endArray()
                w.key("utilizationPercent")
                w.int(Int((utilization * 100).rounded()))
            }
            w.key("traffic")
            w.beginArray()
            for shard in event.traffic {
                w.beginObject()
                w.key("shard")
                w.string(shard.shardID)
                w.key("recordsPerSecond")
                w.int(Int(shard.recordsPerSecond.rounded()))
                w.key("bytesPerSecond")
                w.int(Int(shard.bytesPerSecond.rounded()))
                w.endObject()
            }
            w.endArray()
            w.endObject()
        }
        w.endArray()
    }
}
