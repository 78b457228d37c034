import RillModel

extension SWIM.Member {
    /// Whether this record's status overrides `other`'s (SWIM §4.2, with memberlist's left): compare
    /// (incarnation, precedence) with alive < suspect < dead < left. So alive(i) beats suspect(j) and alive(j)
    /// only for i > j; suspect(i) beats alive(j) for i ≥ j and suspect(j) for i > j; dead(i) beats alive and
    /// suspect for i ≥ j; left(i) beats everything at i ≥ j and only a later incarnation beats it.
    public func statusSupersedes(_ other: SWIM.Member) -> Bool {
        (incarnation, status.rank) > (other.incarnation, other.status.rank)
    }

    /// Whether this record's payload (zone, role, addresses, hints) is newer than `other`'s. A later
    /// incarnation was written by the member after every record of an earlier one, so it carries the newer
    /// payload; within one incarnation `hintsVersion` only grows.
    public func payloadSupersedes(_ other: SWIM.Member) -> Bool {
        (incarnation, hintsVersion) > (other.incarnation, other.hintsVersion)
    }
}

extension SWIM.Instance {
    /// Folds one gossiped record into our view. `sender` is who carried it; `fromFullState` marks a push-pull,
    /// whose dead verdicts may be old, so like memberlist's `mergeState` they only make us suspect.
    mutating func merge(_ incoming: SWIM.Member, from sender: NodeID, fromFullState: Bool) {
        if incoming.id == myself.id {
            mergeAboutMyself(incoming, fromFullState: fromFullState)
            return
        }
        var incoming = incoming
        if case .suspect(_, let confirmations) = incoming.status {
            // `since` is on the sender's clock; ours starts now.
            incoming.status = .suspect(since: now, confirmations: confirmations)
        }
        guard let current = others[incoming.id] else {
            store(incoming, replacing: nil)
            return
        }
        if fromFullState, incoming.status.isDead, current.status.isLive {
            incoming.status = .suspect(since: now, confirmations: [sender])
        }
        var merged = current
        if incoming.statusSupersedes(current) {
            merged.incarnation = incoming.incarnation
            merged.status = incoming.status
        } else if incoming.incarnation == current.incarnation,
            case .suspect(let since, let known) = current.status,
            case .suspect(_, let reported) = incoming.status,
            !reported.isSubset(of: known), known.count < Self.maxConfirmations
        {
            merged.status = .suspect(since: since, confirmations: known.union(reported))
        }
        if incoming.payloadSupersedes(current) {
            merged.zone = incoming.zone
            merged.role = incoming.role
            merged.apiAddress = incoming.apiAddress
            merged.peerAddress = incoming.peerAddress
            merged.hintsVersion = incoming.hintsVersion
            merged.hints = incoming.hints
        }
        if merged != current { store(merged, replacing: current) }
    }

    /// Enough to reach any sane suspicion timeout's floor; a peer cannot grow the set without bound.
    static var maxConfirmations: Int { 64 }

    /// Gossip about ourselves: refute a suspicion or a death at our incarnation, and any record of a later
    /// one (our previous life's, after a restart), by taking the next incarnation (SWIM §4.2).
    mutating func mergeAboutMyself(_ incoming: SWIM.Member, fromFullState: Bool) {
        if myself.status.isLeft {
            // Someone still counts us in: spread our departure again.
            if !(incoming.status.isLeft && incoming.incarnation >= myself.incarnation) {
                enqueueBroadcast(of: myself.id)
            }
            return
        }
        let blamed = !incoming.status.isAlive && incoming.incarnation >= myself.incarnation
        guard blamed || incoming.incarnation > myself.incarnation else {
            // The sender is still spreading an old record of us: it missed our refutation or our latest hints,
            // and every copy may have been used up on others. Queue our record afresh so the answer to this
            // message carries it; with the buddy system a stale suspicion keeps coming back to us until the
            // sender is told. (A push-pull needs no help: its answer is our whole state.)
            if !fromFullState, myself.payloadSupersedes(incoming) { enqueueBroadcast(of: myself.id) }
            return
        }
        // No process of ours wrote UInt64.max, and we could not outbid it: a forgery or corruption.
        guard incoming.incarnation < UInt64.max else { return }
        // Lifeguard §4.3: being suspected suggests we have been slow to answer.
        if blamed { adjustLocalHealth(by: 1) }
        let incarnation = incoming.incarnation + 1
        updateMyself {
            $0.incarnation = incarnation
            $0.status = .alive
        }
    }

    /// The one place another member's record changes: keeps counts, suspects, the probe order, tombstones and
    /// the broadcast queue in step with `others`, and reports the change.
    mutating func store(_ new: SWIM.Member, replacing old: SWIM.Member?) {
        let id = new.id
        others[id] = new
        let wasLive = old?.status.isLive ?? false
        if wasLive != new.status.isLive { liveOthers += new.status.isLive ? 1 : -1 }
        if new.status.isSuspect { suspects.insert(id) } else { suspects.remove(id) }
        if new.status.isLive {
            tombstones[id] = nil
            if !wasLive { insertIntoProbeOrder(id) }
        } else if old.map({ $0.status.rank != new.status.rank }) ?? true {
            tombstones[id] = now
        }
        enqueueBroadcast(of: id)
        effects.append(.memberChanged(old: old, new: new))
    }

    /// Changes our own record, spreads and reports it.
    mutating func updateMyself(_ change: (inout SWIM.Member) -> Void) {
        let old = myself
        change(&myself)
        guard myself != old else { return }
        enqueueBroadcast(of: myself.id)
        effects.append(.memberChanged(old: old, new: myself))
    }
}
