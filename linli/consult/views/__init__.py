"""Pages of the consult app, one module per topic."""
