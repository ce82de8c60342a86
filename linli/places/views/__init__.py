"""Pages of the places app, one module per topic: ``tree`` (home, search, district … grid, the
logged reveal), ``imports`` (upload → preview → confirm or cancel, the template) and ``exports``."""
