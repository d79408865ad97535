/// Checked arithmetic for values read from untrusted dumps: nil on overflow.
infix operator +? : AdditionPrecedence
infix operator *? : MultiplicationPrecedence
infix operator -? : AdditionPrecedence

@inlinable
public func +? <T: FixedWidthInteger>(lhs: T?, rhs: T?) -> T? {
  guard let lhs, let rhs else { return nil }
  let (value, overflow) = lhs.addingReportingOverflow(rhs)
  return overflow ? nil : value
}

@inlinable
public func -? <T: FixedWidthInteger>(lhs: T?, rhs: T?) -> T? {
  guard let lhs, let rhs else { return nil }
  let (value, overflow) = lhs.subtractingReportingOverflow(rhs)
  return overflow ? nil : value
}

@inlinable
public func *? <T: FixedWidthInteger>(lhs: T?, rhs: T?) -> T? {
  guard let lhs, let rhs else { return nil }
  let (value, overflow) = lhs.multipliedReportingOverflow(by: rhs)
  return overflow ? nil : value
}

extension Optional {
  /// Unwraps a checked computation, or throws a `.corrupt` error naming it.
  @inlinable
  public func orCorrupt(_ what: @autoclosure () -> String) throws(DumpError)
    -> Wrapped
  {
    guard let value = self else {
      throw DumpError(.corrupt, "\(what()) overflows")
    }
    return value
  }
}
