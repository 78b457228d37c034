/// The error codes a Kinesis client can receive. Raw values are the AWS names clients match on.
public enum KinesisErrorCode: String, Sendable, CaseIterable {
    case resourceNotFound = "ResourceNotFoundException"
    case resourceInUse = "ResourceInUseException"
    case invalidArgument = "InvalidArgumentException"
    case validation = "ValidationException"
    case limitExceeded = "LimitExceededException"
    case provisionedThroughputExceeded = "ProvisionedThroughputExceededException"
    case expiredIterator = "ExpiredIteratorException"
    case expiredNextToken = "ExpiredNextTokenException"
    case accessDenied = "AccessDeniedException"
    case serialization = "SerializationException"
    case unknownOperation = "UnknownOperationException"
    case internalFailure = "InternalFailureException"
    case serviceUnavailable = "ServiceUnavailable"
    case missingAuthenticationToken = "MissingAuthenticationTokenException"
    case incompleteSignature = "IncompleteSignatureException"
    case invalidSignature = "InvalidSignatureException"
    case unrecognizedClient = "UnrecognizedClientException"
    // The KMS errors of the model (PutRecord(s), GetRecords, StartStreamEncryption, SubscribeToShard).
    case kmsNotFound = "KMSNotFoundException"
    case kmsDisabled = "KMSDisabledException"
    case kmsAccessDenied = "KMSAccessDeniedException"
    case kmsInvalidState = "KMSInvalidStateException"

    /// Every modeled exception is a client error except InternalFailure (model `fault: true`); throttling stays 400.
    public var httpStatus: Int {
        switch self {
        case .internalFailure: 500
        case .serviceUnavailable: 503
        default: 400
        }
    }
}

/// The one error type of the API: a code and the message AWS would send.
public struct KinesisError: Error, Sendable, Equatable, CustomStringConvertible {
    public var code: KinesisErrorCode
    public var message: String?

    public init(_ code: KinesisErrorCode, _ message: String?) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message ?? "")" }

    /// Coral-style serialization errors use a capital `Message` key (KINESIS-SEMANTICS §1.1).
    public var usesCapitalMessageKey: Bool { code == .serialization }
}

extension KinesisError {
    public static func streamNotFound(_ name: String, account: String) -> KinesisError {
        KinesisError(.resourceNotFound, "Stream \(name) under account \(account) not found.")
    }
    public static func streamExists(_ name: String, account: String) -> KinesisError {
        KinesisError(.resourceInUse, "Stream \(name) under account \(account) already exists.")
    }
    public static func shardNotFound(_ shard: String, stream: String, account: String) -> KinesisError {
        KinesisError(.resourceNotFound, "Shard \(shard) in stream \(stream) under account \(account) does not exist")
    }
    /// SplitShard or MergeShards naming a closed shard: InvalidArgument with AWS's text (moto's tests, checked
    /// against AWS), not ResourceInUse, which AWS keeps for a stream that is not ACTIVE.
    public static func shardNotEligible(_ shard: String, stream: String, account: String) -> KinesisError {
        KinesisError(
            .invalidArgument,
            "Shard \(shard) in stream \(stream) under account \(account) has already been merged or split, and thus is not "
                + "eligible for merging or splitting."
        )
    }
    /// Split, Merge or UpdateShardCount on an on-demand stream: AWS answers ValidationException with this text.
    public static func onDemandNotReshardable(_ stream: String, account: String) -> KinesisError {
        KinesisError(.validation, "Request is invalid. Stream \(stream) under account \(account) is in On-Demand mode.")
    }
    public static func internalFailure(_ message: String = "Internal Service Failure") -> KinesisError {
        KinesisError(.internalFailure, message)
    }
}
