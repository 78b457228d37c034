/// One CloudWatch metric: a name and its dimensions (sorted by name, as CloudWatch identifies them).
public struct MetricID: Hashable, Sendable, Codable {
    public var namespace: String
    public var name: String
    public var dimensions: [Dimension]

    public struct Dimension: Hashable, Sendable, Codable {
        public var name: String
        public var value: String

        public init(_ name: String, _ value: String) {
            self.name = name
            self.value = value
        }
    }

    public init(namespace: String = "AWS/Kinesis", name: String, dimensions: [Dimension]) {
        self.namespace = namespace
        self.name = name
        self.dimensions = dimensions.sorted { $0.name < $1.name }
    }
}

/// The statistics of one metric over one minute; buckets from different nodes merge into the cluster's.
public struct MetricBucket: Sendable, Equatable, Codable {
    public var sum: Double
    public var sampleCount: Double
    public var minimum: Double
    public var maximum: Double

    public init(value: Double) {
        sum = value
        sampleCount = 1
        minimum = value
        maximum = value
    }

    public init(sum: Double, sampleCount: Double, minimum: Double, maximum: Double) {
        self.sum = sum
        self.sampleCount = sampleCount
        self.minimum = minimum
        self.maximum = maximum
    }

    public mutating func merge(_ other: MetricBucket) {
        sum += other.sum
        sampleCount += other.sampleCount
        minimum = min(minimum, other.minimum)
        maximum = max(maximum, other.maximum)
    }
}

/// Minute buckets of every metric a node observed, kept for `retentionMinutes`. Pure: the caller passes the
/// time with each sample. Nodes record what they see (a shard's leader its writes and reads); any node or router
/// answers CloudWatch calls from the merge of every node's store.
public struct MetricStore: Sendable, Equatable, Codable {
    /// CloudWatch keeps one-minute data for 15 days; Rill keeps the last few hours, in memory.
    public var retentionMinutes: Int64
    public private(set) var series: [MetricID: [Int64: MetricBucket]] = [:]
    public private(set) var units: [String: String] = [:]

    public init(retentionMinutes: Int64 = 4 * 60) { self.retentionMinutes = retentionMinutes }

    /// Adds one sample (a count of records is one sample with that value, as Kinesis reports it).
    public mutating func record(_ metric: MetricID, _ value: Double, unit: String, atMillis now: Int64) {
        let minute = Self.minute(now)
        series[metric, default: [:]][
            minute,
            default: MetricBucket(sum: 0, sampleCount: 0, minimum: .infinity, maximum: -.infinity)
        ]
        .merge(MetricBucket(value: value))
        units[metric.name] = unit
    }

    /// Folds another node's buckets in.
    public mutating func merge(_ other: MetricStore) {
        for (metric, buckets) in other.series {
            for (minute, bucket) in buckets {
                if series[metric]?[minute] != nil {
                    series[metric]![minute]!.merge(bucket)
                } else {
                    series[metric, default: [:]][minute] = bucket
                }
            }
        }
        units.merge(other.units) { mine, _ in mine }
    }

    /// Drops buckets older than the retention.
    public mutating func trim(atMillis now: Int64) {
        let oldest = Self.minute(now) - retentionMinutes * 60_000
        for metric in Array(series.keys) {
            let kept = series[metric]!.filter { $0.key >= oldest }
            series[metric] = kept.isEmpty ? nil : kept
        }
    }

    /// The buckets from `sinceMillis` on: what a node hands the one answering a CloudWatch call.
    public func window(fromMillis start: Int64, toMillis end: Int64) -> MetricStore {
        var out = MetricStore(retentionMinutes: retentionMinutes)
        for (metric, buckets) in series {
            let kept = buckets.filter { $0.key + 60_000 > start && $0.key < end }
            if !kept.isEmpty { out.series[metric] = kept }
        }
        out.units = units
        return out
    }

    static func minute(_ millis: Int64) -> Int64 { millis - ((millis % 60_000) + 60_000) % 60_000 }
}
