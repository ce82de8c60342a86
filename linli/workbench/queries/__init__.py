"""Every read of the workbench, one module per role (each list a function with its own test):
``grid`` (a grid worker), ``command`` (the command centre), ``department`` (department staff),
``community`` (a community worker), ``resident``, ``district`` (the portfolio), and ``common`` (the
rows of a case they share). Nothing here writes; every list starts from ``accounts.permissions``."""

from linli.workbench.queries import command, common, community, department, district, grid, resident

__all__ = ["command", "common", "community", "department", "district", "grid", "resident"]
