/* eval.c — placeholder until its issue lands. */
#include <stdio.h>

#include "deploy/rldt/cmd.h"

int cmd_eval(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "rldt: cmd_eval is not built yet\n");
    return 2;
}
