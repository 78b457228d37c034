/// SWIM membership (Das, Gupta and Motivala 2002) with the Lifeguard refinements (Dadgar et al. 2018), as a pure
/// state machine: who is in the cluster, whether each member is alive, suspect, dead or gone, each member's zone,
/// role and addresses, and the shard-leadership hints members publish.
///
/// `SWIM.Instance` is a value with no clocks, sockets, files or threads, shaped like swift-cluster-membership's
/// `SWIM.Instance` and hashicorp/memberlist's state machine. The shell owns one instance per process and drives it
/// serially, then interprets the effects it drains:
///
/// ```swift
/// var gossip = SWIM.Instance(id: id, zone: zone, role: .node, apiAddress: api, peerAddress: peer,
///                            incarnation: startIncarnation, random: SplitMix64(seed: seed))
/// gossip.join(seeds: joinAddresses)
/// gossip.tick()                           // every tick of the injected clock (Settings assume 10 ms)
/// gossip.receive(message, from: peerID)   // every decoded message from a peer connection
/// gossip.setLeadershipHints(hints)        // when this node's view of shard leaders changes
/// for effect in gossip.takeEffects() {    // after each call, in order
///     switch effect {
///     case .send(let message, to: let destination): transport.send(message.encoded(), to: destination)
///     case .memberChanged(let old, let new): directory.update(old, new)
///     case .memberRemoved(let member): directory.forget(member)
///     }
/// }
/// gossip.leave()                          // on graceful shutdown: drain, send, wait a period, then stop
/// ```
///
/// One protocol period: probe the next member of a shuffled round-robin list with `ping`; without an `ack`
/// within the probe timeout, ask `indirectProbeCount` others to `pingRequest` it; without any ack by the end of
/// the period, mark it suspect. A suspect that does not refute (by gossiping `alive` at a higher incarnation)
/// within the suspicion timeout is declared dead. State changes ride piggyback on every message
/// (`SWIM+Dissemination.swift`) and a periodic push-pull exchanges the full state, so healed partitions converge.
/// Lifeguard adds local health (a node that misses nacks or is suspected itself slows its own timeouts),
/// suspicion timeouts that shrink with independent confirmations, and the buddy system: a message to a member we
/// suspect always carries that suspicion, so it can refute at once.
///
/// Gossip is never the source of truth for data: leadership hints are hints.
public enum SWIM {}
