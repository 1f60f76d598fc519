"""Ground truth for an unmodified application (issue 21): runs sphinx-build, hg or
http.server in this process and, at a chosen point of its run, stops it holding the GIL after
computing the interpreter's own reachability from the roots pypeek uses.

usage: app_oracle.py --at FILE_SUFFIX:FUNCTION[:NTH] APP [ARGS...]
  APP: sphinx (sphinx.cmd.build.main(ARGS)), hg (mercurial.dispatch.run with ARGS as argv)
       or http (an http.server on 127.0.0.1 serving ARGS[0], with ARGS[1] client threads
       requesting it in a loop)

A profile hook (sys.setprofile, threading.setprofile) watches for the NTH call of FUNCTION in
a file whose path ends with FILE_SUFFIX, on any thread. At that call it walks the heap the way
the collector does: gc.get_referents from the roots, plus the keys of every dict (dict_traverse
skips str keys, but they are held all the same), plus for each static type (no
Py_TPFLAGS_HEAPTYPE: it has no tp_traverse) its dict, MRO and bases. The roots: every module in
sys.modules (and so its globals) and the local variables of every frame of every thread, the
hook's own frames excepted. It prints one JSON line (oracle.report_and_block):
  reach_tracked  objects reached that gc.is_tracked() says are tracked
  reach_count    every object reached
  reach_bytes    the sys.getsizeof sum of every object reached
  tracked_types  reached tracked objects by type name, the 40 most numerous
on the original stdout (the application's own output goes to /dev/null), then blocks holding
the GIL until SIGUSR1, and lets the application run on (the hook removed).
"""
import gc
import os
import sys
import threading

import oracle

HEAPTYPE = 1 << 9


def _static_type_refs(t):
    refs = [t.__mro__, t.__bases__]
    if t.__base__ is not None:
        refs.append(t.__base__)
    # the mappingproxy's referent is the type's own dict
    refs.extend(gc.get_referents(t.__dict__))
    return refs


def _frame_roots(skip):
    roots = []
    for ident, f in sys._current_frames().items():
        while f is not None:
            if f.f_code not in skip:
                roots.extend(f.f_locals.values())
            f = f.f_back
    return roots


def measure(skip):
    roots = list(sys.modules.values())
    roots.extend(_frame_roots(skip))
    seen = {}
    stack = roots
    while stack:
        o = stack.pop()
        if id(o) in seen:
            continue
        seen[id(o)] = o
        stack.extend(gc.get_referents(o))
        if isinstance(o, dict):
            stack.extend(o.keys())
        if isinstance(o, type) and not (o.__flags__ & HEAPTYPE):
            stack.extend(_static_type_refs(o))
    del stack, roots
    tracked = count = size = 0
    types = {}
    for o in seen.values():
        count += 1
        size += sys.getsizeof(o)
        if gc.is_tracked(o):
            tracked += 1
            n = oracle.type_name(type(o))
            types[n] = types.get(n, 0) + 1
    del seen
    top = sorted(types.items(), key=lambda kv: -kv[1])[:40]
    return {"reach_tracked": tracked, "reach_count": count, "reach_bytes": size,
            "tracked_types": dict(top)}


class Trigger:
    def __init__(self, spec, out):
        self.out = out
        parts = spec.split(":")
        self.suffix, self.func = parts[0], parts[1]
        self.nth = int(parts[2]) if len(parts) > 2 else 1
        self.calls = 0
        self.fired = False
        self.lock = threading.Lock()

    def hook(self, frame, event, arg):
        if event != "call" or self.fired:
            return
        code = frame.f_code
        if code.co_name != self.func or not code.co_filename.endswith(self.suffix):
            return
        with self.lock:
            self.calls += 1
            if self.calls < self.nth or self.fired:
                return
            self.fired = True
        sys.setprofile(None)
        threading.setprofile(None)
        self.fire()

    def fire(self):
        gc.disable()
        skip = {Trigger.hook.__code__, Trigger.fire.__code__, measure.__code__,
                _frame_roots.__code__, oracle.report_and_block.__code__}
        facts = measure(skip)
        facts["app_pid"] = os.getpid()
        gc.enable()
        oracle.report_and_block(facts, self.out)


def run_http(args):
    import http.server
    import urllib.request

    root, nclients = args[0], int(args[1])

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **kw):
            super().__init__(*a, directory=root, **kw)

        def log_message(self, *a):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Quiet)
    url = "http://127.0.0.1:%d/" % server.server_address[1]
    names = sorted(os.listdir(root))

    def client(k):
        i = k
        while True:
            try:
                with urllib.request.urlopen(url + names[i % len(names)], timeout=30) as r:
                    r.read()
            except OSError:
                return
            i += 1

    for k in range(nclients):
        threading.Thread(target=client, args=(k,), daemon=True).start()
    server.serve_forever()


def main():
    if len(sys.argv) < 4 or sys.argv[1] != "--at":
        sys.exit(__doc__)
    # the oracle's line goes to the original stdout, the application's output to /dev/null
    out = os.fdopen(os.dup(1), "w")
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    os.close(null)
    trigger = Trigger(sys.argv[2], out)
    app, args = sys.argv[3], sys.argv[4:]
    threading.setprofile(trigger.hook)
    sys.setprofile(trigger.hook)
    if app == "sphinx":
        from sphinx.cmd.build import main as sphinx_main
        rc = sphinx_main(args)
    elif app == "hg":
        sys.argv = ["hg"] + args  # before the import: mercurial copies it then
        from mercurial import dispatch
        rc = dispatch.run()
    elif app == "http":
        rc = run_http(args)
    else:
        sys.exit("unknown application %r" % app)
    sys.exit(rc or 0)


main()
