"""The demo district: every generator and loader of demo data, on top of the product apps.

Depends on every product app (it writes through their services, or bulk-loads fixtures their
models accept) and nothing of Linli depends on it. ``make run`` loads it; production never needs it.
"""
