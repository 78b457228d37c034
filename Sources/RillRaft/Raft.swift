/// Raft consensus as a pure state machine: one instance per shard group and one for the metadata group.
public enum Raft {}
