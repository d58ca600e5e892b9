/*
 * algoinfo.c — the table of algorithms every process knows (see algoinfo.h).
 */
#include "common/algoinfo.h"

#include <string.h>

#include "common/util.h"

/* one row per algorithm: name, policy kind, default chunk */
#define ALGOINFO_ROWS(X)                                                                           \
    X("sac", "gauss", 1)                                                                           \
    X("rldt", "flow", 4)                                                                           \
    X("rldt-delta", "flow", 4)                                                                     \
    X("reinflow", "reinflow", 4)

#define ROW(name, kind, chunk) {name, kind, chunk},
#define BAR_NAME(name, kind, chunk) "|" name

static const struct algoinfo algos[] = {ALGOINFO_ROWS(ROW)};
static const char choices[] = ALGOINFO_ROWS(BAR_NAME); /* "|sac|rldt|..." */

const struct algoinfo *algoinfo_find(const char *name)
{
    for (size_t i = 0; name && i < RL_ARRAY_LEN(algos); i++)
        if (!strcmp(algos[i].name, name))
            return &algos[i];
    return NULL;
}

size_t algoinfo_count(void)
{
    return RL_ARRAY_LEN(algos);
}

const struct algoinfo *algoinfo_at(size_t i)
{
    return i < RL_ARRAY_LEN(algos) ? &algos[i] : NULL;
}

const char *algoinfo_choices(void)
{
    return choices + 1;
}
