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
            for shard in stream.shards {
                let replica = try await replica(for: stream, shard: shard)
                guard let cut = replica.retentionCut(horizonMillis: horizon) else { continue }
                try await replica.trim(before: cut, stampMillis: now)
                logger.info(
                    "retention trimmed shard log",
                    metadata: ["rill.stream": "\(stream.name)", "rill.shard": "\(shard.id)", "logStart": "\(cut)"])
            }
        }
    }
}
