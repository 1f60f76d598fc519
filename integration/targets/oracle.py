"""Ground-truth oracle for pypeek's integration tests, imported by every fixture target.

The target states the facts itself, then blocks *while holding the GIL* so that no Python code
runs while pypeek reads it:

    facts = {...}                      # anything the fixture wants to report
    oracle.report_and_block(facts)     # measures gc state last, prints one JSON line, blocks

The blocking call is libc getchar() through ctypes.PyDLL (PyDLL keeps the GIL): a read() of
stdin, which the test harness makes a pipe (integration/lib/harness.py Target); the test
releases the target by writing a byte to it. A byte written before the target reads is kept by
the pipe, so a release is never lost nor early (a signal + pause() could be lost between the
answer and the pause). getchar() takes no argument, so the call allocates nothing: no argument
tuple nor ctypes object, none GC-tracked. Nothing GC-tracked is allocated between the
measurement and the read: the gc counts the target prints are the ones pypeek must see.
"""
import ctypes
import gc
import json
import os
import sys

_libc = ctypes.PyDLL(None)
_getchar = _libc.getchar
_getchar.argtypes = []
_getchar.restype = ctypes.c_int


def wait_for_release():
    """Blocks holding the GIL until the test releases the target (one byte on stdin); False
    when stdin is at its end (the test is gone). For fixtures that are not measured: the call
    of this function itself may allocate (a frame on 3.9/3.10), report_and_block does not."""
    return _getchar() != -1


def type_name(t):
    """What pypeek calls a type: __module__.__qualname__, bare for builtins."""
    mod = t.__module__
    return t.__qualname__ if mod == "builtins" else mod + "." + t.__qualname__


def census(*types):
    """Count and sys.getsizeof bytes of the GC-tracked instances of each given type
    (exact type match), as gc.get_objects() sees them. Uses no temporary list, tuple or dict
    that the census itself would count: accumulators are dicts of ints, keyed by type."""
    counts = dict.fromkeys(types, 0)
    sizes = dict.fromkeys(types, 0)
    for o in gc.get_objects():
        t = type(o)
        if t in counts:
            counts[t] += 1
            sizes[t] += sys.getsizeof(o)
    return {type_name(t): {"count": counts[t], "bytes": sizes[t]} for t in types}


def retained(module_dict, name):
    """What the global module_dict[name] retains: count and sys.getsizeof bytes (also by
    type name) of the objects reachable from it that the roots pypeek documents (sys.modules
    and the local variables of every frame of every thread) no longer reach once that one slot
    is taken away: the dominator definition pypeek documents."""
    roots = list(sys.modules.values())
    for frame in sys._current_frames().values():
        while frame is not None:
            if frame.f_code.co_flags & 1:  # CO_OPTIMIZED: a function's locals, not globals
                roots.extend(frame.f_locals.values())
            frame = frame.f_back
    del frame
    without = reach(roots, module_dict, name)
    del roots
    out = {"bytes": 0, "count": 0, "types": {}}
    if id(module_dict[name]) in without:
        return out
    for i, o in reach([module_dict[name]]).items():
        if i in without:
            continue
        s = sys.getsizeof(o)
        out["bytes"] += s
        out["count"] += 1
        e = out["types"].setdefault(type_name(type(o)), {"count": 0, "bytes": 0})
        e["count"] += 1
        e["bytes"] += s
    return out


def census_into(counts, sizes, names):
    """Every GC-tracked object gc.get_objects() returns, by type: adds its count, the sum of
    sys.getsizeof (None once a size is unavailable) and its name, keyed by id(type).

    The three dicts are the caller's, created empty before the call, so no tracked object
    the census allocates outlives it. Up to 3.13 dicts holding only ints and strs are not
    GC-tracked; from 3.14 every dict is, so the accumulators are themselves counted and must
    not grow after they were measured: a first pass adds every type's keys, the second, which
    only rebinds existing keys (no resize), is the census. The collector should be disabled
    so nothing moves, dies or is untracked while it runs."""
    for o in gc.get_objects():
        k = id(type(o))
        if k not in names:
            names[k] = type_name(type(o))
            counts[k] = 0
            sizes[k] = 0
    for k in names:
        counts[k] = 0
        sizes[k] = 0
    for o in gc.get_objects():
        k = id(type(o))
        counts[k] += 1
        try:
            size = sys.getsizeof(o)
        except Exception:  # a __sizeof__ that raises: no exact size for that type
            size = None
        sizes[k] = None if size is None or sizes[k] is None else sizes[k] + size


