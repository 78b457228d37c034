import RillKinesis

extension RecordsService {
    /// How long records refused by a sealed shard wait for this node's catalog to close it before they are
    /// routed again. A reshard seals its parents first and commits the catalog change a moment later (one
    /// metadata commit, then this node's apply), so in between the catalog still shows the parent open and
    /// routing again at once sent the records back to it: refused twice, they failed as InternalFailure.
    /// A reshard whose catalog change never commits reopens the parents it sealed; past this wait the
    /// records are routed by the catalog as it is, which then sends them to the reopened parent.
    static let sealSettleLimit: Duration = .seconds(2)

    /// The stream as this node's catalog shows it once none of the shards in `sealed` (shard indexes that
    /// refused an append as sealed) is open any more, or after `sealSettleLimit` as it is then.
    func streamAfterSeal(
        _ selector: StreamSelector,
        _ namespace: Namespace,
        sealed: Set<UInt32>
    ) async throws -> StreamMetadata {
        let deadline = ContinuousClock.now.advanced(by: Self.sealSettleLimit)
        while true {
            let (fresh, _) = try resolve(selector, namespace)
            let settled = !fresh.shards.contains { sealed.contains($0.index) && $0.isOpen }
            if settled || ContinuousClock.now >= deadline { return fresh }
            // The catalog applies the reshard within a metadata commit: a few milliseconds on a quiet cluster.
            try await Task.sleep(for: .milliseconds(5))
        }
    }
}
