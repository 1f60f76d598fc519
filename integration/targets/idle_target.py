"""Smallest oracle target: states which interpreter runs it and where its stdlib came from,
then blocks holding the GIL until released (a byte on stdin, see oracle.py). Used by the
error-path tests."""
import os
import sys

import oracle

oracle.report_and_block({"executable": sys.executable, "version": sys.version.split()[0],
                         "prefix": sys.prefix, "stdlib": os.__file__})