def census_by_name(counts, sizes, names):
    """census_into's dicts as {name: [count, bytes]} (types sharing a name summed)."""
    out = {}
    for k, name in names.items():
        c, b = out.get(name, (0, 0))
        out[name] = [c + counts[k], None if b is None or sizes[k] is None else b + sizes[k]]
    return out


def _garbage_census():
    counts, sizes = {}, {}
    for o in gc.garbage:
        name = type_name(type(o))
        counts[name] = counts.get(name, 0) + 1
        sizes[name] = sizes.get(name, 0) + sys.getsizeof(o)
    return {k: {"count": counts[k], "bytes": sizes[k]} for k in counts}


def reach(starts, main_dict=None, skip_key=None):
    """ids -> objects reachable from starts by gc.get_referents, plus the keys of every dict
    (dict_traverse skips str keys: they cannot form cycles, but they are held all the same,
    and pypeek counts them). At main_dict the value of skip_key is not followed (that
    global's slot is taken away): what a global retains is what this no longer reaches."""
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
        else:
            stack.extend(gc.get_referents(o))
            if isinstance(o, dict):
                stack.extend(o.keys())
    return seen


def _untracked_refs(o, opaque, module_type):
    """The references untracked_census follows from o (see there)."""
    heaptype = 1 << 9  # Py_TPFLAGS_HEAPTYPE
    immutable = 1 << 8  # Py_TPFLAGS_IMMUTABLETYPE (3.10+; unused before)
    if type(o) is module_type:
        return [o.__dict__]
    if type_name(type(o)) in opaque:
        refs = []
        if not isinstance(o, type):
            # the instance dict of a class made in Python (a heap type, not immutable: its
            # subtype_traverse visits the dict); a C type's (static, or a heap type made from
            # a spec, immutable: _io.TextIOWrapper from 3.12) is one of the C fields pypeek
            # does not read
            flags = type(o).__flags__
            python_class = flags & heaptype and not flags & immutable
            d = getattr(o, "__dict__", None) if python_class else None
            refs = [d] if type(d) is dict else []
            if isinstance(o, tuple):  # a struct sequence: its visible items (Py_SIZE)
                refs.extend(tuple.__iter__(o))
            return refs
    else:
        refs = gc.get_referents(o)
        if isinstance(o, dict):
            refs.extend(o.keys())
        if not isinstance(o, type) or o.__flags__ & heaptype:
            return refs
    # a static type (never traversed by the collector), or a class whose metatype is opaque:
    # type_traverse's tp_dict, tp_mro, tp_bases and tp_base
    refs.extend(gc.get_referents(type.__dict__["__dict__"].__get__(o)))
    refs.extend((o.__mro__, o.__bases__))
    if o.__base__ is not None:  # None for object: no tp_base
        refs.append(o.__base__)
    return refs


