import RillKinesis

/// How a CloudWatch selection and a node's metrics travel between nodes (`PeerCall.metrics`,
/// `PeerAnswer.metrics`).
///
/// Selection: `u8 kind`; kind 1 (series) `u32 count | metric… | i64 from | i64 to`; kind 2 (list)
/// `optional namespace | optional name | u32 count | (name | optional value)…`.
/// Store: `u32 series | (metric | unit | u32 buckets | (i64 minute | f64 sum | f64 count | f64 min | f64 max | sketch)…)…`,
/// a metric being `namespace | name | u32 count | (name | value)…`, an f64 its IEEE bits as a u64, and a sketch
/// `u8 0` (none) or `u8 1 | u64 zeros | u32 bins | (i32 index as u32 bits | u64 count)…`.
extension WireWriter {
    package mutating func metricSelection(_ selection: MetricSelection) {
        switch selection {
        case .series(let metrics, let start, let end):
            u8(1)
            u32(UInt32(metrics.count))
            for metric in metrics { metricID(metric) }
            i64(start)
            i64(end)
        case .list(let filter):
            u8(2)
            optionalString(filter.namespace)
            optionalString(filter.name)
            u32(UInt32(filter.dimensions.count))
            for dimension in filter.dimensions {
                string(dimension.name)
                optionalString(dimension.value)
            }
        }
    }

    package mutating func metricStore(_ store: MetricStore) {
        u32(UInt32(store.series.count))
        for (metric, buckets) in store.series {
            metricID(metric)
            string(store.units[metric.name] ?? "None")
            u32(UInt32(buckets.count))
            for (minute, bucket) in buckets {
                i64(minute)
                u64(bucket.sum.bitPattern)
                u64(bucket.sampleCount.bitPattern)
                u64(bucket.minimum.bitPattern)
                u64(bucket.maximum.bitPattern)
                if let sketch = bucket.sketch {
                    u8(1)
                    u64(sketch.zeroCount)
                    u32(UInt32(sketch.bins.count))
                    for (index, count) in sketch.bins {
                        u32(UInt32(bitPattern: index))
                        u64(count)
                    }
                } else {
                    u8(0)
                }
            }
        }
    }

    mutating func metricID(_ metric: MetricID) {
        string(metric.namespace)
        string(metric.name)
        u32(UInt32(metric.dimensions.count))
        for dimension in metric.dimensions {
            string(dimension.name)
            string(dimension.value)
        }
    }
}

extension WireReader {
    /// CloudWatch allows 500 queries per GetMetricData call and 30 dimensions per metric.
    static let maxMetrics = 500
    static let maxDimensions = 30
    /// Series and buckets a peer may send back: generous bounds that still stop a damaged count.
    static let maxSeries = 1 << 20
    static let maxBuckets = 1 << 16
    static let maxSketchBins = 1 << 12

    package mutating func metricSelection() throws(WireError) -> MetricSelection {
        switch try u8() {
        case 1:
            let count = Int(try u32())
            guard count <= Self.maxMetrics else { throw WireError(description: "\(count) metrics") }
            var metrics: [MetricID] = []
            for _ in 0..<count { metrics.append(try metricID()) }
            return .series(metrics, fromMillis: try i64(), toMillis: try i64())
        case 2:
            let namespace = try optionalString()
            let name = try optionalString()
            let count = Int(try u32())
            guard count <= Self.maxDimensions else { throw WireError(description: "\(count) dimension filters") }
            var dimensions: [MetricFilter.Dimension] = []
            for _ in 0..<count {
                dimensions.append(MetricFilter.Dimension(name: try string(), value: try optionalString()))
            }
            return .list(MetricFilter(namespace: namespace, name: name, dimensions: dimensions))
        case let kind: throw WireError(description: "unknown metric selection \(kind)")
        }
    }

    package mutating func metricStore() throws(WireError) -> MetricStore {
        var store = MetricStore()
        let count = Int(try u32())
        guard count <= Self.maxSeries else { throw WireError(description: "\(count) metric series") }
        for _ in 0..<count {
            let metric = try metricID()
            let unit = try string()
            let buckets = Int(try u32())
            guard buckets <= Self.maxBuckets else { throw WireError(description: "\(buckets) metric buckets") }
            for _ in 0..<buckets {
                let minute = try i64()
                let bucket = MetricBucket(
                    sum: Double(bitPattern: try u64()),
                    sampleCount: Double(bitPattern: try u64()),
                    minimum: Double(bitPattern: try u64()),
                    maximum: Double(bitPattern: try u64()),
                    sketch: try valueSketch()
                )
                store.merge(metric, minute: minute, bucket, unit: unit)
            }
        }
        return store
    }

    mutating func valueSketch() throws(WireError) -> ValueSketch? {
        switch try u8() {
        case 0: return nil
        case 1:
            let zeros = try u64()
            let count = Int(try u32())
            // A 1 % sketch spans a nanosecond to a year in under 3,000 buckets.
            guard count <= Self.maxSketchBins else { throw WireError(description: "\(count) sketch buckets") }
            var bins: [Int32: UInt64] = [:]
            for _ in 0..<count {
                let index = Int32(bitPattern: try u32())
                let samples = try u64()
                bins[index, default: 0] += samples
            }
            return ValueSketch(zeroCount: zeros, bins: bins)
        case let flag: throw WireError(description: "unknown sketch flag \(flag)")
        }
    }

    mutating func metricID() throws(WireError) -> MetricID {
        let namespace = try string()
        let name = try string()
        let count = Int(try u32())
        guard count <= Self.maxDimensions else { throw WireError(description: "\(count) dimensions") }
        var dimensions: [MetricID.Dimension] = []
        for _ in 0..<count { dimensions.append(MetricID.Dimension(try string(), try string())) }
        return MetricID(namespace: namespace, name: name, dimensions: dimensions)
    }
}
