/// IAM's wildcard match: `*` is any run of characters (none too), `?` exactly one. Iterative with one
/// backtrack point, so a pattern of many stars costs O(pattern × text) at worst, never exponential.
enum Wildcard {
    static func matches(_ pattern: String, _ text: String, ignoringCase: Bool = false) -> Bool {
        let p = Array((ignoringCase ? pattern.lowercased() : pattern).utf8)
        let t = Array((ignoringCase ? text.lowercased() : text).utf8)
        var i = 0
        var j = 0
        var star: Int? = nil
        var resume = 0
        while j < t.count {
            if i < p.count, p[i] == UInt8(ascii: "?") || p[i] == t[j] {
                i += 1
                j += 1
            } else if i < p.count, p[i] == UInt8(ascii: "*") {
                star = i
                resume = j
                i += 1
            } else if let star {
                i = star + 1
                resume += 1
                j = resume
            } else {
                return false
            }
        }
        while i < p.count, p[i] == UInt8(ascii: "*") { i += 1 }
        return i == p.count
    }
}
