extension SWIM {
    /// A point on one instance's logical clock: the number of `tick()` calls so far.
    ///
    /// Ticks are local. Two instances' ticks are unrelated, so a tick from a peer (the `since` of a gossiped
    /// suspicion) is never compared with our own clock.
    public struct Tick: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
        public var rawValue: UInt64
        public init(rawValue: UInt64) { self.rawValue = rawValue }
        public init(_ value: UInt64) { self.rawValue = value }

        public static let zero = Tick(0)
        public static func < (lhs: Tick, rhs: Tick) -> Bool { lhs.rawValue < rhs.rawValue }

        /// The tick `ticks` later; durations come from `Settings`, so they are never negative.
        public func advanced(by ticks: Int) -> Tick { Tick(rawValue &+ UInt64(max(0, ticks))) }

        /// Ticks elapsed from `earlier` to this tick, zero when `earlier` is later.
        public func ticks(since earlier: Tick) -> UInt64 {
            rawValue >= earlier.rawValue ? rawValue - earlier.rawValue : 0
        }

        public var description: String { String(rawValue) }
    }
}
