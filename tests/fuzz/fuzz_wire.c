/*
 * fuzz_wire.c — libFuzzer target: proto/wire.c decoding and proto/wire_check.c validation.
 *
 * Any bytes: decode with a large and a small decoder (the small one exercises the arena limit).
 * Whatever decodes must pass wire_check, re-pack, decode again and re-pack to the same bytes
 * (a message we accept is one we can forward or store unchanged).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/wire.h"
#include "tests/fuzz/fuzz.h"

#define BIG_MSG (4u << 20)
#define SMALL_MSG 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct wire_decoder *big, *small, *again;
static uint8_t *buf1, *buf2;

static void setup(void)
{
    big = wire_decoder_new(BIG_MSG);
    small = wire_decoder_new(SMALL_MSG);
    again = wire_decoder_new(BIG_MSG);
    buf1 = malloc(BIG_MSG);
    buf2 = malloc(BIG_MSG);
    if (!big || !small || !again || !buf1 || !buf2)
        fuzz_fail("out of memory at set-up");
}

// m was accepted: it must validate and survive pack -> decode -> pack unchanged
static void round_trip(const struct wire_msg *m)
{
    char err[256];
    struct wire_msg m2;
    size_t n1 = 0, n2 = 0;
    if (wire_check(m, err, sizeof(err)) != 0)
        fuzz_fail("a decoded message fails wire_check");
    if (wire_packed_size(m) > BIG_MSG)
        return; // bigger than our buffers (not a finding: decode allows it)
    if (wire_pack(m, buf1, BIG_MSG, &n1) != 0 || n1 != wire_packed_size(m))
        fuzz_fail("a decoded message does not pack to its packed size");
    if (wire_decode(again, buf1, n1, &m2, err, sizeof(err)) != 0) {
        fprintf(stderr, "re-decode: %s\n", err);
        fuzz_fail("a re-packed message does not decode");
    }
    if (m2.type != m->type || wire_pack(&m2, buf2, BIG_MSG, &n2) != 0 || n1 != n2 ||
        memcmp(buf1, buf2, n1) != 0)
        fuzz_fail("pack(decode(pack(m))) differs from pack(m)");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!big)
        setup();
    char err[256];
    struct wire_msg m;
    int rc = wire_decode(big, data, size, &m, err, sizeof(err));
    if (rc == 0) {
        if (m.type == WIRE_NONE || strcmp(wire_type_name(m.type), "none") == 0)
            fuzz_fail("decode accepted a message without a type");
        round_trip(&m);
    } else if (rc != -EPROTO && rc != -EMSGSIZE) {
        fuzz_fail("decode returned an undocumented error");
    } else if (m.type != WIRE_NONE) {
        fuzz_fail("a refused message left a type in out");
    }
    // the small decoder refuses what does not fit, never more than the big one accepts
    int rs = wire_decode(small, data, size, &m, err, sizeof(err));
    if (rs == 0 && rc != 0)
        fuzz_fail("the small decoder accepted what the big one refused");
    if (rs != 0 && rc == 0 && rs != -EMSGSIZE)
        fuzz_fail("the small decoder refused an accepted message for a reason other than size");
    return 0;
}
