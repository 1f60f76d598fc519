"""The image leaves payload out of the copy (issue 14): 100 MiB of bytearrays are not copied
while the target is stopped, the census stays exact, and where the walk does need pages that
look like payload (a dict's zeroed entries) pypeek reads again while stopped, still exact."""
from harness import check, check_eq, type_entry


def _exact(snap, truth):
    check_eq(snap["objects"]["total"], sum(truth["gc_generations"]), "total tracked objects")
    for name in ("__main__.User", "list"):
        check_eq({k: type_entry(snap, name)[k] for k in ("count", "bytes")},
                 truth["types"][name], name)
    check_eq(type_entry(snap, "dict")["count"], truth["types"]["dict"]["count"], "dict count")
    check(snap["attach"]["consistent"] is True, "snapshot not consistent")


def test_payload_is_not_copied(ctx):
    with ctx.start_target("payload_fixture.py") as t:
        truth = t.read_line()
        snap = ctx.snapshot(t.pid)
        a = snap["attach"]
        check_eq(a["read"], "image", "attach.read")
        check(a["image_bytes"] < truth["payload_bytes"] // 2,
              "the image holds %d bytes: the %d bytes of payload were copied"
              % (a["image_bytes"], truth["payload_bytes"]))
        check_eq(a["retries"], 0, "attach.retries")
        _exact(snap, truth)
        # Every type, count and bytes, as the walk made while stopped reads them.
        streaming = ctx.snapshot(t.pid, "--streaming")
        by_type = lambda s: {x["type"]: (x["count"], x["bytes"]) for x in s["objects"]["types"]}  # noqa: E731
        check_eq(by_type(snap), by_type(streaming), "census (every type), image vs --streaming")
        t.release()


def test_payload_pages_the_walk_needs_are_read_stopped(ctx):
    with ctx.start_target("payload_fixture.py", "hollow") as t:
        truth = t.read_line()
        check_eq(truth["hollow_len"], 1, "the fixture's hollow dict")
        snap = ctx.snapshot(t.pid)
        a = snap["attach"]
        check(a["retries"] >= 1 and a["read"] == "streaming",
              "the walk read the dict's zeroed entries from an image that left them out, "
              "without reading again (read %s, retries %d)" % (a["read"], a["retries"]))
        _exact(snap, truth)
        t.release()
