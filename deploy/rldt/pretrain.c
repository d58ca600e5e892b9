/*
 * pretrain.c — `rldt pretrain`: behaviour cloning of a flow policy on a dataset by conditional
 * flow matching (learner/algo/pretrain.h), with a progress bar on stderr, a loss curve
 * (<out stem>.loss.csv: step, train loss over the last rows' steps, EMA validation loss,
 * learning rate, seconds) and a resumable state file (<out>.state, every checkpoint_secs;
 * --resume continues from it). The EMA weights are saved as a policy checkpoint at --out;
 * the state file is removed once the policy is written. A dataset with camera images makes a
 * pixel policy (encoder + flow, learner/algo/pretrain.h).
 */
#include <cblas.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/config.h"
#include "common/dataset.h"
#include "common/encoder.h"
#include "common/flow.h"
#include "common/policy.h"
#include "common/util.h"
#include "deploy/rldt/cmd.h"
#include "learner/algo/pretrain.h"

#define PRETRAIN_USAGE                                                                             \
    "rldt pretrain --dataset=FILE --out=CKPT [--pretrain-steps=N] [--pretrain-batch=B]\n"          \
    "              [--pretrain-lr=LR] [--ema-decay=D] [--chunk=H] [--flow-*=...] [--seed=N]\n"     \
    "              [--resume] [--checkpoint-secs=S] [--pretrain-threads=T]"
#define CSV_EVERY 100
#define VAL_EVERY 1000

struct run {
    struct rl_config c;
    struct pretrain *p;
    char csv[CONFIG_STR + 16];
    char state[CONFIG_STR + 16];
    FILE *f;
    double t0, secs0;
    long step0; /* step when this process started training */
};

// config: algorithm rldt (chunk 4 by default) unless told otherwise; 0 or an exit code
static int parse(struct rl_config *c, int argc, char **argv)
{
    char err[512];
    config_default(c);
    snprintf(c->algo, sizeof(c->algo), "rldt");
    int rc = config_parse_args(c, argc, argv, NULL, NULL, err, sizeof(err));
    if (rc == 1) {
        printf("usage: %s\n\noptions:\n", PRETRAIN_USAGE);
        config_help(stdout, "-algo,-env,-seed,-chunk,flow,-dataset,-out,-pretrain_steps,"
                            "-pretrain_batch,-pretrain_lr,-ema_decay,-pretrain_threads,-resume,"
                            "-checkpoint_secs");
        return 1;
    }
    if (rc == 0 && (!c->dataset[0] || !c->out[0])) {
        snprintf(err, sizeof(err), "--dataset=FILE and --out=CKPT are required");
        rc = -EINVAL;
    }
    const char *kind = policy_kind_for_algo(c->algo);
    if (rc == 0 && (!kind || strcmp(kind, "flow") != 0)) {
        snprintf(err, sizeof(err), "pre-training makes flow policies: --algo must be rldt*");
        rc = -EINVAL;
    }
    if (rc == 0)
        rc = config_validate(c, err, sizeof(err));
    if (rc < 0) {
        fprintf(stderr, "rldt pretrain: %s\n", err);
        return 2;
    }
    return 0;
}

static void set_paths(struct run *r)
{
    const char *out = r->c.out;
    size_t n = strlen(out);
    if (n > 5 && !strcmp(out + n - 5, ".rldt"))
        n -= 5;
    snprintf(r->csv, sizeof(r->csv), "%.*s.loss.csv", (int)n, out);
    snprintf(r->state, sizeof(r->state), "%s.state", out);
}

// open the loss curve; on resume keep the rows up to the resumed step (and their seconds)
static int open_csv(struct run *r, long step)
{
    char *keep = NULL;
    size_t klen = 0;
    FILE *old = step > 0 ? fopen(r->csv, "r") : NULL;
    FILE *mem = open_memstream(&keep, &klen);
    char line[512];
    while (old && mem && fgets(line, sizeof(line), old)) {
        long s = atol(line);
        if (!strncmp(line, "step", 4) || (s > 0 && s <= step)) {
            fputs(line, mem);
            char *last = strrchr(line, ',');
            r->secs0 = last && s > 0 ? atof(last + 1) : r->secs0;
        }
    }
    if (old)
        fclose(old);
    if (mem)
        fclose(mem);
    r->f = fopen(r->csv, "w");
    if (!r->f) {
        free(keep);
        return -errno;
    }
    if (klen)
        fputs(keep, r->f);
    else
        fprintf(r->f, "step,loss,val_loss,lr,secs\n");
    fflush(r->f);
    free(keep);
    return 0;
}

static void bar(const struct run *r, long step, double loss, double val, bool final)
{
    long total = r->c.pretrain_steps;
    double dt = rl_now() - r->t0;
    double rate = dt > 0 ? (step - r->step0) / dt : 0;
    char b[31];
    int fill = (int)(30.0 * step / total);
    for (int i = 0; i < 30; i++)
        b[i] = i < fill ? '#' : '.';
    b[30] = 0;
    fprintf(stderr, "%s[%s] %ld/%ld steps | loss %.4f | val %.4f | %.1f steps/s | eta %.0fs%s",
            isatty(2) ? "\r" : "", b, step, total, loss, val, rate,
            rate > 0 ? (total - step) / rate : 0.0, isatty(2) && !final ? "" : "\n");
}

