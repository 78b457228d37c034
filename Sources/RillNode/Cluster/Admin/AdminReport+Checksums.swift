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
    /// A digest of every shard log on this node up to `through` (or its applied index), so replicas can be
    /// compared after a fault heals (`GET /admin/checksums?through=N`). Entries hash with their term, index,
    /// kind, stamp and payload; only `records` and `seal` entries count, since each replica's noops and
    /// configuration entries are the same anyway but a trimmed prefix differs.
    func replicaChecksums() async throws -> [UInt8] {
        var w = JSONWriter()
        w.beginObject()
        w.key("node")
        w.int(Int(me.rawValue))
        w.key("shards")
        w.beginArray()
        let names = streamNames()
        for replica in host.allReplicas() {
            let applied = replica.committedIndex
            let log = replica.log
            let digest = try await threadPool.runIfActive { try Self.digest(log, through: applied) }
            w.beginObject()
            w.key("streamId")
            w.string(replica.streamID)
            w.key("stream")
            w.string(names[replica.streamID] ?? "")
            w.key("shardId")
            w.string(replica.shard.name)
            w.key("firstIndex")
            w.int(Int(log.firstIndex.rawValue))
            w.key("applied")
            w.int(Int(applied.rawValue))
            w.key("records")
            w.int(digest.records)
            w.key("sha256")
            w.string(digest.hex)
            w.endObject()
        }
        w.endArray()
        w.endObject()
        return w.bytes
    }

    /// SHA-256 over each counted entry's index, kind, stamp and payload CRC-32C: cheap to compute over
    /// gigabytes, and any difference in any record changes it.
    static func digest(_ log: SegmentedLog, through last: LogIndex) throws -> (records: Int, hex: String) {
        var summary: [UInt8] = []
        var records = 0
        var next = log.firstIndex
        while next <= last {
            let entries = try log.entries(from: next, maxCount: 256, maxBytes: 8 << 20)
            guard !entries.isEmpty else { break }
            for entry in entries where entry.index <= last && (entry.kind == .records || entry.kind == .seal) {
                let crc = UInt64(CRC32C.checksum(entry.payload))
                for value in [
                    entry.index.rawValue, UInt64(entry.kind.rawValue), UInt64(bitPattern: entry.timestampMillis), crc,
                ] {
                    for shift in stride(from: 56, through: 0, by: -8) {
                        summary.append(UInt8(truncatingIfNeeded: value >> UInt64(shift)))
                    }
                }
                if entry.kind == .records, let count = RecordBatch.recordCount(of: entry.payload) {
                    records += count
                }
            }
            next = entries[entries.count - 1].index.next
        }
        let digits = Array("0123456789abcdef")
        return (records, String(SHA256.hash(summary).flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 15)]] }))
    }
}
