import RillModel

extension Raft.Core {
    // MARK: - Proposals

    /// Appends a client entry to the leader's log and starts replicating it. Returns its index; the entry is
    /// committed once a later Ready lists it in `committedEntries` with the current term.
    @discardableResult
    public mutating func propose(
        kind: EntryKind,
        payload: [UInt8],
        timestampMillis: Int64 = 0
    ) throws(Raft.RaftError) -> LogIndex {
        guard role == .leader else { throw .notLeader(hint: leader) }
        // A transfer in progress stops proposals so the target can catch up (thesis §3.10); config entries go
        // through `proposeConfigurationChange`, which enforces one change at a time.
        guard transferTarget == nil, progress[id] != nil, kind != .config else { throw .proposalDropped }
        return appendAsLeader(kind: kind, payload: payload, timestampMillis: timestampMillis)
    }

    @discardableResult
    mutating func appendAsLeader(kind: EntryKind, payload: [UInt8], timestampMillis: Int64) -> LogIndex {
        let index = log.lastIndex.next
        appendToLog([LogEntry(term: term, index: index, kind: kind, timestampMillis: timestampMillis, payload: payload)]
        )
        replicationDue = true
        // A single voter commits as soon as its own write is durable; `advance` calls maybeCommit.
        return index
    }

    /// Appends to the log's unstable tail, keeping the configuration, the unstable mark and the durable mark
    /// consistent with a possible truncation.
    mutating func appendToLog(_ entries: [LogEntry]) {
        guard let first = entries.first else { return }
        if let cut = log.append(entries) {
            unstableFrom = min(unstableFrom, cut)
            persistedIndex = min(persistedIndex, cut.previous)
            configurationHistory.removeAll { $0.index >= cut }
        }
        unstableFrom = min(unstableFrom, first.index)
        for entry in entries where entry.kind == .config {
            if let decoded = Raft.Configuration(decoding: entry.payload) {
                configurationHistory.append((entry.index, decoded))
            }
        }
        // Thesis §4.1: a configuration takes effect as soon as its entry is in the log.
        applyConfiguration(configurationHistory.last?.configuration ?? baseConfiguration)
    }

    // MARK: - Leader: sending

    /// Sends appends to every member that is not paused.
    mutating func broadcastAppend() {
        for peer in progress.keys.sorted() where peer != id {
            sendAppend(to: peer, allowEmpty: true)
        }
    }

    /// The commit index moved: tell followers with the next Ready's appends, or let it ride on the next
    /// proposal's (`eagerCommitNotice` off). Heartbeats carry it too, and a heartbeat answer from a follower not
    /// yet told draws an append.
    mutating func announceCommit() {
        if options.eagerCommitNotice { replicationDue = true }
    }

    /// Sends the appends proposals and commit advances asked for since the last Ready (`replicationDue`): new
    /// entries to every follower, and an empty append to one that has them all but not the commit index.
    mutating func sendDueReplication() {
        guard replicationDue else { return }
        replicationDue = false
        guard role == .leader else { return }
        for peer in progress.keys.sorted() where peer != id {
            guard let peerProgress = progress[peer] else { continue }
            sendAppend(to: peer, allowEmpty: peerProgress.sentCommit < commitIndex)
        }
    }

    mutating func broadcastHeartbeat() {
        for peer in progress.keys.sorted() where peer != id {
            guard let peerProgress = progress[peer] else { continue }
            // Never tell a follower a commit index beyond what it is known to hold (etcd-io/raft).
            sendNow(to: peer, .heartbeat(commit: min(peerProgress.match, commitIndex)))
        }
    }

    /// Sends the next append (or a snapshot) to `peer`. Returns whether a message was sent.
    @discardableResult
    mutating func sendAppend(to peer: NodeID, allowEmpty: Bool) -> Bool {
        guard var peerProgress = progress[peer], !peerProgress.isPaused(maxInflight: options.maxInflightAppends)
        else { return false }
        let prevIndex = peerProgress.next.previous
        guard let prevTerm = log.term(at: prevIndex),
            let entries = log.entries(
                from: peerProgress.next,
                maxCount: options.maxEntriesPerAppend,
                maxBytes: options.maxAppendBytes
            )
        else {
            // Raft §7: the follower needs entries below our log start.
            guard let snapshot else { return false }
            peerProgress.becomeSnapshot(index: snapshot.index)
            progress[peer] = peerProgress
            sendNow(to: peer, .installSnapshot(snapshot))
            return true
        }
        if entries.isEmpty && !allowEmpty { return false }
        switch peerProgress.state {
        case .replicate:
            if let last = entries.last {
                peerProgress.next = last.index.next
                peerProgress.inflight.append(last.index)
            }
        case .probe:
            peerProgress.probeSent = true
        case .snapshot:
            return false
        }
        peerProgress.sentCommit = commitIndex
        progress[peer] = peerProgress
        sendNow(
            to: peer,
            .appendEntries(prevIndex: prevIndex, prevTerm: prevTerm, entries: entries, commit: commitIndex)
        )
        return true
    }

