/*
 * rldt.c — the user tool: dispatches `rldt <command> [--key=value ...]` to a subcommand.
 */
#include <stdio.h>
#include <string.h>

#include "common/config.h"
#include "common/version.h"
#include "deploy/rldt/cmd.h"

struct command {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *help;
};

static const struct command commands[] = {
    {"run", cmd_run, "train: one learner and N actors on this machine, with live progress"},
    {"sweep", cmd_sweep, "a grid of runs (algorithms x tasks x seeds x key lists), resumable"},
    {"report", cmd_report, "aggregate a sweep: mean, 95% CI, IQM, curves and report.md"},
    {"config", cmd_config, "print the resolved configuration as an INI file (all keys, with help)"},
    {"eval", cmd_eval, "evaluate a policy on a task: mean/std of return and length, success rate"},
    {"top", cmd_top, "live view of a learner's stats socket (--stats=ADDR:PORT, --once)"},
    {"plot", cmd_plot, "redraw RUN_DIR/curve.png: eval return vs env steps and wall-clock"},
    {"diag", cmd_diag, "diagnostic plot: metrics.csv columns of several runs vs env steps"},
    {"collect", cmd_collect,
     "roll out a policy and record a dataset file (--policy, --steps, --out)"},
    {"demo", cmd_demo,
     "record scripted demonstrations of lift/stack/peg (--episodes, --out), labelled by "
     "success and strategy"},
    {"dataset-info", cmd_dataset_info, "verify and summarise a dataset file"},
    {"dataset-import", cmd_dataset_import, "convert an HDF5 file (D4RL or Minari) to a dataset"},
    {"dataset-export", cmd_dataset_export, "write a dataset as HDF5 (--layout=d4rl|minari)"},
    {"pretrain", cmd_pretrain, "pre-train a flow policy on a dataset by conditional flow matching"},
    {"export", cmd_export, "write a flow policy as an ONNX model (--policy, --out)"},
    {"render", cmd_render,
     "record a policy's episodes as an H.264 MP4 (--env, --policy, --out; headless)"},
    {"act", cmd_act, "print a policy's action chunks for observations in a CSV file"},
    {"keygen", cmd_keygen, "write a CURVE key pair (NAME.key, NAME.pub) for auth = curve"},
    {"bench", cmd_bench,
     "benchmarks: nn, env, learner, ingest, actor, render (each next to a limit measured in the "
     "same run)"},
};

void cmd_print_tail(const char *path, int lines, const char *prefix)
{
    enum { MAX_TAIL = 16 };
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    static char ring[MAX_TAIL][512];
    int n = 0, keep = lines < MAX_TAIL ? lines : MAX_TAIL;
    while (keep > 0 && fgets(ring[n % keep], sizeof(ring[0]), f))
        n++;
    fclose(f);
    for (int i = n > keep ? n - keep : 0; i < n; i++) {
        const char *l = ring[i % keep];
        fprintf(stderr, "%s%s%s", prefix, l, l[0] && l[strlen(l) - 1] == '\n' ? "" : "\n");
    }
}

const char *cmd_take_flag(int *argc, char **argv, const char *prefix)
{
    const char *v = NULL;
    size_t len = strlen(prefix);
    int n = 1;
    for (int i = 1; i < *argc; i++) {
        if (!strncmp(argv[i], prefix, len))
            v = argv[i] + len;
        else
            argv[n++] = argv[i];
    }
    *argc = n < *argc ? n : *argc;
    return v;
}

int cmd_keyed_main(const struct cmd_keyed *k, int argc, char **argv)
{
    struct rl_config c;
    int rc = config_cli(&c, k->prog, k->usage, k->keys, argc, argv, NULL, NULL);
    if (rc)
        return rc == 1 ? 0 : 2;
    return k->run(&c);
}

static void usage(FILE *f)
{
    fprintf(f, "usage: rldt <command> [--key=value ...]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(f, "  %-14s %s\n", commands[i].name, commands[i].help);
    fprintf(f, "\n`rldt <command> --help` lists a command's options.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
        printf("rldt %s\n", RLDT_VERSION);
        return 0;
    }
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "rldt: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
