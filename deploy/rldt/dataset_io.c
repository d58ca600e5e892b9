/*
 * dataset_io.c — `rldt dataset-import FILE.hdf5 --out=FILE` and `rldt dataset-export FILE
 * --out=FILE.hdf5`: our dataset files to and from HDF5 in the D4RL or Minari layout
 * (deploy/rldt/h5data.h). An existing --out file is kept unless --force.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/config.h"
#include "common/dataset.h"
#include "deploy/rldt/cmd.h"
#include "deploy/rldt/h5data.h"

#define IMPORT_USAGE                                                                               \
    "rldt dataset-import FILE.hdf5 --out=FILE [--env=TASK] [--force]\n"                            \
    "  reads the D4RL layout (observations, actions, rewards, terminals, timeouts) or Minari's\n"  \
    "  (episode_N groups); the task is --env, else the file's root attribute 'env'"
#define EXPORT_USAGE "rldt dataset-export FILE --out=FILE.hdf5 [--layout=d4rl|minari] [--force]"

/* parse; the one positional argument into *in; 0 to proceed, else the exit code + 100 */
static int parse(struct rl_config *c, const char *prog, const char *usage, int argc, char **argv,
                 const char **in)
{
    const char *pos[CONFIG_MAX_POS];
    int npos = 0;
    int rc = config_cli(c, prog, usage,
                        strstr(prog, "import") ? "-env,-out,-force" : "-out,-layout,-force", argc,
                        argv, pos, &npos);
    if (rc)
        return 100 + (rc == 1 ? 0 : 2);
    if (npos != 1 || !c->out[0]) {
        fprintf(stderr, "usage: %s\n", usage);
        return 102;
    }
    *in = pos[0];
    if (!c->force && access(c->out, F_OK) == 0) {
        fprintf(stderr, "%s: %s exists (--force to replace it)\n", prog, c->out);
        return 102;
    }
    return 0;
}

/* whether argv sets the task explicitly */
static int env_given(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (!strncmp(argv[i], "--env", 5) && (argv[i][5] == '=' || argv[i][5] == 0))
            return 1;
    return 0;
}

int cmd_dataset_import(int argc, char **argv)
{
    struct rl_config c;
    const char *in = NULL;
    int rc = parse(&c, "rldt dataset-import", IMPORT_USAGE, argc, argv, &in);
    if (rc)
        return rc - 100;
    struct dataset d;
    char err[600];
    rc = h5data_read(&d, in, env_given(argc, argv) ? c.env : NULL, err, sizeof(err));
    if (rc) {
        fprintf(stderr, "rldt dataset-import: %s\n", err);
        return 1;
    }
    rc = dataset_fit_bounds(&d, err, sizeof(err));
    if (!rc)
        rc = dataset_save(&d, c.out, err, sizeof(err));
    if (rc) {
        fprintf(stderr, "rldt dataset-import: %s\n", err);
    } else {
        struct dataset_stats st;
        dataset_stats(&d, &st);
        printf("imported %ld steps, %ld episodes (%ld complete) of %s -> %s\n", d.n, st.episodes,
               st.complete, d.env, c.out);
    }
    dataset_fini(&d);
    return rc ? 1 : 0;
}

int cmd_dataset_export(int argc, char **argv)
{
    struct rl_config c;
    const char *in = NULL;
    int rc = parse(&c, "rldt dataset-export", EXPORT_USAGE, argc, argv, &in);
    if (rc)
        return rc - 100;
    struct dataset d;
    char err[600];
    if (dataset_load(&d, in, err, sizeof(err)) < 0) {
        fprintf(stderr, "rldt dataset-export: %s\n", err);
        return 1;
    }
    enum h5data_layout layout = !strcmp(c.layout, "minari") ? H5DATA_MINARI : H5DATA_D4RL;
    rc = h5data_write(&d, c.out, layout, err, sizeof(err));
    if (rc)
        fprintf(stderr, "rldt dataset-export: %s\n", err);
    else
        printf("exported %ld steps, %ld episodes of %s (%s layout) -> %s\n", d.n, d.n_episodes,
               d.env, c.layout, c.out);
    dataset_fini(&d);
    return rc ? 1 : 0;
}
