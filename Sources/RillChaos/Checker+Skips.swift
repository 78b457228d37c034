// MARK: - Consumers see every record

extension Checker {
    /// Sequence numbers only grow within a shard and a read sees a prefix of the log, so a consumer that read
    /// `a` and then `b` must have been shown every record the final read holds between them.
    ///
    /// A page's `from` marks a new iterator: a decimal `from` is a lower bound the next record must follow
    /// without a gap (AT or AFTER that number); `TRIM_HORIZON`, `LATEST` or a timestamp leave the start
    /// unknown. A consumer going back (a new iterator at an earlier point) starts over from where it went.
    func checkSkips(_ index: HistoryIndex) -> Finding<Anomaly.SkippedRange> {
        var finding = Finding<Anomaly.SkippedRange>()
        var orders: [String: FinalOrder] = [:]
        for consumer in index.consumers {
            guard let finalRecords = index.finalReads[consumer.shard] else { continue }
            let order = orders[consumer.shard] ?? FinalOrder(finalRecords)
            orders[consumer.shard] = order
            var previous: (sequence: DecimalSequenceNumber, id: String?)?
            // Where the previous record sits in the final order; consumers mostly read in order, so the next
            // record is usually right after it and needs no search.
            var cursor = 0
            for page in index.pages[consumer] ?? [] {
                if let from = page.from {
                    previous = DecimalSequenceNumber(from).map { ($0, nil) }
                    cursor = 0
                }
                for record in page.records {
                    if let (after, afterID) = previous, after < record.sequence {
                        let lower = order.end(of: after, hint: cursor)
                        let upper = order.start(of: record.sequence, hint: lower)
                        cursor = upper
                        if lower < upper {
                            let missing = order.sorted[lower..<upper]
                            finding.record(
                                Anomaly.SkippedRange(
                                    process: consumer.process,
                                    shard: consumer.shard,
                                    time: page.time,
                                    after: after,
                                    afterID: afterID,
                                    before: record,
                                    missingCount: missing.count,
                                    missing: Array(missing.prefix(5))
                                ),
                                limit: exampleLimit
                            )
                        }
                    } else {
                        cursor = order.start(of: record.sequence, hint: cursor)
                    }
                    previous = (record.sequence, record.id)
                }
            }
        }
        return finding
    }
}

/// A shard's final read sorted by sequence number, searched with a hint first and by bisection when the
/// hint is wrong.
private struct FinalOrder {
    var sorted: [ReadRecord]

    init(_ records: [ReadRecord]) {
        // A correct final read is already in order; checking is linear, sorting is not.
        let inOrder = zip(records, records.dropFirst()).allSatisfy { !($1.sequence < $0.sequence) }
        sorted = inOrder ? records : records.sorted { $0.sequence < $1.sequence }
    }

    /// The index of the first record numbered `sequence` or more.
    func start(of sequence: DecimalSequenceNumber, hint: Int) -> Int {
        if hint < sorted.count, sorted[hint].sequence == sequence,
            hint == 0 || sorted[hint - 1].sequence != sequence
        {
            return hint
        }
        return firstIndex { sequence <= $0 }
    }

    /// The index past the last record numbered `sequence` or less.
    func end(of sequence: DecimalSequenceNumber, hint: Int) -> Int {
        if hint < sorted.count, sorted[hint].sequence == sequence {
            var end = hint + 1
            while end < sorted.count, sorted[end].sequence == sequence { end += 1 }
            return end
        }
        return firstIndex { sequence < $0 }
    }

    /// Bisection for the first record whose sequence passes a test that fails before it and holds after.
    private func firstIndex(where isPastBound: (DecimalSequenceNumber) -> Bool) -> Int {
        var low = 0
        var high = sorted.count
        while low < high {
            let middle = (low + high) / 2
            if isPastBound(sorted[middle].sequence) { high = middle } else { low = middle + 1 }
        }
        return low
    }
}
