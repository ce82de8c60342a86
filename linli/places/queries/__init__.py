"""Reads of the places app, one module per topic: ``tree`` (the place pages: lookups, counts,
search, maps, the building's floor stack), ``imports`` (previews and their plans made readable)
and ``exports`` (the rows and columns of each .xlsx export). Map shapes are pure functions in
``linli.places.geometry``."""
