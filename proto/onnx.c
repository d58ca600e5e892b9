/*
 * onnx.c — an ONNX model built as protobuf-c messages (proto/onnx.proto) and written out
 * (onnx.h). Every string, array and sub-message is malloc'd and owned by the model, so the
 * whole tree is released by protobuf_c_message_free_unpacked with the default allocator.
 */
#include "proto/onnx.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "onnx.pb-c.h"

struct onnx_model {
    Onnx__ModelProto *mp;
    Onnx__GraphProto *g;
    Onnx__NodeProto *last; /* the node onnx_attr_* applies to */
};

/* append item to a repeated field (array of pointers) */
static int push(void ***arr, size_t *n, void *item)
{
    if (!item)
        return -ENOMEM;
    void **a = realloc(*arr, (*n + 1) * sizeof(*a));
    if (!a)
        return -ENOMEM;
    a[(*n)++] = item;
    *arr = a;
    return 0;
}

#define PUSH(arr, n, item) push((void ***)&(arr), &(n), (item))

struct onnx_model *onnx_model_new(const char *name, const char *doc)
{
    struct onnx_model *m = calloc(1, sizeof(*m));
    Onnx__ModelProto *mp = calloc(1, sizeof(*mp));
    Onnx__GraphProto *g = calloc(1, sizeof(*g));
    Onnx__OperatorSetIdProto *op = calloc(1, sizeof(*op));
    if (!m || !mp || !g || !op) {
        free(m);
        free(mp);
        free(g);
        free(op);
        return NULL;
    }
    onnx__model_proto__init(mp);
    onnx__graph_proto__init(g);
    onnx__operator_set_id_proto__init(op);
    mp->graph = g;
    m->mp = mp;
    m->g = g;
    mp->has_ir_version = 1;
    mp->ir_version = ONNX_IR_VERSION;
    op->domain = strdup("");
    op->has_version = 1;
    op->version = ONNX_OPSET;
    mp->producer_name = strdup("rldt");
    g->name = strdup(name);
    g->doc_string = doc ? strdup(doc) : NULL;
    if (PUSH(mp->opset_import, mp->n_opset_import, op) || !op->domain || !mp->producer_name ||
        !g->name || (doc && !g->doc_string)) {
        if (!mp->n_opset_import)
            protobuf_c_message_free_unpacked(&op->base, NULL);
        onnx_model_destroy(&m);
    }
    return m;
}

void onnx_model_destroy(struct onnx_model **p)
{
    if (!p || !*p)
        return;
    protobuf_c_message_free_unpacked(&(*p)->mp->base, NULL);
    free(*p);
    *p = NULL;
}

// ---- inputs, outputs, constants ------------------------------------------------------------

static Onnx__ValueInfoProto *value_info(const char *name, int rank, const int64_t *dims)
{
    Onnx__ValueInfoProto *vi = calloc(1, sizeof(*vi));
    Onnx__TypeProto *ty = calloc(1, sizeof(*ty));
    Onnx__TypeProto__Tensor *tt = calloc(1, sizeof(*tt));
    Onnx__TensorShapeProto *sh = calloc(1, sizeof(*sh));
    Onnx__TensorShapeProto__Dimension **dim = calloc((size_t)rank + 1, sizeof(*dim));
    if (!vi || !ty || !tt || !sh || !dim) {
        free(vi);
        free(ty);
        free(tt);
        free(sh);
        free(dim);
        return NULL;
    }
    onnx__value_info_proto__init(vi);
    onnx__type_proto__init(ty);
    onnx__type_proto__tensor__init(tt);
    onnx__tensor_shape_proto__init(sh);
    vi->type = ty;
    ty->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    ty->tensor_type = tt;
    tt->has_elem_type = 1;
    tt->elem_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    tt->shape = sh;
    sh->dim = dim;
    int ok = (vi->name = strdup(name)) != NULL;
    for (int i = 0; i < rank; i++) {
        Onnx__TensorShapeProto__Dimension *d = calloc(1, sizeof(*d));
        if (!d) {
            ok = 0;
            break;
        }
        onnx__tensor_shape_proto__dimension__init(d);
        dim[sh->n_dim++] = d;
        if (dims[i] < 0) {
            d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
            ok = (d->dim_param = strdup("batch")) != NULL;
        } else {
            d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
            d->dim_value = dims[i];
        }
    }
    if (!ok) {
        protobuf_c_message_free_unpacked(&vi->base, NULL);
        return NULL;
    }
    return vi;
}

int onnx_input(struct onnx_model *m, const char *name, int rank, const int64_t *dims)
{
    if (rank < 1 || rank > ONNX_MAX_RANK)
        return -EINVAL;
    return PUSH(m->g->input, m->g->n_input, value_info(name, rank, dims));
}

int onnx_output(struct onnx_model *m, const char *name, int rank, const int64_t *dims)
{
    if (rank < 1 || rank > ONNX_MAX_RANK)
        return -EINVAL;
    return PUSH(m->g->output, m->g->n_output, value_info(name, rank, dims));
}

/* an initializer with its dims; data filled by the caller */
static Onnx__TensorProto *tensor(const char *name, int rank, const int64_t *dims, int type,
                                 size_t *count)
{
    if (rank < 0 || rank > ONNX_MAX_RANK)
        return NULL;
    Onnx__TensorProto *t = calloc(1, sizeof(*t));
    int64_t *d = calloc((size_t)rank + 1, sizeof(*d));
    if (!t || !d) {
        free(t);
        free(d);
        return NULL;
    }
    onnx__tensor_proto__init(t);
    t->name = strdup(name); /* checked by the callers */
    t->dims = d;
    t->n_dims = (size_t)rank;
    t->has_data_type = 1;
    t->data_type = type;
    *count = 1;
    for (int i = 0; i < rank; i++) {
        d[i] = dims[i];
        *count *= (size_t)dims[i];
    }
    return t;
}

