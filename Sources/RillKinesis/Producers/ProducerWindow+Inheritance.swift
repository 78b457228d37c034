/// The window across a reshard (docs/producers.md, "Across a reshard"). A sealed parent's window is final at its
/// seal: records committed behind the seal are never readable and are left out of it, and their retry goes to a
/// child. A child's leader takes over its parents' final windows before it serves producers, as one entry of the
/// child's own log (`ProducerInheritance`), so every replica of the child applies the same window and a restart
/// or a snapshot rebuilds it as it rebuilds the rest.
///
/// The parents' records keep their positions, tagged with the shard that stored them (`ShardOrigin`): a retry
/// that reaches the child is answered with the parent's ShardId and sequence number, the copy that was stored.
/// A child takes all of a parent's window, not only its own hash range: the window does not keep hash keys, a
/// producer sequence names one record wherever it went, and the bound per producer is the same either way.
extension ProducerWindow {
    /// This window as a child of its shard takes it over: every record it stored itself tagged with `origin`
    /// (records it took over from its own parents keep theirs).
    public func bequeathed(by origin: ShardOrigin) -> ProducerWindow {
        var copy = self
        for (id, state) in producers {
            var ring = Ring<Committed>(capacity: state.committed.capacity)
            for var record in state.committed.elements {
                record.position.origin = record.position.origin ?? origin
                ring.append(record)
            }
            copy.producers[id]?.committed = ring
        }
        return copy
    }

    /// What a child of `parents` takes over: their final windows, each tagged with its shard, in one window
    /// within `limits` (a merge's two parents hold at most `limits.window` records per producer together too).
    public static func inheritance(
        from parents: [(origin: ShardOrigin, window: ProducerWindow)],
        limits: Limits = Limits()
    ) -> ProducerWindow {
        var window = ProducerWindow(limits: limits)
        window.inherit(parents.map { $0.window.bequeathed(by: $0.origin) })
        return window
    }

    /// Folds `windows` (taken over from parents) into this one and marks it `inherited`. Their records are
    /// older than any this shard committed: per producer they go first, in sequence order, and the newest
    /// `limits.window` records are kept, the highest sequence that did not fit counting as forgotten (so its
    /// retry is refused rather than stored again). At most `limits.maxProducers` producers stay, the longest
    /// idle going first. A record already here is not added again, so applying the same inheritance twice
    /// (a second leader proposed it too, or a replay over a snapshot that holds it) changes nothing.
    public mutating func inherit(_ windows: [ProducerWindow]) {
        var incoming: [String: Producer] = [:]
        var records: [String: [Committed]] = [:]
        for window in windows {
            for (id, state) in window.producers {
                records[id, default: []].append(contentsOf: state.committed.elements)
                if var known = incoming[id] {
                    known.highest = max(known.highest, state.highest)
                    known.forgottenThrough = later(known.forgottenThrough, state.forgottenThrough)
                    known.lastSeenMillis = max(known.lastSeenMillis, state.lastSeenMillis)
                    incoming[id] = known
                } else {
                    incoming[id] = state
                }
            }
        }
        for (id, parent) in incoming.sorted(by: { $0.key < $1.key }) {
            var state =
                producers[id]
                ?? Producer(
                    committed: Ring(capacity: max(1, limits.window)),
                    highest: parent.highest,
                    forgottenThrough: nil,
                    lastSeenMillis: parent.lastSeenMillis
                )
            let own = state.committed.elements
            var seen = Set(own.map(\.sequence))
            let taken = (records[id] ?? []).sorted(by: Self.older).filter { seen.insert($0.sequence).inserted }
            var forgotten = later(state.forgottenThrough, parent.forgottenThrough)
            var ring = Ring<Committed>(capacity: max(1, limits.window))
            for record in taken + own {
                if let evicted = ring.append(record) { forgotten = later(forgotten, evicted.sequence) }
            }
            state.committed = ring
            state.forgottenThrough = forgotten
            state.highest = max(state.highest, parent.highest)
            state.lastSeenMillis = max(state.lastSeenMillis, parent.lastSeenMillis)
            producers[id] = state
        }
        while producers.count > limits.maxProducers,
            let idlest = producers.min(by: { ($0.value.lastSeenMillis, $0.key) < ($1.value.lastSeenMillis, $1.key) })
        {
            producers[idlest.key] = nil
        }
        inherited = true
    }

    /// The order of taken-over records: by sequence, then by shard and position, so every replica builds the
    /// same ring whatever order the parents' dictionaries walk in.
    private static func older(_ lhs: Committed, _ rhs: Committed) -> Bool {
        let left = (lhs.position.origin?.index ?? 0, lhs.position.origin?.epoch ?? 0)
        let right = (rhs.position.origin?.index ?? 0, rhs.position.origin?.epoch ?? 0)
        return (lhs.sequence, left.0, left.1, lhs.position.index.rawValue, lhs.position.slot)
            < (rhs.sequence, right.0, right.1, rhs.position.index.rawValue, rhs.position.slot)
    }
}

private func later(_ lhs: UInt64?, _ rhs: UInt64?) -> UInt64? {
    switch (lhs, rhs) {
    case (let l?, let r?): max(l, r)
    case (let l?, nil): l
    case (nil, let r): r
    }
}

/// The payload of the entry through which a child shard takes over its parents' windows: a `noop` entry (the
/// kind a new leader appends) whose payload is `marker` and the window (`ProducerWindow.encoded()`). Older
/// builds apply a noop by ignoring it, where a new entry kind would be a frame they refuse, so a rolling upgrade
/// keeps replicating the child.
public enum ProducerInheritance {
    /// "PW": no noop Raft appends carries a payload.
    static let marker: [UInt8] = [0x50, 0x57]

    public static func payload(_ window: ProducerWindow) -> [UInt8] { marker + window.encoded() }

    /// The window a `noop` entry's payload carries; nil for a plain noop. Damaged bytes throw, never trap.
    public static func window(
        fromPayload payload: [UInt8],
        limits: ProducerWindow.Limits = ProducerWindow.Limits()
    ) throws(ProducerWindow.DecodeError) -> ProducerWindow? {
        guard !payload.isEmpty else { return nil }
        guard payload.starts(with: marker) else { throw ProducerWindow.DecodeError() }
        return try ProducerWindow(decoding: Array(payload.dropFirst(marker.count)), limits: limits)
    }
}
