"""电子档案: the archive package a station or the hall writes per case, and its verification.

- :mod:`models.archive.package` — layout, GB/T 18894 metadata, manifest and seal;
- :mod:`models.archive.writer` — writing a package atomically;
- :mod:`models.archive.slice` — a case's slice of the station's audit chain, checked offline;
- :mod:`models.archive.verify` — checking a package (``archive verify``).
"""
