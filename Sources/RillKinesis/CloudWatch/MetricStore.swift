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
    /// The samples themselves, for percentiles: kept for metrics in milliseconds (latencies and ages), the
    /// ones whose distribution matters; nil for counts and bytes.
    public var sketch: ValueSketch?

    public init(value: Double) {
        sum = value
        sampleCount = 1
        minimum = value
        maximum = value
    }

    public init(sum: Double, sampleCount: Double, minimum: Double, maximum: Double, sketch: ValueSketch? = nil) {
        self.sum = sum
        self.sampleCount = sampleCount
        self.minimum = minimum
        self.maximum = maximum
        self.sketch = sketch
    }

    static let empty = MetricBucket(sum: 0, sampleCount: 0, minimum: .infinity, maximum: -.infinity)

    /// Adds one sample in place (no bucket is built per sample: this runs on every call served).
    mutating func add(_ value: Double, sketched: Bool) {
        sum += value
        sampleCount += 1
        minimum = min(minimum, value)
        maximum = max(maximum, value)
        if sketched {
            if sketch == nil { sketch = ValueSketch() }
            sketch!.add(value)
        }
    }

    public mutating func merge(_ other: MetricBucket) {
        sum += other.sum
        sampleCount += other.sampleCount
        minimum = min(minimum, other.minimum)
        maximum = max(maximum, other.maximum)
        if let theirs = other.sketch {
            if sketch == nil { sketch = theirs } else { sketch!.merge(theirs) }
        }
    }

    /// The percentile from the sketch, kept within the minute's minimum and maximum (the sketch's estimate
    /// may sit up to 1 % outside them); nil without a sketch.
    public func value(atPercentile percentile: Double) -> Double? {
        guard let estimate = sketch?.value(atPercentile: percentile) else { return nil }
        return Swift.min(Swift.max(estimate, minimum), maximum)
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
        series[metric, default: [:]][minute, default: .empty].add(value, sketched: unit == Self.sketchedUnit)
        units[metric.name] = unit
    }

    /// The unit whose metrics keep a sketch for percentiles: latencies and iterator ages.
    public static let sketchedUnit = "Milliseconds"

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

    /// Adds another store's bucket for one metric and minute (a peer's answer being read back).
    public mutating func merge(_ metric: MetricID, minute: Int64, _ bucket: MetricBucket, unit: String) {
        series[metric, default: [:]][minute, default: .empty].merge(bucket)
        if units[metric.name] == nil { units[metric.name] = unit }
    }

    /// What a CloudWatch call needs of this store: the named metrics' buckets in a window, or for ListMetrics
    /// each matching metric with its newest bucket only (enough to list it, small enough to send).
    public func selecting(_ selection: MetricSelection) -> MetricStore {
        var out = MetricStore(retentionMinutes: retentionMinutes)
        switch selection {
        case .series(let metrics, let start, let end):
            for metric in metrics {
                guard let buckets = series[metric] else { continue }
                let kept = buckets.filter { $0.key + 60_000 > start && $0.key < end }
                if !kept.isEmpty { out.series[metric] = kept }
            }
        case .list(let filter):
            for (metric, buckets) in series where filter.matches(metric) {
                if let newest = buckets.max(by: { $0.key < $1.key }) { out.series[metric] = [newest.key: newest.value] }
            }
        }
        for metric in out.series.keys { out.units[metric.name] = units[metric.name] }
        return out
    }

    static func minute(_ millis: Int64) -> Int64 { millis - ((millis % 60_000) + 60_000) % 60_000 }
}

/// The part of the cluster's metrics one CloudWatch call reads; every node answers it from its own store.
public enum MetricSelection: Sendable, Equatable {
    /// These metrics' minute buckets that overlap `[fromMillis, toMillis)`.
    case series([MetricID], fromMillis: Int64, toMillis: Int64)
    /// Every metric a ListMetrics filter matches.
    case list(MetricFilter)
}

/// A ListMetrics filter: namespace, name, and dimensions by name (and value when given).
public struct MetricFilter: Sendable, Equatable {
    public struct Dimension: Sendable, Equatable {
        public var name: String
        public var value: String?

        public init(name: String, value: String?) {
            self.name = name
            self.value = value
        }
    }

    public var namespace: String?
    public var name: String?
    public var dimensions: [Dimension]

    public init(namespace: String?, name: String?, dimensions: [Dimension]) {
        self.namespace = namespace
        self.name = name
        self.dimensions = dimensions
    }

    public func matches(_ metric: MetricID) -> Bool {
        (namespace == nil || metric.namespace == namespace) && (name == nil || metric.name == name)
            && dimensions.allSatisfy { filter in
                metric.dimensions.contains {
                    $0.name == filter.name && (filter.value == nil || $0.value == filter.value)
                }
            }
    }
}

/// A node's metric stores, one per region (CloudWatch is regional, as stream names are), trimmed to the
/// retention as minutes pass. Pure: the caller passes the time.
public struct RegionalMetricStores: Sendable {
    public let retentionMinutes: Int64
    public private(set) var regions: [String: MetricStore] = [:]
    private var trimmedMinute: Int64 = .min

    public init(retentionMinutes: Int64 = 4 * 60) { self.retentionMinutes = retentionMinutes }

    /// Adds one data-path event; the first event of each new minute also drops what has aged out.
    public mutating func record(_ event: KinesisMetrics.Event, in scope: KinesisMetrics.Scope, atMillis now: Int64) {
        let minute = MetricStore.minute(now)
        if minute > trimmedMinute {
            trimmedMinute = minute
            for region in Array(regions.keys) {
                regions[region]!.trim(atMillis: now)
                if regions[region]!.series.isEmpty { regions[region] = nil }
            }
        }
        regions[scope.region, default: MetricStore(retentionMinutes: retentionMinutes)].record(
            event,
            in: scope,
            atMillis: now
        )
    }

    /// This node's part of the answer to a CloudWatch call in `region`.
    public func selecting(_ selection: MetricSelection, region: String) -> MetricStore {
        regions[region]?.selecting(selection) ?? MetricStore(retentionMinutes: retentionMinutes)
    }
}
