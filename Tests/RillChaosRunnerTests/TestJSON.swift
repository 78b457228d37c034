import RillKinesis
import Testing

/// Parses a JSON object for a test, failing the test if it is not one.
func jsonObject(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> JSONObject {
    let value = try JSONParser.parse(Array(text.utf8))
    guard case .object(let object) = value else {
        Issue.record("not a JSON object: \(text)", sourceLocation: sourceLocation)
        return JSONObject()
    }
    return object
}
