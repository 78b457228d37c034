import Foundation

/// Knobs for the simulation tests.
///
/// - `RILL_GOSSIP_SEED=N` replays seed N alone in every seeded test (each failure message names its seed).
/// - `RILL_GOSSIP_PERIODS=N` sets the protocol periods of the lossy-network soak (default 10,000, close to three
///   hours of cluster time at 1 s periods; about 5 s in a debug build, 1 s in release).
/// - `RILL_GOSSIP_SOAK_SEEDS=N` runs the soak in N worlds (default 1).
/// - `RILL_GOSSIP_SEEDS=N` sets how many seeds the other world tests run (default 6).
enum TestEnvironment {
    static let variables = ProcessInfo.processInfo.environment
    static let replaySeed = variables["RILL_GOSSIP_SEED"].flatMap { UInt64($0) }
    static let soakPeriods = variables["RILL_GOSSIP_PERIODS"].flatMap { Int($0) } ?? 10_000
    static let soakSeedCount = variables["RILL_GOSSIP_SOAK_SEEDS"].flatMap { Int($0) } ?? 1
    static let seedCount = variables["RILL_GOSSIP_SEEDS"].flatMap { Int($0) } ?? 6

    /// The seeds a world test runs: the replay seed alone, or `count` seeds starting at `base` (a different
    /// base per test, so tests do not share worlds).
    static func seeds(base: UInt64, count: Int = seedCount) -> [UInt64] {
        if let replaySeed { return [replaySeed] }
        return (0..<UInt64(count)).map { base &+ $0 }
    }
}
