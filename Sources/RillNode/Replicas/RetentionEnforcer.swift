import Logging
import RillKinesis
import RillModel

/// Retention on this node's shard copies: the leader of each shard trims whole segments past its stream's
/// retention. The node owns one (`Node.retention`); the process runs `run(every:)`.
public struct RetentionEnforcer: Sendable {
    let metadata: MetadataStore
    let host: ReplicaHost
    let clock: any WallClock
    let logger: Logger

    /// Deletes whole segments whose records are all past their stream's retention, every `interval`,
    /// until the task is cancelled.
    public func run(every interval: Duration) async {
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: interval)
                try await enforce()
            } catch is CancellationError {
                return
            } catch {
                logger.warning("retention pass failed", metadata: ["error": "\(error)"])
            }
        }
    }

    /// One retention pass over every shard this node holds.
    public func enforce() async throws {
        let now = clock.nowMillis()
        for stream in metadata.catalog.allStreams {
            let horizon = now - Int64(stream.retentionHours) * 3_600_000
            for shard in stream.shards where host.holds(shard) {
                // The leader trims by appending a `trim` entry; followers trim when they apply it.
                guard let replica = host.localReplica(streamID: stream.id, shard: shard.index),
                    await replica.driver.status.role == .leader
                else { continue }
                guard let cut = replica.retentionCut(horizonMillis: horizon) else { continue }
                try await replica.trim(before: cut, stampMillis: now)
                logger.info(
                    "retention trimmed shard log",
                    metadata: ["rill.stream": "\(stream.name)", "rill.shard": "\(shard.id)", "logStart": "\(cut)"]
                )
            }
        }
    }
}
