"""The first stage: ``profiles/*.toml`` read into frozen :class:`~autoconfig.model.Provider`
objects, validated once, and the :class:`Catalog` that finds the provider of a domain or a host.

:mod:`.reader` reads one table and collects problems; :mod:`.provider` reads a whole profile (and
loads a folder of them); :mod:`.guide` and :mod:`.dns` read the ``[guide]`` and ``[dns]`` tables.
"""

from autoconfig.profiles.catalog import Catalog
from autoconfig.profiles.provider import load, parse_profile

__all__ = ["Catalog", "load", "parse_profile"]
