import NIOCore
import NIOPosix
import RillModel
import RillRaft
import RillTransport
import Synchronization
import Testing

@Suite struct PeerTransportTests {
    @Test func twoTransportsExchangeRaftBatchesAndRequests() async throws {
        let a = try await TestNode.start(1)
        let b = try await TestNode.start(2)
        connect([a, b])
        try await withNodes([a, b]) {
            let toB = (1...50).map { heartbeat(from: a.id, to: b.id, tag: $0) } + everyMessage
            a.transport.send(toB, to: b.id)
            b.transport.send([heartbeat(from: b.id, to: a.id, tag: 7)], to: a.id)
            try await waitUntil("b receives a's batch") { b.inbox.count == toB.count }
            try await waitUntil("a receives b's batch") { a.inbox.count == 1 }
            // Control messages keep their order; so do heartbeats (coalesced, they leave a little later) and bulk.
            let received = b.inbox.messages(from: a.id)
            let control: (GroupMessage) -> Bool = { !$0.isBulk && !isBeat($0) }
            #expect(received.filter(control) == toB.filter(control))
            #expect(received.filter(isBeat) == toB.filter(isBeat))
            #expect(received.filter(\.isBulk) == toB.filter(\.isBulk))

            let answer = try await a.transport.request([1, 2, 3], to: b.id, timeout: .seconds(5))
            #expect(answer == [1, 3, 2, 1])  // b's handler: the caller's id, then the payload reversed
            let big = (0..<(3 * 1024 * 1024)).map { UInt8(truncatingIfNeeded: $0) }
            let bigAnswer = try await b.transport.request(big, to: a.id, timeout: .seconds(10))
            #expect(bigAnswer == [2] + big.reversed())

            let stats = a.transport.stats
            #expect(stats.framesSent >= 3)
            #expect(stats.bytesSent > 0 && stats.bytesReceived > 3 * 1024 * 1024)
        }
    }

    @Test func heartbeatsOfManyGroupsTravelAsOneFrame() async throws {
        var settings = testSettings()
        // Wide, so that even a slow machine makes all 300 sends within one coalescing round.
        settings.heartbeatCoalescingDelay = .milliseconds(300)
        let a = try await TestNode.start(1, settings: settings)
        let b = try await TestNode.start(2)
        connect([a, b])
        try await withNodes([a, b]) {
            let framesBefore = try await raftLinkUp(from: a, to: b)
            let beats = (0..<300).map { index in
                heartbeat(
                    from: a.id,
                    to: b.id,
                    tag: 2,
                    group: .shard(streamID: "s", shard: ShardID(index: UInt32(index)))
                )
            }
            // One send per group, as each group's driver sends its own.
            for beat in beats { a.transport.send([beat], to: b.id) }
            try await waitUntil("every group's heartbeat arrives") { b.inbox.count == 301 }
            #expect(Array(b.inbox.messages.dropFirst()) == beats)
            #expect(b.transport.stats.framesReceived - framesBefore == 1)
            // The sender counts the coalescing: the connecting beat alone, then all 300 in one frame. It counts
            // after its flush, so the receiver may have them first.
            try await waitUntil("the sender counted 301 beats in 2 frames") {
                let traffic = a.transport.trafficByPeer[b.id]
                return traffic?.coalescedHeartbeats == 301 && traffic?.heartbeatFrames == 2
            }
        }
    }

    @Test func largeAppendsAreSplitIntoFramesOfAboutOneMebibyte() async throws {
        let a = try await TestNode.start(1)
        let b = try await TestNode.start(2)
        connect([a, b])
        try await withNodes([a, b]) {
            // Connect first, so the appends go out in one drain rather than trickling.
            let framesBefore = try await raftLinkUp(from: a, to: b)
            let appends = (2...9).map { append(from: a.id, to: b.id, tag: $0, bytes: 512 * 1024) }
            a.transport.send(appends, to: b.id)
            try await waitUntil("all appends arrive") { b.inbox.count == 9 }
            #expect(b.inbox.messages.dropFirst().map { $0 } == appends)
            // 8 × 512 KiB: at most two per ~1 MiB frame.
            #expect(b.transport.stats.framesReceived - framesBefore >= 4)
        }
    }

