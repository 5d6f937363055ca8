"""Difference-in-differences: TWFE, event studies, randomization inference, classic designs, heterogeneity.

Typical flow for a staggered program such as Broadband China (pilot cohorts 2014/2015/2016)::

    from econ import did
    res = did.twfe(df, "gap", "city", "year", treat="treat")              # average effect, clustered by city
    es = did.event_study(df, "gap", "city", "year", "cohort")       # dynamics, pre-trend test, sup-t band
    es.pretrend_test(); es.plot()
    pl = did.placebo(df, "gap", "city", "year", treat="treat", n_draws=1000, seed=1)   # randomization inference
    did.subgroups(df, "gap", "city", "year", "treat", by="region")  # heterogeneity with an equality test
    did.channels(df, "gap", "city", "year", "treat", mediators=["internet_users"])
"""

from econ.did.classic import PSMDiDResult, TripleDiffResult, TwoByTwoResult, ddd, did_2x2, psm_did
from econ.did.event_study import EventStudyResult, event_study
from econ.did.heterogeneity import ChannelsResult, SubgroupResult, channels, subgroups
from econ.did.placebo import PlaceboResult, placebo
from econ.did.plots import plot_coefficients, plot_event_studies, plot_event_study, plot_placebo
from econ.did.twfe import twfe
from econ.did.staggered import ATTgtResult, att_gt
from econ.did._cs_aggregate import AggregateResult
from econ.did.bacon import BaconResult, bacon
from econ.did.imputation import ImputationResult, imputation
from econ.did.sun_abraham import SunAbrahamResult, sun_abraham
from econ.did.compare import ComparisonResult, compare
from econ.did.honest import HonestResult, honest
from econ.did.spatial_did import SpatialDiDResult, spatial_did
from econ.did.design import StaggeredDesign, build_design
from econ.did.sdid import SDIDResult, sdid, sdid_compare
from econ.did.synth import SynthResult, synth
from econ.did.ddd_gt import DDDgtResult, ddd_gt

__all__ = [
    "twfe",
    "event_study",
    "EventStudyResult",
    "placebo",
    "PlaceboResult",
    "did_2x2",
    "ddd",
    "psm_did",
    "TwoByTwoResult",
    "TripleDiffResult",
    "PSMDiDResult",
    "subgroups",
    "channels",
    "SubgroupResult",
    "ChannelsResult",
    "plot_event_study",
    "plot_event_studies",
    "plot_placebo",
    "plot_coefficients",
    "att_gt",
    "ATTgtResult",
    "AggregateResult",
    "bacon",
    "BaconResult",
    "sun_abraham",
    "SunAbrahamResult",
    "imputation",
    "ImputationResult",
    "compare",
    "ComparisonResult",
    "honest",
    "HonestResult",
    "spatial_did",
    "SpatialDiDResult",
    "build_design",
    "StaggeredDesign",
    "sdid",
    "sdid_compare",
    "SDIDResult",
    "synth",
    "SynthResult",
    "ddd_gt",
    "DDDgtResult",
]
