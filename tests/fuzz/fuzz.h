/*
 * fuzz.h — shared helpers of the libFuzzer targets in tests/fuzz/ (one target per fuzz_*.c,
 * each defining LLVMFuzzerTestOneInput). Readers that take a path get the input through one
 * scratch file per process; fuzz_container_fix() rewrites the size field and trailing CRC of an
 * rldt container so that mutations reach the parsers behind the checksum.
 *
 * Single-threaded (libFuzzer calls a target from one thread).
 */
#ifndef RL_FUZZ_H
#define RL_FUZZ_H

#include <stddef.h>
#include <stdint.h>

/*
 * The input's first byte selects the container mode: bit 0 set = fix size and CRC before the
 * reader sees the bytes (seeds set it), clear = hand the bytes over as they are (exercises the
 * truncation and checksum refusals). Returns the path of the scratch file holding the rest of
 * the input (borrowed, the same for the whole process), or NULL if the input is empty or the
 * file cannot be written (the target then skips the input).
 */
const char *fuzz_container_file(const uint8_t *data, size_t size);

/* Write data[0..size) to the process's scratch file. Returns its path or NULL. */
const char *fuzz_write_scratch(const uint8_t *data, size_t size);

/* Abort with a message (a finding: libFuzzer saves the input). */
void fuzz_fail(const char *what);

struct rl_config;

/* *c = the default config (config_default() computed once per process: it walks every key). */
void fuzz_config_reset(struct rl_config *c);

/*
 * A config that validated must round-trip: its resolved text loads and validates again and
 * resolves to the same text; otherwise a finding (`what` names the input kind in the message).
 */
void fuzz_config_round_trip(const struct rl_config *c, const char *what);

#endif
