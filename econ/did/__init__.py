"""Difference-in-differences: TWFE, event studies, staggered-adoption estimators, randomization inference, classic
designs, heterogeneity, spillovers.

For a staggered program such as Broadband China (pilot cohorts 2014/2015/2016) the static TWFE coefficient and the
binned TWFE event study compare later-treated units with already-treated ones; when effects differ by cohort or grow
with time they can be far off, even of the wrong sign (tutorial T3). Start from the heterogeneity-robust estimators
and keep TWFE as a comparison::

    from econ import did
    cs = did.att_gt(df, "gap", "city", "year", "cohort")            # Callaway-Sant'Anna, never-treated controls
    cs.aggregate("simple"); cs.aggregate("dynamic").plot()          # overall ATT; event-time path
    cmp = did.compare(df, "gap", "city", "year", "cohort")          # TWFE, CS, Sun-Abraham, imputation side by side
    did.bacon(df, "gap", "city", "year", "cohort")                  # how much TWFE leans on forbidden comparisons
    dyn = did.att_gt(df, "gap", "city", "year", "cohort", base_period="universal").aggregate("dynamic")
    did.honest(dyn, method="relative_magnitudes")                   # sensitivity to parallel-trends violations
    did.placebo(df, "gap", "city", "year", cohort="cohort", n_draws=999)   # randomization inference (sharp null)
    did.subgroups(df, "gap", "city", "year", "treat", by="region")  # heterogeneity with an equality test
    did.channels(df, "gap", "city", "year", "treat", mediators=["internet_users"])  # treatment -> channel only

A pre-trend test that does not reject is no evidence of parallel trends (tutorial T2); ``did.twfe`` and
``did.event_study`` are right for a single adoption date or effects that are constant across cohorts and time.
"""

from econ.did.classic.classic import PSMDiDResult, TripleDiffResult, TwoByTwoResult, ddd, did_2x2, psm_did
from econ.did.classic.event_study import EventStudyResult, event_study
from econ.did.classic.heterogeneity import ChannelsResult, SubgroupResult, channels, subgroups
from econ.did.classic.placebo import PlaceboResult, placebo
from econ.did.plots import plot_coefficients, plot_event_studies, plot_event_study, plot_placebo, plot_rollout
from econ.did.classic.twfe import twfe
from econ.did.staggered.att_gt import ATTgtResult, att_gt
from econ.did.staggered._cs_aggregate import AggregateResult
from econ.did.diagnostics.bacon import BaconResult, bacon
from econ.did.staggered.imputation import ImputationResult, imputation
from econ.did.staggered.sun_abraham import SunAbrahamResult, sun_abraham
from econ.did.diagnostics.compare import ComparisonResult, compare
from econ.did.diagnostics.honest import HonestResult, honest
from econ.did.spillover.spatial_did import SpatialDiDResult, spatial_did
from econ.did.spillover.spatial_did_radius import SpatialDiDRadiusResult, spatial_did_radius
from econ.did.design import StaggeredDesign, build_design
from econ.did.few_treated.sdid import SDIDResult, sdid, sdid_compare
from econ.did.few_treated.synth import SynthResult, synth
from econ.did.intensity.cont_did import ContDiDResult, cont_did
from econ.did.intensity.multiplegt import MultiplegtResult, did_multiplegt
from econ.did.staggered.ddd_gt import DDDgtResult, ddd_gt

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
    "plot_rollout",
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
    "spatial_did_radius",
    "SpatialDiDRadiusResult",
    "build_design",
    "StaggeredDesign",
    "sdid",
    "sdid_compare",
    "SDIDResult",
    "synth",
    "SynthResult",
    "cont_did",
    "ContDiDResult",
    "did_multiplegt",
    "MultiplegtResult",
    "ddd_gt",
    "DDDgtResult",
]