    @Test func votesAndHeartbeatsGoAheadOfQueuedAppends() async throws {
        let a = try await TestNode.start(1)
        let down = try await TestNode.start(2)
        await down.transport.shutdown()  // messages queue while the peer is down
        connect([a, down])
        let appends = (1...3).map { append(from: a.id, to: down.id, tag: $0, bytes: 1000) }
        a.transport.send(appends, to: down.id)
        let vote = GroupMessage(
            group: .meta,
            message: Raft.Message(
                from: a.id,
                to: down.id,
                term: Term(50),
                body: .requestVote(lastIndex: LogIndex(3), lastTerm: Term(1), preVote: false, transfer: false)
            )
        )
        a.transport.send([vote, heartbeat(from: a.id, to: down.id, tag: 51)], to: down.id)
        let back = try await TestNode.start(2, port: down.port)
        try await withNodes([a, back]) {
            try await waitUntil("queued messages arrive after the redial") { back.inbox.count == 5 }
            #expect(back.inbox.messages.map(\.message.term.rawValue) == [50, 51, 1, 2, 3])
        }
    }

    @Test func threeTransportsTalkPairwise() async throws {
        let nodes = [try await TestNode.start(1), try await TestNode.start(2), try await TestNode.start(3)]
        connect(nodes)
        try await withNodes(nodes) {
            for sender in nodes {
                for receiver in nodes where receiver.id != sender.id {
                    sender.transport.send(
                        [heartbeat(from: sender.id, to: receiver.id, tag: sender.id.rawValue)],
                        to: receiver.id
                    )
                }
            }
            for node in nodes {
                try await waitUntil("node \(node.id) hears from both others") { node.inbox.count == 2 }
                let senders = Set(node.inbox.messages.map(\.message.from))
                #expect(senders == Set(nodes.map(\.id)).subtracting([node.id]))
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for sender in nodes {
                    for receiver in nodes where receiver.id != sender.id {
                        group.addTask {
                            let answer = try await sender.transport.request(
                                [9, 8],
                                to: receiver.id,
                                timeout: .seconds(5)
                            )
                            #expect(answer == [UInt8(sender.id.rawValue), 8, 9])
                        }
                    }
                }
                try await group.waitForAll()
            }
        }
    }

    @Test func restartedPeerOnTheSamePortReceivesAgain() async throws {
        let a = try await TestNode.start(1)
        let b = try await TestNode.start(2)
        connect([a, b])
        a.transport.send([heartbeat(from: a.id, to: b.id, tag: 1)], to: b.id)
        try await waitUntil("first delivery") { b.inbox.count == 1 }
        await b.transport.shutdown()

        let restarted = try await TestNode.start(2, port: b.port, generation: 2)
        try await withNodes([a, restarted]) {
            try await resendUntilDelivered(from: a, to: restarted)
            #expect(a.transport.stats.reconnects >= 1)
            let answer = try await a.transport.request([5], to: restarted.id, timeout: .seconds(5))
            #expect(answer == [1, 5])
        }
    }

    @Test func aPeerWhoseConnectionClosedAndRefusesRedialsIsReportedGoneOnce() async throws {
        let a = try await TestNode.start(1)
        let b = try await TestNode.start(2)
        let gone = Mutex<[NodeID]>([])
        a.transport.onPeerGone = { peer in gone.withLock { $0.append(peer) } }
        connect([a, b])
        a.transport.send([heartbeat(from: a.id, to: b.id, tag: 1)], to: b.id)
        try await waitUntil("first delivery") { b.inbox.count == 1 }
        #expect(gone.withLock { $0.isEmpty })
        // Nothing is queued for b: only the closed connection makes a redial, and its refusal is the news.
        await b.transport.shutdown()
        try await waitUntil("b reported gone") { gone.withLock { $0 == [b.id] } }
        // Resends are refused until b comes back, and say nothing new: the loss was reported once.
        for tag: UInt64 in 2...4 { a.transport.send([heartbeat(from: a.id, to: b.id, tag: tag)], to: b.id) }
        let restarted = try await TestNode.start(2, port: b.port, generation: 2)
        try await withNodes([a, restarted]) {
            try await resendUntilDelivered(from: a, to: restarted)
            #expect(gone.withLock { $0 } == [b.id])
            // A new loss is news again.
            await restarted.transport.shutdown()
            try await waitUntil("b reported gone again") { gone.withLock { $0 == [b.id, b.id] } }
        }
    }

