/*
 * bench_learner.c — `rldt bench learner --algo=A`: training updates/s of an algorithm and the
 * achieved GFLOP/s next to cblas_sgemm measured in the same run.
 */
#include <stdio.h>
#include <string.h>

#include "common/config.h"
#include "deploy/rldt/cmd.h"
#include "learner/algo/sac.h"

int bench_learner(int argc, char **argv)
{
    struct rl_config c;
    int rc = config_cli(&c, "rldt bench learner", "rldt bench learner [--algo=sac] [--secs=S] "
                        "[--threads=N]", "run,bench,train,sac", argc, argv, NULL, NULL);
    if (rc)
        return rc == 1 ? 0 : 2;
    if (!strcmp(c.algo, "sac"))
        return sac_bench(c.secs, c.threads, stdout) < 0 ? 1 : 0;
    fprintf(stderr, "rldt bench learner: no benchmark for algorithm '%s' yet\n", c.algo);
    return 2;
}
