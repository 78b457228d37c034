/// The lookups every check shares, built in one pass over a history.
///
/// Order is kept wherever examples come from, so a verdict's examples follow the history and are reproducible.
/// Hashing 56-digit sequence numbers and ids dominates the cost of a check, so each record read costs one
/// dictionary access here and the checks reuse what it found.
struct HistoryIndex {
    /// One consumer's view of one shard: its pages arrive in the order that consumer read them.
    struct ConsumerKey: Hashable {
        var process: Int
        var shard: String
    }

    /// Everywhere one id was read.
    struct Sightings {
        /// Distinct positions across all reads, incremental and final, in the order first seen.
        var positions = InlineList<RecordPosition>()
        /// Positions in the final reads, repeats included: more than one means the server holds copies.
        var finalPositions = InlineList<RecordPosition>()
    }

    /// Each id's write, in the order of its first attempt: a writer that retries records every attempt
    /// (`WriteEvent.attempt`), and they are merged here (`WriteEvent.merging`) into what they say together.
    var writes: [WriteEvent] = []
    /// Where each id's write is in `writes`.
    var writeOffsets: [String: Int] = [:]
    /// When a retried record was first sent, for the ids sent more than once: `writes` holds the time that
    /// settled the outcome, but "sent in one call" and "sent after" are questions about the first attempt.
    var firstSent: [String: Double] = [:]
    /// Attempts beyond the first, over all records.
    var retries = 0
    /// Each shard's final reads, concatenated in history order.
    var finalReads: [String: [ReadRecord]] = [:]
    var finalShards: [String] = []
    /// Non-final pages by consumer and shard.
    var pages: [ConsumerKey: [ReadEvent]] = [:]
    var consumers: [ConsumerKey] = []
    var sightings: [String: Sightings] = [:]
    /// Ids in the order they were first read.
    var readIDs: [String] = []
    /// Ids the final reads hold more than once, in the order the second copy appeared.
    var finalDuplicates: [String] = []
    var faults: [FaultEvent] = []
    /// Each node's latest checksums, in the order nodes first reported.
    var checksums: [String: ChecksumsEvent] = [:]
    var checksumNodes: [String] = []
    /// Each node's latest placement report, in the order nodes first reported.
    var placements: [String: PlacementEvent] = [:]
    var placementNodes: [String] = []
    /// Parents of the shards of the stream under test, from its lineage events.
    var lineage = ShardLineage()
    /// Whether the history has a lineage event: recorded by runs whose writers use `WorkloadKeys`.
    var hasLineage = false
    /// The time of the last write attempt to the stream under test, whatever its outcome: until then the
    /// workload was trying.
    var lastWriteTime: Double?
    /// The latest time of any event: where a fault that never ended is taken to stop.
    var endTime: Double = 0
    var notes: [String] = []

    init(_ events: [HistoryEvent]) {
        writeOffsets.reserveCapacity(events.count)
        sightings.reserveCapacity(events.count)
        var duplicateWrites = 0
        for event in events {
            endTime = max(endTime, event.time)
            switch event {
            case .write(let write):
                // Availability is measured on the stream under test only.
                if write.stream == nil { lastWriteTime = max(lastWriteTime ?? write.time, write.time) }
                guard let offset = writeOffsets[write.id] else {
                    writeOffsets[write.id] = writes.count
                    writes.append(write)
                    continue
                }
                guard write.isRetry else {
                    duplicateWrites += 1
                    continue
                }
                retries += 1
                if firstSent[write.id] == nil { firstSent[write.id] = writes[offset].time }
                writes[offset] = writes[offset].merging(write)
            case .read(let read):
                index(read)
            case .fault(let fault):
                faults.append(fault)
            case .checksums(let report):
                if checksums.updateValue(report, forKey: report.node) == nil { checksumNodes.append(report.node) }
            case .placement(let report):
                if placements.updateValue(report, forKey: report.node) == nil { placementNodes.append(report.node) }
            case .lineage(let event):
                lineage.merge(event)
                hasLineage = true
            }
        }
        if duplicateWrites > 0 {
            // Ids must be unique for "where did this record go" to have one answer; later writes are ignored.
            // (A retry says it is one, with its attempt number, and is merged instead.)
            notes.append("\(duplicateWrites) write events reuse an earlier id and were ignored")
        }
        var shardsWritten: [String] = []
        var seenShard: Set<String> = []
        for write in writes {
            if let shard = write.acknowledgedPosition?.shard, seenShard.insert(shard).inserted {
                shardsWritten.append(shard)
            }
        }
        for shard in shardsWritten where finalReads[shard] == nil {
            notes.append("no final read of \(shard): its acknowledged writes count as lost")
        }
    }

    private mutating func index(_ read: ReadEvent) {
        let shard = read.shardKey
        for record in read.records {
            let position = RecordPosition(shard: shard, sequence: record.sequence)
            let known = sightings.count
            Self.sight(position, isFinal: read.isFinal, in: &sightings[record.id, default: Sightings()]) {
                finalDuplicates.append(record.id)
            }
            if sightings.count > known { readIDs.append(record.id) }
        }
        if read.isFinal {
            if finalReads[shard] == nil { finalShards.append(shard) }
            finalReads[shard, default: []].append(contentsOf: read.records)
        } else {
            let key = ConsumerKey(process: read.process, shard: shard)
            if pages[key] == nil { consumers.append(key) }
            pages[key, default: []].append(read)
        }
    }

    /// Updates one id's sightings in place, so the dictionary is searched once per record read.
    private static func sight(
        _ position: RecordPosition,
        isFinal: Bool,
        in sightings: inout Sightings,
        onSecondFinalCopy: () -> Void
    ) {
        if !sightings.positions.contains(position) { sightings.positions.append(position) }
        guard isFinal else { return }
        sightings.finalPositions.append(position)
        if sightings.finalPositions.count == 2 { onSecondFinalCopy() }
    }
}
