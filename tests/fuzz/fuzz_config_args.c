/*
 * fuzz_config_args.c — libFuzzer target: command-line flags (common/config.c
 * config_parse_args, then config_validate), the front end of every rldt command.
 *
 * Input: arguments separated by NUL bytes (argv[0] is fixed). Inputs naming "config" are
 * skipped: `--config=FILE` opens files, which the INI target covers from text. Parsed flags
 * that validate must resolve to text that loads back to the same resolved text.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "tests/fuzz/fuzz.h"

#define ARGS_MAX 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool names_config(const uint8_t *d, size_t n)
{
    for (size_t i = 0; i + 5 <= n; i++)
        if (!memcmp(d + i, "onfig", 5))
            return true;
    return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 8192 || names_config(data, size))
        return 0;
    char *buf = malloc(size + 1);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    buf[size] = 0;
    char *argv[ARGS_MAX + 1];
    int argc = 0;
    argv[argc++] = "rldt";
    for (char *p = buf; p < buf + size && argc < ARGS_MAX; p += strlen(p) + 1)
        argv[argc++] = p;
    argv[argc] = NULL;
    struct rl_config c;
    const char *pos[CONFIG_MAX_POS];
    int npos = 0;
    char err[512];
    fuzz_config_reset(&c);
    int rc = config_parse_args(&c, argc, argv, pos, &npos, err, sizeof(err));
    if (rc == 0 && (npos < 0 || npos > CONFIG_MAX_POS))
        fuzz_fail("positional count out of range");
    if (rc == 0 && config_validate(&c, err, sizeof(err)) == 0)
        fuzz_config_round_trip(&c, "a flag list");
    free(buf);
    return 0;
}
