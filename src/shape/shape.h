/*
 * shape.h — shape and type inference: for every value of every graph of a model (subgraphs
 * and local functions too) its dtype, rank and dims, each dim a static size, a symbol
 * ("batch" stays "batch") or unknown, following the ONNX operator spec (opsets 7 to 21).
 *
 * Small integer values (what Shape, Size and the arithmetic on them compute) are kept
 * element by element with the same kind of dims: Shape(x) of x = [batch,8] is the value
 * [batch,8], and Gather(Shape(x), 1) is the constant 8 even though batch is unknown. The
 * folder (freeze, `diff --fold`) folds what such values make constant.
 *
 * Shapes a file declares (graph inputs, outputs, value_info) are checked against the inferred
 * ones: a contradiction is a warning in the result, never an error.
 */
#ifndef OD_SHAPE_H
#define OD_SHAPE_H

#include "od.h"

/* What is known of one value. Dims use struct od_dim: value >= 0 static, else param a
 * symbol, else unknown. */
struct od_shape {
	const char *name;       /* the value's name (model arena) */
	int kind;               /* enum od_type_kind; OD_TYPE_NONE when nothing is known */
	int dtype;              /* element type (of the elements, for sequences); OD_UNDEFINED
	                           when unknown */
	int rank;               /* -1 when unknown */
	struct od_dim *dims;    /* rank entries (result arena) */
	int n_value;            /* -1: no element values known; else the value is a 0-D (rank 0)
	                           or 1-D tensor of n_value integral elements given in value */
	struct od_dim *value;   /* n_value entries, unlike dims possibly negative: param NULL,
	                           static (value); param a name, that symbol; param "", unknown */
	const struct od_tensor *constant; /* its value when it is a known constant, or NULL */
};

/* The shapes of one graph: its inputs, its initializers, then node outputs in a topological
 * order (each name once). */
struct od_shape_graph {
	const struct od_graph *g;
	const char *path;       /* "graph", "graph/If_0:then_branch", "function:domain::Name" */
	size_t n;
	struct od_shape *values;
};

struct od_shapes {
	size_t n_graphs;
	struct od_shape_graph *graphs; /* the main graph first */
	size_t n_warnings;
	const char **warnings;  /* one line each, git style: "value 'y' is declared float[2,3],
	                           inferred float[2,4]" */
	size_t n_const_nodes;   /* nodes whose outputs are all constants thanks to shapes */
	struct od_arena *arena; /* owns everything here; the result borrows names from m */
	void *priv;             /* name indexes (infer.c) */
};

/* Infers the shapes of every graph of m into *out (caller frees with od_shapes_free()).
 * m must stay alive and unchanged while *out is used. Returns 0, OD_ENOMEM, or OD_EGRAPH
 * when a graph has a cycle. Contradictions are warnings, not errors. */
OD_API int od_shapes_infer(const struct od_model *m, struct od_shapes **out, struct od_ctx *ctx);
OD_API void od_shapes_free(struct od_shapes *s);

/* The shapes of graph g (NULL when g was not part of the model). */
OD_API const struct od_shape_graph *od_shapes_graph(const struct od_shapes *s, const struct od_graph *g);
/* The value name of graph g, looked up in g then its enclosing graphs; NULL when unknown. */
OD_API const struct od_shape *od_shapes_find(const struct od_shapes *s, const struct od_graph *g,
                                             const char *name);

/* The value of v as a tensor named name in arena a when it is known: a constant, or a
 * small value whose elements are all static. NULL otherwise (or out of memory). */
OD_API struct od_tensor *od_shape_constant(struct od_arena *a, const struct od_shape *v, const char *name);
/* Whether od_shape_constant() has a value to give (it then fails only when out of memory). */
OD_API bool od_shape_is_constant(const struct od_shape *v);

/* "float[batch,4]", "int64[]", "float" (rank unknown), "?" into buf; returns buf. */
OD_API const char *od_shape_text(const struct od_shape *v, char *buf, size_t n);

/* `onnxdiff show --values`: what od_show_text() / od_show_json() write, then every value of
 * the main graph with its inferred type ("values (N):" lines; in JSON a "values" array of
 * {"name", "dtype", "shape"} with each dim an integer, a symbol or null, and "warnings").
 * s may be NULL (plain show). (inspect/show.c) */
OD_API int od_show_values_text(struct od_model *m, const struct od_shapes *s, od_write_fn out, void *priv);
OD_API int od_show_values_json(struct od_model *m, const struct od_shapes *s, od_write_fn out, void *priv);

#endif
