"""The workbench writes nothing: it only reads other apps' data through their queries and the one
permission check (``queries``). Every action a row links to is taken on the owning app's page,
through that app's services. This room stays so that a reader looking for the workbench's writes
finds this answer here."""
