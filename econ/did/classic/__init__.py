"""Classic designs: 2x2 and triple differences, PSM-DiD, TWFE, binned event studies, randomization inference, heterogeneity and channels."""
