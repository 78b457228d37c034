/// The shards of the stream under test and their parents, as ListShards named them when the final read
/// began: what the key-order check needs to tell a parent from its children after splits and merges.
public struct LineageEvent: Sendable, Equatable, Codable {
    /// One shard and the shards it came from (none for a shard the stream was created with; one after a
    /// split; two after a merge).
    public struct Shard: Sendable, Equatable, Codable {
        public var shard: String
        public var parents: [String]

        public init(shard: String, parents: [String] = []) {
            self.shard = shard
            self.parents = parents
        }
    }

    /// Milliseconds since the run started.
    public var time: Double
    public var shards: [Shard]

    public init(time: Double, shards: [Shard]) {
        self.time = time
        self.shards = shards
    }
}

/// Which shard descends from which, built from lineage events.
public struct ShardLineage: Sendable, Equatable {
    private var parents: [String: [String]] = [:]

    public init(_ shards: [LineageEvent.Shard] = []) {
        for shard in shards { parents[shard.shard] = shard.parents }
    }

    mutating func merge(_ event: LineageEvent) {
        for shard in event.shards { parents[shard.shard] = shard.parents }
    }

    /// Whether `ancestor` is a parent of `shard`, or a parent of one of its parents, and so on.
    public func isAncestor(_ ancestor: String, of shard: String) -> Bool {
        var seen: Set<String> = []
        var pending = parents[shard] ?? []
        while let next = pending.popLast() {
            if next == ancestor { return true }
            if seen.insert(next).inserted { pending += parents[next] ?? [] }
        }
        return false
    }

    /// Whether a split or merge closed `shard`: some shard names it as a parent.
    public func hasChildren(_ shard: String) -> Bool {
        parents.values.contains { $0.contains(shard) }
    }

    /// `shard` and its ancestors, nearest first (the first parent's line), for a report a person reads.
    public func line(of shard: String) -> [String] {
        var line = [shard]
        var current = shard
        while let parent = parents[current]?.first, !line.contains(parent) {
            line.append(parent)
            current = parent
        }
        return line
    }
}
