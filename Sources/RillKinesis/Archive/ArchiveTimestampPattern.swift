/// The value of a Firehose `!{timestamp:…}` expression: a Java `DateTimeFormatter` pattern, formatted in UTC.
///
/// Java's rules (`java.time.format.DateTimeFormatter`, "Patterns for Formatting and Parsing"): every ASCII letter
/// is reserved as a field; text in single quotes is literal, and `''` is one quote; any other character is literal,
/// except `[ ] { } #`, which Java reserves. Rill formats the fields a time prefix can use (the list in `Field`);
/// any other letter, or a letter repeated more than Java allows, is refused when the prefix is parsed, never
/// written literally. Firehose formats in UTC unless `CustomTimeZone` is set, which Rill does not offer.
public struct ArchiveTimestampPattern: Sendable, Equatable {
    enum Piece: Sendable, Equatable {
        case literal(String)
        case field(Field, count: Int)
    }

    /// The pattern letters Rill formats, with the most repetitions Java accepts for each.
    enum Field: Character, Sendable, Equatable, CaseIterable {
        case yearOfEra = "y"
        case year = "u"
        case month = "M"
        case standaloneMonth = "L"
        case dayOfMonth = "d"
        case dayOfYear = "D"
        case dayOfWeek = "E"
        case amPm = "a"
        case hourOfDay = "H"
        case clockHourOfAmPm = "h"
        case clockHourOfDay = "k"
        case hourOfAmPm = "K"
        case minute = "m"
        case second = "s"
        case fraction = "S"

        var maxCount: Int {
            switch self {
            case .yearOfEra, .year: 19
            case .month, .standaloneMonth, .dayOfWeek: 5
            case .dayOfYear: 3
            case .amPm: 1
            case .fraction: 9
            default: 2
            }
        }
    }

    let pieces: [Piece]
    public let pattern: String

    /// Parses `pattern`; the error's text is what Java's `DateTimeFormatter.ofPattern` says of it.
    public init(_ pattern: String) throws(ArchivePrefixError) {
        self.pattern = pattern
        var pieces: [Piece] = []
        var literal = ""
        let characters = Array(pattern)
        var i = 0
        func flush() {
            if !literal.isEmpty { pieces.append(.literal(literal)) }
            literal = ""
        }
        while i < characters.count {
            let character = characters[i]
            if character == "'" {
                // '' is a quote; otherwise everything up to the next lone quote is literal.
                if i + 1 < characters.count && characters[i + 1] == "'" {
                    literal.append("'")
                    i += 2
                    continue
                }
                var j = i + 1
                var quoted = ""
                var closed = false
                while j < characters.count {
                    if characters[j] == "'" {
                        if j + 1 < characters.count && characters[j + 1] == "'" {
                            quoted.append("'")
                            j += 2
                            continue
                        }
                        closed = true
                        break
                    }
                    quoted.append(characters[j])
                    j += 1
                }
                guard closed else { throw .timestampPattern(pattern, "Pattern ends with an incomplete string literal") }
                literal += quoted
                i = j + 1
            } else if character.isASCII && character.isLetter {
                var count = 1
                while i + count < characters.count && characters[i + count] == character { count += 1 }
                guard let field = Field(rawValue: character) else {
                    throw .timestampPattern(pattern, "Rill does not format the pattern letter \(character)")
                }
                guard count <= field.maxCount else {
                    throw .timestampPattern(pattern, "Too many pattern letters: \(character)")
                }
                flush()
                pieces.append(.field(field, count: count))
                i += count
            } else if "[]{}#".contains(character) {
                throw .timestampPattern(pattern, "Pattern uses the reserved character \(character)")
            } else {
                literal.append(character)
                i += 1
            }
        }
        flush()
        guard !pieces.isEmpty else { throw .timestampPattern(pattern, "the pattern is empty") }
        self.pieces = pieces
    }

    /// Whether the pattern has any field (one made only of quoted text formats no time at all).
    var hasFields: Bool {
        pieces.contains { if case .field = $0 { true } else { false } }
    }

    /// `millis` (since the epoch) formatted in UTC.
    public func format(millis: Int64) -> String {
        let t = CivilTime.components(millis)
        var out = ""
        for piece in pieces {
            switch piece {
            case .literal(let text): out += text
            case .field(let field, let count): out += Self.format(field, count: count, t, millis: millis)
            }
        }
        return out
    }

    private static let months = [
        "January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
        "November", "December",
    ]
    private static let days = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]

    private static func format(_ field: Field, count: Int, _ t: CivilTime.Components, millis: Int64) -> String {
        switch field {
        case .yearOfEra, .year:
            // yy is the year modulo 100 (Java's reduced value); other counts are a minimum width.
            if count == 2 { return pad(((t.year % 100) + 100) % 100, 2) }
            return pad(field == .yearOfEra && t.year <= 0 ? 1 - t.year : t.year, count)
        case .month, .standaloneMonth:
            return text(months[t.month - 1], number: t.month, count: count)
        case .dayOfMonth: return pad(t.day, count)
        case .dayOfYear:
            let january1 = CivilTime.millis(year: t.year, month: 1, day: 1, hour: 0, minute: 0, second: 0) ?? millis
            return pad(Int((millis - january1) / 86_400_000) + 1, count)
        case .dayOfWeek:
            // 1970-01-01 was a Thursday (index 3 from Monday).
            let day = Int(((floorDiv(millis, 86_400_000) + 3) % 7 + 7) % 7)
            let name = days[day]
            return count == 4 ? name : count == 5 ? String(name.prefix(1)) : String(name.prefix(3))
        case .amPm: return t.hour < 12 ? "AM" : "PM"
        case .hourOfDay: return pad(t.hour, count)
        case .clockHourOfAmPm: return pad(t.hour % 12 == 0 ? 12 : t.hour % 12, count)
        case .clockHourOfDay: return pad(t.hour == 0 ? 24 : t.hour, count)
        case .hourOfAmPm: return pad(t.hour % 12, count)
        case .minute: return pad(t.minute, count)
        case .second: return pad(t.second, count)
        case .fraction:
            // Fraction of the second, truncated: milliseconds then zeros (Rill's arrival times are milliseconds).
            let digits = pad(t.millisecond, 3) + String(repeating: "0", count: 6)
            return String(digits.prefix(count))
        }
    }

    /// Java's text fields: 1–2 letters the number, 3 the short name, 4 the full name, 5 the first letter.
    private static func text(_ name: String, number: Int, count: Int) -> String {
        switch count {
        case 1, 2: pad(number, count)
        case 3: String(name.prefix(3))
        case 4: name
        default: String(name.prefix(1))
        }
    }

    private static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 { a >= 0 ? a / b : (a - b + 1) / b }

    private static func pad(_ value: Int, _ width: Int) -> String {
        let text = String(value)
        return String(repeating: "0", count: max(0, width - text.count)) + text
    }
}
