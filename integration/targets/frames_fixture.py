"""Objects whose type has a non-zero tp_itemsize but no ob_size in 3.11+ (the frame's slots
live inline): a suspended generator, a coroutine, an async generator and frame objects kept
alive. States their census (counts; their sizes are pypeek's estimates) and blocks."""
import sys
import types

import oracle


def gen():
    yield 1
    yield 2


async def coro():
    return 1


async def agen():
    yield 1


def inner():
    return sys._getframe()


def outer():
    return inner()


generators = [gen() for _ in range(7)]
for g in generators[:3]:
    next(g)  # suspended mid-body, with a live frame
coroutines = [coro() for _ in range(5)]
async_generators = [agen() for _ in range(3)]
frames = [outer() for _ in range(4)]

facts = {"types": oracle.census(types.GeneratorType, types.CoroutineType,
                                types.AsyncGeneratorType, types.FrameType)}
oracle.report_and_block(facts)
for c in coroutines:
    c.close()
