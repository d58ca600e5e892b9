/* bench_nn.c — placeholder until its issue lands. */
#include <stdio.h>

#include "deploy/rldt/cmd.h"

int bench_nn(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "rldt: bench_nn is not built yet\n");
    return 2;
}
