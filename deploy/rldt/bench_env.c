/* bench_env.c — placeholder until its issue lands. */
#include <stdio.h>

#include "deploy/rldt/cmd.h"

int bench_env(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "rldt: bench_env is not built yet\n");
    return 2;
}
