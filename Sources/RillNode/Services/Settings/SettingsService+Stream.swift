import RillAPI
import RillKinesis
import RillModel

/// The shard-level metrics Enable/DisableEnhancedMonitoring accept.
enum ShardLevelMetric: String, CaseIterable {
    case incomingBytes = "IncomingBytes"
    case incomingRecords = "IncomingRecords"
    case outgoingBytes = "OutgoingBytes"
    case outgoingRecords = "OutgoingRecords"
    case writeProvisionedThroughputExceeded = "WriteProvisionedThroughputExceeded"
    case readProvisionedThroughputExceeded = "ReadProvisionedThroughputExceeded"
    case iteratorAgeMilliseconds = "IteratorAgeMilliseconds"
    case all = "ALL"

    static let concrete = allCases.filter { $0 != .all }.map(\.rawValue)
}

enum EncryptionType: String, CaseIterable {
    case none = "NONE"
    case kms = "KMS"
}

enum CommitmentStatus: String, CaseIterable {
    case enabled = "ENABLED"
    case disabled = "DISABLED"
}

extension SettingsService {
    func changeEnhancedMonitoring(
        _ r: inout RequestReader,
        _ namespace: Namespace,
        enable: Bool
    ) async throws -> APIResponse {
        let items = try r.array("ShardLevelMetrics", required: true, min: 1, max: 7) ?? []
        var requested: [String] = []
        for (offset, item) in items.enumerated() {
            guard case .string(let name) = item else { throw RequestReader.typeError(item, "a String") }
            if ShardLevelMetric(rawValue: name) == nil {
                let allowed = ShardLevelMetric.allCases.map(\.rawValue).joined(separator: ", ")
                r.violate(
                    "'\(name)'",
                    "shardLevelMetrics.\(offset + 1).member",
                    "Member must satisfy enum value set: [\(allowed)]"
                )
            }
            requested.append(name)
        }
        let selector = try r.requireStream()
        let (stream, namespace) = try resolve(selector, namespace)
        let expanded = requested.contains(ShardLevelMetric.all.rawValue) ? ShardLevelMetric.concrete : requested
        let current = stream.enhancedMetrics ?? []
        let desired =
            enable
            ? ShardLevelMetric.concrete.filter { current.contains($0) || expanded.contains($0) }
            : current.filter { !expanded.contains($0) }
        try await commit(.setEnhancedMetrics(namespace: namespace, name: stream.name, metrics: desired))
        var w = JSONWriter()
        w.beginObject()
        w.key("StreamName")
        w.string(stream.name)
        w.key("CurrentShardLevelMetrics")
        w.beginArray()
        for m in current { w.string(m) }
        w.endArray()
        w.key("DesiredShardLevelMetrics")
        w.beginArray()
        for m in desired { w.string(m) }
        w.endArray()
        w.key("StreamARN")
        w.string(stream.arn)
        w.endObject()
        return APIResponse(w)
    }

    func changeEncryption(_ r: inout RequestReader, _ namespace: Namespace, start: Bool) async throws -> APIResponse {
        let type = try r.enumeration("EncryptionType", required: true, as: EncryptionType.self)
        let keyId = try r.string("KeyId", required: true, min: 1, max: 2048)
        let selector = try r.requireStream()
        let (stream, namespace) = try resolve(selector, namespace)
        guard type == .kms, let keyId else {
            throw KinesisError(.invalidArgument, "Only KMS encryption is supported; EncryptionType must be KMS.")
        }
        guard start else {
            // Records written from now on are stored in the clear; the data keys stay for the sealed ones.
            try await commit(.setEncryption(namespace: namespace, name: stream.name, keyId: nil))
            return .empty
        }
        // A fresh data key each time, wrapped under the master key's newest version: records sealed under
        // the earlier ones keep their version and stay readable.
        let store = recordKeys.current
        let master = try store.usableKey(named: keyId)
        let (dataKey, _) = WrappedDataKey.generate(for: stream.id, under: master)
        try await commit(
            .setEncryption(
                namespace: namespace,
                name: stream.name,
                keyId: keyId,
                dataKey: dataKey,
                rewrapped: try Self.rewrapped(stream, with: store)
            )
        )
        return .empty
    }

    /// Rotation: the stream's data keys wrapped again under the newest version of their master keys (the same
    /// data keys, so records stay as they are); nil when every one already is.
    static func rewrapped(_ stream: StreamMetadata, with store: MasterKeyStore) throws -> [WrappedDataKey]? {
        let dataKeys = stream.dataKeys ?? []
        var changed = false
        let rewrapped = try dataKeys.map { wrapped in
            guard let master = store.key(id: wrapped.masterKeyId), master.enabled,
                wrapped.masterVersion < master.currentVersion
            else { return wrapped }
            changed = true
            let key = try wrapped.unwrap(for: stream.id, with: store)
            return WrappedDataKey.wrap(key, for: stream.id, under: master, version: master.currentVersion)
        }
        return changed ? rewrapped : nil
    }