int onnx_const_f(struct onnx_model *m, const char *name, int rank, const int64_t *dims,
                 const float *v)
{
    size_t n = 0;
    Onnx__TensorProto *t = tensor(name, rank, dims, ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, &n);
    if (!t)
        return -ENOMEM;
    t->float_data = malloc((n ? n : 1) * sizeof(float));
    if (!t->float_data || !t->name) {
        protobuf_c_message_free_unpacked(&t->base, NULL);
        return -ENOMEM;
    }
    memcpy(t->float_data, v, n * sizeof(float));
    t->n_float_data = n;
    return PUSH(m->g->initializer, m->g->n_initializer, t);
}

int onnx_const_i64(struct onnx_model *m, const char *name, int rank, const int64_t *dims,
                   const int64_t *v)
{
    size_t n = 0;
    Onnx__TensorProto *t = tensor(name, rank, dims, ONNX__TENSOR_PROTO__DATA_TYPE__INT64, &n);
    if (!t)
        return -ENOMEM;
    t->int64_data = malloc((n ? n : 1) * sizeof(int64_t));
    if (!t->int64_data || !t->name) {
        protobuf_c_message_free_unpacked(&t->base, NULL);
        return -ENOMEM;
    }
    memcpy(t->int64_data, v, n * sizeof(int64_t));
    t->n_int64_data = n;
    return PUSH(m->g->initializer, m->g->n_initializer, t);
}

// ---- nodes ---------------------------------------------------------------------------------

int onnx_node(struct onnx_model *m, const char *op, const char *const *in, int nin, const char *out)
{
    Onnx__NodeProto *n = calloc(1, sizeof(*n));
    if (!n)
        return -ENOMEM;
    onnx__node_proto__init(n);
    char name[32];
    snprintf(name, sizeof(name), "n%zu", m->g->n_node);
    n->name = strdup(name);
    n->op_type = strdup(op);
    n->input = calloc((size_t)nin + 1, sizeof(char *));
    n->output = calloc(1, sizeof(char *));
    int ok = n->name && n->op_type && n->input && n->output && (n->output[0] = strdup(out));
    n->n_output = n->output && n->output[0] ? 1 : 0;
    for (int i = 0; ok && i < nin; i++)
        ok = (n->input[n->n_input++] = strdup(in[i])) != NULL;
    if (!ok || PUSH(m->g->node, m->g->n_node, n)) {
        protobuf_c_message_free_unpacked(&n->base, NULL);
        return -ENOMEM;
    }
    m->last = n;
    return 0;
}

static Onnx__AttributeProto *attr_new(struct onnx_model *m, const char *name,
                                      Onnx__AttributeProto__AttributeType type)
{
    if (!m->last)
        return NULL;
    Onnx__AttributeProto *a = calloc(1, sizeof(*a));
    if (!a)
        return NULL;
    onnx__attribute_proto__init(a);
    a->has_type = 1;
    a->type = type;
    if (!(a->name = strdup(name)) || PUSH(m->last->attribute, m->last->n_attribute, a)) {
        protobuf_c_message_free_unpacked(&a->base, NULL);
        return NULL;
    }
    return a;
}

int onnx_attr_int(struct onnx_model *m, const char *name, int64_t v)
{
    Onnx__AttributeProto *a = attr_new(m, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);
    if (!a)
        return m->last ? -ENOMEM : -EINVAL;
    a->has_i = 1;
    a->i = v;
    return 0;
}

int onnx_attr_ints(struct onnx_model *m, const char *name, const int64_t *v, int n)
{
    Onnx__AttributeProto *a = attr_new(m, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);
    if (!a)
        return m->last ? -ENOMEM : -EINVAL;
    a->ints = malloc((size_t)(n > 0 ? n : 1) * sizeof(int64_t));
    if (!a->ints)
        return -ENOMEM; /* freed with the model */
    memcpy(a->ints, v, (size_t)n * sizeof(int64_t));
    a->n_ints = (size_t)n;
    return 0;
}

int onnx_attr_float(struct onnx_model *m, const char *name, float v)
{
    Onnx__AttributeProto *a = attr_new(m, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT);
    if (!a)
        return m->last ? -ENOMEM : -EINVAL;
    a->has_f = 1;
    a->f = v;
    return 0;
}

int onnx_node_count(const struct onnx_model *m)
{
    return (int)m->g->n_node;
}

// ---- file ----------------------------------------------------------------------------------

int onnx_model_save(const struct onnx_model *m, const char *path, const char *version, char *err,
                    size_t errlen)
{
    free(m->mp->producer_version);
    m->mp->producer_version = strdup(version ? version : "");
    size_t n = onnx__model_proto__get_packed_size(m->mp);
    uint8_t *buf = malloc(n ? n : 1);
    char tmp[4200];
    snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
    if (!buf || !m->mp->producer_version) {
        free(buf);
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    onnx__model_proto__pack(m->mp, buf);
    FILE *f = fopen(tmp, "wb");
    int rc = f ? 0 : -errno;
    if (f && fwrite(buf, 1, n, f) != n)
        rc = -EIO;
    if (f && fclose(f) != 0 && !rc)
        rc = -errno;
    if (!rc && rename(tmp, path) != 0)
        rc = -errno;
    free(buf);
    if (rc) {
        unlink(tmp);
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(-rc));
    }
    return rc;
}
