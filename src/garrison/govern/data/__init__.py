"""Statistics for checking a training set before a model trained on it is trusted.

Numeric arrays in, findings out: nothing here knows what a domain name or a URL is (that
wiring lives with the models, in ``garrison.measure.train_checks``). Three questions:

- ``drift``: is the new training set distributed like the approved one (PSI and KS per
  feature, and a classifier two-sample test over all features together)?
- ``noise``: which records carry a label their neighbours or an out-of-fold model disagree
  with (kNN label consistency, confident learning, spectral signatures)?
- ``profile``: the compact summary of an approved set that drift compares against.
"""
