"""Pages of the governance app, one module per topic (``division``, ``events``, ``public``, ``queues``)."""
