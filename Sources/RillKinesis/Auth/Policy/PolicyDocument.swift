/// An IAM policy document: identity policies in the credentials file, resource policies from
/// PutResourcePolicy. Only what Kinesis authorization reads is kept; parsing refuses what IAM would refuse.
public struct PolicyDocument: Sendable, Equatable {
    public var statements: [Statement]

    public enum Effect: String, Sendable {
        case allow = "Allow"
        case deny = "Deny"
    }

    /// A list that is either the values named or everything but them (`Action`/`NotAction`, ...).
    public enum Match: Sendable, Equatable {
        case these([String])
        case allBut([String])
    }

    /// Who a resource policy's statement is for: anyone (`"*"`), or AWS principals by account id or ARN.
    public enum Principals: Sendable, Equatable {
        case anyone
        case aws([String])
    }

    public struct Condition: Sendable, Equatable {
        /// The operator as written, e.g. `StringLike` or `ArnEqualsIfExists`.
        public var operation: String
        public var key: String
        public var values: [String]
    }

    public struct Statement: Sendable, Equatable {
        public var effect: Effect
        public var actions: Match
        public var resources: Match
        /// Nil in identity policies, which may not name one.
        public var principals: Principals?
        public var notPrincipal: Bool
        public var conditions: [Condition]
    }

    public struct Invalid: Error, Sendable, Equatable {
        public var reason: String
    }

    /// Operators this evaluator understands (each also with `IfExists`); a policy using another is refused
    /// rather than silently ignored.
    static let operators: Set<String> = [
        "StringEquals", "StringNotEquals", "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase", "StringLike",
        "StringNotLike",
        "ArnEquals", "ArnNotEquals", "ArnLike", "ArnNotLike", "Bool", "Null",
    ]

    public init(statements: [Statement]) { self.statements = statements }

    public init(json text: String, isResourcePolicy: Bool) throws(Invalid) {
        let value: JSONValue
        do {
            value = try JSONParser.parse(Array(text.utf8))
        } catch {
            throw Invalid(reason: "the policy is not valid JSON")
        }
        try self.init(value, isResourcePolicy: isResourcePolicy)
    }

    public init(_ value: JSONValue, isResourcePolicy: Bool) throws(Invalid) {
        guard case .object(let document) = value else { throw Invalid(reason: "a policy must be a JSON object") }
        if let version = document["Version"] {
            guard case .string(let text) = version, text == "2012-10-17" || text == "2008-10-17" else {
                throw Invalid(reason: "Version must be 2012-10-17 or 2008-10-17")
            }
        }
        let raw: [JSONValue]
        switch document["Statement"] {
        case .object(let one): raw = [.object(one)]
        case .array(let many): raw = many
        default: throw Invalid(reason: "a policy needs a Statement")
        }
        guard !raw.isEmpty else { throw Invalid(reason: "a policy needs at least one statement") }
        var statements: [Statement] = []
        for item in raw {
            guard case .object(let statement) = item else { throw Invalid(reason: "each statement must be an object") }
            statements.append(try Self.statement(statement, isResourcePolicy: isResourcePolicy))
        }
        self.statements = statements
    }

    private static func statement(_ object: JSONObject, isResourcePolicy: Bool) throws(Invalid) -> Statement {
        guard case .string(let effectText) = object["Effect"], let effect = Effect(rawValue: effectText) else {
            throw Invalid(reason: "Effect must be Allow or Deny")
        }
        let actions = try match(object, "Action", "NotAction")
        let resources = try match(object, "Resource", "NotResource")
        var principals: Principals? = nil
        var notPrincipal = false
        if let principal = object["Principal"] ?? object["NotPrincipal"] {
            guard isResourcePolicy else { throw Invalid(reason: "an identity policy may not name a Principal") }
            notPrincipal = object["Principal"] == nil
            principals = try Self.principals(principal)
        } else if isResourcePolicy {
            throw Invalid(reason: "each statement of a resource policy needs a Principal")
        }
        var conditions: [Condition] = []
        if let condition = object["Condition"] {
            guard case .object(let blocks) = condition else { throw Invalid(reason: "Condition must be an object") }
            for block in blocks.members {
                let base = block.key.hasSuffix("IfExists") ? String(block.key.dropLast("IfExists".count)) : block.key
                guard operators.contains(base) else {
                    throw Invalid(reason: "condition operator \(block.key) is not supported")
                }
                guard case .object(let keys) = block.value else {
                    throw Invalid(reason: "\(block.key) must map keys to values")
                }
                for entry in keys.members {
                    conditions.append(
                        Condition(operation: block.key, key: entry.key, values: try strings(entry.value, entry.key))
                    )
                }
            }
        }
        return Statement(
            effect: effect,
            actions: actions,
            resources: resources,
            principals: principals,
            notPrincipal: notPrincipal,
            conditions: conditions
        )
    }

    private static func match(_ object: JSONObject, _ name: String, _ negated: String) throws(Invalid) -> Match {
        switch (object[name], object[negated]) {
        case (let value?, nil): return .these(try strings(value, name))
        case (nil, let value?): return .allBut(try strings(value, negated))
        case (nil, nil): throw Invalid(reason: "each statement needs \(name) or \(negated)")
        case (.some, .some): throw Invalid(reason: "a statement may not have both \(name) and \(negated)")
        }
    }

    private static func principals(_ value: JSONValue) throws(Invalid) -> Principals {
        if case .string("*") = value { return .anyone }
        guard case .object(let object) = value, let aws = object["AWS"] else {
            throw Invalid(reason: "Principal must be \"*\" or {\"AWS\": ...}")
        }
        let names = try strings(aws, "AWS")
        return names.contains("*") ? .anyone : .aws(names)
    }

    /// A string or a non-empty array of strings (booleans and numbers read as their text, as IAM does).
    private static func strings(_ value: JSONValue, _ name: String) throws(Invalid) -> [String] {
        func one(_ value: JSONValue) -> String? {
            switch value {
            case .string(let text): text
            case .bool(let flag): flag ? "true" : "false"
            case .number(let text): text
            default: nil
            }
        }
        if let text = one(value) { return [text] }
        guard case .array(let items) = value, !items.isEmpty else {
            throw Invalid(reason: "\(name) must be a string or a list of strings")
        }
        var out: [String] = []
        for item in items {
            guard let text = one(item) else { throw Invalid(reason: "\(name) must be a string or a list of strings") }
            out.append(text)
        }
        return out
    }
}
