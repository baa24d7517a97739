/*
 * sparse.h — sparse tensors (struct od_sparse): the checks ONNX's checker makes on their
 * indices, and their content as a canonical form (the nonzero elements with their linear
 * indices) for hashing, equality and element reads.
 */
#ifndef OD_SPARSE_H
#define OD_SPARSE_H

#include <xxhash.h>
#include "od.h"

/* Checks sp->indices against the dense dims of t (int64, rank 1 [nnz] with linear indices
 * or rank 2 [nnz,rank] with coordinates, each in range, strictly increasing) and fills
 * sp->lin in arena a. label names the tensor in messages. */
int od_sparse_index(struct od_arena *a, const struct od_tensor *t, struct od_sparse *sp,
                    const char *label, struct od_ctx *ctx);
/* Feeds the canonical content of sparse tensor t to st (after dtype and dims). */
void od_sparse_hash(XXH3_state_t *st, const struct od_tensor *t);
/* Same dense content: the same nonzero elements at the same indices (dtype and dims are
 * compared by the caller). */
bool od_sparse_equal(const struct od_tensor *a, const struct od_tensor *b);
/* Dense element i: the stored value, or 0. */
double od_sparse_get_f64(const struct od_tensor *t, int64_t i);
/* Deep copy of sparse tensor t into arena a. */
struct od_tensor *od_sparse_clone(struct od_arena *a, const struct od_tensor *t);

#endif
