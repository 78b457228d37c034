/// A list that holds its first element inline and allocates only for a second.
///
/// Almost every record is read at exactly one position; keeping that one out of an array saves an allocation
/// per record, which is most of the cost of indexing a large history.
struct InlineList<Element: Equatable> {
    private(set) var first: Element?
    private var rest: [Element] = []

    init() {}

    var count: Int { first == nil ? 0 : 1 + rest.count }
    var isEmpty: Bool { first == nil }

    var elements: [Element] {
        guard let first else { return [] }
        return [first] + rest
    }

    func contains(_ element: Element) -> Bool {
        first == element || rest.contains(element)
    }

    mutating func append(_ element: Element) {
        if first == nil { first = element } else { rest.append(element) }
    }
}
