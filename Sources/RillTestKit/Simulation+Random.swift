extension Simulation {
    /// xoshiro256** (Blackman and Vigna 2018), seeded through SplitMix64: the world's only source of chance,
    /// so a seed replays a run exactly.
    public struct Random: RandomNumberGenerator, Sendable {
        private var s0: UInt64
        private var s1: UInt64
        private var s2: UInt64
        private var s3: UInt64

        public init(seed: UInt64) {
            var x = seed
            func splitMix() -> UInt64 {
                x &+= 0x9E37_79B9_7F4A_7C15
                var z = x
                z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
                z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
                return z ^ (z >> 31)
            }
            s0 = splitMix()
            s1 = splitMix()
            s2 = splitMix()
            s3 = splitMix()
        }

        public mutating func next() -> UInt64 {
            let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
            let t = s1 << 17
            s2 ^= s0
            s3 ^= s1
            s1 ^= s2
            s0 ^= s3
            s2 ^= t
            s3 = s3 << 45 | s3 >> 19
            return result
        }

        /// True with probability `p`.
        public mutating func chance(_ p: Double) -> Bool {
            p > 0 && Double(next() >> 11) * 0x1.0p-53 < p
        }

        /// A uniform integer in `range`.
        public mutating func int(in range: ClosedRange<Int>) -> Int {
            range.lowerBound + Int(next() % UInt64(range.count))
        }
    }
}
