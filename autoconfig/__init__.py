"""Mail client auto-configuration server.

One settings file per provider (``profiles/*.toml``) becomes every answer a mail client needs.
"""

__version__ = "0.1.0"
