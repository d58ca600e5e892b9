/*
 * fuzz_replay.c — libFuzzer target: loading a saved replay (learner/replay.c replay_load).
 *
 * Input: a mode byte (fuzz.h: bit 0 fixes size and CRC; bit 1 loads into a replay smaller than
 * the seeds, exercising the keep-the-newest path) and the file. Replays are of the seeds' dims
 * (obs 3, action chunk 4). A loaded replay must report what it loaded and sample finite rows
 * whose segment walks stay inside the ring.
 */
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>

#include "common/rng.h"
#include "learner/replay.h"
#include "tests/fuzz/fuzz.h"

#define O 3
#define D 4
#define B 16

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_rows(struct replay *r)
{
    float obs[B * O], act[B * D], rew[B], next[B * O], done[B], steps[B];
    uint64_t traj[B];
    int64_t index[B];
    struct replay_batch b = {.obs = obs, .act = act, .rew = rew, .next_obs = next, .done = done};
    b.steps = steps; /* the optional columns too */
    b.traj = traj;
    b.index = index;
    struct rng g;
    rng_init(&g, 1, 0);
    int n = replay_sample(r, &g, B, 0.5, 4, -1, &b);
    if (n != B)
        fuzz_fail("a loaded replay does not sample a full batch");
    for (int i = 0; i < B; i++) {
        if (!isfinite(rew[i]) || (done[i] != 0 && done[i] != 1))
            fuzz_fail("a loaded row has a non-finite reward or a bad done flag");
        int64_t j = index[i];
        for (int hops = 0; j >= 0; hops++) {
            if (j >= replay_capacity(r) || hops > replay_capacity(r))
                fuzz_fail("replay_next left the ring or cycled");
            j = replay_next(r, j);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_container_file(data, size);
    if (!path)
        return 0;
    bool shrink = data[0] & 2;
    struct replay *r = replay_new(shrink ? 5 : 64, O, D);
    if (!r)
        fuzz_fail("replay_new failed");
    char err[256];
    uint64_t env_steps = 0;
    long n = replay_load(r, path, &env_steps, err, sizeof(err));
    if (n >= 0) {
        if (n != replay_size(r) || n > replay_capacity(r))
            fuzz_fail("replay_load's count differs from the replay's size");
        if (n > 0)
            check_rows(r);
        if (replay_load(r, path, &env_steps, err, sizeof(err)) >= 0 && n > 0)
            fuzz_fail("a second load into a non-empty replay was accepted");
    } else if (replay_size(r) != 0) {
        fuzz_fail("a refused load left steps in the replay");
    }
    replay_destroy(&r);
    return 0;
}
