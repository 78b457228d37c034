/// An injected link delay: each outbound frame to one peer waits `fixed` plus a uniform draw from
/// `0...jitter` before it goes out (chaos testing only).
public struct LinkDelay: Sendable, Equatable {
    public var fixed: Duration
    public var jitter: Duration

    public init(fixed: Duration, jitter: Duration = .zero) {
        self.fixed = fixed
        self.jitter = jitter
    }

    /// One delay in nanoseconds, drawn from `generator`.
    func sample(using generator: inout some RandomNumberGenerator) -> UInt64 {
        let jitterNanos = Self.nanoseconds(jitter)
        let extra = jitterNanos > 0 ? UInt64.random(in: 0...jitterNanos, using: &generator) : 0
        return Self.nanoseconds(fixed) &+ extra
    }

    static func nanoseconds(_ duration: Duration) -> UInt64 {
        let (seconds, attoseconds) = duration.components
        guard seconds >= 0, attoseconds >= 0 else { return 0 }
        return UInt64(seconds) &* 1_000_000_000 &+ UInt64(attoseconds / 1_000_000_000)
    }
}

/// The delay queue of one link: a FIFO of items, each released no earlier than its own due time and never
/// before the item ahead of it. Frames to one peer therefore leave in the order they were sent, as over a
/// slow wire: the transport's links assume per-connection order (a Raft batch is never overtaken by a later
/// one, an RPC response never by a later frame), and a delay that reordered frames would test a network
/// TCP never presents.
///
/// No I/O and no clock: times are monotonic nanoseconds passed in. The shell arms one timer at a time for
/// the deadline `admit`, `finishRelease` or `releaseAll` return, calls `takeDue` when it fires, delivers
/// the items in order, then calls `finishRelease`. While items are out for delivery the line counts as
/// busy, so an item admitted meanwhile queues behind them rather than overtaking them.
struct DelayLine<Item> {
    private var queue: [(due: UInt64, item: Item)] = []
    private var head = 0
    /// Due time of the last queued item: later items are due no earlier.
    private var lastDue: UInt64 = 0
    /// Items were taken by `takeDue` and are being delivered.
    private(set) var releasing = false
    /// The deadline of the timer the shell armed last, until it fires.
    private(set) var armed: UInt64?

    /// What the shell does with an admitted item.
    enum Admission: Equatable {
        /// Nothing waits and no delay is set: deliver it now, bypassing the line.
        case deliverNow
        /// Queued; nothing more to do (a timer is armed, or a release in progress will arm one).
        case queued
        /// Queued; arm the timer for this deadline.
        case queuedArm(UInt64)
    }

    var count: Int { queue.count - head }
    var isIdle: Bool { count == 0 && !releasing }

    /// Admits `item` sent at `now`, to wait `delay` nanoseconds (nil: no delay is set for the link).
    mutating func admit(_ item: Item, now: UInt64, delay: UInt64?) -> Admission {
        if delay == nil, isIdle { return .deliverNow }
        let due = max(now &+ (delay ?? 0), lastDue)
        lastDue = due
        queue.append((due, item))
        guard !releasing, armed == nil else { return .queued }
        armed = due
        return .queuedArm(due)
    }

    /// The timer armed for `deadline` fired at `now`: the items due, in order. The shell delivers them and
    /// then calls `finishRelease`. A timer that was superseded still releases what is due.
    mutating func takeDue(firedFor deadline: UInt64, now: UInt64) -> [Item] {
        if armed == deadline { armed = nil }
        var due: [Item] = []
        while head < queue.count, queue[head].due <= now {
            due.append(queue[head].item)
            head += 1
        }
        compact()
        releasing = true
        return due
    }

    /// The items of the last `takeDue` are delivered; returns a deadline to arm if more wait and no timer
    /// is armed for them.
    mutating func finishRelease() -> UInt64? {
        releasing = false
        guard head < queue.count else { return nil }
        let next = queue[head].due
        if let armed, armed <= next { return nil }
        armed = next
        return next
    }

    /// The delay was healed: every waiting item is due at `now`, still in order. Returns a deadline to arm.
    mutating func releaseAll(now: UInt64) -> UInt64? {
        for index in head..<queue.count { queue[index].due = min(queue[index].due, now) }
        lastDue = min(lastDue, now)
        guard head < queue.count, !releasing else { return nil }
        if let armed, armed <= now { return nil }
        armed = now
        return now
    }

    /// Drops the consumed prefix once it dominates, so a long-lived line does not grow without bound.
    private mutating func compact() {
        if head == queue.count {
            queue.removeAll(keepingCapacity: true)
            head = 0
        } else if head > 1024, head * 2 > queue.count {
            queue.removeFirst(head)
            head = 0
        }
    }
}

extension DelayLine: Sendable where Item: Sendable {}
