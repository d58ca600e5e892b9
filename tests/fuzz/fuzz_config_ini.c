/*
 * fuzz_config_ini.c — libFuzzer target: the INI config parser (common/config.c
 * config_load_string, the text a learner sends its actors and `--config` files hold) and
 * config_validate.
 *
 * A text that loads and validates must round-trip: its resolved form (config_to_string) loads
 * and validates again and resolves to the same text.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "tests/fuzz/fuzz.h"

#define TEXT_MAX (64 << 10)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > TEXT_MAX)
        return 0;
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = 0;
    struct rl_config c;
    char err[512];
    fuzz_config_reset(&c);
    if (config_load_string(&c, text, err, sizeof(err)) == 0 &&
        config_validate(&c, err, sizeof(err)) == 0) {
        fuzz_config_round_trip(&c, "a config text");
    }
    free(text);
    return 0;
}
