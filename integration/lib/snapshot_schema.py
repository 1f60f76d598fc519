"""Validation of pypeek.snapshot/1 documents against schema/pypeek.snapshot-1.json.

Every snapshot the tests produce goes through validate() (Context.snapshot calls it). Uses
jsonschema in this interpreter when it has it, else Debian's python3-jsonschema through
/usr/bin/python3; a missing validator fails the test (it is a declared dependency, see
integration/install-deps), it never passes silently."""
import json
import os
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCHEMA_PATH = os.path.join(ROOT, "schema", "pypeek.snapshot-1.json")
DEBIAN_PYTHON = "/usr/bin/python3"

_CHILD = r"""
import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
v = jsonschema.Draft202012Validator(schema)
errs = sorted(v.iter_errors(json.load(sys.stdin)), key=lambda e: list(e.absolute_path))
for e in errs[:10]:
    print("%s: %s" % ("/".join(str(p) for p in e.absolute_path) or "(root)", e.message[:300]))
sys.exit(1 if errs else 0)
"""

_validator = []


class SchemaError(AssertionError):
    pass


def _in_process():
    if not _validator:
        try:
            import jsonschema
            with open(SCHEMA_PATH) as f:
                schema = json.load(f)
            jsonschema.Draft202012Validator.check_schema(schema)
            _validator.append(jsonschema.Draft202012Validator(schema))
        except ImportError:
            _validator.append(None)
    return _validator[0]


def problems(doc):
    """The schema violations of doc (a list of strings, empty when valid)."""
    v = _in_process()
    if v is not None:
        errs = sorted(v.iter_errors(doc), key=lambda e: list(e.absolute_path))
        return ["%s: %s" % ("/".join(str(p) for p in e.absolute_path) or "(root)",
                            e.message[:300]) for e in errs[:10]]
    if not os.path.exists(DEBIAN_PYTHON):
        raise SchemaError("no jsonschema module to validate snapshots with "
                          "(install python3-jsonschema: integration/install-deps)")
    p = subprocess.run([DEBIAN_PYTHON, "-c", _CHILD, SCHEMA_PATH], input=json.dumps(doc),
                       capture_output=True, text=True, timeout=120)
    if p.returncode not in (0, 1) or "Traceback" in p.stderr:
        raise SchemaError("validating with %s failed: %s" % (DEBIAN_PYTHON, p.stderr.strip()))
    return p.stdout.splitlines()


def validate(doc, what="snapshot"):
    """Raises SchemaError (an AssertionError: the test fails) naming each violation."""
    errs = problems(doc)
    if errs:
        raise SchemaError("%s does not match %s:\n  %s" % (what, os.path.relpath(SCHEMA_PATH, ROOT),
                                                          "\n  ".join(errs)))
    return doc
