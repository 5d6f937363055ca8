"""Bundled data, shipped inside the wheel as ``econ.data``. See PROVENANCE.md; load with ``econ.datasets``."""
