"""`pypeek html` and `watch --html` (issue 19) in a real browser: Debian's chromium, headless,
in a network namespace of its own (no network at all), loads the page; the DOM after its
scripts ran holds the charts, the JavaScript console is silent, and a screenshot is kept under
build/ for a person to look at. The facts checked come from the targets: the sample service's
leaking global tops the retained-memory chart, the growing cache's counts at each hold are the
growth table's, and hostile type names are text in the DOM, never elements."""
import html.parser
import json
import os
import re
import shutil
import subprocess
import tempfile

from harness import ROOT, Skip, check, check_eq

SHOTS = os.path.join(ROOT, "build")


class Dom(html.parser.HTMLParser):
    """The elements of a serialised DOM: (tag, attrs, text directly inside)."""

    def __init__(self, text):
        html.parser.HTMLParser.__init__(self, convert_charrefs=True)
        self.elements, self.stack = [], []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        e = [tag, dict(attrs), ""]
        self.elements.append(e)
        if tag not in ("meta", "br", "img", "input", "link", "polyline", "rect", "circle"):
            self.stack.append(e)

    def handle_startendtag(self, tag, attrs):
        self.elements.append([tag, dict(attrs), ""])

    def handle_endtag(self, tag):
        while self.stack:
            if self.stack.pop()[0] == tag:
                break

    def handle_data(self, data):
        if self.stack:
            self.stack[-1][2] += data

    def find(self, tag=None, **attrs):
        return [e for e in self.elements if (tag is None or e[0] == tag) and
                all(e[1].get(k.replace("_", "-")) == v for k, v in attrs.items())]


def chromium(args, what, page):
    exe = shutil.which("chromium")
    if not exe:
        raise Skip("Debian's chromium is not installed (integration/install-deps installs it)")
    if os.geteuid() != 0 or not shutil.which("unshare"):
        raise Skip("the browser runs in its own network namespace: needs root and unshare")
    with tempfile.TemporaryDirectory(prefix="pypeek-chromium-") as profile:
        argv = ["unshare", "--net", exe, "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run", "--user-data-dir=" + profile,
                "--enable-logging=stderr", "--v=0"] + args
        p = subprocess.run(argv, capture_output=True, timeout=180)
    err = p.stderr.decode(errors="replace")
    check(p.returncode == 0, "%s: chromium exited %d: %s" % (what, p.returncode, err[-2000:]))
    # the page's own console (chromium's internal chrome:// pages log there too)
    console = [line for line in err.splitlines()
               if ":CONSOLE" in line and "source: file://" + page in line]
    check(not console, "%s: the JavaScript console says: %s" % (what, console))
    return p.stdout.decode(errors="replace")


def load(ctx, page, shot_name):
    """The DOM after the page's scripts ran (and a screenshot under build/)."""
    text = open(page, encoding="utf-8").read()
    # the markup around the data (the data's strings are JSON with < > & as \u escapes)
    check(not re.search(r"[<>&]", text.split('id="pypeek-data">', 1)[1].split("</script>")[0]),
          "raw < > or & in the data script")
    text = re.sub(r'id="pypeek-data">.*?</script>', "", text, flags=re.S)
    check("Content-Security-Policy" in text and "default-src 'none'" in text,
          "the page does not forbid loads")
    for bad in (r"\ssrc\s*=", r"\shref\s*=", r"url\(", r"@import"):
        check(not re.search(bad, text), "the page refers to something outside it: %s" % bad)
    url = "file://" + os.path.abspath(page)
    dom_text = chromium(["--dump-dom", url], "loading " + page, os.path.abspath(page))
    os.makedirs(SHOTS, exist_ok=True)
    shot = os.path.join(SHOTS, shot_name)
    chromium(["--window-size=1280,2400", "--screenshot=" + shot, url], "screenshot of " + page,
             os.path.abspath(page))
    check(os.path.getsize(shot) > 10000, "the screenshot %s is empty" % shot)
    dom = Dom(dom_text)
    root = dom.find("html")[0]
    check("data-js-errors" not in root[1], "script errors: %s" % root[1].get("data-js-errors"))
    check("data-render-ms" in root[1], "the report's script did not run to its end")
    print("    %s: rendered in %s ms; screenshot %s" % (os.path.basename(page),
                                                       root[1]["data-render-ms"], shot))
    return dom


