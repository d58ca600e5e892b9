/*
 * bench_replay.c — `rldt bench replay`: saving and reloading the learner's replay (what a
 * checkpoint every replay_save_secs and a --resume cost), next to writing and reading the same
 * number of bytes raw (one write + fsync + rename; one read) on the same file system in the same
 * run. Rounds alternate the two; the figures are medians over rounds.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/afile.h"
#include "common/config.h"
#include "common/rng.h"
#include "common/task.h"
#include "common/util.h"
#include "deploy/rldt/cmd.h"
#include "deploy/rldt/synth.h"
#include "learner/replay.h"

#define ROUNDS 3

// fill r to capacity with segments of T chunk steps of random numbers (and random images when
// r keeps images)
static void fill(struct replay *r, int O, int D, int T, uint64_t seed)
{
    struct rng g;
    rng_init(&g, seed, 0);
    struct synth_spec sp = {.S = O, .D = D, .T = T, .act_lo = -1, .act_hi = 1, .version = 1};
    int rc = synth_fill_replay(r, &g, &sp, -1);
    RL_ASSERT(rc == 0);
}

// raw write of n bytes to path (temp + fsync + rename, as the replay file is written)
static double raw_write(const char *path, const char *buf, size_t n)
{
    double t0 = rl_now();
    struct afile a;
    if (afile_open(&a, path, 0644) != 0)
        return -1;
    if (afile_write(&a, buf, n) != 0) {
        afile_abort(&a);
        return -1;
    }
    if (afile_commit(&a) != 0)
        return -1;
    return rl_now() - t0;
}

static double raw_read(const char *path, char *buf, size_t n)
{
    double t0 = rl_now();
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    size_t done = 0;
    while (done < n) {
        ssize_t got = read(fd, buf + done, n - done);
        if (got <= 0)
            break;
        done += (size_t)got;
    }
    close(fd);
    return rl_now() - t0;
}

static int keyed_run(struct rl_config *c)
{
    int rc;
    const struct task_info *task = task_find(c->env);
    if (!task) {
        fprintf(stderr, "rldt bench replay: unknown task '%s'\n", c->env);
        return 2;
    }
    char dir[CONFIG_STR + 32];
    bool own = !c->run_dir[0];
    if (own) {
        snprintf(dir, sizeof(dir), "/tmp/rldt-bench-replay-XXXXXX");
        if (!mkdtemp(dir)) {
            fprintf(stderr, "rldt bench replay: mkdtemp: %s\n", strerror(errno));
            return 1;
        }
    } else {
        snprintf(dir, sizeof(dir), "%s", c->run_dir);
    }
    char file[CONFIG_STR + 64], raw[CONFIG_STR + 64], err[512];
    snprintf(file, sizeof(file), "%s/replay-bench.rldt", dir);
    snprintf(raw, sizeof(raw), "%s/raw-bench.bin", dir);
    int O = task->obs_dim, D = task->act_dim * c->chunk;
    size_t ib = c->pixels ? (size_t)c->image_size * c->image_size * 3 : 0;
    struct replay *r = replay_new_img(c->replay_size, O, D, ib, c->segment_len);
    if (!r) {
        fprintf(stderr, "rldt bench replay: cannot allocate a replay of %lld steps\n",
                (long long)c->replay_size);
        return 1;
    }
    double t0 = rl_now();
    fill(r, O, D, c->segment_len, (uint64_t)c->seed);
    printf("replay: %s, obs %d, chunk %dx%d, %ld steps (filled in %.1f s); files in %s\n", c->env,
           O, c->chunk, task->act_dim, replay_size(r), rl_now() - t0, dir);
    printf("memory: %.0f bytes per chunk step%s\n", replay_bytes_per_step(r),
           ib ? " (images included)" : "");
    double save[ROUNDS], load[ROUNDS], wr[ROUNDS], rd[ROUNDS];
    char *buf = NULL;
    size_t bytes = 0;
    rc = 0;
    for (int k = 0; k < ROUNDS && !rc; k++) {
        double t = rl_now();
        if (replay_save(r, file, 1, err, sizeof(err)) < 0) {
            fprintf(stderr, "rldt bench replay: save: %s\n", err);
            rc = 1;
            break;
        }
        save[k] = rl_now() - t;
        if (!buf) {
            struct stat st;
            bytes = stat(file, &st) == 0 ? (size_t)st.st_size : 0;
            buf = malloc(bytes ? bytes : 1);
            if (!buf || !bytes) {
                fprintf(stderr, "rldt bench replay: cannot size or buffer %s\n", file);
                rc = 1;
                break;
            }
            memset(buf, 0x5a, bytes);
        }
        wr[k] = raw_write(raw, buf, bytes);
        struct replay *b = replay_new_img(c->replay_size, O, D, ib, c->segment_len);
        t = rl_now();
        long n = b ? replay_load(b, file, NULL, err, sizeof(err)) : -ENOMEM;
        load[k] = rl_now() - t;
        replay_destroy(&b);
        rd[k] = raw_read(raw, buf, bytes);
        if (n != replay_size(r) || wr[k] < 0 || rd[k] < 0) {
            fprintf(stderr, "rldt bench replay: round %d failed (%s)\n", k,
                    n < 0 ? err : "raw file I/O");
            rc = 1;
        }
    }
    if (!rc) {
        double s = bench_median(save, ROUNDS), l = bench_median(load, ROUNDS);
        double w = bench_median(wr, ROUNDS), q = bench_median(rd, ROUNDS);
        printf("file %.1f MB (%.0f bytes per step)\n", bytes / 1e6, (double)bytes / replay_size(r));
        printf("save %.2f s  vs raw write+fsync %.2f s: ratio %.2f (raw time / save time)\n", s, w,
               w / s);
        printf("load %.2f s  vs raw read %.2f s: ratio %.2f (raw time / load time)\n", l, q, q / l);
        if (c->replay_save_secs > 0)
            printf("at replay_save_secs = %.0f: saving costs %.2f%% of the trainer's time\n",
                   c->replay_save_secs, 100 * s / c->replay_save_secs);
    }
    free(buf);
    replay_destroy(&r);
    unlink(file);
    unlink(raw);
    if (own)
        rmdir(dir);
    return rc;
}

static const struct cmd_keyed keyed = {
    "rldt bench replay",
    "rldt bench replay [--env=TASK] [--chunk=H] [--replay-size=N] "
    "[--segment-len=T] [--pixels --image-size=S] "
    "[--run-dir=DIR (default: a temporary directory)]",
    "run,env,learner,actor,bench", keyed_run};
CMD_KEYED(bench_replay, keyed)
