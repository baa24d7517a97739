/*
 * diff.h — the structural diff of two models: compute, then script, then emit (git's xdiff).
 *
 * od_diff() matches the nodes of two graphs without relying on names (signatures bottom-up
 * and top-down, unique anchors, extension to neighbours, per-op alignment; see docs/design.md
 * "Diffing without names") and builds a flat list of struct od_change. The renderers below
 * (text, JSON, stat) and the TUI only read that list; the library never prints: renderers
 * hand their output to a callback.
 *
 * Lifetimes: a struct od_diff points into both models (nodes, values, tensors, names): the
 * models must outlive it. Everything the diff itself allocated goes with od_diff_free().
 */
#ifndef OD_DIFF_H
#define OD_DIFF_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include "od.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- options ------------------------------------------------------------------------ */

/* Categories `--ignore=` accepts: bit, name, what is left out of the comparison. */
#define OD_DIFF_IGNORE_TABLE(X) \
	X(NAMES,      "names",      "renames of inputs, outputs, initializers, nodes, functions") \
	X(DOC,        "doc",        "doc strings of the model, graphs, inputs and outputs") \
	X(METADATA,   "metadata",   "metadata_props") \
	X(PRODUCER,   "producer",   "producer_name and producer_version") \
	X(OPSETS,     "opsets",     "opset imports of the model and of functions") \
	X(IR_VERSION, "ir_version", "the IR version") \
	X(MODEL,      "model",      "model domain, model_version and graph names") \
	X(WEIGHTS,    "weights",    "contents of initializers and Constant tensors (dtype and shape still count)") \
	X(SHAPES,     "shapes",     "dims and symbolic dim names of inputs and outputs")

enum od_diff_ignore_bit {
#define OD_X(name, word, desc) OD_DIFF_IGNORE_##name##_BIT,
	OD_DIFF_IGNORE_TABLE(OD_X)
#undef OD_X
};
#define OD_DIFF_IGNORE(name) (1u << OD_DIFF_IGNORE_##name##_BIT)

struct od_diff_opts {
	double atol;            /* elements equal when |a - b| <= atol + rtol * |b|; */
	double rtol;            /* both 0 (the default): bit-exact comparison of payloads */
	unsigned ignore;        /* OD_DIFF_IGNORE(...) bits */
	bool strict_names;      /* renames alone make the models different */
	size_t max_depth;       /* levels of subgraphs compared below the main graph, 0 for the
	                           default (64); deeper bodies count as equal */
};

/* Parses "doc,metadata,producer" into OD_DIFF_IGNORE bits (or-ed into *mask).
 * OD_EARG with "unknown --ignore category 'x'" in ctx. */
OD_API int od_diff_ignore_parse(const char *list, unsigned *mask, struct od_ctx *ctx);
/* Walks the category table (for --help and the man page): fn(word, description, priv). */
OD_API void od_diff_ignore_each(void (*fn)(const char *word, const char *desc, void *priv),
                               void *priv);

/* ---- the change list ---------------------------------------------------------------- */

#define OD_CHANGE_KIND_TABLE(X) \
	X(ADDED,   "added",   '+') \
	X(REMOVED, "removed", '-') \
	X(CHANGED, "changed", '~') \
	X(RENAMED, "renamed", '=')

enum od_change_kind {
#define OD_X(name, word, sign) OD_CHANGE_##name,
	OD_CHANGE_KIND_TABLE(OD_X)
#undef OD_X
	OD_CHANGE_KIND_MAX
};

/* What a change is about. OP, ATTRIBUTE, PORT and OUTPUTS are details of the NODE change
 * before them (their parent); the others stand alone. */
#define OD_CHANGE_WHAT_TABLE(X) \
	X(IR_VERSION,  "ir_version") \
	X(PRODUCER,    "producer")     /* key "name" or "version" */ \
	X(MODEL,       "model")        /* key "domain", "model_version", "graph_name" */ \
	X(OPSET,       "opset")        /* key: the domain, "" for ai.onnx */ \
	X(METADATA,    "metadata")     /* key: the metadata_props key */ \
	X(DOC,         "doc")          /* key: "model", "graph", "input 'x'", ... */ \
	X(INPUT,       "input")        /* key: NULL (type), "position" or (outputs) "producer" */ \
	X(OUTPUT,      "output") \
	X(INITIALIZER, "initializer") \
	X(NODE,        "node") \
	X(ATTRIBUTE,   "attribute")    /* key: the attribute name */ \
	X(OP,          "op")           /* the node's op_type (or domain) was replaced */ \
	X(PORT,        "port")         /* port: the node input index whose producer changed */ \
	X(OUTPUTS,     "outputs")      /* the node's number of outputs changed */ \
	X(FUNCTION,    "function")

