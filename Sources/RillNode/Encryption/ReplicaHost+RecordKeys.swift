import Crypto
import RillKinesis

extension ReplicaHost {
    /// What a shard replica of `stream` seals its records with: the stream's current data key as this node's
    /// catalog has it (looked up on each proposal, so StartStreamEncryption and StopStreamEncryption apply to
    /// the next entry), or nil while the stream stores records in the clear.
    static func recordKey(
        of stream: StreamMetadata,
        metadata: MetadataStore,
        keys: RecordKeys
    ) -> @Sendable () throws -> (UInt32, SymmetricKey)? {
        let (name, namespace, id) = (stream.name, stream.namespace, stream.id)
        return {
            let current = metadata.withCatalog { catalog -> (UInt32, WrappedDataKey)? in
                guard let stream = catalog.stream(name, in: namespace), stream.id == id,
                    let version = stream.sealingVersion, let dataKeys = stream.dataKeys
                else { return nil }
                return (version, dataKeys[Int(version) - 1])
            }
            guard let current else { return nil }
            return (current.0, try keys.dataKey(streamID: id, version: current.0, wrapped: current.1))
        }
    }
}
