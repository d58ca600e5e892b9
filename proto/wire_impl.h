/*
 * wire_impl.h — private to proto/wire*.c (include wire.h elsewhere): the error macro and
 * the segment dims check that packing/decoding (wire.c) and validation (wire_check.c) share.
 * No protobuf-c types here. Thread-safety: pure functions; they write only the caller's err.
 */
#ifndef RL_WIRE_IMPL_H
#define RL_WIRE_IMPL_H

#include <errno.h>
#include <stddef.h>

#include "common/util.h"
#include "proto/wire.h"

/* A bad-input return with its reason: -EPROTO and err filled. */
#define BAD(...) rl_err(-EPROTO, err, errlen, __VA_ARGS__)

/* The ranges of a segment's T, obs_dim, D and episode count: 0 or -EPROTO with a reason. */
int wire_seg_dims(const struct wire_segment *s, char *err, size_t errlen);

#endif
