/*
 * onnx.h — build a small ONNX model (a graph of nodes over named tensors, float32 weights as
 * initializers) and write it as an .onnx file (proto/onnx.proto, the public ONNX field numbers).
 * The model declares IR version ONNX_IR_VERSION and the default-domain opset ONNX_OPSET.
 *
 * Usage: m = onnx_model_new(...); onnx_input / onnx_const_* / onnx_node (+ onnx_attr_* on the
 * node just added) / onnx_output; onnx_model_save; onnx_model_destroy. Every call copies its
 * arguments. No protobuf-c type leaks here. One thread per model.
 */
#ifndef RL_ONNX_H
#define RL_ONNX_H

#include <stddef.h>
#include <stdint.h>

#define ONNX_IR_VERSION 8 /* ONNX 1.12 */
#define ONNX_OPSET 17     /* operator set of the default domain */
#define ONNX_MAX_RANK 4

struct onnx_model;

/* A new empty model with a graph called name. NULL on ENOMEM. Caller owns (onnx_model_destroy). */
struct onnx_model *onnx_model_new(const char *name, const char *doc);

/* Free and set *p = NULL. Nullable: p, *p. */
void onnx_model_destroy(struct onnx_model **p);

/*
 * A float32 graph input / output of rank dims; a negative dim is the symbolic batch size
 * "batch". 0, -EINVAL (rank) or -ENOMEM.
 */
int onnx_input(struct onnx_model *m, const char *name, int rank, const int64_t *dims);
int onnx_output(struct onnx_model *m, const char *name, int rank, const int64_t *dims);

/* A constant tensor (initializer) of rank dims (0 = scalar), values copied. 0 or -errno. */
int onnx_const_f(struct onnx_model *m, const char *name, int rank, const int64_t *dims,
                 const float *v);
int onnx_const_i64(struct onnx_model *m, const char *name, int rank, const int64_t *dims,
                   const int64_t *v);

/* A node op(in[0..nin)) -> out in the default domain. 0 or -errno. */
int onnx_node(struct onnx_model *m, const char *op, const char *const *in, int nin,
              const char *out);

/* Attributes of the node added last. 0, -EINVAL (no node yet) or -ENOMEM. */
int onnx_attr_int(struct onnx_model *m, const char *name, int64_t v);
int onnx_attr_ints(struct onnx_model *m, const char *name, const int64_t *v, int n);
int onnx_attr_float(struct onnx_model *m, const char *name, float v);

/* Number of nodes so far. */
int onnx_node_count(const struct onnx_model *m);

/*
 * Serialise and write to path atomically (temp file + rename), with producer "rldt" and the
 * given version. 0 or -errno with a reason in err.
 */
int onnx_model_save(const struct onnx_model *m, const char *path, const char *version, char *err,
                    size_t errlen);

#endif
