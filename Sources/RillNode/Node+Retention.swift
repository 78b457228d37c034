import RillKinesis
import RillModel

extension Node {
    /// Deletes whole segments whose records are all past their stream's retention, every `interval`,
    /// until the task is cancelled.
    public func runRetention(every interval: Duration) async {
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: interval)
                try await enforceRetention()
            } catch is CancellationError {
                return
            } catch {
                logger.warning("retention pass failed", metadata: ["error": "\(error)"])
            }
        }
    }

    /// One retention pass over every shard this node holds.
    public func enforceRetention() async throws {
        let now = clock.nowMillis()
        for stream in metadata.catalog.allStreams {
            let horizon = now - Int64(stream.retentionHours) * 3_600_000
            for shard in stream.shards where holds(shard) {
                // The leader trims by appending a `trim` entry; followers trim when they apply it.
                guard let replica = localReplica(streamID: stream.id, shard: shard.index),
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
