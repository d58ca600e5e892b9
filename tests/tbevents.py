#!/usr/bin/python3
# tbevents.py — print the scalars of the TensorBoard event files in a directory, one
# "tag step value" line each (files in name order), decoding the TFRecord framing and the
# Event / Summary protobuf fields by hand (no TensorFlow needed). Used by tests/integ_run.sh.
#   tests/tbevents.py RUN_DIR [TAG]
#   tests/tbevents.py --images=OUT_DIR RUN_DIR   image summaries instead: one "tag step width
#       height colorspace bytes file" line each, the encoded image written to OUT_DIR/file
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


def values(path):
    """(tag, step, simple_value or None, Image fields dict or None) of every summary value"""
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
            elif f == 5:  # Event.summary -> Summary.value (1) -> tag (1), simple_value (2), image (4)
                for g, _, val in fields(v):
                    if g != 1:
                        continue
                    tag, x, img = None, None, None
                    for h, _, w in fields(val):
                        if h == 1:
                            tag = w.decode()
                        elif h == 2:
                            (x,) = struct.unpack("<f", w)
                        elif h == 4:  # Image: height 1, width 2, colorspace 3, encoded 4
                            img = {k: w2 for k, _, w2 in fields(w)}
                    if tag is not None:
                        yield tag, step, x, img


args = [a for a in sys.argv[1:] if not a.startswith("--images=")]
out = [a[len("--images="):] for a in sys.argv[1:] if a.startswith("--images=")]
count = 0
for p in sorted(glob.glob(os.path.join(args[0], "events.out.tfevents.*"))):
    for tag, step, x, img in values(p):
        if out and img is not None:
            count += 1
            name = "image-%d.bin" % count
            open(os.path.join(out[0], name), "wb").write(img.get(4, b""))
            print(tag, step, img.get(2, 0), img.get(1, 0), img.get(3, 0), len(img.get(4, b"")), name)
        elif not out and x is not None and (len(args) < 2 or tag == args[1]):
            print(tag, step, repr(x))