enum od_change_what {
#define OD_X(name, word) OD_CHANGE_##name,
	OD_CHANGE_WHAT_TABLE(OD_X)
#undef OD_X
	OD_CHANGE_WHAT_MAX
};

OD_API const char *od_change_kind_name(int kind);   /* "added", ... */
OD_API char od_change_kind_sign(int kind);          /* '+', '-', '~', '=' */
OD_API const char *od_change_what_name(int what);   /* "input", ... */

/* How two tensors of the same dtype and shape differ. */
struct od_tensor_delta {
	bool compared;          /* false when dtypes/shapes differ or the dtype has no numbers */
	bool bitwise;           /* float elements compared by their bits (atol and rtol 0):
	                           -0.0 differs from 0.0, NaNs differ by payload (n_bits) */
	bool integer;           /* integer dtype: compared exactly, max_abs_int holds the delta */
	int64_t numel;          /* elements compared */
	int64_t n_diff;         /* elements outside atol/rtol (NaN == NaN counts as equal unless
	                           bitwise) */
	int64_t n_nan;          /* of those, elements NaN on one side only (in no maximum) */
	int64_t n_bits;         /* of those, elements equal as numbers that differ bitwise:
	                           -0.0 vs 0.0, NaN payloads (bitwise only; in no maximum) */
	double max_abs;         /* largest |a - b| over differing elements without a NaN (for
	                           integers max_abs_int rounded to double) */
	uint64_t max_abs_int;   /* integers: largest |a - b|, exact */
	bool has_rel;           /* some differing element has a finite, nonzero a and finite b */
	double max_rel;         /* largest |a - b| / |a| over those elements; 0 when !has_rel */
	int64_t first_diff;     /* flat index of the first differing element, -1 when none */
};

/* "1 of 16 elements differ (max abs 0.5, max rel 0.25)" into buf ("" when not compared):
 * integers' max abs exact, max rel only where it means something, NaNs against numbers and
 * bit-only differences counted apart. Returns buf. */
OD_API char *od_tensor_delta_text(const struct od_tensor_delta *d, char *buf, size_t n);

struct od_change {
	enum od_change_kind kind;
	enum od_change_what what;
	const char *path;       /* which graph: "graph", "graph/If_0:then_branch",
	                           "function:ns.Foo", "model" for model-level items */
	const char *a_name;     /* the item's name on each side; NULL on the side where it is */
	const char *b_name;     /* absent ("" for unnamed nodes) */
	/* The items on each side, NULL where absent or not of that kind: */
	const struct od_node *a_node, *b_node;          /* NODE and its details */
	const struct od_value *a_value, *b_value;       /* INPUT, OUTPUT */
	const struct od_tensor *a_tensor, *b_tensor;    /* INITIALIZER; tensor ATTRIBUTE */
	const struct od_attr *a_attr, *b_attr;          /* ATTRIBUTE (NULL: absent, default used) */
	const struct od_function *a_func, *b_func;      /* FUNCTION */
	const char *key;        /* see OD_CHANGE_WHAT_TABLE; NULL when not used */
	int port;               /* PORT: input index; -1 otherwise */
	const char *old_text;   /* A's value as text ("float[1,4]", "0.01 (default)",
	                           "graph input 'mask' float[1,4]"; for nodes their label,
	                           "Mul '/Mul'"); NULL when absent */
	const char *new_text;   /* B's value as text; NULL when absent */
	const char *context;    /* ADDED/REMOVED inputs, initializers and nodes: where the item
	                           sits on its side ("reads X; feeds Y input 1", "read by Y"),
	                           NULL otherwise */
	struct od_tensor_delta delta; /* INITIALIZER / tensor ATTRIBUTE with changed values */
	long parent;            /* index of the NODE change a detail belongs to, -1 otherwise */
	int depth;              /* subgraph nesting of path: 0 for "graph" and functions */
};