def snapshot_file(ctx, pid, path):
    rc, out, err = ctx.run_pypeek("snapshot", pid, "-o", path)
    check_eq(rc, 0, "snapshot exit code (stderr %r)" % err.strip())
    with open(path) as f:
        return json.load(f)


def make_html(ctx, out, *snaps):
    rc, _, err = ctx.run_pypeek("html", *snaps, "-o", out)
    check_eq(rc, 0, "html exit code (stderr %r)" % err.strip())


def table_rows(dom, table_id):
    """Rows of a table as lists of cell texts."""
    rows, cur, inside = [], None, False
    for tag, attrs, text in dom.elements:
        if tag == "table":
            inside = attrs.get("id") == table_id
        elif inside and tag == "tr":
            cur = []
            rows.append(cur)
        elif inside and tag in ("td", "th") and cur is not None:
            cur.append(text)
    return rows[1:]  # the header row first


def test_html_leaky_service(ctx):
    with ctx.start_target("leaky_service.py", "--hold-after", 15, "--tick", 0.02) as t, \
            tempfile.TemporaryDirectory(prefix="pypeek-html-") as d:
        try:
            truth = t.read_line()
            snap = snapshot_file(ctx, t.pid, os.path.join(d, "s.json"))
            t.release()
            check_eq(t.proc.wait(timeout=60), 0, "the service's exit status after release")
        finally:
            if t.proc.poll() is None:
                t.proc.terminate()
                t.proc.wait(timeout=60)
        page = os.path.join(d, "report.html")
        make_html(ctx, page, os.path.join(d, "s.json"))
        dom = load(ctx, page, "html-report-leaky.png")
        roots = dom.find("rect", **{"class": "root"})
        check(roots, "no root in the retained-memory chart")
        check_eq(roots[0][1]["data-name"], "__main__._cache", "the retained chart's first root")
        cache = [r for r in snap["retainers"] if r["root"] == "__main__._cache"][0]
        check_eq(int(roots[0][1]["data-bytes"]), cache["retained_bytes"],
                 "the _cache bar's bytes vs the snapshot")
        check(all(int(r[1]["data-bytes"]) <= cache["retained_bytes"] for r in roots),
              "a root bigger than _cache drawn after it")
        types = {row[0]: row for row in table_rows(dom, "types-table")}
        want = truth["types"]["__main__.LargeObject"]["count"]
        check_eq(types["__main__.LargeObject"][1], "{:,}".format(want), "LargeObject count row")
        fds = table_rows(dom, "fds-table")
        for fd in truth["open_file_fds"]:
            row = [r for r in fds if r[0] == str(fd)]
            check(row and "_io.TextIOWrapper" in row[0][3], "fd %d and its owner: %s" % (fd, row))
        check(dom.find("svg", id="gc-chart") and table_rows(dom, "gc-table"), "no GC chart")


def test_html_growth_over_snapshots(ctx):
    with ctx.start_target("growing_cache.py", "--rate", 300, "--hold-at", "5,10,15") as t, \
            tempfile.TemporaryDirectory(prefix="pypeek-html-") as d:
        paths, truths = [], []
        for i in range(3):
            truths.append(t.read_line())
            paths.append(os.path.join(d, "s%d.json" % i))
            snapshot_file(ctx, t.pid, paths[-1])
            t.release()
        page = os.path.join(d, "growth.html")
        make_html(ctx, page, *paths)
        dom = load(ctx, page, "html-report-growth.png")
        entry = "__main__.CacheEntry"
        sus = [e[1]["data-name"] for e in dom.elements
               if e[0] == "div" and "suspect" in e[1].get("class", "").split()]
        check(entry in sus, "CacheEntry is not highlighted as a suspect: %s" % sus)
        check("__main__.Config" not in sus, "Config (flat) is called a suspect")
        rows = {r[0]: r for r in table_rows(dom, "growth-table")}
        check_eq(rows[entry][2:], ["{:,}".format(x["types"][entry]["count"]) for x in truths],
                 "CacheEntry counts over the snapshots")


