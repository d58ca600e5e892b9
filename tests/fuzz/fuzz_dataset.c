/*
 * fuzz_dataset.c — libFuzzer target: reading an offline dataset (common/dataset.c
 * dataset_load), the file `rldt pretrain` trusts.
 *
 * Input: a mode byte (fuzz.h: bit 0 fixes size and CRC) and the file. A loaded dataset must
 * hold what its contract says: contiguous episodes covering every row, one end flag per
 * episode on its last row, finite values.
 */
#include <math.h>
#include <stdlib.h>

#include "common/dataset.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_dataset(const struct dataset *d)
{
    long row = 0;
    for (long e = 0; e < d->n_episodes; e++) {
        const struct dataset_episode *ep = &d->ep[e];
        if (ep->start != row || ep->len < 1 || ep->start + ep->len > d->n)
            fuzz_fail("episodes are not contiguous inside the rows");
        row += ep->len;
        long last = ep->start + ep->len - 1;
        if (d->term[last] + d->trunc[last] > 1)
            fuzz_fail("a last row is both terminal and truncated");
        for (long i = 0; i < (long)d->obs_dim; i++)
            if (!isfinite(d->final_obs[e * d->obs_dim + i]))
                fuzz_fail("a non-finite final observation was accepted");
    }
    if (row != d->n)
        fuzz_fail("episodes do not cover every row");
    for (long i = 0; i < d->n; i++)
        if (!isfinite(d->rew[i]))
            fuzz_fail("a non-finite reward was accepted");
    struct dataset_stats st;
    dataset_stats(d, &st);
    if (st.episodes != d->n_episodes)
        fuzz_fail("dataset_stats miscounts episodes");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_container_file(data, size);
    if (!path)
        return 0;
    struct dataset d;
    char err[512];
    if (dataset_load(&d, path, err, sizeof(err)) == 0) {
        check_dataset(&d);
        if (d.n > 0 && dataset_fit_bounds(&d, err, sizeof(err)) != 0)
            fuzz_fail("bounds cannot be fitted on a loaded dataset");
        dataset_fini(&d);
    }
    return 0;
}
