// MARK: - Per-key order across a stream's lineage

extension Anomaly {
    /// Two records of one partition key read back in an order the writer's calls contradict: `later` was
    /// sent after `earlier` was acknowledged, yet sits before it or beside it in an unrelated shard.
    public struct KeyOrder: Sendable, Equatable, Codable, CustomStringConvertible {
        public var key: String
        public var earlier: String
        public var earlierAt: RecordPosition
        public var later: String
        public var laterAt: RecordPosition
        /// `laterAt`'s shard and its ancestors, nearest first.
        public var lineage: [String]

        public var description: String {
            "key \(key): \(later)@\(laterAt) was sent after \(earlier)@\(earlierAt) was acknowledged "
                + "(lineage of \(laterAt.shard): \(lineage.joined(separator: " <- ")))"
        }
    }
}

extension Checker {
    /// Kinesis's order per partition key, across splits and merges: a record sent after another record of its
    /// key was acknowledged must be read after it — later in the same shard, or in a descendant of that
    /// shard (a consumer reads parents before children). One writer sends each key's records one call at a
    /// time (`WorkloadKeys`), so "sent after the earlier one was acknowledged" is known from the history:
    /// records of one call share its time, and only records of earlier calls count as earlier. Records the
    /// final read lacks (lost, reported elsewhere) or holds more than once (duplicated) are skipped here.
    ///
    /// Only histories with a `lineage` event are held to it: runs before `WorkloadKeys` used each record's id
    /// as its key, and those runs recorded no lineage.
    func checkKeyOrder(_ index: HistoryIndex) -> Finding<Anomaly.KeyOrder> {
        var finding = Finding<Anomaly.KeyOrder>()
        guard index.hasLineage else { return finding }

        struct Placed {
            var id: String
            var n: Int
            var time: Double
            var acknowledged: Bool
            var position: RecordPosition
        }
        var byKey: [String: [Placed]] = [:]
        var keys: [String] = []
        for write in index.writes where write.stream == nil {
            guard let (_, n) = WorkloadKeys.writerRecord(write.id),
                let final = index.sightings[write.id]?.finalPositions, final.count == 1, let position = final.first
            else { continue }
            let key = WorkloadKeys.partitionKey(ofID: write.id)
            if byKey[key] == nil { keys.append(key) }
            byKey[key, default: []].append(
                Placed(
                    id: write.id,
                    n: n,
                    // A retried record belongs to the call that first sent it.
                    time: index.firstSent[write.id] ?? write.time,
                    acknowledged: write.outcome == .ok,
                    position: position
                )
            )
        }
        for key in keys {
            let records = (byKey[key] ?? []).sorted { $0.n < $1.n }
            // The last record acknowledged by an earlier call, and those of the call being walked.
            var earlier: Placed?
            var sameCall: [Placed] = []
            for record in records {
                if let last = sameCall.last, last.time != record.time {
                    if let acknowledged = sameCall.last(where: \.acknowledged) { earlier = acknowledged }
                    sameCall = []
                }
                sameCall.append(record)
                guard let earlier, !precedes(earlier.position, record.position, in: index.lineage) else { continue }
                finding.record(
                    Anomaly.KeyOrder(
                        key: key,
                        earlier: earlier.id,
                        earlierAt: earlier.position,
                        later: record.id,
                        laterAt: record.position,
                        lineage: index.lineage.line(of: record.position.shard)
                    ),
                    limit: exampleLimit
                )
            }
        }
        return finding
    }

    /// Whether a consumer that reads parents before children meets `first` before `second`.
    private func precedes(_ first: RecordPosition, _ second: RecordPosition, in lineage: ShardLineage) -> Bool {
        if first.shard == second.shard { return first.sequence < second.sequence }
        return lineage.isAncestor(first.shard, of: second.shard)
    }
}
