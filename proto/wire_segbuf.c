/*
 * wire_segbuf.c — the per-env segment builder (wire.h: wire_segbuf_*): an actor records chunk
 * steps into buffers allocated once by wire_segbuf_init and views them as a wire_segment to
 * pack without copying. The caller embeds and owns the struct (wire_segbuf_fini frees the
 * buffers). Thread-safety: a segbuf is used by one thread at a time.
 */
#include "proto/wire.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

// ---- segment builder -----------------------------------------------------------------------

int wire_segbuf_init(struct wire_segbuf *b, uint32_t obs_dim, uint32_t D, uint32_t T_max)
{
    *b = (struct wire_segbuf){0};
    if (obs_dim < 1 || obs_dim > WIRE_DIM_MAX || D < 1 || D > WIRE_DIM_MAX || T_max < 1 ||
        T_max > WIRE_T_MAX)
        return -EINVAL;
    b->obs_dim = obs_dim;
    b->D = D;
    b->T_max = T_max;
    b->obs = calloc(((size_t)T_max + 1) * obs_dim, sizeof(*b->obs));
    b->actions = calloc((size_t)T_max * D, sizeof(*b->actions));
    b->rewards = calloc(T_max, sizeof(*b->rewards));
    b->steps = calloc(T_max, sizeof(*b->steps));
    b->terminal = calloc(T_max, 1);
    b->truncated = calloc(T_max, 1);
    if (!b->obs || !b->actions || !b->rewards || !b->steps || !b->terminal || !b->truncated) {
        wire_segbuf_fini(b);
        return -ENOMEM;
    }
    return 0;
}

void wire_segbuf_fini(struct wire_segbuf *b)
{
    free(b->obs);
    free(b->actions);
    free(b->rewards);
    free(b->steps);
    free(b->terminal);
    free(b->truncated);
    free(b->images);
    free(b->chain);
    free(b->chain_logp);
    *b = (struct wire_segbuf){0};
}

int wire_segbuf_set_image(struct wire_segbuf *b, const struct wire_image_shape *s)
{
    size_t n = wire_image_bytes(s);
    if (n && (s->h > WIRE_IMAGE_SIDE_MAX || s->w > WIRE_IMAGE_SIDE_MAX || s->c > WIRE_IMAGE_C_MAX))
        return -EINVAL;
    uint8_t *p = n ? calloc(((size_t)b->T_max + 1) * n, 1) : NULL;
    if (n && !p)
        return -ENOMEM;
    free(b->images);
    b->images = p;
    b->image = n ? *s : (struct wire_image_shape){0};
    return 0;
}

uint8_t *wire_segbuf_last_image(struct wire_segbuf *b)
{
    return b->images ? b->images + (size_t)b->T * wire_image_bytes(&b->image) : NULL;
}

int wire_segbuf_set_chain(struct wire_segbuf *b, uint32_t chain_len)
{
    if (chain_len % b->D || chain_len / b->D < 2 || chain_len / b->D > WIRE_CHAIN_MAX)
        return -EINVAL;
    float *c = calloc((size_t)b->T_max * chain_len, sizeof(*c));
    float *lp = calloc(b->T_max, sizeof(*lp));
    if (!c || !lp) {
        free(c);
        free(lp);
        return -ENOMEM;
    }
    free(b->chain);
    free(b->chain_logp);
    b->chain = c;
    b->chain_logp = lp;
    b->chain_len = chain_len;
    return 0;
}

int wire_segbuf_chain(struct wire_segbuf *b, const float *chain, float logp)
{
    if (b->T == 0 || b->chain_len == 0)
        return -EINVAL;
    size_t t = b->T - 1;
    memcpy(b->chain + t * b->chain_len, chain, (size_t)b->chain_len * sizeof(*b->chain));
    b->chain_logp[t] = logp;
    return 0;
}

void wire_segbuf_start(struct wire_segbuf *b, const float *obs0, bool episode_start)
{
    memcpy(b->obs, obs0, (size_t)b->obs_dim * sizeof(*b->obs));
    b->T = 0;
    b->n_episodes = 0;
    b->ended = false;
    b->episode_start = episode_start;
    b->has_obs0 = true;
}

int wire_segbuf_carry(struct wire_segbuf *b)
{
    if (!b->has_obs0 || b->T == 0 || b->ended)
        return -EINVAL;
    memmove(b->obs, b->obs + (size_t)b->T * b->obs_dim, (size_t)b->obs_dim * sizeof(*b->obs));
    if (b->images) {
        size_t n = wire_image_bytes(&b->image);
        memmove(b->images, b->images + (size_t)b->T * n, n);
    }
    b->T = 0;
    b->n_episodes = 0;
    b->episode_start = false;
    return 0;
}

int wire_segbuf_push(struct wire_segbuf *b, const float *action, float reward, uint32_t steps,
                     const float *next_obs, bool terminal, bool truncated)
{
    if (!b->has_obs0 || b->ended)
        return -EINVAL;
    if (b->T >= b->T_max)
        return -ENOSPC;
    size_t t = b->T;
    memcpy(b->actions + t * b->D, action, (size_t)b->D * sizeof(*b->actions));
    memcpy(b->obs + (t + 1) * b->obs_dim, next_obs, (size_t)b->obs_dim * sizeof(*b->obs));
    b->rewards[t] = reward;
    b->steps[t] = steps;
    b->terminal[t] = terminal;
    b->truncated[t] = truncated;
    b->ended = terminal || truncated;
    b->T++;
    return 0;
}

int wire_segbuf_add_episode(struct wire_segbuf *b, float ret, uint32_t len, bool success)
{
    if (b->n_episodes >= WIRE_SEGBUF_EPISODES)
        return -ENOSPC;
    b->episode_return[b->n_episodes] = ret;
    b->episode_len[b->n_episodes] = len;
    b->episode_success[b->n_episodes] = success;
    b->n_episodes++;
    return 0;
}

bool wire_segbuf_ready(const struct wire_segbuf *b)
{
    return b->T > 0 && (b->T == b->T_max || b->ended);
}

void wire_segbuf_view(const struct wire_segbuf *b, struct wire_segment *s)
{
    s->T = b->T;
    s->obs_dim = b->obs_dim;
    s->D = b->D;
    s->obs = b->obs;
    s->actions = b->actions;
    s->rewards = b->rewards;
    s->steps = b->steps;
    s->terminal = b->terminal;
    s->truncated = b->truncated;
    s->episode_start = b->episode_start;
    s->n_episodes = b->n_episodes;
    s->episode_return = b->episode_return;
    s->episode_len = b->episode_len;
    s->episode_success = b->episode_success;
    s->image = b->image;
    s->images = b->images;
    s->chain_len = b->chain_len;
    s->chain = b->chain_len ? b->chain : NULL;
    s->chain_logp = b->chain_len ? b->chain_logp : NULL;
}
