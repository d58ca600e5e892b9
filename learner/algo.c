/*
 * algo.c — the registry of algorithms and the report helper.
 */
#include "learner/algo.h"

#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "common/flow.h"
#include "common/policy.h"
#include "common/util.h"

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

const char *algo_policy_kind(const struct algo_ops *ops, const struct algo *a)
{
    return ops->policy_kind_of ? ops->policy_kind_of(a) : policy_kind_for_algo(ops->name);
}

struct flow *algo_load_base(const struct rl_config *c, const struct algo_dims *d, const char *who,
                            float **bounds, char *err, size_t errlen)
{
    *bounds = NULL;
    if (!c->base_policy[0]) {
        rl_err(0, err, errlen,
               "%s: base_policy is required (the pre-trained flow policy file to fine-tune, "
               "e.g. from `rldt pretrain`)",
               who);
        return NULL;
    }
    struct flow_spec fs;
    if (flow_spec_from_config(&fs, c, d->obs_dim, d->act_dim, d->chunk, err, errlen) < 0)
        return NULL;
    struct flow *base = flow_new(&fs, err, errlen);
    float *b = malloc((size_t)(2 * d->obs_dim + 2 * d->act_dim) * sizeof(float));
    bool has = false;
    char e[600];
    if (!base || !b) {
        rl_err(0, err, errlen, "%s: out of memory", who);
    } else if (flow_load_weights(c->base_policy, base, b, &has, e, sizeof(e)) < 0) {
        rl_err(0, err, errlen, "%s: base_policy %s", who, e);
    } else {
        if (has)
            *bounds = b;
        else
            free(b);
        return base;
    }
    flow_destroy(&base);
    free(b);
    return NULL;
}
