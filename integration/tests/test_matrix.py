"""The version matrix: every oracle test (census, GC state and garbage, fds) on each
interpreter of integration/lib/interpreters.py, with the same exact equality as on the host's
python3. One test function per (interpreter, test) is generated here, so a failure names both;
an interpreter that is absent is skipped with the reason. The oracle test modules are imported
once, by name (run_tests.py puts integration/tests on the path): the runner and the matrix
share them."""
import test_census
import test_core
import test_fds
import test_gc
import test_graph
import test_stacks
import test_unreachable
from interpreters import MATRIX

# Oracle test modules whose test functions start their targets without naming a python.
MODULES = (test_census, test_gc, test_fds, test_graph, test_unreachable, test_stacks, test_core)


def _oracle_tests():
    for mod in MODULES:
        for fn_name in sorted(dir(mod)):
            fn = getattr(mod, fn_name)
            # tests bound to one interpreter (pyenv_*) are not parametrised
            if fn_name.startswith("test_") and callable(fn) and "pyenv" not in fn_name:
                yield fn_name, fn


def _make(interp, fn):
    def test(ctx):
        interp.resolve()  # Skip now, with the reason, when the interpreter is absent
        fn(ctx.on(interp))
    return test


for _interp in MATRIX:
    for _fn_name, _fn in _oracle_tests():
        _t = _make(_interp, _fn)
        _t.__name__ = "test_%s__%s" % (_interp.ident, _fn_name[len("test_"):])
        globals()[_t.__name__] = _t
del _interp, _fn_name, _fn, _t
