"""Referents of builtin and C types beyond the containers (issue 21): each module global holds
instances of one kind whose only path to a payload (a list of unique strs) is that kind's own
references, as its tp_traverse visits them: subclasses of str, bytes, tuple and float with an
instance dict, property, classmethod, staticmethod, weakref callbacks, builtin methods bound
to an object, method-wrappers, descriptors (their class), mappingproxy, exceptions (args,
notes, cause, context, traceback), tracebacks with their frames, OrderedDict, defaultdict,
SimpleNamespace, namedtuple classes (their _tuplegetter fields), ABCs (_abc_data), _io
objects (BufferedReader, FileIO), re.Pattern, re.Match, functools.partial, list and tuple
iterators, memoryview (and its managed buffer), slices and functools.lru_cache wrappers.

The target computes with gc.get_referents (plus dict keys) and sys.getsizeof what each global
retains, by type, as graph_fixture.py does; and, for one instance of each kind, the referents
gc.get_referents gives (by type name). Then it blocks holding the GIL (oracle.py)."""
import abc
import collections
import functools
import gc
import io
import os
import re
import sys
import types
import weakref

import oracle

N = 40


def payload(tag, i):
    return ["%s-%d-%d" % (tag, i, k) for k in range(3)]


class Text(str):
    pass


class Blob(bytes):
    pass


class Pair(tuple):
    pass


class Real(float):
    pass


class Anchor:
    pass


def holder(p):
    def f(*a):
        return p

    return f


def failing(p):
    local = p  # noqa: F841 (held by the traceback's frame)
    raise ValueError("boom")


def make_exc(i):
    try:
        failing(payload("tbframe", i))
    except ValueError as e:
        exc = e
    try:
        raise KeyError(payload("context", i))
    except KeyError:
        try:
            raise RuntimeError(payload("args", i)) from exc
        except RuntimeError as e2:
            out = e2
    if hasattr(out, "add_note"):
        out.add_note("note-%d" % i)
    return out


def make_tb(i):
    try:
        failing(payload("tb", i))
    except ValueError:
        return sys.exc_info()[2]


def make_descr(i):
    cls = type("Slot%d" % i, (), {"__slots__": ("a",), "payload": payload("descr", i)})
    return cls.__dict__["a"]


def make_abc(i):
    """An ABC whose _abc_data registry (a set of weak references, each with a builtin
    callback bound to it) is reached only through the class."""
    cls = abc.ABCMeta("Abc%d" % i, (), {"payload": payload("abc", i)})
    cls.register(type("Reg%d" % i, (), {}))
    return cls


def make_file(i):
    f = io.open(os.devnull, "rb")
    f.tag = payload("file", i)
    f.raw.tag = payload("raw", i)
    return f


def make_patterns():
    pats = [re.compile("(?P<g%d>x+)-%d" % (i, i)) for i in range(N)]
    re.purge()  # no longer in re's cache: only the global holds them
    return pats


def make_partial(i):
    p = functools.partial(holder(payload("pfunc", i)), payload("pargs", i), k=payload("pkw", i))
    p.tag = payload("pdict", i)
    return p


def make_lru(i, maxsize):
    """An lru_cache wrapper whose cached results (bounded: held by its links; unbounded: by
    its cache dict) and wrapped function are reached only through it."""
    results = {k: payload("result%d" % k, i) for k in range(3)}

    @functools.lru_cache(maxsize=maxsize)
    def cached(k):
        return results[k]

    for k in range(3):
        cached(("key-%d" % i, k)[1])
    results.clear()
    return cached


def exception_subclasses(i):
    """Exceptions whose own fields hold unique strs (a subclass inherits its base's fields)."""
    s = lambda tag: "%s-%d" % (tag, i)  # noqa: E731
    out = [OSError(2, s("strerror"), s("filename"), None, s("filename2")),
           FileNotFoundError(2, s("fnf-strerror"), s("fnf-filename")),
           ImportError(s("msg"), name=s("name"), path=s("path")),
           StopIteration(payload("value", i)),
           SyntaxError(s("msg"), (s("file"), 1, 2, s("text"))),
           NameError(s("nmsg")),
           UnicodeDecodeError("utf-8", s("object").encode(), 0, 1, s("reason")),
           SystemExit(payload("code", i))]
    if sys.version_info >= (3, 10):
        out.append(AttributeError(s("amsg"), name=s("aname"), obj=payload("aobj", i)))
        out.append(NameError(s("nmsg2"), name=s("nname")))
    if sys.version_info >= (3, 11):
        out.append(ExceptionGroup(s("group"), [ValueError(payload("grouped", i))]))
    return out


def make_points():
    """Instances of a namedtuple class reached only through them: the class, its
    _tuplegetter fields and their docs."""
    point = collections.namedtuple("Point", "x y")
    return [point(i, payload("point", i)) for i in range(N)]


def subclass(cls, value, i):
    o = cls(value)
    o.extra = payload(cls.__name__, i)
    return o


_anchors = [Anchor() for i in range(N)]
_callables = [holder(None) for i in range(N)]
_texts = [subclass(Text, "text-%d" % i, i) for i in range(N)]
_blobs = [subclass(Blob, b"blob-%d" % i, i) for i in range(N)]
_pairs = [subclass(Pair, ("pair-%d" % i, payload("item", i)), i) for i in range(N)]
_reals = [subclass(Real, i + 0.5, i) for i in range(N)]
_props = [property(holder(payload("fget", i)), holder(payload("fset", i))) for i in range(N)]
_cms = [classmethod(holder(payload("cm", i))) for i in range(N)]
_sms = [staticmethod(holder(payload("sm", i))) for i in range(N)]
_weakrefs = ([weakref.ref(_anchors[i], holder(payload("callback", i))) for i in range(N)] +
             [weakref.proxy(_anchors[i], holder(payload("pcallback", i))) for i in range(N)] +
             [weakref.proxy(_callables[i], holder(payload("ccallback", i))) for i in range(N)])