    /// A link backing off from a peer that was down redials as soon as the node hears the peer is back (gossip saw
    /// it alive again, often as a new process), not when its backoff ends. The backoff here is a minute long, so
    /// only `peerIsBack` can deliver within the wait.
    @Test func aLinkBackingOffFromAPeerThatIsBackRedialsAtOnce() async throws {
        var settings = testSettings()
        settings.initialBackoff = .seconds(60)
        settings.maximumBackoff = .seconds(60)
        let a = try await TestNode.start(1, settings: settings)
        let b = try await TestNode.start(2)
        let port = b.port
        await b.transport.shutdown()
        connect([a, b])
        a.transport.send([heartbeat(from: a.id, to: b.id, tag: 1)], to: b.id)
        try await waitUntil("the dial to b refused") { (a.transport.trafficByPeer[b.id]?.failedDials ?? 0) == 1 }
        // Back on its port as a new process: the queued message was for its predecessor and is dropped on
        // reconnection (Raft resends), so a new one is sent once the link is up.
        let restarted = try await TestNode.start(2, port: port, generation: 2)
        try await withNodes([a, restarted]) {
            a.transport.peerIsBack(b.id)
            try await resendUntilDelivered(from: a, to: restarted)
            #expect(a.transport.trafficByPeer[b.id]?.failedDials == 1)
        }
    }

