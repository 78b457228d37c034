/// One of a flow's `dataProcessingOptions`, applied to each record in the order listed (Kinesis Agent
/// "Pre-process data with agents").
public enum ProcessingOption: Sendable, Equatable {
    /// Removes newline characters and the spaces around each line: one line out.
    case singleLine
    /// Splits the record at `delimiter` and writes `{"name":"value",...}` with `fieldNames` as the keys.
    case csvToJSON(fieldNames: [String], delimiter: String)
    /// Matches the record against a log format (or `matchPattern`) and writes its fields as a JSON object.
    case logToJSON(format: LogToJSONFormat, matchPattern: String?, fieldNames: [String]?)

    static func parse(_ value: Any, at path: String) throws(AgentConfiguration.Invalid) -> ProcessingOption {
        var reader = try ObjectReader(value, at: path)
        let name = try reader.string("optionName")
        let option: ProcessingOption
        switch name ?? "" {
        case "SINGLELINE":
            option = .singleLine
        case "CSVTOJSON":
            guard let names = try reader.strings("customFieldNames"), !names.isEmpty else {
                throw AgentConfiguration.Invalid("\(path).customFieldNames is required for CSVTOJSON")
            }
            let delimiter = try reader.string("delimiter") ?? ","
            guard !delimiter.isEmpty else { throw AgentConfiguration.Invalid("\(path).delimiter must not be empty") }
            option = .csvToJSON(fieldNames: names, delimiter: delimiter)
        case "LOGTOJSON":
            guard let formatName = try reader.string("logFormat"), let format = LogToJSONFormat(rawValue: formatName)
            else {
                throw AgentConfiguration.Invalid(
                    "\(path).logFormat: one of \(LogToJSONFormat.allCases.map(\.rawValue).joined(separator: ", "))"
                )
            }
            let pattern = try reader.string("matchPattern")
            let names = try reader.strings("customFieldNames")
            if let pattern {
                do {
                    _ = try Regex(pattern)
                } catch {
                    throw AgentConfiguration.Invalid("\(path).matchPattern is not a regular expression: \(error)")
                }
                guard names != nil else {
                    throw AgentConfiguration.Invalid("\(path).customFieldNames is required with a matchPattern")
                }
            }
            option = .logToJSON(format: format, matchPattern: pattern, fieldNames: names)
        default:
            throw AgentConfiguration.Invalid(
                "\(path).optionName: SINGLELINE, CSVTOJSON or LOGTOJSON, not \(name ?? "nothing")"
                    + " (ADDMETADATA and ADDEC2METADATA need EC2 and are not supported)"
            )
        }
        try reader.refuseOthers(hint: "unsupported for \(name ?? "this option")")
        return option
    }
}

/// The log formats LOGTOJSON knows, with the field names and pattern of each (Kinesis Agent documentation).
public enum LogToJSONFormat: String, Sendable, Equatable, CaseIterable {
    case commonApacheLog = "COMMONAPACHELOG"
    case combinedApacheLog = "COMBINEDAPACHELOG"
    case apacheErrorLog = "APACHEERRORLOG"
    case syslog = "SYSLOG"
    case rfc3339Syslog = "RFC3339SYSLOG"

    /// The JSON keys, one per capture group of `pattern`.
    public var fieldNames: [String] {
        switch self {
        case .commonApacheLog: ["host", "ident", "authuser", "datetime", "request", "response", "bytes"]
        case .combinedApacheLog:
            ["host", "ident", "authuser", "datetime", "request", "response", "bytes", "referrer", "agent"]
        case .apacheErrorLog: ["timestamp", "module", "severity", "processid", "threadid", "client", "message"]
        case .syslog, .rfc3339Syslog: ["timestamp", "hostname", "program", "processid", "message"]
        }
    }

    /// `%{host} %{ident} %{authuser} [%{datetime}] "%{request}" %{response} %{bytes}` and its relatives.
    public var pattern: String {
        let common = #"^(\S+) (\S+) (\S+) \[([^\]]+)\] "((?:[^"\\]|\\.)*)" (\S+) (\S+)"#
        switch self {
        case .commonApacheLog: return common + #"$"#
        case .combinedApacheLog: return common + #" "((?:[^"\\]|\\.)*)" "((?:[^"\\]|\\.)*)"$"#
        case .apacheErrorLog:
            return
                #"^\[([^\]]+)\] \[(?:(\S+):)?(\S+)\](?: \[pid (\d+)(?::tid (\d+))?\])?(?: \[client:? ([^\]]+)\])? (.*)$"#
        case .syslog:
            return #"^([A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2}) (\S+) ([^\s\[:]+)(?:\[(\d+)\])?: (.*)$"#
        case .rfc3339Syslog:
            return
                #"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})) (\S+) ([^\s\[:]+)(?:\[(\d+)\])?: (.*)$"#
        }
    }
}
