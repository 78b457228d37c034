import RillKinesis
import RillModel

/// Reads committed records of one shard from a log position. Blocking file I/O: run it on the storage pool.
struct ShardReader {
    struct Record {
        var position: LogPosition
        var stampMillis: Int64
        var partitionKey: String
        var data: [UInt8]
    }

    struct Page {
        var records: [Record]
        /// Where the next read starts: just past the last record returned (or skipped).
        var next: LogPosition
        var byteCount: Int
        var millisBehindLatest: Int64
    }

    let replica: ShardReplica
    /// Opens sealed entries with the stream's data keys; a read that cannot is refused with the KMS error.
    let opener: EntryOpener

    func read(from start: LogPosition, limit: Int, maxBytes: Int, horizonMillis: Int64) throws -> Page {
        let log = replica.log
        // A sealed shard ends at its seal: an append committed after it (proposed before the seal was known,
        // then routed again to a child) is never served, or a consumer would read it twice.
        let committed =
            replica.sealIndex.map { min(replica.committedIndex, LogIndex($0.rawValue - 1)) }
            ?? replica.committedIndex
        var position = start.index < log.firstIndex ? LogPosition(index: log.firstIndex, slot: 0) : start
        var records: [Record] = []
        var bytes = 0
        var lastStamp: Int64?
        reading: while position.index <= committed, records.count < limit, bytes < maxBytes {
            let entries = try log.entries(from: position.index, maxCount: min(limit, 1024), maxBytes: 4 << 20)
            guard !entries.isEmpty else { break }
            for entry in entries {
                guard entry.index <= committed else { break reading }
                guard entry.kind == .records else {
                    position = LogPosition(index: entry.index.next, slot: 0)
                    continue
                }
                // Damage the CRC missed must not take the node down: skip the entry and say so in the read. A
                // sealed entry this node cannot open fails the read (KMS errors): never served, never skipped.
                guard let batch = try opener.batch(entry.payload, index: entry.index.rawValue) else {
                    position = LogPosition(index: entry.index.next, slot: 0)
                    continue
                }
                let first = entry.index == position.index ? Int(position.slot) : 0
                if entry.timestampMillis < horizonMillis || first >= batch.records.count {
                    position = LogPosition(index: entry.index.next, slot: 0)
                    continue
                }
                for slot in first..<batch.records.count {
                    let record = batch.records[slot]
                    let size = record.data.count + record.partitionKey.utf8.count
                    // Always return at least one record, even one larger than the page.
                    if records.count >= limit || (bytes + size > maxBytes && !records.isEmpty) {
                        position = LogPosition(index: entry.index, slot: UInt16(slot))
                        break reading
                    }
                    records.append(
                        Record(
                            position: LogPosition(index: entry.index, slot: UInt16(slot)),
                            stampMillis: entry.timestampMillis,
                            partitionKey: record.partitionKey,
                            data: record.data
                        )
                    )
                    bytes += size
                    lastStamp = entry.timestampMillis
                }
                position = LogPosition(index: entry.index.next, slot: 0)
            }
        }
        var behind: Int64 = 0
        // The newest stamp is the log's running maximum, kept in memory per segment: no read of the last
        // entry (which may be megabytes) on every GetRecords.
        if position.index <= committed, let lastStamp, let newest = log.segments().last?.maxTimestamp {
            behind = max(0, newest - lastStamp)
        }
        return Page(records: records, next: position, byteCount: bytes, millisBehindLatest: behind)
    }
}
