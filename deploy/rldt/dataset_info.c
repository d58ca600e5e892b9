/*
 * dataset_info.c — `rldt dataset-info FILE`: verify a dataset file and summarise it (steps,
 * episodes, return statistics, normalisation bounds), as text or one JSON line (--json).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "common/dataset.h"
#include "common/task.h"
#include "deploy/rldt/cmd.h"

#define INFO_USAGE "rldt dataset-info FILE [--json]"

static void print_bounds(const struct dataset *d)
{
    int O = d->obs_dim, A = d->act_dim;
    const float *b = d->bounds;
    printf("obs bounds (lo .. hi per dim):\n");
    for (int i = 0; i < O; i++)
        printf("  obs[%2d] %10.4f .. %10.4f\n", i, b[i], b[O + i]);
    printf("act bounds:\n");
    for (int i = 0; i < A; i++)
        printf("  act[%2d] %10.4f .. %10.4f\n", i, b[2 * O + i], b[2 * O + A + i]);
}

static void print_text(const char *path, const struct dataset *d, const struct dataset_stats *st)
{
    const struct task_info *t = task_find(d->env);
    printf("dataset %s (format version %d)\n", path, DATASET_VERSION);
    printf("task %s  obs_dim %d  act_dim %d\n", d->env, d->obs_dim, d->act_dim);
    if (d->source[0])
        printf("source: %s\n", d->source);
    if (dataset_image_bytes(d))
        printf("images %dx%dx%d uint8 per step and per episode end (%.1f MB)\n", d->img_h, d->img_w,
               d->img_c, (double)dataset_image_bytes(d) * (d->n + d->n_episodes) / 1e6);
    printf("steps %ld  episodes %ld (complete %ld: terminated %ld, time limit %ld; cut %ld)\n",
           d->n, st->episodes, st->complete, st->terminated, st->timelimit, st->cut);
    if (st->complete) {
        printf("return  mean %.2f  std %.2f  min %.2f  max %.2f  (complete episodes)\n",
               st->ret_mean, st->ret_std, st->ret_min, st->ret_max);
        if (t && task_has_score(t))
            printf("D4RL score of the mean return: %.1f\n", task_score(t, st->ret_mean));
        printf("length  mean %.1f  reward per step %.4f\n", st->len_mean, st->rew_mean);
    } else {
        printf("return  n/a (no complete episode)\n");
        printf("length  n/a  reward per step %.4f\n", st->rew_mean);
    }
    if (st->labelled)
        printf("success %ld of %ld labelled episodes  strategies 0..7: %ld %ld %ld %ld %ld %ld %ld "
               "%ld\n",
               st->successes, st->labelled, st->strategy[0], st->strategy[1], st->strategy[2],
               st->strategy[3], st->strategy[4], st->strategy[5], st->strategy[6], st->strategy[7]);
    if (d->has_bounds)
        print_bounds(d);
    else
        printf("no normalisation bounds\n");
}

/* a number, or JSON null when there is no complete episode to take it over */
static json_t *stat_or_null(const struct dataset_stats *st, double v)
{
    return st->complete ? json_real(v) : json_null();
}

static void print_json(const char *path, const struct dataset *d, const struct dataset_stats *st)
{
    json_t *o = json_pack(
        "{s:s,s:s,s:i,s:i,s:I,s:I,s:I,s:I,s:I,s:I,s:o,s:o,s:o,s:o,s:o}", "file", path, "env",
        d->env, "obs_dim", d->obs_dim, "act_dim", d->act_dim, "steps", (json_int_t)d->n, "episodes",
        (json_int_t)st->episodes, "complete", (json_int_t)st->complete, "terminated",
        (json_int_t)st->terminated, "timelimit", (json_int_t)st->timelimit, "cut",
        (json_int_t)st->cut, "return_mean", stat_or_null(st, st->ret_mean), "return_std",
        stat_or_null(st, st->ret_std), "return_min", stat_or_null(st, st->ret_min), "return_max",
        stat_or_null(st, st->ret_max), "length_mean", stat_or_null(st, st->len_mean));
    // per-episode labels (rldt demo): counts of successes and of each strategy id 0..7
    json_t *strat = o ? json_array() : NULL;
    for (int i = 0; strat && i < 8; i++)
        json_array_append_new(strat, json_integer(st->strategy[i]));
    if (o) {
        json_object_set_new(o, "labelled", json_integer(st->labelled));
        json_object_set_new(o, "successes", json_integer(st->successes));
        json_object_set_new(o, "strategy", strat ? strat : json_null());
        json_t *im = json_pack("[i,i,i]", d->img_h, d->img_w, d->img_c);
        json_object_set_new(o, "images", dataset_image_bytes(d) && im ? im : json_null());
        if (!dataset_image_bytes(d))
            json_decref(im);
    }
    char *s =
        o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10)) : NULL;
    printf("%s\n", s ? s : "{}");
    free(s);
    json_decref(o);
}

int cmd_dataset_info(int argc, char **argv)
{
    struct rl_config c;
    const char *pos[CONFIG_MAX_POS];
    int npos = 0;
    int rc = config_cli(&c, "rldt dataset-info", INFO_USAGE, "-json", argc, argv, pos, &npos);
    if (rc)
        return rc == 1 ? 0 : 2;
    const char *path = npos == 1 ? pos[0] : c.dataset[0] ? c.dataset : NULL;
    if (!path || npos > 1) {
        fprintf(stderr, "usage: %s\n", INFO_USAGE);
        return 2;
    }
    struct dataset d;
    char err[600];
    if (dataset_load(&d, path, err, sizeof(err)) < 0) {
        fprintf(stderr, "rldt dataset-info: %s\n", err);
        return 1;
    }
    struct dataset_stats st;
    dataset_stats(&d, &st);
    if (c.json)
        print_json(path, &d, &st);
    else
        print_text(path, &d, &st);
    dataset_fini(&d);
    return 0;
}
