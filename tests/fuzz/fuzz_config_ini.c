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

static struct rl_config defaults;
static bool have_defaults;

// config_default() is deterministic and walks the whole key table: computed once
static void reset(struct rl_config *c)
{
    if (!have_defaults) {
        config_default(&defaults);
        have_defaults = true;
    }
    memcpy(c, &defaults, sizeof(*c));
}

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
    reset(&c);
    if (config_load_string(&c, text, err, sizeof(err)) == 0 &&
        config_validate(&c, err, sizeof(err)) == 0) {
        char *a = config_to_string(&c);
        struct rl_config c2;
        reset(&c2);
        if (!a)
            fuzz_fail("config_to_string failed");
        if (config_load_string(&c2, a, err, sizeof(err)) != 0 ||
            config_validate(&c2, err, sizeof(err)) != 0) {
            fprintf(stderr, "reload: %s\n", err);
            fuzz_fail("a resolved config does not load again");
        }
        char *b = config_to_string(&c2);
        if (!b || strcmp(a, b) != 0)
            fuzz_fail("a resolved config changes when reloaded");
        free(a);
        free(b);
    }
    free(text);
    return 0;
}