_builtins = [payload("self", i).append for i in range(N)]
_wrappers = [payload("wrapped", i).__len__ for i in range(N)]
_descrs = [make_descr(i) for i in range(N)]
_proxies = [types.MappingProxyType({"k": payload("proxy", i)}) for i in range(N)]
_excs = [make_exc(i) for i in range(N)]
_tbs = [make_tb(i) for i in range(N)]
_odicts = [collections.OrderedDict(k=payload("odict", i)) for i in range(N)]
_defaultdicts = [collections.defaultdict(holder(payload("factory", i)), k=payload("dd", i))
                 for i in range(N)]
_namespaces = [types.SimpleNamespace(k=payload("ns", i)) for i in range(N)]
_points = make_points()
_abcs = [make_abc(i) for i in range(N)]
_files = [make_file(i) for i in range(N)]
_patterns = make_patterns()
_matches = [_patterns[i].match("x" * (i + 1) + "-%d" % i) for i in range(N)]
_partials = [make_partial(i) for i in range(N)]
_iterators = [iter(payload("listit", i)) for i in range(N)] + [iter(tuple(payload("tupleit", i)))
                                                               for i in range(N)]
_views = [memoryview(bytearray(b"view-%d" % i)) for i in range(N)]
_slices = [slice(payload("start", i), payload("stop", i), payload("step", i)) for i in range(N)]
_lrus = [make_lru(i, 8) for i in range(N)] + [make_lru(i, None) for i in range(N)]
_views_of_dicts = ([{"k": payload("keys", i)}.keys() for i in range(N)] +
                   [{"k": payload("values", i)}.values() for i in range(N)] +
                   [{"k": payload("items", i)}.items() for i in range(N)])
_dict_iterators = ([iter({"k": payload("keyit", i)}) for i in range(N)] +
                   [iter({"k": payload("valueit", i)}.values()) for i in range(N)] +
                   [iter({"k": payload("itemit", i)}.items()) for i in range(N)])
_set_iterators = [iter({"setit-%d" % i}) for i in range(N)]
_enumerates = [enumerate(payload("enum", i)) for i in range(N)]
_counts = [__import__("itertools").count(10 ** 30 + i, 10 ** 25 + i) for i in range(N)]
_getters = ([__import__("operator").itemgetter(payload("item", i)) for i in range(N)] +
            [__import__("operator").attrgetter("attr_%d" % i) for i in range(N)])
_exc_subclasses = [e for i in range(N) for e in exception_subclasses(i)]
_aliases = ([list[tuple(payload("alias", i))] for i in range(N)]  # types.GenericAlias: 3.9+
            if sys.version_info >= (3, 9) else [])

FIXTURE = ("_texts", "_blobs", "_pairs", "_reals", "_props", "_cms", "_sms", "_weakrefs",
           "_builtins", "_wrappers", "_descrs", "_proxies", "_excs", "_tbs", "_odicts",
           "_defaultdicts", "_namespaces", "_points", "_abcs", "_files", "_patterns", "_matches",
           "_partials", "_iterators", "_views", "_slices", "_lrus", "_views_of_dicts",
           "_dict_iterators", "_set_iterators", "_enumerates", "_counts", "_getters", "_aliases",
           "_exc_subclasses")


HEAPTYPE = 1 << 9


def reach(starts, main_dict=None, skip_key=None):
    """oracle.reach, and through a static type (no tp_traverse: gc.get_referents sees
    nothing in it) its dict, MRO and bases, which it holds all the same."""
    seen = {}
    stack = list(starts)
    while stack:
        o = stack.pop()
        if id(o) in seen:
            continue
        seen[id(o)] = o
        if o is main_dict and skip_key is not None:
            stack.extend(main_dict.keys())
            stack.extend(v for k, v in main_dict.items() if k != skip_key)
            continue
        stack.extend(gc.get_referents(o))
        if isinstance(o, dict):
            stack.extend(o.keys())
        if isinstance(o, type) and not (o.__flags__ & HEAPTYPE):
            stack.extend(gc.get_referents(o.__dict__))
            stack.extend((o.__mro__, o.__bases__))
    return seen


def retained(name):
    main_dict = sys.modules["__main__"].__dict__
    modules = list(sys.modules.values())
    without = reach(modules, main_dict, name)
    if id(main_dict[name]) in without:
        return {"bytes": 0, "count": 0, "types": {}}
    mine = reach([main_dict[name]], None, None)
    out = {"bytes": 0, "count": 0, "types": {}}
    for i, o in mine.items():
        if i in without:
            continue
        t = oracle.type_name(type(o))
        s = sys.getsizeof(o)
        out["bytes"] += s
        out["count"] += 1
        e = out["types"].setdefault(t, {"count": 0, "bytes": 0})
        e["count"] += 1
        e["bytes"] += s
    del without, mine
    return out


def main():
    gc.collect()
    facts = {"retained": {"__main__." + n: retained(n) for n in FIXTURE},
             "version": list(sys.version_info[:2])}
    oracle.report_and_block(facts)


main()
