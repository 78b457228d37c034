/// Which shards `rill tail` reads, and when: every shard of the stream, a child only once all its parents are read
/// to their end, so records of one key come out parent before child across a split or merge (the KCL's rule for
/// leases, `ShardSyncer`/`HierarchicalShardSyncer`). Pure: fed with shard lists and "finished" events, it
/// answers with shards to start reading.
public struct ShardLineage: Sendable {
    /// Where reading starts, as `--from` says.
    public enum StartPosition: Sendable, Equatable {
        case latest
        case trimHorizon
        /// Seconds since the epoch.
        case atTimestamp(Double)
    }

    /// A shard as ListShards or a GetRecords `ChildShards` entry describes it.
    public struct Shard: Sendable, Equatable {
        public var id: String
        /// `ParentShardId` and `AdjacentParentShardId` (or `ParentShards`), when present.
        public var parents: [String]
        /// False once the shard has an ending sequence number.
        public var isOpen: Bool

        public init(id: String, parents: [String] = [], isOpen: Bool = true) {
            self.id = id
            self.parents = parents
            self.isOpen = isOpen
        }
    }

    /// Start reading `shardID` with this iterator type (`AT_TIMESTAMP` carries its instant).
    public struct Read: Sendable, Equatable {
        public var shardID: String
        public var from: StartPosition

        public init(shardID: String, from: StartPosition) {
            self.shardID = shardID
            self.from = from
        }
    }

    private enum State: Sendable, Equatable {
        case waiting(parents: [String])
        case reading
        case finished
    }

    public let start: StartPosition
    private var states: [String: State] = [:]
    private var order: [String] = []
    private var listed = false

    public init(start: StartPosition) { self.start = start }

    /// Shards being read now.
    public var reading: [String] { order.filter { states[$0] == .reading } }
    /// Shards read to their end (or, from `latest`, closed before the run began).
    public var finishedCount: Int { states.values.filter { $0 == .finished }.count }
    public var waitingCount: Int { states.values.filter { if case .waiting = $0 { true } else { false } }.count }

    /// Shards from ListShards. The first list is the stream as the run found it: from `latest`, closed shards
    /// have nothing new and count as finished. Shards seen for the first time later are new since the run began
    /// and are read from their start (or from the timestamp). A parent missing from every list has expired and
    /// counts as finished.
    public mutating func listed(_ shards: [Shard]) -> [Read] {
        let initial = !listed
        listed = true
        for shard in shards where states[shard.id] == nil {
            order.append(shard.id)
            if initial && start == .latest && !shard.isOpen {
                states[shard.id] = .finished
            } else {
                states[shard.id] = .waiting(parents: shard.parents)
            }
        }
        return startReady(initial: initial)
    }

    /// `shardID` has been read to its end (GetRecords gave no next iterator). `children` are the `ChildShards` the
    /// last reply named, if any; the shell lists the stream again when it named none.
    public mutating func finished(_ shardID: String, children: [Shard] = []) -> [Read] {
        states[shardID] = .finished
        for child in children where states[child.id] == nil {
            order.append(child.id)
            states[child.id] = .waiting(parents: child.parents)
        }
        return startReady(initial: false)
    }

    private mutating func startReady(initial: Bool) -> [Read] {
        var reads: [Read] = []
        for id in order {
            guard case .waiting(let parents) = states[id] else { continue }
            let parentsDone = parents.allSatisfy { parent in
                guard let state = states[parent] else { return true }
                return state == .finished
            }
            guard parentsDone else { continue }
            states[id] = .reading
            reads.append(Read(shardID: id, from: initial ? start : laterStart))
        }
        return reads
    }

    /// Where a shard that appeared during the run starts: at its beginning, everything in it is new; from a
    /// timestamp, still at that timestamp.
    private var laterStart: StartPosition {
        if case .atTimestamp = start { return start }
        return .trimHorizon
    }
}
