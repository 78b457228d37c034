// MARK: - How long writes stalled

extension Checker {
    /// Sorted acknowledgement times of one shard, or of all shards together.
    private struct Timeline {
        var times: [Double]
        var shard: String?

        /// The longest stretch between two consecutive acknowledgements.
        func longestGap() -> Availability.Gap? {
            var best: Availability.Gap?
            for (earlier, later) in zip(times, times.dropFirst()) where later - earlier > best?.milliseconds ?? -1 {
                best = Availability.Gap(start: earlier, end: later, shard: shard)
            }
            return best
        }

        /// The longest gap overlapping `window`. After the last acknowledgement, a workload still trying until
        /// `lastAttempt` was being refused, so that stretch counts as a gap that never recovered.
        func longestGap(overlapping window: ClosedRange<Double>, lastAttempt: Double?) -> Availability.Gap? {
            var best: Availability.Gap?
            // Gaps are between neighbours; start from the last acknowledgement at or before the window opens.
            var offset = max(0, firstIndex { $0 > window.lowerBound } - 1)
            while offset + 1 < times.count, times[offset] < window.upperBound {
                let gap = Availability.Gap(start: times[offset], end: times[offset + 1], shard: shard)
                if gap.end > window.lowerBound, gap.milliseconds > best?.milliseconds ?? -1 { best = gap }
                offset += 1
            }
            if let last = times.last, let lastAttempt, last < lastAttempt, last < window.upperBound,
                lastAttempt > window.lowerBound, lastAttempt - last > best?.milliseconds ?? -1
            {
                best = Availability.Gap(start: last, end: lastAttempt, shard: shard, recovered: false)
            }
            return best
        }

        private func firstIndex(where isPast: (Double) -> Bool) -> Int {
            var low = 0
            var high = times.count
            while low < high {
                let middle = (low + high) / 2
                if isPast(times[middle]) { high = middle } else { low = middle + 1 }
            }
            return low
        }
    }

    /// Gaps between acknowledged writes, overall, per shard and around each fault window; and the faults
    /// started by kind. A fault's window runs from its start to the matching end of the same kind and target,
    /// or to the last event if it never ended.
    func measureAvailability(
        _ index: HistoryIndex
    )
        -> (availability: Availability, faults: [FaultKind: Int], notes: [String])
    {
        var perShard: [String: [Double]] = [:]
        var shards: [String] = []
        var all: [Double] = []
        // Only the stream under test: the catalog churn writes a few records now and then, and the gaps
        // between them say nothing about failover.
        for write in index.writes where write.stream == nil {
            guard let shard = write.acknowledgedPosition?.shard else { continue }
            if perShard[shard] == nil { shards.append(shard) }
            perShard[shard, default: []].append(write.time)
            all.append(write.time)
        }
        let overall = Timeline(times: all.sorted(), shard: nil)
        let timelines = shards.sorted().map { Timeline(times: (perShard[$0] ?? []).sorted(), shard: $0) }

        var availability = Availability(longestGap: overall.longestGap())
        availability.shards = timelines.map {
            Availability.ShardAvailability(
                shard: $0.shard ?? "",
                acknowledged: $0.times.count,
                longestGap: $0.longestGap()
            )
        }

        let (windows, counts, notes) = faultWindows(index.faults)
        availability.faults = windows.map { window in
            let range = window.start.time...max(window.start.time, window.end?.time ?? index.endTime)
            // A shard closed by a reshard takes no writes after it closed: its silence is not an outage.
            let shardGaps = timelines.compactMap { timeline in
                let closed = timeline.shard.map(index.lineage.hasChildren) ?? false
                return timeline.longestGap(overlapping: range, lastAttempt: closed ? nil : index.lastWriteTime)
            }
            return Availability.FaultWindowAvailability(
                kind: window.start.kind,
                target: window.start.target,
                start: window.start.time,
                end: window.end?.time,
                longestGap: overall.longestGap(overlapping: range, lastAttempt: index.lastWriteTime),
                longestShardGap: shardGaps.max { $0.milliseconds < $1.milliseconds }
            )
        }
        return (availability, counts, notes)
    }

    private func faultWindows(
        _ faults: [FaultEvent]
    )
        -> ([(start: FaultEvent, end: FaultEvent?)], [FaultKind: Int], [String])
    {
        struct Key: Hashable {
            var kind: FaultKind
            var target: String
        }
        var windows: [(start: FaultEvent, end: FaultEvent?)] = []
        var open: [Key: [Int]] = [:]
        var counts: [FaultKind: Int] = [:]
        var unmatchedEnds = 0
        for fault in faults {
            let key = Key(kind: fault.kind, target: fault.target)
            switch fault.phase {
            case .start:
                counts[fault.kind, default: 0] += 1
                open[key, default: []].append(windows.count)
                windows.append((fault, nil))
            case .end:
                // Oldest first: overlapping faults of one kind on one target end in the order they began.
                if let first = open[key]?.first {
                    open[key]?.removeFirst()
                    windows[first].end = fault
                } else {
                    unmatchedEnds += 1
                }
            }
        }
        let notes = unmatchedEnds > 0 ? ["\(unmatchedEnds) fault end events had no matching start"] : []
        return (windows, counts, notes)
    }
}
