"""Tests of the package's top-level namespace (``sklearn_causalmmm/__init__.py``)."""

# SPDX-License-Identifier: BSD-3-Clause

import subprocess
import sys

import pytest

import sklearn_causalmmm
from sklearn_causalmmm import estimators, forecasting


@pytest.mark.parametrize(
    ("name", "module"),
    [
        ("PAPER_CONFIG", estimators),
        ("CausalGraphDiscoverer", estimators),
        ("CausalMMMRegressor", estimators),
        ("CausalMMMForecaster", forecasting),
        ("PanelRegressorForecaster", forecasting),
    ],
)
def test_exports_are_the_submodules_objects(name, module):
    assert getattr(sklearn_causalmmm, name) is getattr(module, name)
    assert name in sklearn_causalmmm.__all__
    assert name in dir(sklearn_causalmmm)


def test_unknown_attribute_raises_attribute_error_naming_it():
    with pytest.raises(AttributeError, match="has no attribute 'CausalMMM'"):
        sklearn_causalmmm.CausalMMM  # noqa: B018


def test_import_is_light_and_star_import_gives_every_export():
    probe = (
        "import sys\n"
        "import sklearn_causalmmm\n"
        "light = 'torch' not in sys.modules and 'sktime' not in sys.modules\n"
        "namespace = {}\n"
        "exec('from sklearn_causalmmm import *', namespace)\n"
        "print(light, sorted(set(namespace) - {'__builtins__'}))\n"
    )
    process = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120
    )
    assert process.returncode == 0, process.stderr
    light, names = process.stdout.strip().split(" ", 1)
    assert light == "True"
    assert names == str(sorted(sklearn_causalmmm.__all__))
