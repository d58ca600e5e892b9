/*
 * algo.c — the registry of algorithms and the report helper.
 */
#include "learner/algo.h"

#include <string.h>

#include "learner/algo/reinflow.h"
#include "learner/algo/rldt.h"
#include "learner/algo/sac.h"

static const struct algo_ops *const registry[] = {&sac_ops, &rldt_ops, &rldt_delta_ops,
                                                  &reinflow_ops};

const struct algo_ops *algo_find(const char *name)
{
    for (size_t i = 0; i < algo_count(); i++)
        if (!strcmp(registry[i]->name, name))
            return registry[i];
    return NULL;
}

size_t algo_count(void)
{
    return sizeof(registry) / sizeof(registry[0]);
}

const struct algo_ops *algo_at(size_t i)
{
    return i < algo_count() ? registry[i] : NULL;
}

void algo_report_set(struct algo_report *r, const char *name, double value)
{
    for (int i = 0; i < r->n; i++)
        if (!strcmp(r->name[i], name)) {
            r->value[i] = value;
            return;
        }
    if (r->n < ALGO_MAX_SCALARS) {
        r->name[r->n] = name;
        r->value[r->n++] = value;
    }
}
