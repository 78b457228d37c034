import NIOCore
import RillChaos
import RillModel

/// One consumer process reading one shard for the whole run, through a random node that is up per call,
/// recording every page that carries records.
struct Consumer: Sendable {
    let process: Int
    let seed: UInt64
    let stream: String
    let shard: String
    let cluster: any ChaosCluster
    let recorder: Recorder
    let group: any EventLoopGroup
    var timeout: Duration = .seconds(10)

    struct Tally: Sendable {
        var pages = 0
        var records = 0
        var errors = 0
    }

    func run(stop: StopFlag, deadline: ContinuousClock.Instant) async -> Tally {
        var generator = SplitMix64(seed: seed &+ UInt64(process) &* 0xD1B5_4A32_D192_ED03)
        var caller = KinesisCaller(group: group)
        var cursor = ShardCursor(stream: stream, shard: shard)
        var tally = Tally()
        reading: while !stop.isSet, ContinuousClock.now < deadline, !Task.isCancelled {
            guard let port = await cluster.reachable().randomElement(using: &generator) else {
                try? await Task.sleep(for: .milliseconds(50))
                continue
            }
            switch await cursor.read(limit: 1000, at: port, caller: &caller, timeout: timeout) {
            case .page(let page):
                if !page.records.isEmpty {
                    recorder.append([
                        .read(
                            ReadEvent(
                                time: recorder.now,
                                process: process,
                                shard: shard,
                                isFinal: false,
                                records: page.records,
                                from: page.from
                            )
                        )
                    ])
                    tally.pages += 1
                    tally.records += page.records.count
                }
                if page.closed { break reading }
                // At the tip, poll gently, as KCL does; behind it, keep reading.
                if page.records.isEmpty || page.millisBehindLatest == 0 {
                    try? await Task.sleep(for: .milliseconds(200))
                }
            case .failed:
                tally.errors += 1
                try? await Task.sleep(for: .milliseconds(100))
            }
        }
        await caller.close()
        return tally
    }
}
