import Foundation

/// The samples of one metric over one minute, kept for percentiles (CloudWatch's `ExtendedStatistics`, `p99` in
/// GetMetricData, the console's latency graph). DDSketch's logarithmic buckets (Masson, Rim and Lee, VLDB 2019):
/// bucket `i` holds the samples in (γ^(i-1), γ^i], and its estimate is within `relativeAccuracy` of every one of
/// them, so a percentile read from the buckets is within 1 % of the exact sample's value however many samples
/// there were. Sketches merge by adding counts, so every node's minute sums into the cluster's exactly. Sparse:
/// a minute of latencies fills a few dozen buckets.
public struct ValueSketch: Sendable, Equatable, Codable {
    public static let relativeAccuracy = 0.01
    static let gamma = (1 + relativeAccuracy) / (1 - relativeAccuracy)
    static let logGamma = Foundation.log(gamma)
    /// Samples this close to zero (or below) count as zero: no latency or age is finer than a nanosecond.
    static let zeroThreshold = 1e-6

    /// Samples at zero.
    public private(set) var zeroCount: UInt64 = 0
    /// Samples per logarithmic bucket index.
    public private(set) var bins: [Int32: UInt64] = [:]

    public init() {}

    public init(zeroCount: UInt64, bins: [Int32: UInt64]) {
        self.zeroCount = zeroCount
        self.bins = bins.filter { $0.value > 0 }
    }

    public var count: UInt64 { bins.values.reduce(zeroCount, +) }

    public mutating func add(_ value: Double) {
        guard value.isFinite else { return }
        if value <= Self.zeroThreshold {
            zeroCount += 1
        } else {
            bins[Self.index(value), default: 0] += 1
        }
    }

    public mutating func merge(_ other: ValueSketch) {
        zeroCount += other.zeroCount
        bins.merge(other.bins, uniquingKeysWith: +)
    }

    /// The value that `percentile` % of the samples are at or below (0...100), nil when there are none. As
    /// DDSketch defines it: the bucket holding the sample of rank ⌊p/100 × (n − 1)⌋ in sorted order.
    public func value(atPercentile percentile: Double) -> Double? {
        let total = count
        guard total > 0, percentile >= 0, percentile <= 100 else { return nil }
        let rank = UInt64((percentile / 100 * Double(total - 1)).rounded(.down))
        var seen = zeroCount
        if seen > rank { return 0 }
        for index in bins.keys.sorted() {
            seen += bins[index]!
            if seen > rank { return Self.estimate(index) }
        }
        return bins.keys.max().map(Self.estimate)
    }

    static func index(_ value: Double) -> Int32 {
        Int32((Foundation.log(value) / logGamma).rounded(.up))
    }

    /// The value every sample of bucket `index` is within `relativeAccuracy` of.
    static func estimate(_ index: Int32) -> Double {
        2 * Foundation.pow(gamma, Double(index)) / (gamma + 1)
    }
}
