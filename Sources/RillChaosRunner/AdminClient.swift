import NIOCore
import NIOHTTP1
import RillChaos
import RillKinesis

/// The node's operator endpoints: `/ready`, `/admin/status`, `/admin/checksums` and `/admin/faults`, each on
/// a fresh connection (they are rare, and a paused node must not hold up a shared one).
struct AdminClient: Sendable {
    let group: any EventLoopGroup

    func isReady(at address: APIAddress) async -> Bool {
        guard let response = try? await get("/ready", at: address, timeout: .seconds(1)) else { return false }
        return response.status == .ok
    }

    /// Polls /ready on `addresses` until all answer 200; false if `timeout` passes first.
    func waitReady(_ addresses: [APIAddress], within timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        var waiting = addresses
        while ContinuousClock.now < deadline, !Task.isCancelled {
            var still: [APIAddress] = []
            for address in waiting where !(await isReady(at: address)) { still.append(address) }
            waiting = still
            if waiting.isEmpty { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return false
    }

    func status(at address: APIAddress) async -> NodeStatus? {
        guard let object = await getObject("/admin/status", at: address, timeout: .seconds(2)) else { return nil }
        return NodeStatus(object)
    }

    /// One node's checksums of every shard of `streamName`, as the history records them.
    func checksums(at address: APIAddress, streamName: String) async -> [ShardChecksum]? {
        guard let object = await getObject("/admin/checksums", at: address, timeout: .seconds(30)),
            let shards = object.objects("shards")
        else { return nil }
        return shards.compactMap { shard in
            guard shard.string("stream") == streamName, let id = shard.string("shardId"),
                let applied = shard.int("applied"), let sha256 = shard.string("sha256"),
                let records = shard.int("records")
            else { return nil }
            return ShardChecksum(shard: id, applied: UInt64(max(0, applied)), sha256: sha256, records: records)
        }
    }

    /// Sends a fault command (`FaultCommand` JSON) to `POST /admin/faults`; nil on success, else why not.
    func injectFaults(_ command: String, at address: APIAddress) async -> String? {
        do {
            let response = try await send(.POST, "/admin/faults", body: command, at: address, timeout: .seconds(2))
            guard response.status == .ok else {
                return "\(response.status.code) \(String(decoding: response.bytes, as: UTF8.self))"
            }
            return nil
        } catch {
            return "\(error)"
        }
    }

    /// Why the node at `address` would refuse fault commands (403 without `--fault-injection`), or nil.
    func faultHooksRefusal(at address: APIAddress) async -> String? {
        do {
            let response = try await get("/admin/faults", at: address, timeout: .seconds(5))
            guard response.status == .ok else {
                return "\(response.status.code) \(String(decoding: response.bytes, as: UTF8.self))"
            }
            return nil
        } catch {
            return "\(error)"
        }
    }

    /// `POST /admin/members/remove` of member `id` through the node at `address`; nil once the cluster took
    /// it, else why not (a node that knows no metadata leader yet answers 503).
    func removeMember(_ id: Int, at address: APIAddress) async -> String? {
        do {
            let response = try await send(
                .POST,
                "/admin/members/remove",
                body: #"{"node":\#(id)}"#,
                at: address,
                timeout: .seconds(10)
            )
            guard response.status == .ok else {
                return "\(response.status.code) \(String(decoding: response.bytes, as: UTF8.self))"
            }
            return nil
        } catch {
            return "\(error)"
        }
    }

    /// `{"heal":true}` to a node until it takes it (a node busy recovering may miss one call); false if
    /// `timeout` passes first.
    func heal(at address: APIAddress, within timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if await injectFaults(#"{"heal":true}"#, at: address) == nil { return true }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return false
    }

    private func getObject(_ path: String, at address: APIAddress, timeout: Duration) async -> JSONObject? {
        guard let response = try? await get(path, at: address, timeout: timeout), response.status == .ok,
            case .object(let object)? = try? JSONParser.parse(response.bytes)
        else { return nil }
        return object
    }

    private func get(
        _ path: String,
        at address: APIAddress,
        timeout: Duration
    ) async throws(HTTPFailure) -> HTTPResponse {
        try await send(.GET, path, body: "", at: address, timeout: timeout)
    }

    private func send(
        _ method: HTTPMethod,
        _ path: String,
        body: String,
        at address: APIAddress,
        timeout: Duration
    )
        async throws(HTTPFailure) -> HTTPResponse
    {
        let connection = try await HTTPConnection.connect(to: address, on: group, timeout: timeout)
        var head = HTTPRequestHead(version: .http1_1, method: method, uri: path)
        head.headers.add(name: "Host", value: "\(address)")
        head.headers.add(name: "Content-Length", value: "\(body.utf8.count)")
        if !body.isEmpty { head.headers.add(name: "Content-Type", value: "application/json") }
        do {
            let response = try await connection.send(head: head, body: ByteBuffer(string: body), timeout: timeout)
            await connection.close()
            return response
        } catch {
            await connection.close()
            throw error
        }
    }
}

/// What `/admin/status` says about one node's Raft groups.
struct NodeStatus: Sendable, Equatable {
    struct Group: Sendable, Equatable {
        /// `meta`, or `<streamId>/<shardId>`.
        var group: String
        var stream: String?
        var shard: String?
        var role: String
        var leader: Int?
        var term: Int
        var commit: Int
        var applied: Int
        var abstaining: Bool
        var streamID: String? = nil
        var voters: [Int] = []
        var learners: [Int] = []
    }

    var node: Int
    /// `router` for a router; nodes leave it out.
    var role: String?
    var groups: [Group]
    var zone: String?
    /// The members this node knows, with their zones (`members`, routers left out).
    var members: [PlacementMember] = []
    /// What the node's own placement audit reports (`placementViolations`).
    var violations: [PlacementViolation] = []
    /// Shards whose replicas are moving to other nodes (after a join or a removal), as the catalog says.
    var movingShards: Int = 0
    /// Members removed from the cluster.
    var removedNodes: [Int] = []

    init(node: Int, role: String? = nil, groups: [Group]) {
        self.node = node
        self.role = role
        self.groups = groups
    }

    init?(_ object: JSONObject) {
        let role = object.string("role")
        // A router's id is a random UInt64, often past Int.max; nothing needs it.
        guard let node = object.int("node") ?? (role == "router" ? 0 : nil), let groups = object.objects("groups")
        else { return nil }
        self.node = node
        self.role = role
        self.groups = groups.compactMap { group in
            guard let name = group.string("group") else { return nil }
            return Group(
                group: name,
                stream: group.string("stream"),
                shard: group.string("shardId"),
                role: group.string("role") ?? "",
                leader: group.int("leader"),
                term: group.int("term") ?? 0,
                commit: group.int("commit") ?? 0,
                applied: group.int("applied") ?? 0,
                abstaining: group.bool("abstaining") ?? false,
                streamID: group.string("streamId"),
                voters: Self.ids(group.array("voters")),
                learners: Self.ids(group.array("learners"))
            )
        }
        self.zone = object.string("zone")
        self.movingShards = object.int("movingShards") ?? 0
        self.removedNodes = Self.ids(object.array("removedNodes"))
        self.members = (object.objects("members") ?? []).compactMap { member in
            guard member.string("role") ?? "node" == "node", let id = member.int("id"), let zone = member.string("zone")
            else { return nil }
            return PlacementMember(id: id, zone: zone)
        }
        self.violations = (object.objects("placementViolations") ?? []).map { violation in
            PlacementViolation(
                stream: violation.string("stream") ?? "",
                streamID: violation.string("streamId"),
                shard: violation.string("shardId"),
                node: violation.int("node"),
                problem: violation.string("problem") ?? ""
            )
        }
    }

    private static func ids(_ values: [JSONValue]?) -> [Int] {
        (values ?? []).compactMap { if case .number(let text) = $0 { Int(text) } else { nil } }
    }

    /// This node's report for the placement check: every shard group with its voters.
    func placementEvent(name: String, time: Double) -> PlacementEvent {
        PlacementEvent(
            time: time,
            node: name,
            id: node,
            zone: zone,
            members: members,
            groups: groups.compactMap { group in
                guard let stream = group.stream, let streamID = group.streamID, let shard = group.shard else {
                    return nil
                }
                return PlacementGroup(
                    stream: stream,
                    streamID: streamID,
                    shard: shard,
                    voters: group.voters,
                    learners: group.learners
                )
            },
            violations: violations
        )
    }

    /// The leader this node knows for `shard` of `stream`, if any.
    func leader(stream: String, shard: String) -> Int? {
        groups.first { $0.stream == stream && $0.shard == shard }?.leader
    }
}
