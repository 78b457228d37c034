/// A CloudWatch error: its query-protocol code (what boto3 reports as the error code), the model's shape
/// name (the JSON and CBOR `__type`) and the HTTP status.
public struct CloudWatchError: Error, Sendable, Equatable {
    public var code: String
    public var shape: String
    public var message: String
    public var status: Int

    public static func invalidValue(_ message: String) -> CloudWatchError {
        CloudWatchError(
            code: "InvalidParameterValue",
            shape: "InvalidParameterValueException",
            message: message,
            status: 400
        )
    }

    public static func missing(_ parameter: String) -> CloudWatchError {
        CloudWatchError(
            code: "MissingParameter",
            shape: "MissingRequiredParameterException",
            message: "The parameter \(parameter) is required.",
            status: 400
        )
    }

    public static func combination(_ message: String) -> CloudWatchError {
        CloudWatchError(
            code: "InvalidParameterCombination",
            shape: "InvalidParameterCombinationException",
            message: message,
            status: 400
        )
    }

    public static func invalidNextToken() -> CloudWatchError {
        CloudWatchError(
            code: "InvalidNextToken",
            shape: "InvalidNextToken",
            message: "The service couldn't process your NextToken.",
            status: 400
        )
    }

    public static func unknownOperation(_ name: String) -> CloudWatchError {
        CloudWatchError(
            code: "InvalidAction",
            shape: "InvalidAction",
            message:
                "The action \(name) is not valid for this endpoint; Rill answers GetMetricStatistics, GetMetricData and ListMetrics.",
            status: 400
        )
    }

    /// A refusal decided before the call is read (a missing or bad signature), under the code AWS uses for it.
    public static func refused(code: String, message: String, status: Int) -> CloudWatchError {
        CloudWatchError(code: code, shape: code, message: message, status: status)
    }

    public static func serialization(_ message: String) -> CloudWatchError {
        CloudWatchError(code: "SerializationException", shape: "SerializationException", message: message, status: 400)
    }

    /// Whether the client or the service is at fault, for the query protocol's `<Type>` and `x-amzn-query-error`.
    public var fault: String { status >= 500 ? "Receiver" : "Sender" }
}
