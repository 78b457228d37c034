#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension SWIM {
    /// Protocol timings in ticks and fan-outs. The shell picks the tick length; the defaults assume 10 ms ticks
    /// and then match hashicorp/memberlist's `DefaultLANConfig` (1 s probe interval, 500 ms probe timeout,
    /// 3 indirect checks, suspicion multipliers 4 and 6, awareness up to 8×, 30 s push-pull).
    public struct Settings: Sendable, Equatable {
        /// Ticks between the starts of two probes: the SWIM protocol period.
        public var protocolPeriod: Int = 100
        /// Ticks to wait for a direct ack before asking others to probe. Must be below `protocolPeriod`, which
        /// bounds the whole probe; both stretch with local health.
        public var probeTimeout: Int = 50
        /// How many members relay a `pingRequest` when a direct probe times out (SWIM's k).
        public var indirectProbeCount: Int = 3
        /// The shortest suspicion timeout, in protocol periods, before scaling by log10 of the cluster size
        /// (memberlist `SuspicionMult`): what a suspect gets once `suspicionConfirmations` others agree.
        public var suspicionMinMultiplier: Double = 4
        /// The longest suspicion timeout as a multiple of the shortest (memberlist `SuspicionMaxTimeoutMult`):
        /// what a suspect gets while only one member suspects it.
        public var suspicionMaxMultiplier: Double = 6
        /// Independent suspicions that bring the timeout down to the minimum (Lifeguard's K); fewer in clusters
        /// too small to supply them.
        public var suspicionConfirmations: Int = 3
        /// Local health ("awareness") stays in `0..<maxLocalHealth`; probe timeouts stretch by health + 1, so at
        /// most this many times (memberlist `AwarenessMaxMultiplier`).
        public var maxLocalHealth: Int = 8
        /// λ: each update rides on at most ⌈λ · ln(n + 1)⌉ messages per member for a cluster of n live members.
        public var retransmitMultiplier: Double = 3
        /// Updates piggybacked on one message at most; the fewest-sent go first.
        public var maxGossipPerMessage: Int = 8
        /// Protocol periods between full-state exchanges with a random member (and a reconnect attempt to a
        /// random dead one), which is what lets a healed partition converge.
        public var pushPullPeriods: Int = 30
        /// Protocol periods between contacts to the seeds while no other member is alive or suspect.
        public var joinRetryPeriods: Int = 1
        /// Protocol periods a dead or left member is remembered, so stale gossip cannot resurrect it.
        public var tombstonePeriods: Int = 3600
        /// Members told directly on `leave()`; the rest learn by gossip.
        public var leaveFanout: Int = 8

        public init() {}

        /// The defaults.
        public static let `default` = Settings()

        /// Rill's timings (with 10 ms ticks): a 400 ms period with a 200 ms probe timeout and 3 indirect probes,
        /// and a suspicion of 6 periods once confirmed, 12 while one member alone suspects (2.4–4.8 s; memberlist
        /// waits 4–24 one-second periods). Rill clusters are three to a few members, so each member probes each
        /// other one only every few periods; the short period lets every member know a dead node within five
        /// seconds (simulated with 100 ms jitter, 3–5 members: slowest 3.9–4.0 s), while a lone suspicion —
        /// what random loss produces — leaves the suspect 4.8 s to refute. Chosen by simulation
        /// (Tests/RillGossipTests, `RillSettingsTests`): shorter suspicions declared healthy members dead
        /// under 10% loss and 100 ms jitter.
        public static let rill: Settings = {
            var settings = Settings()
            settings.protocolPeriod = 40
            settings.probeTimeout = 20
            settings.indirectProbeCount = 3
            settings.suspicionMinMultiplier = 6
            settings.suspicionMaxMultiplier = 2
            // Push-pull every 12 s; tombstones kept 30 min.
            settings.pushPullPeriods = 30
            settings.tombstonePeriods = 4500
            return settings
        }()

        /// Where a relay gives up and nacks: 80% of the probe timeout, as memberlist, so the nack reaches the
        /// prober before its own deadline.
        var nackTimeout: Int { max(1, probeTimeout * 8 / 10) }

        /// At most this many `pingRequest`s relayed at once; more are refused (a peer cannot grow our memory).
        var maxRelays: Int { 1024 }

        /// The suspicion timeout in ticks for a suspect with `confirmations` independent suspicions beyond the
        /// first, in a cluster of `liveMembers` (memberlist `suspicionTimeout` and Lifeguard §4.2):
        /// `max(min, max − log(c + 1) / log(K + 1) · (max − min))`, `min = mult · max(1, log10 n) · period`.
        public func suspicionTimeout(confirmations: Int, liveMembers: Int) -> Int {
            let scale = max(1, log10(Double(max(1, liveMembers))))
            let minimum = suspicionMinMultiplier * scale * Double(protocolPeriod)
            let maximum = suspicionMaxMultiplier * minimum
            // Only the members other than the suspect and the first suspecter can confirm.
            let wanted = min(suspicionConfirmations, liveMembers - 2)
            guard wanted >= 1 else { return Int(minimum.rounded(.up)) }
            let fraction = log(Double(max(0, confirmations)) + 1) / log(Double(wanted) + 1)
            let timeout = max(minimum, maximum - fraction * (maximum - minimum))
            return Int(timeout.rounded(.up))
        }

        /// How many messages may carry one update, for `liveMembers` alive or suspect members.
        public func retransmitLimit(liveMembers: Int) -> Int {
            max(1, Int((retransmitMultiplier * log(Double(max(1, liveMembers)) + 1)).rounded(.up)))
        }

        /// Whether the settings can run: positive periods, a probe timeout inside the period.
        public var isValid: Bool {
            protocolPeriod > 1 && probeTimeout > 0 && probeTimeout < protocolPeriod && indirectProbeCount >= 0
                && suspicionMinMultiplier > 0 && suspicionMaxMultiplier >= 1 && suspicionConfirmations >= 0
                && maxLocalHealth >= 1 && retransmitMultiplier > 0 && maxGossipPerMessage >= 1
                && pushPullPeriods >= 1 && joinRetryPeriods >= 1 && tombstonePeriods >= 1 && leaveFanout >= 0
        }
    }
}