    // MARK: - Leader: answers

    mutating func handleAppendResponse(from peer: NodeID, _ result: Raft.AppendResult) {
        guard var peerProgress = progress[peer] else { return }
        peerProgress.recentActive = true
        switch result {
        case .accepted(let matchIndex):
            let wasPaused = peerProgress.isPaused(maxInflight: options.maxInflightAppends)
            let updated = peerProgress.maybeUpdate(matchIndex)
            switch peerProgress.state {
            case .probe where updated:
                peerProgress.becomeReplicate()
            case .snapshot(let index) where peerProgress.match >= index:
                // The snapshot landed; stream entries from here.
                peerProgress.becomeProbe()
                peerProgress.becomeReplicate()
            default:
                break
            }
            progress[peer] = peerProgress
            if updated {
                if maybeCommit() {
                    announceCommit()
                }
                // Thesis §3.10: the target is caught up, hand over.
                if peer == transferTarget, peerProgress.match == log.lastIndex {
                    sendNow(to: peer, .timeoutNow)
                }
            }
            if updated || wasPaused {
                while sendAppend(to: peer, allowEmpty: false) {}
            }
            // The appends after a commit skip a follower whose pipeline was full: tell it with the next Ready's.
            if options.eagerCommitNotice, let current = progress[peer], current.sentCommit < commitIndex {
                replicationDue = true
            }
        case .rejected(let index, let hintIndex, let hintTerm):
            // Fast back-off (etcd-io/raft): jump to the last index where our term is at most the follower's.
            var probe = hintIndex
            if hintTerm > .zero {
                probe = log.lastIndex(atOrBelow: hintIndex, withTermAtMost: hintTerm).index
            }
            if index == peerProgress.match, hintIndex < peerProgress.match {
                // It acknowledged `index` once and now lacks it: only a lost disk does that (the follower then
                // abstains from voting). Replicate from what it holds; the commit index never moves back.
                peerProgress.regress(to: hintIndex)
                progress[peer] = peerProgress
                sendAppend(to: peer, allowEmpty: true)
            } else if peerProgress.maybeDecrease(rejected: index, matchHint: probe) {
                if peerProgress.state == .replicate { peerProgress.becomeProbe() }
                progress[peer] = peerProgress
                sendAppend(to: peer, allowEmpty: true)
            } else {
                progress[peer] = peerProgress
            }
        }
    }

    mutating func handleHeartbeatResponse(from peer: NodeID) {
        guard var peerProgress = progress[peer] else { return }
        peerProgress.recentActive = true
        peerProgress.probeSent = false
        // Appends lost in the network would keep a full pipeline paused forever; an answer to a heartbeat makes
        // room for one more (etcd-io/raft), whose rejection then resets the follower to probing.
        if peerProgress.state == .replicate, peerProgress.inflight.count >= options.maxInflightAppends {
            peerProgress.inflight.removeFirst()
        }
        // A snapshot that got lost would leave the follower stuck; a heartbeat answer without the snapshot's
        // acknowledgement means "probe again", which resends it if still needed.
        if case .snapshot(let index) = peerProgress.state, peerProgress.match < index {
            peerProgress.becomeProbe()
        }
        progress[peer] = peerProgress
        if peerProgress.match < log.lastIndex || peerProgress.sentCommit < commitIndex {
            sendAppend(to: peer, allowEmpty: true)
        }
    }