static int train(struct run *r)
{
    char err[600];
    double sum = 0, loss = 0, val = pretrain_val_loss(r->p);
    long n = 0, bad = 0;
    double last_bar = rl_now(), last_state = rl_now();
    double bar_every = isatty(2) ? 0.5 : 15.0;
    for (long s = pretrain_steps_done(r->p); s < r->c.pretrain_steps;) {
        double lr = pretrain_lr(r->p);
        int rc = pretrain_step(r->p, &loss);
        if (rc == -EDOM && ++bad <= 10) {
            fprintf(stderr, "\nrldt pretrain: non-finite loss at step %ld (skipped)\n", s);
            continue;
        }
        if (rc) {
            fprintf(stderr, "\nrldt pretrain: training diverged (non-finite losses)\n");
            return 1;
        }
        s = pretrain_steps_done(r->p);
        sum += loss;
        n++;
        if (s % VAL_EVERY == 0 || s == r->c.pretrain_steps)
            val = pretrain_val_loss(r->p);
        if (s % CSV_EVERY == 0 || s == r->c.pretrain_steps) {
            double secs = r->secs0 + rl_now() - r->t0;
            fprintf(r->f, "%ld,%.6f,%.6f,%.3g,%.1f\n", s, sum / n, val, lr, secs);
            fflush(r->f);
            sum = 0;
            n = 0;
        }
        if (rl_now() - last_bar >= bar_every) {
            bar(r, s, loss, val, false);
            last_bar = rl_now();
        }
        if (rl_now() - last_state >= r->c.checkpoint_secs) {
            if (pretrain_save_state(r->p, r->state, err, sizeof(err)) < 0)
                fprintf(stderr, "\nrldt pretrain: cannot save state: %s\n", err);
            last_state = rl_now();
        }
    }
    bar(r, pretrain_steps_done(r->p), loss, val, true);
    return 0;
}

// a dataset with camera images: the policy sees them (pixels, their size, the camera of the
// demo that rendered them, named in the dataset's source line)
static void pixel_config(struct rl_config *c, const struct dataset *ds)
{
    c->pixels = true;
    c->image_size = ds->img_h;
    const char *cam = strstr(ds->source, "--pixel-camera=");
    if (cam) {
        cam += strlen("--pixel-camera=");
        snprintf(c->pixel_camera, sizeof(c->pixel_camera), "%.*s", (int)strcspn(cam, " "), cam);
    }
    fprintf(stderr, "rldt pretrain: from pixels: %dx%d images of camera '%s' + proprioception\n",
            ds->img_h, ds->img_w, c->pixel_camera);
}

// build, resume if asked, train, save; 0 or an exit code
static int go(struct run *r)
{
    char err[600];
    struct dataset ds;
    if (dataset_load(&ds, r->c.dataset, err, sizeof(err)) < 0) {
        fprintf(stderr, "rldt pretrain: %s\n", err);
        return access(r->c.dataset, F_OK) == 0 ? 1 : 2;
    }
    snprintf(r->c.env, sizeof(r->c.env), "%s", ds.env);
    if (dataset_image_bytes(&ds))
        pixel_config(&r->c, &ds);
    r->p = pretrain_new(&r->c, &ds, err, sizeof(err));
    dataset_fini(&ds);
    if (!r->p) {
        fprintf(stderr, "rldt pretrain: %s\n", err);
        return 2;
    }
    if (r->c.resume && access(r->state, F_OK) == 0) {
        if (pretrain_load_state(r->p, r->state, err, sizeof(err)) < 0) {
            fprintf(stderr, "rldt pretrain: cannot resume: %s\n", err);
            return 1;
        }
        fprintf(stderr, "rldt pretrain: resumed at step %ld from %s\n", pretrain_steps_done(r->p),
                r->state);
    }
    if (open_csv(r, pretrain_steps_done(r->p)) < 0) {
        fprintf(stderr, "rldt pretrain: cannot write %s: %s\n", r->csv, strerror(errno));
        return 1;
    }
    const struct flow *f = pretrain_ema(r->p);
    const struct encoder *e = pretrain_encoder(r->p);
    fprintf(stderr, "rldt pretrain: %s %s, chunk %d, %zu parameters, batch %d, lr %g, %lld steps\n",
            r->c.env, r->c.dataset, r->c.chunk, f->n_params + (e ? e->n_params : 0),
            r->c.pretrain_batch, r->c.pretrain_lr, (long long)r->c.pretrain_steps);
    r->t0 = rl_now();
    r->step0 = pretrain_steps_done(r->p);
    int rc = train(r);
    struct rl_config shared = r->c; /* the policy file's copy: no directories of this machine */
    config_strip_dirs(&shared);
    char *text = rc ? NULL : config_to_string(&shared);
    if (!rc && !text)
        rc = 1;
    if (!rc && pretrain_save_policy(r->p, text, r->c.out, err, sizeof(err)) < 0) {
        fprintf(stderr, "rldt pretrain: %s\n", err);
        rc = 1;
    }
    free(text);
    if (!rc) {
        unlink(r->state);
        printf("pretrained %s: %ld steps, final loss %.4f (EMA validation) in %.0fs -> %s (curve "
               "%s)\n",
               r->c.env, pretrain_steps_done(r->p), pretrain_val_loss(r->p),
               r->secs0 + rl_now() - r->t0, r->c.out, r->csv);
    }
    return rc;
}

int cmd_pretrain(int argc, char **argv)
{
    struct run r;
    memset(&r, 0, sizeof(r));
    int rc = parse(&r.c, argc, argv);
    if (rc)
        return rc == 1 ? 0 : rc;
    set_paths(&r);
    openblas_set_num_threads(r.c.pretrain_threads);
    rc = go(&r);
    if (r.f)
        fclose(r.f);
    pretrain_destroy(&r.p);
    return rc;
}
