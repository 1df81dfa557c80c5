"""Back-tests, the demo, figures and HTML reports: what the command line runs.

- :mod:`~sklearn_causalmmm.reporting.holdout`: back-test a model on a user's
  long data, print the result and write its report;
- :mod:`~sklearn_causalmmm.reporting.demo`: the same on the bundled demo
  panel, scored against the true graphs;
- :mod:`~sklearn_causalmmm.reporting.decisions`: contributions and a budget
  reallocation over a back-test's or a future plan;
- :mod:`~sklearn_causalmmm.reporting.plots`: the figures, one PNG each;
- :mod:`~sklearn_causalmmm.reporting.report`: the HTML page.

Built on the model-agnostic tools of :mod:`sklearn_causalmmm.analysis`; the
command line (``python -m sklearn_causalmmm``) is built on this wing.
"""
