/*
 * synth.c — random segments for benchmarks and tests (see synth.h).
 */
#include "deploy/rldt/synth.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/rng.h"
#include "common/task.h"
#include "learner/replay.h"
#include "proto/wire.h"

static void draw(struct rng *g, float *x, long n, float lo, float hi)
{
    for (long i = 0; i < n; i++)
        x[i] = lo == hi ? (float)rng_normal(g) : (float)rng_range(g, lo, hi);
}

int synth_fill_replay(struct replay *r, struct rng *g, const struct synth_spec *s, long nseg)
{
    int T = s->T;
    size_t nf = (size_t)(T + 1) * s->S + (size_t)T * s->D + (size_t)T;
    float *obs = malloc(nf * sizeof(float));
    int *steps = malloc((size_t)T * sizeof(int));
    uint8_t *ends = calloc((size_t)T * 2, 1);
    int rc = obs && steps && ends ? 0 : -ENOMEM;
    float *act = obs + (size_t)(T + 1) * s->S, *rew = act + (size_t)T * s->D;
    size_t ib = replay_img_bytes(r);
    uint8_t *img = ib ? malloc((size_t)(T + 1) * ib) : NULL;
    if (ib && !img)
        rc = -ENOMEM;
    for (long k = 0; !rc && (nseg < 0 ? k == 0 || replay_size(r) < replay_capacity(r) : k < nseg);
         k++) {
        draw(g, obs, (long)(T + 1) * s->S, s->obs_lo, s->obs_hi);
        draw(g, act, (long)T * s->D, s->act_lo, s->act_hi);
        draw(g, rew, T, 0, 0);
        for (int t = 0; t < T; t++)
            steps[t] = s->steps;
        bool last_term = s->end == SYNTH_END_TERM || (s->end == SYNTH_END_ALTERNATE && k % 2 == 0);
        ends[T - 1] = last_term;
        ends[2 * T - 1] = s->end == SYNTH_END_ALTERNATE && k % 2 == 1;
        struct replay_segment seg = {.T = T,
                                     .obs = obs,
                                     .act = act,
                                     .rew = rew,
                                     .steps = s->steps ? steps : NULL,
                                     .term = ends,
                                     .trunc = ends + T,
                                     .traj_id = (uint64_t)k,
                                     .version = s->version};
        for (size_t i = 0; i < (size_t)(T + 1) * ib; i++)
            img[i] = (uint8_t)rng_below(g, 256);
        rc = replay_add_img(r, &seg, img);
    }
    free(img);
    free(obs);
    free(steps);
    free(ends);
    return rc;
}

int synth_wire_segment(struct wire_segment *w, struct rng *g, int T, int O, int D, int H)
{
    float *obs = malloc(sizeof(float) * (size_t)(T + 1) * O);
    float *act = malloc(sizeof(float) * (size_t)T * D), *rew = malloc(sizeof(float) * T);
    uint32_t *steps = malloc(sizeof(uint32_t) * T);
    uint8_t *flags = calloc((size_t)T, 1);
    if (!obs || !act || !rew || !steps || !flags) {
        free(obs), free(act), free(rew), free(steps), free(flags);
        return -ENOMEM;
    }
    rng_normal_fill(g, obs, (long)(T + 1) * O);
    draw(g, act, (long)T * D, -1, 1);
    draw(g, rew, T, 0, 4);
    for (int i = 0; i < T; i++)
        steps[i] = (uint32_t)H;
    *w = (struct wire_segment){.T = (uint32_t)T,
                               .obs_dim = (uint32_t)O,
                               .D = (uint32_t)D,
                               .obs = obs,
                               .actions = act,
                               .rewards = rew,
                               .steps = steps,
                               .terminal = flags,
                               .truncated = flags};
    return 0;
}

void synth_wire_free(struct wire_segment *w)
{
    free((void *)w->obs), free((void *)w->actions), free((void *)w->rewards);
    free((void *)w->steps), free((void *)w->terminal);
}

void synth_hello(struct wire_msg *m, const char *name, const char *task, int num_envs, int H,
                 uint64_t known_epoch)
{
    const struct task_info *t = task_find(task);
    *m = (struct wire_msg){.type = WIRE_HELLO};
    m->hello = (struct wire_hello){.name = name,
                                   .pid = (uint32_t)getpid(),
                                   .num_envs = (uint32_t)num_envs,
                                   .task = task,
                                   .obs_dim = (uint32_t)t->obs_dim,
                                   .act_dim = (uint32_t)t->act_dim,
                                   .chunk_h = (uint32_t)H,
                                   .known_epoch = known_epoch,
                                   .evaluator = false};
}
