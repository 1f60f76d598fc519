"""Hostile names for `pypeek why --dot`: a class, a module global, dict keys and an attribute
named with DOT's and Graphviz's special characters (quotes, braces, brackets, newlines,
backslash escapes like \\N and \\l, HTML markup and entities). Instances of the class are held
three ways, so the merged tree has a known shape, which the fixture states with the names,
then blocks (oracle)."""
import oracle

EVIL_QUALNAME = 'Ev"il{x}<b>&amp;\\N\n];'
GLOBAL_NAME = 'ho"st}ile\n[label=x];\\G'
KEYS = ['k"1}\n', "k<2>&lt;"]
ATTR = 'at"tr}\n\\l'


class Holder:
    pass


def build():
    evil = type("Placeholder", (), {})
    evil.__qualname__ = EVIL_QUALNAME
    g = globals()
    g["Evil"] = evil
    g[GLOBAL_NAME] = [evil() for _ in range(3)]
    g["_registry"] = {k: evil() for k in KEYS}
    holder = Holder()
    setattr(holder, ATTR, evil())
    g["holder"] = holder


build()
oracle.report_and_block({
    "qualname": EVIL_QUALNAME, "global": GLOBAL_NAME, "keys": KEYS, "attr": ATTR,
    "instances": 3 + len(KEYS) + 1,
    # roots: the hostile global, _registry, holder; then a list, a dict and a Holder; then
    # one Evil node under each of them
    "nodes": 9, "edges": 6,
})
