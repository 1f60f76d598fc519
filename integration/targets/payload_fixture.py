"""Payload fixture (issue 14): 100 bytearrays of 1 MiB (resident, no pointers: payload) held
by a global list, 20,000 instances of a user class, and with "hollow" a dict of 2^20 entries
all deleted but one (24 MiB of zeroed entries the object graph walks: pages without a pointer
that pypeek must nevertheless read). States its own answers and blocks holding the GIL."""
import sys

import oracle


class User:
    def __init__(self, i):
        self.i = i


def main():
    payload = [bytearray(b"p" * (1 << 20)) for _ in range(100)]  # noqa: F841 (held)
    users = [User(i) for i in range(20_000)]  # noqa: F841 (held)
    hollow = {}
    if "hollow" in sys.argv[1:]:
        hollow = {i: i for i in range(1 << 20)}
        for i in range((1 << 20) - 1):
            del hollow[i]
    facts = {"types": oracle.census(User, dict, list), "hollow_len": len(hollow),
             "payload_bytes": 100 << 20}
    oracle.report_and_block(facts)


main()
