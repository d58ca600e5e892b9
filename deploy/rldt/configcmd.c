/*
 * configcmd.c — `rldt config`: print the resolved configuration (defaults, --config files and
 * flags applied) as an INI file with every key's help, ready to edit and pass back with
 * --config=FILE. `--out=FILE` is not needed: redirect stdout.
 */
#include <stdio.h>

#include "common/config.h"
#include "deploy/rldt/cmd.h"

int cmd_config(int argc, char **argv)
{
    struct rl_config c;
    int rc =
        config_cli(&c, "rldt config", "rldt config [--config=FILE] [--key=value ...] > run.ini",
                   NULL, argc, argv, NULL, NULL);
    if (rc)
        return rc == 1 ? 0 : 2;
    config_write(&c, stdout);
    return 0;
}