    /// A peer whose host answers no connection attempt (its SYNs dropped, as in a partition) is `.silent`, not
    /// `.unreachable`: the forwarder answers its caller at once instead of spending a connect timeout per retry
    /// until its deadline.
    @Test func aConnectionAttemptNobodyAnswersIsSilent() async throws {
        let blackhole = try await SilentListener.start()
        var settings = testSettings()
        settings.connectTimeout = .milliseconds(300)
        let a = try await TestNode.start(1, settings: settings)
        let refusing = try await TestNode.start(3)
        let refusingPort = refusing.port
        await refusing.transport.shutdown()
        a.transport.setPeers([
            NodeID(2): (host: "127.0.0.1", port: blackhole.port),
            NodeID(3): (host: "127.0.0.1", port: refusingPort),
        ])
        try await withNodes([a]) {
            await #expect(throws: TransportError.silent) {
                try await a.transport.request([1], to: NodeID(2), timeout: .seconds(10))
            }
            // A refused connection is not silent: the host answered, nobody listens.
            await #expect(throws: TransportError.unreachable) {
                try await a.transport.request([1], to: NodeID(3), timeout: .seconds(10))
            }
        }
        await blackhole.close()
    }

    @Test func transportOfAnotherClusterIsRefused() async throws {
        let a = try await TestNode.start(1, cluster: "cluster-a")
        let stray = try await TestNode.start(2, cluster: "cluster-b")
        connect([a, stray])
        try await withNodes([a, stray]) {
            await #expect(throws: TransportError.unreachable) {
                try await stray.transport.request([1], to: a.id, timeout: .seconds(5))
            }
            stray.transport.send([heartbeat(from: stray.id, to: a.id, tag: 1)], to: a.id)
            try await waitUntil("both handshakes refused") { a.transport.stats.refusedHandshakes >= 2 }
            #expect(a.inbox.count == 0)
        }
    }

    @Test func requestToADownPeerIsUnreachableWithinTheDeadline() async throws {
        let a = try await TestNode.start(1)
        let gone = try await TestNode.start(2)
        await gone.transport.shutdown()  // its port is now closed
        connect([a, gone])
        try await withNodes([a]) {
            // A refused connection answers before the deadline, not by it. The deadline is long so that a loaded
            // machine (CI beside other builds) cannot make a fast refusal look like a timeout.
            let start = ContinuousClock.now
            await #expect(throws: TransportError.unreachable) {
                try await a.transport.request([1], to: gone.id, timeout: .seconds(20))
            }
            #expect(ContinuousClock.now - start < .seconds(20))
            await #expect(throws: TransportError.unreachable) {
                try await a.transport.request([1], to: NodeID(77), timeout: .seconds(2))
            }
            await #expect(throws: TransportError.payloadTooLarge) {
                try await a.transport.request(
                    Array(repeating: 0, count: PeerFrame.maximumLength),
                    to: gone.id,
                    timeout: .seconds(2)
                )
            }
        }
    }

    @Test func requestWithoutAnAnswerTimesOut() async throws {
        let a = try await TestNode.start(1)
        let b = try await TestNode.start(2)
        // [0] is answered at once; anything else never in time (shutdown cancels it).
        b.transport.setRequestHandler { _, bytes in
            if bytes == [0] { return [0] }
            try? await Task.sleep(for: .seconds(60))
            return []
        }
        connect([a, b])
        try await withNodes([a, b]) {
            // Connected first, so that on a loaded machine the short timeout cannot expire during the handshake
            // (which would be `.unreachable`: nothing was sent).
            let answer = try await a.transport.request([0], to: b.id, timeout: .seconds(10))
            #expect(answer == [0])
            await #expect(throws: TransportError.timeout) {
                try await a.transport.request([1], to: b.id, timeout: .milliseconds(200))
            }
        }
    }

    @Test func anAbandonedRequestStopsWaitingAndCountsAsIndeterminate() async throws {
        let a = try await TestNode.start(1)
        let b = try await TestNode.start(2)
        let arrived = Mutex(false)
        b.transport.setRequestHandler { _, bytes in
            if bytes == [0] { return [0] }
            arrived.withLock { $0 = true }
            try? await Task.sleep(for: .seconds(60))
            return []
        }
        connect([a, b])
        try await withNodes([a, b]) {
            #expect(try await a.transport.request([0], to: b.id, timeout: .seconds(10)) == [0])
            // Abandoned while b sits on it: `.abandoned` (it was written, so it may have run), long before
            // the 30 s timeout.
            let abandonment = RequestAbandonment()
            async let answer: Result<[UInt8], TransportError> = {
                do throws(TransportError) {
                    return .success(
                        try await a.transport.request([1], to: b.id, timeout: .seconds(30), abandonment: abandonment)
                    )
                } catch {
                    return .failure(error)
                }
            }()
            try await waitUntil("the request reaches b") { arrived.withLock { $0 } }
            abandonment.abandon()
            #expect(await answer == .failure(.abandoned))
            // Abandoned before it was sent: provably not delivered.
            let early = RequestAbandonment()
            early.abandon()
            await #expect(throws: TransportError.unreachable) {
                try await a.transport.request([1], to: b.id, timeout: .seconds(30), abandonment: early)
            }
        }
    }

    @Test func faultHooksThrowWhenDisabled() async throws {
        let a = try await TestNode.start(1)
        try await withNodes([a]) {
            #expect(throws: TransportError.faultInjectionDisabled) { try a.transport.isolate(peers: [NodeID(2)]) }
            #expect(throws: TransportError.faultInjectionDisabled) { try a.transport.heal() }
            #expect(throws: TransportError.faultInjectionDisabled) {
                try a.transport.setDropProbability(0.5, to: NodeID(2))
            }
        }
    }

    @Test func isolateDropsBothWaysAndHealRestores() async throws {
        let a = try await TestNode.start(1, settings: testSettings(faults: true))
        let b = try await TestNode.start(2, settings: testSettings(faults: true))
        connect([a, b])
        try await withNodes([a, b]) {
            try a.transport.isolate(peers: [b.id])
            a.transport.send([heartbeat(from: a.id, to: b.id, tag: 1)], to: b.id)
            await #expect(throws: TransportError.unreachable) {
                try await a.transport.request([1], to: b.id, timeout: .seconds(1))
            }
            // Inbound from the isolated peer is dropped on arrival.
            b.transport.send([heartbeat(from: b.id, to: a.id, tag: 2)], to: a.id)
            try await waitUntil("a drops b's message") { a.transport.faultDrops >= 3 }
            #expect(a.inbox.count == 0)

            try a.transport.heal()
            a.transport.send([heartbeat(from: a.id, to: b.id, tag: 3)], to: b.id)
            b.transport.send([heartbeat(from: b.id, to: a.id, tag: 4)], to: a.id)
            try await waitUntil("traffic flows after heal") { b.inbox.count == 1 && a.inbox.count == 1 }
            // The isolated message was dropped, not delayed.
            #expect(!b.inbox.contains(term: 1))
            #expect(b.inbox.contains(term: 3))
            #expect(try await a.transport.request([1], to: b.id, timeout: .seconds(5)) == [1, 1])
        }
    }

    @Test func dropProbabilityDropsAndCounts() async throws {
        let a = try await TestNode.start(1, settings: testSettings(faults: true))
        let b = try await TestNode.start(2)
        connect([a, b])
        try await withNodes([a, b]) {
            try a.transport.setDropProbability(0.5, to: b.id)
            let batch = (1...400).map { heartbeat(from: a.id, to: b.id, tag: $0) }
            a.transport.send(batch, to: b.id)
            let dropped = a.transport.faultDrops
            #expect(dropped > 100 && dropped < 300)
            try await waitUntil("survivors arrive") { b.inbox.count == 400 - dropped }
            #expect(a.transport.stats.dropped == dropped)
        }
    }

    @Test func fullQueueDropsAndCounts() async throws {
        var settings = testSettings()
        settings.maximumQueuedMessages = 10
        let a = try await TestNode.start(1, settings: settings)
        // Nobody listens at the peer's address, so everything waits in the queue.
        let gone = try await TestNode.start(2)
        await gone.transport.shutdown()
        connect([a, gone])
        try await withNodes([a]) {
            a.transport.send((1...25).map { heartbeat(from: a.id, to: gone.id, tag: $0) }, to: gone.id)
            #expect(a.transport.stats.droppedQueueFull == 15)
            // A message no frame can hold is dropped rather than closing the connection.
            a.transport.send([append(from: a.id, to: gone.id, tag: 1, bytes: PeerFrame.maximumLength)], to: gone.id)
            #expect(a.transport.stats.droppedQueueFull == 16)
        }
    }
}

