extension RequestReader {
    /// `StreamModeDetails.StreamMode`, as CreateStream (optional) and UpdateStreamMode (required) take it.
    public mutating func streamModeDetails(required: Bool) throws(KinesisError) -> StreamMode? {
        guard let object = try object("StreamModeDetails", required: required) else { return nil }
        return try enumeration(
            "StreamMode",
            in: object,
            path: "streamModeDetails.streamMode",
            required: true,
            as: StreamMode.self
        )
    }
}