def untracked_census(skip_code=None, opaque=()):
    """Every object the collector does not track that a tracked object refers to, directly or
    through other untracked objects: {type name: [count, sys.getsizeof sum]}, each object
    counted once (by id), and the names in opaque that have instances (tracked or counted). The edges are gc.get_referents(), plus
      - the keys of every dict (dict_traverse skips str keys: they cannot form cycles, but they
        are held all the same, and pypeek counts them);
      - what a static (non-heap) type holds: its __dict__, __mro__, __bases__ and __base__.
        The collector never traverses a static type (type_is_gc() is false for it, so
        gc.get_referents() returns nothing), but it holds them, and pypeek reads them as it
        reads a heap type's (type_traverse: the same four).
    Two kinds of reference pypeek cannot read, so what only they hold is not counted:
      - a module's C state (md_state, visited by its definition's m_traverse: the extension's
        private struct, e.g. posix's 10**9 and 'struct_rusage'): a module is followed to its
        __dict__ only;
      - the C fields of the instances of the types named in opaque (pypeek lists them in
        graph.untraversed_types): only their generic parts are followed, as pypeek reads
        them: a class's type fields (above), a tuple's items (a struct sequence's hidden fields
        are not) and, if its type is a class made in Python, an instance's __dict__.
    The tracked objects are gc.get_objects(): frozen ones are first moved back to the oldest
    generation with gc.unfreeze() (the caller's census of tracked objects is unchanged, only
    their list), so gc.get_objects() lists them.

    The walk's own objects are never reached: the list of tracked objects is taken first, and
    everything made after it (the seen dict, the stack, the referent lists, ids) is not in it
    and is not untracked-and-referred-to by anything in it. Up to 3.10 a running function's
    frame is a tracked object: this function's own frame (and that of skip_code, its caller,
    if given) is skipped, its locals are the walk's own and are gone when it returns.
    The collector must be disabled."""
    if gc.get_freeze_count():
        gc.unfreeze()
    # The type attribute cache (_PyType_Lookup's, C state pypeek does not read) holds a strong
    # reference to each name it caches. From 3.14 the interned-strings dict is tracked (every
    # dict is), so the walk counts every interned str through it, also those only the cache
    # keeps alive: e.g. enum's '_Flag__in_progress', made with % at class creation, deleted
    # from the class and looked up once. The lookups of the walk and of the work after it
    # (json.dumps, the write) overwrite cache slots, and a name whose slot is taken is freed
    # before pypeek reads the heap; the slot hashes the name's address, so in about half the
    # runs one such str was counted here and was gone for pypeek. Emptied first, the cache holds only names looked
    # up from here on, constants of the code doing the lookups, which outlive any eviction.
    (getattr(sys, "_clear_internal_caches", None) or sys._clear_type_cache)()
    objs = gc.get_objects()
    own = (untracked_census.__code__, skip_code)
    frame_type = type(sys._getframe(0))
    seen = {}
    stack = []
    module_type = type(gc)
    present = set()
    for o in objs:
        if type(o) is frame_type and o.f_code in own:
            continue
        if type_name(type(o)) in opaque:
            present.add(type_name(type(o)))
        for r in _untracked_refs(o, opaque, module_type):
            if not gc.is_tracked(r):
                stack.append(r)
    while stack:
        o = stack.pop()
        if id(o) in seen:
            continue
        seen[id(o)] = o
        for r in _untracked_refs(o, opaque, module_type):
            if not gc.is_tracked(r):
                stack.append(r)
    out = {}
    for o in seen.values():
        if type_name(type(o)) in opaque:
            present.add(type_name(type(o)))
        e = out.setdefault(type_name(type(o)), [0, 0])
        e[0] += 1
        try:
            e[1] += sys.getsizeof(o)
        except Exception:  # a __sizeof__ that raises: no size for that type
            e[1] = None if e[1] is None else e[1]
    del objs, seen, stack
    return out, sorted(present)


def untracked_report_and_block(facts, opaque=()):
    """facts plus the untracked census ("untracked", "opaque": untracked_census) as one JSON
    line, then block holding the GIL until released (a byte on stdin). Nothing the census
    counts is made or freed between the walk and the pause: the JSON line is written and freed
    first, and this frame's locals (up to 3.10 a tracked frame the walk skips; from 3.11 roots
    pypeek reads) hold no value while blocked: the arguments are deleted too."""
    gc.disable()
    facts = dict(facts)
    facts["untracked"], facts["opaque"] = untracked_census(untracked_report_and_block.__code__,
                                                           opaque)
    data = (json.dumps(facts) + "\n").encode()
    del facts, opaque
    os.write(1, data)
    del data
    _getchar()


