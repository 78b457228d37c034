import RillClient

/// The S3 destination: each object is one PutObject under `s3://BUCKET/PATH/`. An S3 PUT is atomic (readers see
/// the old object or the new one, never part of one) and durable once answered 200, so it needs no temporary name
/// and leaves nothing behind when the archiver is killed; a replay's PUT of the same key replaces the object, which
/// is the folder's rename rule (docs/archive.md, "Exactly once across kill -9").
struct ArchiveS3Destination: ArchiveDestination {
    let client: S3Client
    /// `path/` or empty: put before every key.
    let keyPrefix: String

    var description: String { "s3://\(client.bucket)/\(keyPrefix)" }

    func prepare() async throws(ArchiveDestinationError) -> String? { nil }

    func put(_ key: String, body: [UInt8]) async throws(ArchiveDestinationError) {
        do throws(S3Error) {
            try await client.putObject(key: keyPrefix + key, body: body)
        } catch {
            throw Self.failure(error)
        }
    }

    func remove(_ key: String) async throws(ArchiveDestinationError) {
        do throws(S3Error) {
            try await client.deleteObject(key: keyPrefix + key)
        } catch {
            throw Self.failure(error)
        }
    }

    func close() async { await client.close() }

    private static func failure(_ error: S3Error) -> ArchiveDestinationError {
        switch error {
        case .rejected: ArchiveDestinationError(description: "\(error)", fatal: true)
        case .unavailable: ArchiveDestinationError(description: "\(error)")
        }
    }
}
