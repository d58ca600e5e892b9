/*
 * wire_impl.h — private to proto/wire*.c (include wire.h elsewhere): the error helper and
 * the segment dims check that packing/decoding (wire.c) and validation (wire_check.c) share.
 * No protobuf-c types here. Thread-safety: pure functions; they write only the caller's err.
 */
#ifndef RL_WIRE_IMPL_H
#define RL_WIRE_IMPL_H

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#include "proto/wire.h"

/* Format a one-line reason into err (nullable) and return rc. */
__attribute__((format(printf, 4, 5))) static inline int fail(int rc, char *err, size_t errlen,
                                                             const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return rc;
}

#define BAD(...) fail(-EPROTO, err, errlen, __VA_ARGS__)

/* The ranges of a segment's T, obs_dim, D and episode count: 0 or -EPROTO with a reason. */
int wire_seg_dims(const struct wire_segment *s, char *err, size_t errlen);

#endif
