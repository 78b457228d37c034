/// What GetMetricStatistics, GetMetricData and ListMetrics answer from a (merged) `MetricStore`. Pure.
public enum CloudWatchQuery {
    public enum Statistic: Sendable, Equatable {
        case sampleCount
        case average
        case sum
        case minimum
        case maximum
        /// `p0`–`p100`, with up to two decimals (`p99.9`), under the name it was asked by: read from the
        /// minute's sketch, so only metrics in milliseconds have them (`MetricStore.sketchedUnit`).
        case percentile(name: String, value: Double)

        public static let basic: [Statistic] = [.sampleCount, .average, .sum, .minimum, .maximum]

        /// A statistic by its CloudWatch name: `Sum`, `p99`…
        public init?(name: String) {
            switch name {
            case "SampleCount": self = .sampleCount
            case "Average": self = .average
            case "Sum": self = .sum
            case "Minimum": self = .minimum
            case "Maximum": self = .maximum
            default:
                guard let percentile = Self.percentile(name) else { return nil }
                self = .percentile(name: name, value: percentile)
            }
        }

        /// `pNN` or `pNN.NN` within 0...100.
        static func percentile(_ name: String) -> Double? {
            guard name.hasPrefix("p"), name.count > 1 else { return nil }
            let digits = name.dropFirst()
            let parts = digits.split(separator: ".", omittingEmptySubsequences: false)
            guard parts.count <= 2, parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isASCII) }),
                parts.allSatisfy({ $0.allSatisfy(\.isNumber) }), parts.count == 1 || parts[1].count <= 2,
                let value = Double(digits), value >= 0, value <= 100
            else { return nil }
            return value
        }

        public var name: String {
            switch self {
            case .sampleCount: "SampleCount"
            case .average: "Average"
            case .sum: "Sum"
            case .minimum: "Minimum"
            case .maximum: "Maximum"
            case .percentile(let name, _): name
            }
        }

        /// The statistic over `bucket`, nil for a percentile of a metric with no sketch.
        func value(_ bucket: MetricBucket) -> Double? {
            switch self {
            case .sampleCount: bucket.sampleCount
            case .average: bucket.sampleCount == 0 ? 0 : bucket.sum / bucket.sampleCount
            case .sum: bucket.sum
            case .minimum: bucket.minimum
            case .maximum: bucket.maximum
            case .percentile(_, let value): bucket.value(atPercentile: value)
            }
        }
    }

    public struct Datapoint: Sendable, Equatable {
        public var timestampMillis: Int64
        /// The basic statistics asked for, in the order asked.
        public var values: [(Statistic, Double)]
        /// The percentiles asked for that the period has (`ExtendedStatistics`).
        public var extended: [(Statistic, Double)] = []
        public var unit: String

        public static func == (a: Datapoint, b: Datapoint) -> Bool {
            a.timestampMillis == b.timestampMillis && a.unit == b.unit && a.values.map(\.0) == b.values.map(\.0)
                && a.values.map(\.1) == b.values.map(\.1) && a.extended.map(\.0) == b.extended.map(\.0)
                && a.extended.map(\.1) == b.extended.map(\.1)
        }
    }

    public struct StatisticsRequest: Sendable {
        public var metric: MetricID
        public var startMillis: Int64
        public var endMillis: Int64
        public var period: Int64
        public var statistics: [Statistic]
        public var extendedStatistics: [Statistic] = []
        public var unit: String?
    }

    /// At most this many datapoints per GetMetricStatistics call, as on AWS.
    static let maxDatapoints: Int64 = 1_440

    public static func statistics(
        _ request: StatisticsRequest,
        _ store: MetricStore
    ) throws(CloudWatchError) -> [Datapoint] {
        try checkWindow(request.startMillis, request.endMillis, request.period)
        let windows =
            (request.endMillis - align(request.startMillis) + request.period * 1000 - 1) / (request.period * 1000)
        if windows > maxDatapoints {
            throw .combination(
                "You have requested up to \(windows) datapoints, which exceeds the limit of 1,440. You may reduce the datapoints requested "
                    + "by increasing Period, or decreasing the time range."
            )
        }
        return series(request.metric, request.startMillis, request.endMillis, request.period, request.unit, store).map {
            start,
            bucket in
            Datapoint(
                timestampMillis: start,
                values: request.statistics.compactMap { statistic in statistic.value(bucket).map { (statistic, $0) } },
                extended: request.extendedStatistics.compactMap { statistic in
                    statistic.value(bucket).map { (statistic, $0) }
                },
                unit: store.units[request.metric.name] ?? "None"
            )
        }
    }

    /// One query of GetMetricData with a `MetricStat`.
    public struct DataQuery: Sendable {
        public var id: String
        public var label: String?
        public var metric: MetricID
        public var period: Int64
        public var statistic: Statistic
        public var unit: String?
        public var returnData: Bool
    }

    public struct DataResult: Sendable, Equatable {
        public var id: String
        public var label: String
        public var timestampsMillis: [Int64]
        public var values: [Double]
    }

    public static func metricData(
        _ queries: [DataQuery],
        startMillis: Int64,
        endMillis: Int64,
        newestFirst: Bool,
        _ store: MetricStore
    ) throws(CloudWatchError) -> [DataResult] {
        guard (1...500).contains(queries.count) else {
            throw .invalidValue("MetricDataQueries must hold 1 to 500 queries.")
        }
        var seen = Set<String>()
        var results: [DataResult] = []
        for query in queries {
            guard Self.validID(query.id) else {
                throw .invalidValue(
                    "The value \(query.id) for parameter MetricDataQueries.member.Id is invalid: it must start with a lower-case letter and hold only letters, digits and underscores."
                )
            }
            guard seen.insert(query.id).inserted else {
                throw .invalidValue("The value \(query.id) for parameter MetricDataQueries.member.Id is duplicated.")
            }
            try checkWindow(startMillis, endMillis, query.period)
            guard query.returnData else { continue }
            // A percentile of a period without a sketch has no value, and so no point.
            var points = series(query.metric, startMillis, endMillis, query.period, query.unit, store).compactMap {
                start,
                bucket in query.statistic.value(bucket).map { (start, $0) }
            }
            if newestFirst { points.reverse() }
            results.append(
                DataResult(
                    id: query.id,
                    label: query.label ?? query.metric.name,
                    timestampsMillis: points.map(\.0),
                    values: points.map(\.1)
                )
            )
        }
        return results
    }

    /// The metrics that match a ListMetrics filter, by name and then dimension values.
    public static func list(_ filter: MetricFilter, _ store: MetricStore) -> [MetricID] {
        store.series.keys.filter(filter.matches).sorted {
            ($0.name, $0.dimensions.map(\.value).joined(separator: "/")) < (
                $1.name, $1.dimensions.map(\.value).joined(separator: "/")
            )
        }
    }

    /// Buckets summed per period, oldest first; periods without data are left out, as CloudWatch does.
    static func series(
        _ metric: MetricID,
        _ start: Int64,
        _ end: Int64,
        _ period: Int64,
        _ unit: String?,
        _ store: MetricStore
    ) -> [(Int64, MetricBucket)] {
        guard let buckets = store.series[metric], unit == nil || unit == store.units[metric.name] else { return [] }
        let origin = align(start)
        let step = period * 1000
        var periods: [Int64: MetricBucket] = [:]
        for (minute, bucket) in buckets where minute >= origin && minute < end {
            let slot = origin + (minute - origin) / step * step
            if periods[slot] == nil { periods[slot] = bucket } else { periods[slot]!.merge(bucket) }
        }
        return periods.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    static func checkWindow(_ start: Int64, _ end: Int64, _ period: Int64) throws(CloudWatchError) {
        guard period >= 60, period % 60 == 0 else {
            throw .invalidValue(
                "The parameter Period must be a multiple of 60: Rill keeps one-minute data (no high-resolution metrics)."
            )
        }
        guard start < end else {
            throw .invalidValue("The parameter StartTime must be less than the parameter EndTime.")
        }
    }

    static func align(_ millis: Int64) -> Int64 { MetricStore.minute(millis) }

    static func validID(_ id: String) -> Bool {
        guard let first = id.utf8.first, (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(first), id.utf8.count <= 255
        else { return false }
        return id.utf8.allSatisfy { byte in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "_")
        }
    }
}