def malloc_stats_to(fd):
    """sys._debugmallocstats() (printed by C on stderr) into the open file fd, from its start:
    pymalloc's own walk of its arenas and pools. Allocates nothing (ints below 256 only)."""
    os.lseek(fd, 0, 0)
    os.ftruncate(fd, 0)
    saved = os.dup(2)
    os.dup2(fd, 2)
    sys._debugmallocstats()
    os.dup2(saved, 2)
    os.close(saved)


def _emit(out, line, really):
    """Writes line (nothing when not really: the rehearsal runs the same code)."""
    data = line.encode()
    os.write(out.fileno(), data if really else data[:0])


def report_and_block(facts, out=None, malloc_stats_fd=None):
    """Print facts plus the interpreter's own gc answers as one JSON line, then block holding
    the GIL until the test releases it (a byte on stdin). Returns after the release. With
    malloc_stats_fd, pymalloc's own statistics (malloc_stats_to) are written there at the
    moment blocks are counted.

    The collector is disabled while measuring so no collection moves objects or changes the
    stats between the measurement and the pause; it is re-enabled (if it was) before blocking.
    gc counts and allocated blocks are measured last, after every temporary is gone."""
    out = out if out is not None else sys.stdout
    was_enabled = gc.isenabled()
    gc.disable()
    facts = dict(facts)
    facts["gc_enabled"] = was_enabled
    facts["gc_debug"] = gc.get_debug()
    facts["gc_threshold"] = list(gc.get_threshold())
    facts["gc_stats"] = gc.get_stats()
    facts["garbage_len"] = len(gc.garbage)
    facts["garbage_types"] = _garbage_census()
    text = json.dumps(facts)
    del facts
    assert text.endswith("}")
    head = text[:-1] + ", "
    # The measurement, formatting and output run twice, first as a rehearsal that writes
    # nothing: the first run of this code can free blocks of the interpreter's own after the
    # measurement (seen on 3.13 and 3.15 in some runs), and the rehearsal takes that, so
    # sys.getallocatedblocks() is exactly what pypeek must see. The measured numbers stay
    # alive until the pause (freeing one measured before would be counted); what is
    # allocated after the measurement (the number of blocks, the line) is freed again.
    rehearsal = True
    while True:  # a for loop's iterator would be freed after the measurement
        gc.disable()
        # gc.get_count() returns a new 3-tuple after reading the counts. Tuples come from a
        # free list without touching the gen-0 count, or are allocated fresh (count + 1) and
        # then go back to the free list (no decrement): fill the free list first so the read
        # is neutral. Each count is read by indexing its own call: on 3.14+ unpacking the
        # tuple (c0, c1, c2 = gc.get_count()) leaves the gen-0 count one higher than the
        # value read.
        g0 = len(gc.get_objects(0))
        g1 = len(gc.get_objects(1))
        g2 = len(gc.get_objects(2))
        frozen = gc.get_freeze_count()
        warm = [(i, i, i) for i in range(16)]
        del warm
        c0 = gc.get_count()[0]
        c1 = gc.get_count()[1]
        c2 = gc.get_count()[2]
        if malloc_stats_fd is not None:
            malloc_stats_to(malloc_stats_fd)
        blocks = sys.getallocatedblocks()
        # String concatenation only: a formatting tuple would disturb the count the same way.
        line = (head + '"gc_generations": [' + str(g0) + ", " + str(g1) + ", " + str(g2)
                + '], "gc_permanent": ' + str(frozen) + ', "gc_count": [' + str(c0) + ", "
                + str(c1) + ", " + str(c2) + '], "allocated_blocks": ' + str(blocks)
                + ', "pid": ' + str(os.getpid()) + "}\n")
        if was_enabled:
            gc.enable()
        _emit(out, line, not rehearsal)
        del blocks, line
        if not rehearsal:
            break
        rehearsal = False
    _getchar()
