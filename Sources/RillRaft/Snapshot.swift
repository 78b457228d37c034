import RillModel

extension Raft {
    /// A compacted prefix of the log (Raft §7). For a shard it is small: the new log start, its term, the
    /// configuration in force there and the opaque shard state; the entries then follow as ordinary appends.
    public struct Snapshot: Sendable, Equatable {
        /// The last index the snapshot covers; the log starts at `index.next`.
        public var index: LogIndex
        /// The term of the entry at `index`.
        public var term: Term
        /// The configuration in force at `index`.
        public var configuration: Configuration
        /// The application's state at `index`, opaque to Raft.
        public var state: [UInt8]

        public init(index: LogIndex, term: Term, configuration: Configuration, state: [UInt8]) {
            self.index = index
            self.term = term
            self.configuration = configuration
            self.state = state
        }
    }
}
