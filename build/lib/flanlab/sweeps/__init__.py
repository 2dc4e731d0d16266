"""Grid machinery shared by every study: stable cell keys, cell status markers, progress, expected grids."""

from flanlab.sweeps.keys import cell_key, cell_name, register_resolvers

register_resolvers()

__all__ = ["cell_key", "cell_name", "register_resolvers"]
