"""Heterogeneity-robust staggered adoption: Callaway-Sant'Anna (panel and repeated cross-sections), staggered triple differences, Sun-Abraham, imputation."""