def test_html_hostile_names_are_text(ctx):
    with ctx.start_target("dot_names_fixture.py") as t, \
            tempfile.TemporaryDirectory(prefix="pypeek-html-") as d:
        truth = t.read_line()
        path = os.path.join(d, "s.json")
        snap = snapshot_file(ctx, t.pid, path)
        t.release()
        # A snapshot file is hostile input too: a type name that would close the script
        # element and a global named like an element with a handler.
        evil = '</script><img src=x onerror="document.title=1"><b>bold</b>'
        snap["objects"]["types"].insert(0, {"type": evil, "count": 1, "bytes": 1,
                                            "bytes_exact": True, "untracked_count": 0,
                                            "untracked_bytes": 0})
        snap["retainers"].insert(0, {"root": evil, "kind": "global", "type": evil, "len": None,
                                     "retained_bytes": 10 ** 12, "retained_count": 1,
                                     "types": [{"type": evil, "count": 1, "bytes": 10 ** 12}]})
        with open(path, "w") as f:
            json.dump(snap, f)
        page = os.path.join(d, "hostile.html")
        make_html(ctx, page, path)
        dom = load(ctx, page, "html-report-hostile.png")
        check(not dom.find("img") and not dom.find("b"), "markup from a name became elements")
        check_eq(len(dom.find("script")), 3, "script elements")
        names = [row[0] for row in table_rows(dom, "types-table")]
        qual = "__main__." + truth["qualname"]
        check(evil in names, "the hostile name is not a cell's text")
        check(qual in names, "the class %r is not a cell's text: %s" % (qual, names[:5]))
        roots = dom.find("rect", **{"class": "root"})
        check_eq(roots[0][1]["data-name"], evil, "the hostile root's name, as an attribute")


def test_html_large_snapshot_is_aggregated(ctx):
    """10,000 types and 100,000 roots: pypeek keeps 200 roots (the rest as one) and the page
    still renders."""
    with ctx.start_target("idle_target.py") as t, \
            tempfile.TemporaryDirectory(prefix="pypeek-html-") as d:
        t.read_line()
        path = os.path.join(d, "s.json")
        snap = snapshot_file(ctx, t.pid, path)
        t.release()
        snap["objects"]["types"] += [{"type": "t%05d" % i, "count": i + 1, "bytes": 64 * (i + 1),
                                      "bytes_exact": True, "untracked_count": 0,
                                      "untracked_bytes": 0} for i in range(10000)]
        snap["retainers"] = [{"root": "m.g%06d" % i, "kind": "global", "type": "list",
                              "len": 1, "retained_bytes": 1000 + i, "retained_count": 2,
                              "types": [{"type": "list", "count": 1, "bytes": 64},
                                        {"type": "str", "count": 1, "bytes": 936 + i}]}
                             for i in range(100000)]
        with open(path, "w") as f:
            json.dump(snap, f)
        page = os.path.join(d, "large.html")
        make_html(ctx, page, path)
        size = os.path.getsize(page)
        check(size < 4 << 20, "the page is %d bytes" % size)
        dom = load(ctx, page, "html-report-large.png")
        roots = dom.find("rect", **{"class": "root"})
        check_eq(len(roots), 201, "roots drawn (200 and the rest as one)")
        check_eq(roots[0][1]["data-name"], "m.g099999", "the biggest root first")
        check_eq(roots[-1][1]["data-name"], "(99800 other roots)", "the rest as one")
        check_eq(sum(int(r[1]["data-bytes"]) for r in roots),
                 sum(r["retained_bytes"] for r in snap["retainers"]), "bytes over all roots")
        rows = table_rows(dom, "types-table")
        check_eq(len(rows), 1000, "type table rows drawn before 'show all'")
        check(dom.find("button", **{"class": "more"}), "no 'show all' button")
        print("    large snapshot: %d bytes of JSON -> a %d-byte page"
              % (os.path.getsize(path), size))


