import RillModel

extension SWIM {
    /// A record waiting to ride on outgoing messages (memberlist `TransmitLimitedQueue`).
    struct Broadcast: Sendable {
        /// Messages that carried it so far.
        var transmissions: Int
        /// Enqueue order; among equally sent records the newest goes first.
        var order: UInt64

        /// Fewest transmissions first, then newest first; `order` is unique, so the order is total.
        func goesBefore(_ other: Broadcast) -> Bool {
            transmissions != other.transmissions ? transmissions < other.transmissions : order > other.order
        }
    }
}

extension SWIM.Instance {
    /// Queues the current record of `id` to be spread afresh, replacing whatever older record of it was queued.
    mutating func enqueueBroadcast(of id: NodeID) {
        broadcastCounter += 1
        broadcasts[id] = SWIM.Broadcast(transmissions: 0, order: broadcastCounter)
    }

    /// The records to piggyback on a message to `receiver`, at most `maxGossipPerMessage`, fewest-sent first.
    /// Each rides on at most `retransmitLimit` messages, ⌈λ · ln(n + 1)⌉, which in SWIM's analysis (§4.1)
    /// reaches every member with high probability while keeping each message small.
    ///
    /// Lifeguard's buddy system comes first: a message to a member we suspect or think dead always carries
    /// that record, whatever its count, so the member can refute on the spot instead of when the gossip
    /// happens to reach it.
    mutating func piggyback(to receiver: NodeID) -> [SWIM.Member] {
        var gossip: [SWIM.Member] = []
        if let record = others[receiver], record.status.isSuspect || record.status.isDead {
            gossip.append(record)
        }
        guard !broadcasts.isEmpty, gossip.count < settings.maxGossipPerMessage else { return gossip }
        let limit = settings.retransmitLimit(liveMembers: liveMemberCount)
        let queue = broadcasts.sorted { $0.value.goesBefore($1.value) }
        for (id, entry) in queue {
            guard gossip.count < settings.maxGossipPerMessage else { break }
            guard let record = member(id) else {
                broadcasts[id] = nil
                continue
            }
            if !gossip.isEmpty, gossip[0].id == id { continue }  // already carried as the buddy record
            gossip.append(record)
            if entry.transmissions + 1 >= limit {
                broadcasts[id] = nil
            } else {
                broadcasts[id]?.transmissions = entry.transmissions + 1
            }
        }
        return gossip
    }

    /// How many more messages may carry the queued record of `id`, or nil when it is not queued.
    public func pendingTransmissions(of id: NodeID) -> Int? {
        guard let entry = broadcasts[id] else { return nil }
        return max(0, settings.retransmitLimit(liveMembers: liveMemberCount) - entry.transmissions)
    }
}
