/// SplitMix64 (Steele, Lea and Flood 2014): a tiny, fast, seedable generator. Cores take randomness only
/// from a generator passed in, so seeded runs replay exactly; load generators use it because
/// `SystemRandomNumberGenerator` costs a system call per draw on Linux. Not for secrets.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    /// The step between states: the sequence visits every 64-bit state once before it repeats.
    public static let gamma: UInt64 = 0x9E37_79B9_7F4A_7C15

    public mutating func next() -> UInt64 {
        state &+= Self.gamma
        return Self.mix(state)
    }

    /// The output of one state: a bijection, so distinct states give distinct outputs.
    public static func mix(_ state: UInt64) -> UInt64 {
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
