"""CausalMMM's own machinery beside :mod:`sklearn_causalmmm.nn`: how the network
is trained on a panel (:mod:`.training`) and how the discoverer pools shops'
graphs after its encoder (:mod:`.pooling`). Private: the public face is
:mod:`sklearn_causalmmm.estimators`.
"""
