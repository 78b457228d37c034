/// A fixed-capacity FIFO over one array: appending to a full ring overwrites (and returns) the oldest element,
/// in O(1) and without moving the others, where `Array.removeFirst` shifted the whole window on every record.
struct Ring<Element: Sendable & Equatable>: Sendable, Equatable {
    private var storage: [Element] = []
    /// Position of the oldest element once the ring is full; 0 until then.
    private var head = 0
    let capacity: Int

    init(capacity: Int) {
        precondition(capacity > 0, "a ring needs room for one element")
        self.capacity = capacity
    }

    var count: Int { storage.count }
    var isEmpty: Bool { storage.isEmpty }

    /// Appends `element`; returns the oldest one when it made room for it.
    @discardableResult
    mutating func append(_ element: Element) -> Element? {
        if storage.count < capacity {
            storage.append(element)
            return nil
        }
        let evicted = storage[head]
        storage[head] = element
        head = (head + 1) % capacity
        return evicted
    }

    /// The newest element matching `predicate`, searched newest first (a retry is usually of a recent record).
    func last(where predicate: (Element) -> Bool) -> Element? {
        var offset = storage.count
        while offset > 0 {
            offset -= 1
            let element = storage[(head + offset) % storage.count]
            if predicate(element) { return element }
        }
        return nil
    }

    /// The elements, oldest first.
    var elements: [Element] {
        Array(storage[head...]) + Array(storage[..<head])
    }

    /// Equal when they hold the same elements in the same order: where the oldest sits in the storage is how
    /// the ring got there (a window rebuilt from a snapshot and a replay wraps at another place), not what it
    /// holds.
    static func == (lhs: Ring, rhs: Ring) -> Bool {
        lhs.capacity == rhs.capacity && lhs.elements == rhs.elements
    }
}
