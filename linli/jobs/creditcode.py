"""The unified social credit code (统一社会信用代码, GB 32100-2015): being built (issue 14 §2)."""
