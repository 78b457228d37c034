import RillKinesis
import RillModel

/// What a service reads of the metadata: the catalog as last applied here, and the stream a call names.
protocol CatalogView: Sendable {
    /// The catalog as this node last applied it.
    var catalog: Catalog { get }
    /// The account this node serves: an ARN of another names no stream here.
    var accountID: String { get }
}

extension CatalogView {
    /// The stream a selector addresses, and its namespace: an ARN's region wins over the signing region.
    func resolve(_ selector: StreamSelector, _ namespace: Namespace) throws(KinesisError) -> (StreamMetadata, Namespace)
    {
        var namespace = namespace
        if let arn = selector.arn {
            guard arn.account == accountID else {
                throw KinesisError.streamNotFound(selector.name, account: arn.account)
            }
            namespace.region = arn.region
        }
        guard let stream = catalog.stream(selector.name, in: namespace) else {
            throw KinesisError.streamNotFound(selector.name, account: namespace.account)
        }
        return (stream, namespace)
    }
}

/// How a service changes the metadata: a catalog command proposed to the metadata group, returning once it is
/// committed and applied here (refusals come back as the command's KinesisError).
protocol MetadataProposer: Sendable {
    func commit(_ command: CatalogCommand) async throws
}

/// A service of control-plane calls: it reads the catalog and proposes commands, and nothing else.
protocol CatalogService: Sendable {
    var metadata: any CatalogView { get }
    var proposer: any MetadataProposer { get }
}

extension CatalogService {
    func resolve(_ selector: StreamSelector, _ namespace: Namespace) throws(KinesisError) -> (StreamMetadata, Namespace)
    {
        try metadata.resolve(selector, namespace)
    }

    func commit(_ command: CatalogCommand) async throws {
        try await proposer.commit(command)
    }
}
