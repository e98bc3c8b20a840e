"""Running the bot for real: backups and restores, the ``doctor`` checks, and the small
database inspections they share. Nothing here is on the path of an update.

``database`` (open a file without creating it, integrity, schema version, writability),
``dblock`` (the ``<db>.lock`` a running bot holds), ``backup`` (online copies, pruning,
restore), ``doctor`` (every check before going live), ``commands`` (their command lines).
"""
