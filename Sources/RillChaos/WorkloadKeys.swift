/// The partition keys of the workload's writers, and how the checker finds a record's key again.
///
/// A writer's record id is `w<process>-<n>`, `n` counting up from 0 in the order the writer sends them. Its
/// partition key is one of `perWriter` keys of that writer, `w<process>-k<n mod perWriter>`: each key gets
/// many records over a run, written one call after another by one process, so the checker can hold the
/// stream to Kinesis's per-key order, across splits and merges too (`Checker.checkKeyOrder`). Records of
/// other workloads (the catalog churn's `c…` ids) use their id as their key and are not part of that check.
public enum WorkloadKeys {
    /// Keys per writer: enough to spread a writer over every shard, few enough that each key sees hundreds
    /// of records in a minute.
    public static let perWriter = 16

    /// The id of a writer's `n`-th record.
    public static func id(process: Int, n: Int) -> String { "w\(process)-\(n)" }

    /// The partition key a writer uses for the record with this id; the id itself for any other id.
    public static func partitionKey(ofID id: String) -> String {
        guard let (process, n) = writerRecord(id) else { return id }
        return "w\(process)-k\(n % perWriter)"
    }

    /// The writer process and counter of a writer's record id; nil for ids of other workloads.
    public static func writerRecord(_ id: String) -> (process: Int, n: Int)? {
        guard id.hasPrefix("w"), let dash = id.firstIndex(of: "-"),
            let process = Int(id[id.index(after: id.startIndex)..<dash]),
            let n = Int(id[id.index(after: dash)...]), n >= 0
        else { return nil }
        return (process, n)
    }
}
