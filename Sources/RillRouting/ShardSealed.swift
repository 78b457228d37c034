/// A shard's leader refused an append because a reshard sealed the shard: nothing was written, so the
/// records may be routed again by the new shard map. What a forwarded append's `shardSealed` answer means.
public struct ShardSealed: Error {
    public init() {}
}