    /// Raft §5.3, §5.4.2: commit the highest index a majority of voters hold, but only if it is of the
    /// leader's own term; earlier-term entries then commit indirectly.
    @discardableResult
    mutating func maybeCommit() -> Bool {
        guard role == .leader else { return false }
        let match = progress.mapValues(\.match)
        let candidate = Raft.Quorum.committedIndex(voters: configuration.voters, match: match)
        guard candidate > commitIndex, log.term(at: candidate) == term else { return false }
        commitIndex = candidate
        // Thesis §4.2.2: a leader removed from the configuration steps down once the removal commits.
        if !configuration.voters.contains(id), let last = configurationHistory.last, last.index <= commitIndex {
            becomeFollower(term: term, leader: nil)
        }
        return true
    }

    // MARK: - Follower

    mutating func handleAppendEntries(
        from leaderID: NodeID,
        prevIndex: LogIndex,
        prevTerm: Term,
        entries: [LogEntry],
        commit: LogIndex
    ) {
        // Below our commit point everything matches already (Raft Log Matching); say how far we are.
        if prevIndex < commitIndex {
            send(to: leaderID, .appendResponse(.accepted(matchIndex: commitIndex)))
            return
        }
        // Peer input: the entries must follow prevIndex one by one.
        for (offset, entry) in entries.enumerated()
        where entry.index != prevIndex.advanced(by: Int64(offset) + 1) {
            return
        }
        guard log.matches(index: prevIndex, term: prevTerm) else {
            let hint = log.lastIndex(atOrBelow: min(prevIndex, log.lastIndex), withTermAtMost: prevTerm)
            send(
                to: leaderID,
                .appendResponse(.rejected(index: prevIndex, hintIndex: hint.index, hintTerm: hint.term))
            )
            return
        }
        let lastNew = prevIndex.advanced(by: Int64(entries.count))
        // Raft §5.3: skip entries we hold already; cut at the first conflict and append the rest.
        if let conflict = entries.first(where: { !log.matches(index: $0.index, term: $0.term) }) {
            // A conflict at or below the commit point would lose a committed entry; that cannot come from a
            // correct leader, so refuse the message rather than obey it.
            guard conflict.index > commitIndex else { return }
            appendToLog(Array(entries[Int(conflict.index.rawValue - prevIndex.rawValue - 1)...]))
        }
        advanceCommit(to: min(commit, lastNew))
        send(to: leaderID, .appendResponse(.accepted(matchIndex: lastNew)))
    }

    mutating func advanceCommit(to index: LogIndex) {
        if index > commitIndex {
            commitIndex = min(index, log.lastIndex)
        }
    }

    mutating func handleSnapshot(from leaderID: NodeID, _ incoming: Raft.Snapshot) {
        if incoming.index <= commitIndex {
            send(to: leaderID, .appendResponse(.accepted(matchIndex: commitIndex)))
            return
        }
        if log.matches(index: incoming.index, term: incoming.term) {
            // We hold the snapshot's last entry, so everything before it matches: just move the commit point.
            advanceCommit(to: incoming.index)
            send(to: leaderID, .appendResponse(.accepted(matchIndex: incoming.index)))
            return
        }
        log.restore(index: incoming.index, term: incoming.term)
        snapshot = incoming
        pendingSnapshot = incoming
        commitIndex = incoming.index
        applyingIndex = incoming.index
        unstableFrom = incoming.index.next
        persistedIndex = min(persistedIndex, incoming.index)
        baseConfiguration = incoming.configuration
        configurationHistory = []
        applyConfiguration(incoming.configuration)
        send(to: leaderID, .appendResponse(.accepted(matchIndex: incoming.index)))
    }

    /// Compacts the log through `index`, which must be applied, keeping `state` as the snapshot to send to
    /// followers that fall behind the new log start (Raft §7). The runtime calls this when a `trim` commits, and
    /// then compacts its `LogStorage` to `snapshot` (it may delete segments lazily, never beyond `index`).
    public mutating func compact(through index: LogIndex, state: [UInt8]) throws(Raft.RaftError) {
        guard index <= appliedIndex, index > log.snapshotIndex, let snapshotTerm = log.term(at: index) else {
            throw .invalidCompaction
        }
        let configurationThere =
            configurationHistory.last(where: { $0.index <= index })?.configuration
            ?? baseConfiguration
        snapshot = Raft.Snapshot(index: index, term: snapshotTerm, configuration: configurationThere, state: state)
        baseConfiguration = configurationThere
        configurationHistory.removeAll { $0.index <= index }
        log.compact(through: index)
    }
}
