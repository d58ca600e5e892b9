/*
 * pixcam.c — the camera of pixel observations (see pixcam.h).
 */
#include "actor/pixcam.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "actor/env.h"
#include "actor/render.h"
#include "actor/vecenv.h"

struct pixcam {
    struct render *r;
    int cam;
    int side;
};

struct pixcam *pixcam_new(const struct env_model *m, int side, const char *camera, char *err,
                          size_t errlen)
{
    if (side < 16 || side > 512) {
        snprintf(err, errlen, "image side %d is outside 16..512", side);
        return NULL;
    }
    const mjModel *mj = env_model_mj(m);
    int cam = render_camera_id(mj, camera, err, errlen);
    if (cam < -1)
        return NULL;
    if (cam < 0) { /* the free camera frames the whole model: not a task's view */
        snprintf(err, errlen, "pixel observations need a model camera, not '%s'",
                 camera && camera[0] ? camera : "free");
        return NULL;
    }
    struct pixcam *p = calloc(1, sizeof(*p));
    if (!p) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    p->r = render_new(mj, side, side, err, errlen);
    if (!p->r) {
        free(p);
        return NULL;
    }
    render_set_effects(p->r, false, false);
    p->cam = cam;
    p->side = side;
    return p;
}

void pixcam_destroy(struct pixcam **pp)
{
    struct pixcam *p = pp ? *pp : NULL;
    if (!p)
        return;
    render_destroy(&p->r);
    free(p);
    *pp = NULL;
}

int pixcam_take(struct pixcam *p, struct env *e, uint8_t *rgb)
{
    return render_env(p->r, e, p->cam, rgb);
}

static int take(void *ctx, struct env *e, uint8_t *rgb)
{
    return pixcam_take(ctx, e, rgb);
}

int pixcam_attach(struct pixcam *p, struct vecenv *v)
{
    struct vecenv_camera c = {take, p, p->side, p->side, 3};
    return vecenv_set_camera(v, &c);
}
