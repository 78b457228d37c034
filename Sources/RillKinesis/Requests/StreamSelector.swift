/// Which stream a request names: by StreamName, by StreamARN, or both when they agree.
public struct StreamSelector: Sendable, Equatable {
    public var name: String
    /// The ARN's region and account when the request named one; they choose the namespace.
    public var arn: StreamARN?

    public init(name: String, arn: StreamARN? = nil) {
        self.name = name
        self.arn = arn
    }
}

extension RequestReader {
    /// Reads StreamName and StreamARN. Most operations need one of the two although the model marks both optional.
    public mutating func streamSelector(arnOnly: Bool = false) throws(KinesisError) -> StreamSelector? {
        let name = arnOnly ? nil : try string("StreamName", min: 1, max: 128, pattern: .streamName)
        let arnText = try string("StreamARN", min: 1, max: 2048, pattern: .streamARN)
        let arn = arnText.flatMap(StreamARN.init(parsing:))
        switch (name, arn) {
        case (let name?, let arn?):
            guard name == arn.streamName else {
                throw KinesisError(
                    .invalidArgument,
                    "StreamName \(name) and StreamARN \(arn.description) do not match."
                )
            }
            return StreamSelector(name: name, arn: arn)
        case (let name?, nil): return StreamSelector(name: name, arn: nil)
        case (nil, let arn?): return StreamSelector(name: arn.streamName, arn: arn)
        case (nil, nil): return nil
        }
    }

    /// Like `streamSelector()`, but a request naming no stream is an InvalidArgumentException.
    public mutating func requireStream() throws(KinesisError) -> StreamSelector {
        let selector = try streamSelector()
        try finish()
        guard let selector else {
            throw KinesisError(.invalidArgument, "Either StreamName or StreamARN must be provided.")
        }
        return selector
    }
}
