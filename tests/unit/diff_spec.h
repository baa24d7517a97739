/*
 * diff_spec.h — what the test_diff_*.c programs share: models built from a text spec, and
 * running and reading diffs of them.
 */
#ifndef OD_TEST_DIFF_SPEC_H
#define OD_TEST_DIFF_SPEC_H

#include "config.h"
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <glob.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "od.h"
#include "diff.h"
#include "internal.h"
#include "helpers.h"

#define FIX OD_SRCDIR "/fixtures/"

/* ---- building models from a spec --------------------------------------------------------
 *
 * One item per line (or ';'), words separated by spaces:
 *   opset 14                       ai.onnx version (default 14)
 *   in x float N,4                 graph input (dims: numbers or symbols; "-" for a scalar)
 *   out y float N,4                graph output
 *   init W float 4,4 1.5           initializer, element i = 1.5 + i / 8
 *   const c float 4 2.0            a Constant node named c writing c
 *   node Gemm g1 x,W,b h alpha=0.5 transB=1 mode='x' perm=[1,0]
 *                                  op, name, inputs (',' list, '_' for none), outputs
 */

void add_attr(struct od_arena *a, struct od_node *n, const char *spec);
void fill_graph(struct od_model *m, struct od_graph *g, const char *spec);
struct od_model *model(const char *spec);
struct od_graph *subgraph(struct od_model *m, struct od_graph *parent, struct od_node *n,
                          const char *attr, const char *spec);
void model_free(struct od_model *m);
struct od_tensor *init_of(struct od_model *m, const char *name);
struct od_node *node_of(struct od_graph *g, const char *name);
struct od_diff *diff_opts(struct od_model *a, struct od_model *b, const struct od_diff_opts *o);
struct od_diff *diff(struct od_model *a, struct od_model *b);
char *text(const struct od_diff *d);
size_t real_changes(const struct od_diff *d);
const struct od_change *find(const struct od_diff *d, int kind, int what);
/* If (then: If (then: x + c, else: |x|), else: -x), two levels of subgraphs. */
struct od_model *nested_if(double c);

#define MLP \
	"in x float N,4; in mask float 1,4; out y float N,4;" \
	"init W1 float 4,4 0.5; init b1 float 4 1.0; init W2 float 4,4 -0.25; init b2 float 4 2.0;" \
	"node Gemm fc1 x,W1,b1 h1 transB=1; node Relu act h1 a1;" \
	"node Gemm fc2 a1,W2,b2 h2 transB=1; node Mul masked h2,mask y"

/* The same model: every tensor and node renamed, nodes and initializers listed in another
 * valid order, commutative inputs swapped, a default written out. */
#define MLP_RENAMED \
	"in x float N,4; in mask float 1,4; out y float N,4;" \
	"init p3 float 4 2.0; init p2 float 4,4 -0.25; init p1 float 4 1.0; init p0 float 4,4 0.5;" \
	"node Gemm m/fc1 x,p0,p1 t0 transB=1 alpha=1.0; node Relu m/act t0 t1;" \
	"node Gemm m/fc2 t1,p2,p3 t2 transB=1; node Mul m/masked mask,t2 y"

#endif
