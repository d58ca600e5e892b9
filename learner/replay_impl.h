/*
 * replay_impl.h — the replay's internals, shared by replay.c (the ring) and replay_file.c
 * (save and load). Nothing outside those two files includes it.
 */
#ifndef RLDT_LEARNER_REPLAY_IMPL_H
#define RLDT_LEARNER_REPLAY_IMPL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

// the per-step arrays: the ring's slots, or a copy of them in a file's order
struct rows {
    float *obs, *next_obs, *act, *rew, *steps;
    uint8_t *term;
    uint64_t *traj;
    int32_t *pos, *len; /* position in segment, segment length */
    uint64_t *serial;   /* global insertion index of each step */
};

/* slots of one outcome class (failed 0, succeeded 1) in insertion order: a FIFO, because the
 * ring overwrites its oldest step first and a trim drops its newest */
struct klass {
    long *slot;
    long head, n;
};

struct replay {
    long cap;
    int O, D;
    struct rows d;
    long head; /* next slot to write */
    long size; /* slots in use, quarantined ones included */
    uint64_t inserted, evicted;
    /* sparse-reward mode (replay_set_sparse): success threshold (0 = off), strata */
    double success;
    bool stratify;
    uint8_t *cls; /* per slot: its segment reached the threshold */
    struct klass k[2];
    uint8_t *dead; /* per slot: quarantined (never sampled, saved or walked into) */
    long ndead;
    int C;         /* chain floats per slot, 0: no chains */
    float *chain;  /* cap x C */
    float *logp;   /* cap */
    uint64_t *ver; /* cap: acting policy version */
    uint8_t *has;  /* cap: the slot's step carries a chain */
    pthread_mutex_t lock;
    // images (replay_new_img): a ring of icap rows of ib bytes, one per observation
    size_t ib;     /* bytes per image, 0: none */
    long icap;     /* image rows */
    long ihead;    /* next image row to write */
    uint8_t *imgs; /* (icap, ib) */
    long *irow;    /* (cap) image row of each step; its next image is the row after */
};

void rows_free(struct rows *s);
bool rows_alloc(struct rows *s, long n, int O, int D);
// the ring slot of the k-th oldest stored step
long slot_of(const struct replay *r, long k);
// rebuild the outcome classes from the stored steps (after a load)
void reclassify(struct replay *r);
// write one image at the ring head (evicting the oldest steps whose rows it reuses); its row
long put_img(struct replay *r, const uint8_t *src);

#endif
