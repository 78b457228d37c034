extension Simulation {
    /// The wire between simulated nodes, shared by the Raft world and the cluster world: messages drop,
    /// duplicate, stall and reorder at the settings' rates, and blocked links (partitions, one-way cuts) lose
    /// everything, including what was already on the wire when they broke. Every chance comes from the world's
    /// generator, in a fixed order, so a seed replays the same deliveries.
    struct Network<Message: Sendable>: Sendable {
        struct InFlight: Sendable {
            var message: Message
            var from: Int
            var to: Int
            var deliverAt: Int
        }

        /// blocked[from][to]: the link drops everything.
        private(set) var blocked: [[Bool]]
        private var inFlight: [InFlight] = []

        init(nodeCount: Int) {
            blocked = Array(repeating: Array(repeating: false, count: nodeCount), count: nodeCount)
        }

        var isEmpty: Bool { inFlight.isEmpty }

        /// Whether a message from slot `from` to slot `to` is lost to a broken link (or an unknown slot).
        func isBlocked(from: Int, to: Int) -> Bool {
            !(blocked.indices.contains(from) && blocked.indices.contains(to)) || blocked[from][to]
        }

        /// Puts `message` on the wire, where faults may drop, stall or duplicate it (only while `faulty`).
        mutating func send(
            _ message: Message,
            from: Int,
            to: Int,
            tick: Int,
            faulty: Bool,
            settings: Settings,
            random: inout Random,
            stats: inout Stats
        ) {
            stats.messages += 1
            guard !isBlocked(from: from, to: to) else {
                stats.dropped += 1
                return
            }
            if faulty && random.chance(settings.dropRate) {
                stats.dropped += 1
                return
            }
            var delay = random.int(in: 0...settings.maxDelay)
            if faulty && random.chance(settings.longDelayRate) {
                stats.delayed += 1
                delay = random.int(in: 0...settings.maxLongDelay)
            }
            inFlight.append(InFlight(message: message, from: from, to: to, deliverAt: tick + delay))
            if faulty && random.chance(settings.duplicateRate) {
                stats.duplicated += 1
                let again = tick + random.int(in: 0...settings.maxDelay)
                inFlight.append(InFlight(message: message, from: from, to: to, deliverAt: again))
            }
        }

        /// Takes what is due by `tick`, shuffled: delays and this shuffle reorder messages. The caller still
        /// checks `isBlocked` per message, since a link may break while a message is in flight.
        mutating func takeDue(tick: Int, random: inout Random) -> [InFlight] {
            var due: [InFlight] = []
            var later: [InFlight] = []
            for item in inFlight {
                if item.deliverAt <= tick { due.append(item) } else { later.append(item) }
            }
            inFlight = later
            due.shuffle(using: &random)
            return due
        }

        /// Drops everything sent by or to `slot`: its connections die with it.
        mutating func dropAll(touching slot: Int) {
            inFlight.removeAll { $0.from == slot || $0.to == slot }
        }

        /// Splits the nodes into two random sides, cut off both ways; returns the sides.
        mutating func partition(random: inout Random) -> [Bool] {
            let count = blocked.count
            var side = (0..<count).map { _ in random.chance(0.5) }
            side[random.int(in: 0...(count - 1))].toggle()
            for a in 0..<count { for b in 0..<count where side[a] != side[b] { blocked[a][b] = true } }
            return side
        }

        /// An asymmetric fault: one direction of one random link; returns it.
        mutating func cutOneWay(random: inout Random) -> (from: Int, to: Int) {
            let count = blocked.count
            let a = random.int(in: 0...(count - 1))
            let b = (a + random.int(in: 1...(count - 1))) % count
            blocked[a][b] = true
            return (a, b)
        }

        /// Cuts `slot` off from everyone, both ways.
        mutating func isolate(_ slot: Int) {
            for other in blocked.indices where other != slot {
                blocked[slot][other] = true
                blocked[other][slot] = true
            }
        }

        /// Mends every link.
        mutating func heal() {
            for a in blocked.indices { for b in blocked.indices { blocked[a][b] = false } }
        }
    }
}
