/// How often one anomaly occurred, with the first few occurrences to start debugging from.
public struct Finding<Example: Sendable & Equatable & Codable>: Sendable, Equatable, Codable {
    public var count: Int
    /// At most `Checker.exampleLimit` occurrences, in history order.
    public var examples: [Example]

    public init(count: Int = 0, examples: [Example] = []) {
        self.count = count
        self.examples = examples
    }

    public var isEmpty: Bool { count == 0 }

    /// Counts one occurrence, keeping it as an example while there is room.
    mutating func record(_ example: @autoclosure () -> Example, limit: Int) {
        count += 1
        if examples.count < limit { examples.append(example()) }
    }
}
