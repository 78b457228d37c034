import ArgumentParser
import RillCluster
import RillGossip
import RillNode

/// Gossip timings, shared by `rill node` and `rill router`; every member of a cluster should use the same.
struct GossipOptions: ParsableArguments {
    @Option(
        name: .customLong("gossip-interval-ms"),
        help: "SWIM protocol period: one probe per member per period, in milliseconds."
    )
    var intervalMillis: Int = 400

    @Option(
        name: .customLong("gossip-probe-timeout-ms"),
        help: "How long a direct probe waits for its ack before asking others, in milliseconds."
    )
    var probeTimeoutMillis: Int = 200

    @Option(name: .customLong("gossip-indirect-probes"), help: "How many members probe a silent member on our behalf.")
    var indirectProbes: Int = 3

    @Option(
        name: .customLong("gossip-suspicion-periods"),
        help: "Protocol periods a suspect has to refute before it is declared dead, once others confirm the suspicion."
    )
    var suspicionPeriods: Double = 6

    @Option(
        name: .customLong("gossip-suspicion-max-periods"),
        help: "Protocol periods a suspect has when only one member suspects it."
    )
    var suspicionMaxPeriods: Double = 12

    func validate() throws {
        guard intervalMillis >= 20, probeTimeoutMillis >= 10, probeTimeoutMillis < intervalMillis else {
            throw ValidationError("--gossip-probe-timeout-ms must be below --gossip-interval-ms (at least 20 ms)")
        }
        guard indirectProbes >= 0 else { throw ValidationError("--gossip-indirect-probes must not be negative") }
        guard suspicionPeriods > 0, suspicionMaxPeriods >= suspicionPeriods else {
            throw ValidationError("--gossip-suspicion-max-periods must be at least --gossip-suspicion-periods (> 0)")
        }
    }

    /// The settings in ticks of `GossipDefaults.tickLength` (10 ms).
    var settings: SWIM.Settings {
        var settings = GossipDefaults.settings
        settings.protocolPeriod = max(2, intervalMillis / 10)
        settings.probeTimeout = max(1, min(probeTimeoutMillis / 10, settings.protocolPeriod - 1))
        settings.indirectProbeCount = indirectProbes
        settings.suspicionMinMultiplier = suspicionPeriods
        settings.suspicionMaxMultiplier = suspicionMaxPeriods / suspicionPeriods
        return settings
    }
}