def test_watch_html(ctx):
    """watch --html: the page's suspects are the watch summary's, CacheEntry among them (the
    target's log says it grew through the watch), with the summary's first and last counts."""
    with tempfile.TemporaryDirectory(prefix="pypeek-html-") as d:
        log, page = os.path.join(d, "ticks.jsonl"), os.path.join(d, "watch.html")
        with ctx.start_target("growing_cache.py", "--rate", 300, "--log", log) as t:
            rc, out, err = ctx.run_pypeek("watch", t.pid, "--interval", 0.5, "--count", 4,
                                          "--json", "--html", page)
            check_eq(rc, 0, "watch --html exit code (stderr %r)" % err.strip())
            with open(log) as f:
                lines = [json.loads(x) for x in f if x.endswith("\n")]
        summary = json.loads(out)
        entry = "__main__.CacheEntry"
        check(lines[-1]["counts"][entry] > lines[0]["counts"][entry], "test set-up: no growth")
        dom = load(ctx, page, "html-report-watch.png")
        sus = sorted(e[1]["data-name"] for e in dom.elements
                     if e[0] == "div" and "suspect" in e[1].get("class", "").split())
        want = sorted(s["name"] for s in summary["suspects"] if s["kind"] == "type")
        check_eq(sus, want, "suspects highlighted vs the watch summary")
        check(entry in sus, "CacheEntry is not a suspect")
        row = {r[0]: r for r in table_rows(dom, "growth-table")}[entry]
        s = [x for x in summary["suspects"] if x["name"] == entry][0]
        check_eq([row[2], row[-1]], ["{:,}".format(s["first"]), "{:,}".format(s["last"])],
                 "CacheEntry first and last counts")
        check_eq(len(row) - 2, summary["samples"], "samples drawn")


def test_html_optional_sections(ctx):
    """gc.unreachable and threads[] (sections other snapshots may carry, in the shape DESIGN.md
    gives them) are drawn when present, with their numbers in tables; absent, no section."""
    with ctx.start_target("idle_target.py") as t, \
            tempfile.TemporaryDirectory(prefix="pypeek-html-") as d:
        t.read_line()
        path = os.path.join(d, "s.json")
        snap = snapshot_file(ctx, t.pid, path)
        t.release()
        snap["gc"].pop("unreachable", None)  # pypeek takes both by default: absent here
        snap.pop("threads", None)
        with open(path, "w") as f:
            json.dump(snap, f)
        plain = os.path.join(d, "plain.html")
        make_html(ctx, plain, path)
        dom = load(ctx, plain, "html-report-plain.png")
        check(not dom.find("section", id="threads") and not dom.find("svg", id="unreachable-chart"),
              "sections drawn for data the snapshot does not have")
        snap["gc"]["unreachable"] = {"objects": 7, "bytes": 700, "complete": True, "examples": [],
                                     "types": [{"type": "__main__.Node", "count": 6, "bytes": 600,
                                                "finalizers": 2},
                                               {"type": "dict", "count": 1, "bytes": 100,
                                                "finalizers": 0}]}
        snap["threads"] = [{"tid": 4242, "ident": 1, "name": "MainThread", "state": "S",
                            "holds_gil": True, "gc_running": False, "native": [],
                            "frames": [{"function": "work", "file": "/srv/app.py", "line": 12},
                                       {"function": "<module>", "file": "/srv/app.py",
                                        "line": 40}]}]
        with open(path, "w") as f:
            json.dump(snap, f)
        page = os.path.join(d, "sections.html")
        make_html(ctx, page, path)
        dom = load(ctx, page, "html-report-sections.png")
        rows = table_rows(dom, "unreachable-table")
        check_eq(rows[0], ["__main__.Node", "6", "600", "2"], "unreachable table's first row")
        check(dom.find("rect", data_name="__main__.Node"), "no unreachable bar for Node")
        rows = table_rows(dom, "threads-table")
        check_eq(rows[0][:4], ["4242", "MainThread", "S", "holds it"], "thread row")
        check("work (/srv/app.py:12)" in rows[0][4], "thread stack: %r" % rows[0][4])
