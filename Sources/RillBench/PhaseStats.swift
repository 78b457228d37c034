import Histogram
import Synchronization

/// Counters every worker of a phase bumps and the progress line reads while the phase runs.
final class LiveCounters: Sendable {
    let records = Atomic<Int>(0)
    let bytes = Atomic<Int>(0)
    let requests = Atomic<Int>(0)
    let errors = Atomic<Int>(0)
    /// Records handed out against `--records`, so that all workers together stop at the cap.
    private let claimed = Atomic<Int>(0)

    /// Adds `count` records, or as many as fit under `cap`, and returns how many were added.
    func addRecords(_ count: Int, cap: Int?) -> Int {
        guard let cap else {
            records.add(count, ordering: .relaxed)
            return count
        }
        var current = records.load(ordering: .relaxed)
        while true {
            let added = max(0, min(count, cap - current))
            let (exchanged, original) = records.compareExchange(
                expected: current,
                desired: current + added,
                ordering: .relaxed
            )
            if exchanged { return added }
            current = original
        }
    }

    /// Reserves up to `wanted` records of the cap; 0 means the cap is reached and the worker stops.
    func claim(_ wanted: Int, cap: Int?) -> Int {
        let before = claimed.wrappingAdd(wanted, ordering: .relaxed).oldValue
        guard let cap else { return wanted }
        return max(0, min(wanted, cap - before))
    }
}

/// What one worker measured; workers keep their own so the hot path takes no lock.
struct WorkerTally: Sendable {
    var records = 0
    var bytes = 0
    var requests = 0
    /// Failed requests and failed records, by Kinesis error code or transport failure.
    var errors: [String: Int] = [:]
    /// Nanoseconds from the send (or, open loop, from the intended send) to the complete response.
    var latency = WorkerTally.makeHistogram()
    /// Open loop only: from the actual write to the response, i.e. without the wait for a free connection.
    var serviceTime = WorkerTally.makeHistogram()

    /// Nanosecond values at three significant digits from 1 µs up; resizes rather than dropping outliers.
    static func makeHistogram() -> Histogram<UInt64> {
        var histogram = Histogram<UInt64>(
            lowestDiscernibleValue: 1_000,
            highestTrackableValue: 60_000_000_000,
            numberOfSignificantValueDigits: .three
        )
        histogram.autoResize = true
        return histogram
    }

    /// Failed requests plus failed records, the total of `errors`.
    var errorCount: Int { errors.values.reduce(0, +) }

    mutating func countError(_ code: String, times: Int = 1) {
        errors[code, default: 0] += times
    }

    mutating func merge(_ other: WorkerTally) {
        records += other.records
        bytes += other.bytes
        requests += other.requests
        errors.merge(other.errors, uniquingKeysWith: +)
        latency.add(other.latency)
        serviceTime.add(other.serviceTime)
    }
}

/// The outcome of one phase, as reported.
struct PhaseResult: Sendable {
    var name: String
    var seconds: Double
    var tally: WorkerTally
    /// The open-loop target rate in records/s, when the phase ran at a fixed rate.
    var targetRate: Double?
    /// Connections (producers or shard readers) the phase used.
    var connections: Int
}

/// Nanoseconds from `start` to `end`, zero if the clock reads (taken on different threads) disagree.
func nanoseconds(from start: UInt64, to end: UInt64) -> UInt64 {
    end > start ? end - start : 0
}
