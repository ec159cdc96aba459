"""Meta-test: every registered primitive is exercised by at least one op-table case."""

import ember
import ember.autograd

from .test_op_table import CASES


def _import_everything():
    # Importing the optional subpackages registers their ops too.
    import importlib
    import pkgutil
    for mod in pkgutil.walk_packages(ember.__path__, "ember."):
        if mod.name.startswith(("ember.cli", "ember.distributed")):
            continue
        try:
            importlib.import_module(mod.name)
        except ImportError:
            pass


def test_every_registered_op_has_a_case():
    _import_everything()
    covered = set()
    for case in CASES:
        covered.update(case.covers)
    missing = sorted(set(ember.autograd.OP_REGISTRY) - covered)
    assert not missing, f"registered ops without an op-table case: {missing}"


def test_cases_only_name_registered_ops():
    _import_everything()
    unknown = sorted({op for case in CASES for op in case.covers} - set(ember.autograd.OP_REGISTRY))
    assert not unknown, f"cases claim to cover ops that are not registered: {unknown}"
