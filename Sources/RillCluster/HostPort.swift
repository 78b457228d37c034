/// `HOST:PORT` strings of peer and API addresses (and the flags that give them).
public enum HostPort {
    public static func parse(_ text: String) -> (String, Int)? {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (0...65535).contains(port)
        else { return nil }
        return (String(text[..<colon]), port)
    }
}