@Suite struct PeerTransportDelayTests {
    @Test func delayHoldsEveryFrameKindAndKeepsOrder() async throws {
        let a = try await TestNode.start(1, settings: testSettings(faults: true))
        let b = try await TestNode.start(2)
        connect([a, b])
        try await withNodes([a, b]) {
            // Connections first, so the delay measured below is the injected one, not a dial.
            #expect(try await a.transport.request([1], to: b.id, timeout: .seconds(5)) == [1, 1])
            try a.transport.setDelay(LinkDelay(fixed: .milliseconds(150), jitter: .milliseconds(100)), to: b.id)
            #expect(a.transport.injectedFaults.delays[b.id]?.fixed == .milliseconds(150))
            let sent = ContinuousClock.now
            for tag in 1...50 { a.transport.send([heartbeat(from: a.id, to: b.id, tag: UInt64(tag))], to: b.id) }
            #expect(try await a.transport.request([2], to: b.id, timeout: .seconds(5)) == [1, 2])
            #expect(sent.duration(to: .now) >= .milliseconds(150))
            try await waitUntil("all 50 arrive") { b.inbox.count == 50 }
            #expect(sent.duration(to: .now) >= .milliseconds(150))
            // Jitter up to 100 ms between sends would reorder them if each waited on its own timer.
            #expect(b.inbox.messages.map(\.message.term.rawValue) == Array(1...50))
            #expect(a.transport.faultDelays >= 51)
        }
    }

    @Test func healReleasesWaitingFramesAtOnceAndEndsTheDelay() async throws {
        let a = try await TestNode.start(1, settings: testSettings(faults: true))
        let b = try await TestNode.start(2)
        connect([a, b])
        try await withNodes([a, b]) {
            try a.transport.setDelay(LinkDelay(fixed: .seconds(30)), to: b.id)
            a.transport.send([heartbeat(from: a.id, to: b.id, tag: 1)], to: b.id)
            a.transport.send([heartbeat(from: a.id, to: b.id, tag: 2)], to: b.id)
            #expect(a.transport.faultDelays == 2)
            #expect(b.inbox.count == 0)
            try a.transport.heal()
            #expect(a.transport.injectedFaults.delays.isEmpty)
            a.transport.send([heartbeat(from: a.id, to: b.id, tag: 3)], to: b.id)
            try await waitUntil("the held frames and the new one arrive", timeout: .seconds(5)) { b.inbox.count == 3 }
            #expect(b.inbox.messages.map(\.message.term.rawValue) == [1, 2, 3])
        }
    }

    @Test func aResponseToADelayedPeerWaitsTooAndDelayNeedsFaultInjection() async throws {
        let a = try await TestNode.start(1)
        let b = try await TestNode.start(2, settings: testSettings(faults: true))
        connect([a, b])
        try await withNodes([a, b]) {
            #expect(throws: TransportError.faultInjectionDisabled) {
                try a.transport.setDelay(LinkDelay(fixed: .milliseconds(1)), to: b.id)
            }
            try b.transport.setDelay(LinkDelay(fixed: .milliseconds(200)), to: a.id)
            let asked = ContinuousClock.now
            #expect(try await a.transport.request([3], to: b.id, timeout: .seconds(5)) == [1, 3])
            #expect(asked.duration(to: .now) >= .milliseconds(200))
            // A request still held when its deadline passes never left: provably undelivered.
            try b.transport.setDelay(nil, to: a.id)
            try b.transport.setDelay(LinkDelay(fixed: .milliseconds(400)), to: a.id)
            await #expect(throws: TransportError.unreachable) {
                try await b.transport.request([4], to: a.id, timeout: .milliseconds(100))
            }
        }
    }
}
