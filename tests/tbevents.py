#!/usr/bin/python3
# tbevents.py — print the scalars of the TensorBoard event files in a directory, one
# "tag step value" line each (files in name order), decoding the TFRecord framing and the
# Event / Summary protobuf fields by hand (no TensorFlow needed). Used by tests/integ_run.sh.
#   tests/tbevents.py RUN_DIR [TAG]
import glob
import os
import struct
import sys


def varint(b, i):
    v = s = 0
    while True:
        c = b[i]
        i += 1
        v |= (c & 0x7F) << s
        s += 7
        if c < 0x80:
            return v, i


def fields(b):
    """(field number, wire type, value) of a protobuf message; value bytes for length-delimited"""
    i = 0
    while i < len(b):
        key, i = varint(b, i)
        f, wt = key >> 3, key & 7
        if wt == 0:
            v, i = varint(b, i)
        elif wt == 1:
            v, i = b[i:i + 8], i + 8
        elif wt == 5:
            v, i = b[i:i + 4], i + 4
        elif wt == 2:
            n, i = varint(b, i)
            v, i = b[i:i + n], i + n
        else:
            raise ValueError("wire type %d" % wt)
        yield f, wt, v


def scalars(path):
    data = open(path, "rb").read()
    i = 0
    while i + 12 <= len(data):
        (n,) = struct.unpack_from("<Q", data, i)
        rec = data[i + 12:i + 12 + n]
        i += 12 + n + 4
        step = 0
        for f, _, v in fields(rec):
            if f == 2:  # Event.step
                step = v
            elif f == 5:  # Event.summary -> Summary.value (1) -> tag (1), simple_value (2)
                for g, _, val in fields(v):
                    if g != 1:
                        continue
                    tag, x = None, None
                    for h, _, w in fields(val):
                        if h == 1:
                            tag = w.decode()
                        elif h == 2:
                            (x,) = struct.unpack("<f", w)
                    if tag is not None and x is not None:
                        yield tag, step, x


for p in sorted(glob.glob(os.path.join(sys.argv[1], "events.out.tfevents.*"))):
    for tag, step, x in scalars(p):
        if len(sys.argv) < 3 or tag == sys.argv[2]:
            print(tag, step, repr(x))
