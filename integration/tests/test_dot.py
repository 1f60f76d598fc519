"""`pypeek why PID TYPE --dot` (issue 19): Graphviz's own `dot -Tsvg` accepts the output, the
picture names the global that holds the sample service's leak with the service's own count,
and hostile names (quotes, braces, newlines, backslash escapes, markup) stay text: the graph
keeps the shape the fixture built and each name reads as pypeek's text output prints it."""
import shutil
import subprocess
import xml.etree.ElementTree as ET

from harness import Skip, check, check_eq

SVG = "{http://www.w3.org/2000/svg}"


def render_svg(dot_source, what):
    """dot -Tsvg on the text; fails on any complaint from Graphviz. Returns the SVG tree."""
    if not shutil.which("dot"):
        raise Skip("Graphviz's dot is not installed (integration/install-deps installs it)")
    p = subprocess.run(["dot", "-Tsvg"], input=dot_source.encode(), capture_output=True,
                       timeout=120)
    err = p.stderr.decode(errors="replace")
    check(p.returncode == 0 and not err.strip(),
          "%s: dot -Tsvg exited %d: %s" % (what, p.returncode, err.strip()[:500]))
    return ET.fromstring(p.stdout)


def texts(svg):
    return [t.text or "" for t in svg.iter(SVG + "text")]


def groups(svg, cls):
    return [g for g in svg.iter(SVG + "g") if g.get("class") == cls]


def shown_as(s):
    """How pypeek prints a string from the target (util/text.c pk_escape) for these names."""
    return s.replace("\\", "\\\\").replace("\n", "\\n")


def test_why_dot_names_the_leaking_global(ctx):
    with ctx.start_target("leaky_service.py", "--hold-after", 15, "--tick", 0.02) as t:
        try:
            truth = t.read_line()
            rc, out, err = ctx.run_pypeek("why", "--dot", t.pid, "LargeObject")
            check_eq(rc, 0, "why --dot exit code (stderr %r)" % err.strip())
            svg = render_svg(out, "why --dot on the leaking service")
            lines = texts(svg)
            check("__main__._cache" in lines, "the SVG does not name __main__._cache: %s"
                  % lines[:20])
            n = "{:,} objects".format(truth["large_objects"])
            check(any(line.startswith(n) for line in lines),
                  "no node counts the service's %s LargeObjects: %s" % (n, lines[:20]))
            # the LargeObjects are reached from the global through one list: three nodes
            check_eq(len(groups(svg, "node")), 3, "nodes (global, list, LargeObjects)")
            t.release()
            check_eq(t.proc.wait(timeout=60), 0, "the service's exit status after release")
        finally:
            if t.proc.poll() is None:
                t.proc.terminate()
                t.proc.wait(timeout=60)


def test_why_dot_hostile_names_stay_text(ctx):
    with ctx.start_target("dot_names_fixture.py") as t:
        truth = t.read_line()
        rc, out, err = ctx.run_pypeek("why", "--dot", t.pid, truth["qualname"])
        check_eq(rc, 0, "why --dot exit code (stderr %r)" % err.strip())
        svg = render_svg(out, "why --dot on hostile names")
        check_eq(len(groups(svg, "node")), truth["nodes"], "nodes drawn")
        check_eq(len(groups(svg, "edge")), truth["edges"], "edges drawn")
        lines = texts(svg)
        for what, want in (("the class", "__main__." + shown_as(truth["qualname"])),
                           ("the global", "__main__." + shown_as(truth["global"])),
                           ("the attribute", "." + shown_as(truth["attr"]))):
            check(want in lines, "%s should read %r; the SVG says %s" % (what, want, lines))
        counts = sorted(int(line.split()[0]) for line in lines if line.endswith(" B")
                        and " objects, " in line)
        check_eq(sum(counts) + 1, truth["instances"], "instances over the merged nodes "
                 "(3 in the list, %d in the dict, 1 attribute)" % len(truth["keys"]))
        t.release()


def check_attribute_hop(ctx, what):
    """graph_fixture's Rec instances each hold a bytearray in .buf: one Rec node and one
    bytearray node with the target's own counts, the edge labelled .buf (on 3.9 through each
    instance's __dict__, folded into the attribute; on 3.11+ inline values)."""
    with ctx.start_target("graph_fixture.py") as t:
        truth = t.read_line()
        rc, out, err = ctx.run_pypeek("why", "--dot", t.pid, "bytearray")
        check_eq(rc, 0, "%s: why --dot exit code (stderr %r)" % (what, err.strip()))
        t.release()
    svg = render_svg(out, what)
    check_eq(len(groups(svg, "node")), 4, "%s: nodes (_recs, list, Rec, bytearray)" % what)
    lines = texts(svg)
    check(".buf" in lines, "%s: no .buf edge: %s" % (what, lines))
    n = truth["retained"]["__main__._recs"]["types"]["bytearray"]["count"]
    check_eq(sum(1 for line in lines if line.startswith("{:,} objects".format(n))), 2,
             "%s: the Rec and bytearray nodes' counts" % what)


def test_why_dot_attribute_hops(ctx):
    check_attribute_hop(ctx, "host python")


def test_why_dot_attribute_hops_through_instance_dicts(ctx):
    from interpreters import by_name
    check_attribute_hop(ctx.on(by_name("debian-3.9")), "Debian 3.9")
