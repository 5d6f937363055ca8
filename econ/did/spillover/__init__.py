"""Spatial difference-in-differences: direct effects and spillovers to neighbours."""