/* ---- matching, for front ends that show pairs --------------------------------------- */

#define OD_DIFF_NONE ((size_t)-1)

/* One compared pair of graphs: the main graph, a subgraph of matched nodes, a function. */
struct od_diff_graph {
	const char *path;       /* as in od_change.path */
	const struct od_graph *a, *b;
	size_t *a_match;        /* a->n_nodes entries: index into b->nodes, or OD_DIFF_NONE */
	size_t *b_match;        /* b->n_nodes entries: index into a->nodes, or OD_DIFF_NONE */
	size_t n_matched;
	int depth;
};

/* ---- counts for --stat -------------------------------------------------------------- */

struct od_diff_opcount {
	const char *domain;     /* "" for ai.onnx */
	const char *op_type;
	size_t a, b;            /* nodes of that op in each model, subgraphs and functions included */
};

struct od_diff_stat {
	size_t nodes_a, nodes_b;          /* all nodes, subgraphs and functions included */
	size_t n_ops;
	struct od_diff_opcount *ops;      /* sorted by domain, op_type; ops present on either side */
	int64_t params_a, params_b;       /* elements of initializers and Constant tensors */
	uint64_t bytes_a, bytes_b;        /* their payload bytes */
	size_t count[OD_CHANGE_KIND_MAX]; /* changes per kind, details (parent >= 0) not counted */
};

/* ---- the result --------------------------------------------------------------------- */

struct od_diff {
	const struct od_model *a, *b;
	struct od_diff_opts opts;
	size_t n_changes;
	struct od_change *changes;        /* in reading order, each path contiguous: model,
	                                     then per graph pair: inputs, outputs, initializers,
	                                     nodes (merged topological order); subgraph pairs
	                                     after the graph holding them; functions last */
	size_t n_graphs;
	struct od_diff_graph *graphs;     /* [0] is the main graph pair */
	struct od_diff_stat stat;
	struct od_arena *arena;           /* owns all of the above but changes, which are one
	                                     malloc'd array; od_diff_free() frees both */
};

/* Compares a and b (the models are not modified apart from cached tensor hashes) and
 * stores the result in *out (caller frees with od_diff_free()). opts may be NULL. */
OD_API int od_diff(struct od_model *a, struct od_model *b, const struct od_diff_opts *opts,
                   struct od_diff **out, struct od_ctx *ctx);
OD_API void od_diff_free(struct od_diff *d);

/* True when nothing but renames differ (and renames too when opts.strict_names). */
OD_API bool od_diff_is_same(const struct od_diff *d);

/* ---- emitters ----------------------------------------------------------------------- */
/* They write through od_write_fn (od.h); a nonzero return of the callback stops them and
 * is returned. */

struct od_emit_opts {
	bool color;             /* ANSI colour roles (added, removed, changed, renamed, meta);
	                           the front end decides (--color, NO_COLOR, isatty) */
	const char *a_label;    /* header names: "a/with_mask.onnx"; NULL: the model paths */
	const char *b_label;
	bool list_renames;      /* text: one line per renamed node instead of a count */
};

/* git-like text: "--- a/A" / "+++ b/B", "@@ path @@" sections, lines signed -, +, ~, =. */
OD_API int od_diff_emit_text(const struct od_diff *d, const struct od_emit_opts *o, od_write_fn out,
                             void *priv);
/* JSON document, schema "onnxdiff-diff/1" (documented in onnxdiff.1). */
OD_API int od_diff_emit_json(const struct od_diff *d, const struct od_emit_opts *o, od_write_fn out,
                             void *priv);
/* Operator histogram deltas, node, parameter and byte counts, change counts. */
OD_API int od_diff_emit_stat(const struct od_diff *d, const struct od_emit_opts *o, od_write_fn out,
                             void *priv);

/* A stable canonical text dump of m for git's textconv: names kept, one node per line in a
 * stable topological order, initializers as name, dtype, shape and content hash. */
OD_API int od_diff_textconv(struct od_model *m, od_write_fn out, void *priv, struct od_ctx *ctx);

#ifdef __cplusplus
}
#endif
#endif /* OD_DIFF_H */