    func updateMaxRecordSize(_ r: inout RequestReader, _ namespace: Namespace) async throws -> APIResponse {
        let size = try r.integer("MaxRecordSizeInKiB", required: true, min: 1024, max: 10240)
        let arn = try r.streamSelector(arnOnly: true)
        try r.finish()
        guard let arn, let size else { throw KinesisError(.invalidArgument, "StreamARN must be provided.") }
        let (stream, namespace) = try resolve(arn, namespace)
        try await commit(.setMaxRecordSize(namespace: namespace, name: stream.name, kib: Int(size)))
        return .empty
    }

    func updateStreamMode(_ r: inout RequestReader, _ namespace: Namespace) async throws -> APIResponse {
        let arn = try r.string("StreamARN", required: true, min: 1, max: 2048, pattern: .streamARN)
        let mode = try r.streamModeDetails(required: true)
        let warm = try r.integer("WarmThroughputMiBps", min: 0)
        try r.finish()
        guard let arn, let parsed = StreamARN(parsing: arn), let mode else {
            throw KinesisError(.invalidArgument, "StreamARN and StreamModeDetails must be provided.")
        }
        let (stream, namespace) = try resolve(StreamSelector(name: parsed.streamName, arn: parsed), namespace)
        try await commit(
            .setStreamMode(namespace: namespace, name: stream.name, mode: mode, atMillis: clock.nowMillis())
        )
        if let warm { try await commit(.setWarmThroughput(namespace: namespace, name: stream.name, mibps: Int(warm))) }
        return .empty
    }

    func updateWarmThroughput(_ r: inout RequestReader, _ namespace: Namespace) async throws -> APIResponse {
        let warm = try r.integer("WarmThroughputMiBps", required: true, min: 0)
        let selector = try r.requireStream()
        let (stream, namespace) = try resolve(selector, namespace)
        guard stream.mode == .onDemand else {
            throw KinesisError(.invalidArgument, "Warm throughput can only be set on streams in ON_DEMAND mode.")
        }
        try await commit(.setWarmThroughput(namespace: namespace, name: stream.name, mibps: Int(warm ?? 0)))
        var w = JSONWriter()
        w.beginObject()
        w.key("StreamARN")
        w.string(stream.arn)
        w.key("StreamName")
        w.string(stream.name)
        w.key("WarmThroughput")
        w.beginObject()
        w.key("TargetMiBps")
        w.int(warm ?? 0)
        // What the stream can take now: 1 MiB/s per open shard; the controller splits toward the target.
        w.key("CurrentMiBps")
        w.int(min(Int(warm ?? 0), stream.openShards.count))
        w.endObject()
        w.endObject()
        return APIResponse(w)
    }

    func describeAccountSettings(_ namespace: Namespace) -> APIResponse {
        APIResponse(accountSettingsReply(metadata.catalog.accountSettings[namespace]))
    }

    func updateAccountSettings(_ r: inout RequestReader, _ namespace: Namespace) async throws -> APIResponse {
        let commitment = try r.object("MinimumThroughputBillingCommitment", required: true)
        let status =
            try commitment.map { (object) throws(KinesisError) -> CommitmentStatus? in
                try r.enumeration(
                    "Status",
                    in: object,
                    path: "minimumThroughputBillingCommitment.status",
                    required: true,
                    as: CommitmentStatus.self
                )
            } ?? nil
        try r.finish()
        guard let status else {
            throw KinesisError(.invalidArgument, "MinimumThroughputBillingCommitment.Status is required.")
        }
        try await commit(
            .setAccountSettings(namespace: namespace, commitment: status.rawValue, changedMillis: clock.nowMillis())
        )
        return APIResponse(accountSettingsReply(metadata.catalog.accountSettings[namespace]))
    }

    private func accountSettingsReply(_ settings: AccountSettings?) -> JSONWriter {
        var w = JSONWriter()
        w.beginObject()
        w.key("MinimumThroughputBillingCommitment")
        w.beginObject()
        w.key("Status")
        w.string(settings?.commitment ?? "DISABLED")
        if let settings, settings.commitment == "ENABLED" {
            w.key("StartedAt")
            w.timestamp(millis: settings.changedMillis)
            w.key("EarliestAllowedEndAt")
            w.timestamp(millis: settings.changedMillis + 86_400_000)
        } else if let settings {
            w.key("EndedAt")
            w.timestamp(millis: settings.changedMillis)
        }
        w.endObject()
        w.endObject()
        return w
    }
}
