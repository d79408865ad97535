public enum CoronerTestSupportPlaceholder {}
