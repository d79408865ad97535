/// Formats seconds since the epoch as "YYYY-MM-DD HH:MM:SS UTC" without
/// Foundation (the proleptic Gregorian calendar, days-from-civil inverse).
public enum UTCDate {
  public static func format(_ seconds: Int64) -> String {
    let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
    let secondsOfDay = seconds - days * 86_400
    // Shift to an era starting 0000-03-01 so leap days fall at the end.
    let shifted = days + 719_468
    let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
    let dayOfEra = shifted - era * 146_097
    let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
    let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
    let monthIndex = (5 * dayOfYear + 2) / 153
    let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
    let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
    let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
    func two(_ value: Int64) -> String { value < 10 ? "0\(value)" : "\(value)" }
    return "\(year)-\(two(month))-\(two(day)) \(two(secondsOfDay / 3600)):"
      + "\(two(secondsOfDay / 60 % 60)):\(two(secondsOfDay % 60)) UTC"
  }
}
