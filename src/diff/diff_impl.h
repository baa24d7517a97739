/*
 * diff_impl.h — what the diff modules share and nothing outside them sees:
 *
 *   diff_util.c      hashing, a u64 -> u32 map, texts of values, attributes and tensors
 *   diff_ops.c       operator facts as data: attribute defaults, commutativity (bsearch)
 *   diff_sig.c       per-graph value tables, topological order, signatures bottom-up/top-down
 *   diff_match.c     node matching: anchors, extension to neighbours, per-op alignment,
 *                    replacements
 *   diff_pair.c      pairing of inputs, outputs and initializers; equivalence of port values
 *   diff_change.c    the changes of inputs, outputs and initializers of one graph pair
 *   diff_node.c      the changes of nodes; subgraph pairs for the queue
 *   diff.c           od_diff(): sides, model-level items, the queue of graph pairs, stats
 *   diff_textconv.c  the canonical dump for git's textconv
 *   emit_diff.c      text, JSON and stat renderers (diff.h only)
 */
#ifndef OD_DIFF_IMPL_H
#define OD_DIFF_IMPL_H

#include <stdint.h>
#include "diff.h"
#include "internal.h"

#define NONE32 UINT32_MAX

/* ---- hashing ------------------------------------------------------------------------ */

static inline uint64_t dh_mix(uint64_t x)
{
	x ^= x >> 30;
	x *= UINT64_C(0xbf58476d1ce4e5b9);
	x ^= x >> 27;
	x *= UINT64_C(0x94d049bb133111eb);
	return x ^ (x >> 31);
}

/* Order-sensitive combination. */
static inline uint64_t dh_comb(uint64_t h, uint64_t v)
{
	return dh_mix(h ^ (v + UINT64_C(0x9e3779b97f4a7c15) + (h << 6) + (h >> 2)));
}

uint64_t diff_hash_str(const char *s);
uint64_t diff_hash_bytes(const void *p, size_t n);

/* ---- a u64 -> u32 map in an arena (open addressing, grows at half full) ------------- */

struct dslot {
	uint64_t key;
	uint32_t val;           /* NONE32: empty slot */
};

struct dmap {
	size_t mask, n;
	struct dslot *slots;    /* key and value side by side: one cache line per probe */
	struct od_arena *arena;
};

int diff_map_init(struct dmap *m, struct od_arena *a, size_t expected);
/* Empties the map, keeping its size. */
void diff_map_clear(struct dmap *m);
/* The slot of key, inserted with value NONE32 when new (the caller fills it); NULL when
 * out of memory. Valid until the next insertion. */
uint32_t *diff_map_slot(struct dmap *m, uint64_t key);
uint32_t diff_map_get(const struct dmap *m, uint64_t key);

/* ---- operator facts (diff_ops.c) ------------------------------------------------------ */

/* Calls fn for each default attribute of (domain, op) valid at opset that n does not set. */
void diff_op_defaults(const struct od_node *n, int64_t opset,
                      void (*fn)(const struct od_attr *def, void *priv), void *priv);
/* The default of attribute name for this node at opset, or NULL; *tmp receives it. */
const struct od_attr *diff_op_default(const struct od_node *n, int64_t opset,
                                      const char *name, struct od_attr *tmp);
bool diff_op_commutative(const char *domain, const char *op);
/* The rows of n's op in the defaults table, packed (0: none), to look up once per op. */
uint32_t diff_op_rows(const struct od_node *n);
void diff_op_defaults_rows(uint32_t rows, const struct od_node *n, int64_t opset,
                           void (*fn)(const struct od_attr *def, void *priv), void *priv);

/* ---- per-graph tables (diff_sig.c) ---------------------------------------------------- */

enum { V_INPUT, V_INIT, V_NODE, V_UNDEF };

struct dside;

/* One value (tensor name) of a graph. */
struct dval {
	const char *name;
	struct dside *side;     /* graph that defines it */
	uint8_t kind;           /* V_* */
	bool is_input;          /* V_INIT also listed in graph.input (overridable default) */
	uint32_t idx;           /* V_INPUT: g->inputs; V_INIT: g->inits; V_NODE: g->nodes */
	uint32_t port;          /* V_NODE: output index */
	uint32_t cons, n_cons;  /* its consumers: side->cons[cons .. cons + n_cons) */
	uint32_t n_graph_out;   /* times listed in graph.output */
	uint64_t bu, td;        /* signatures */
};

/* A consumer of a value: node index and input port (IMPLICIT: read inside a subgraph). */
#define IMPLICIT NONE32
struct dedge {
	uint32_t node, port;
};

/* One graph (main graph, subgraph or function body) of one model. */
struct dside {
	const struct od_graph *g;
	struct dside *parent;   /* enclosing graph, NULL at the top and for functions */
	const struct od_function *func; /* function whose body this is, or NULL */
	int depth;
	int64_t onnx_opset;     /* version of ai.onnx imported where this graph lives */
	struct dmap names;      /* hash of a name -> index into vals (see diff_name_get) */
	uint64_t name_seed;     /* the diff's seed of those hashes (dstate.name_seed) */
	size_t n_vals;
	struct dval *vals;      /* inputs, initializers, node outputs (in that order) */
	uint32_t *in_start;     /* n_nodes + 1: node k's inputs are ins[in_start[k] ...] */
	struct dval **ins;      /* NULL for an omitted optional input; may point into an
	                           enclosing graph's vals (outer scope) */
	uint32_t *dep_start;    /* n_nodes + 1: values read by the node's subgraphs */
	struct dval **deps;
	uint32_t *out_start;    /* n_nodes + 1: node k's outputs are vals[out_start[k] ...] */
	struct dedge *cons;
	struct dval **gouts;    /* g->n_outputs: the values the graph returns */
	size_t n_real_in;       /* graph inputs that are not initializers */
	uint32_t *real_in;      /* their indices in g->inputs */
	uint32_t *real_pos;     /* g->n_inputs: position among real inputs, or NONE32 */
	uint32_t *topo;         /* node indices in topological order */
	uint32_t *topo_pos;     /* node index -> position in topo */
	uint64_t *op_h;         /* per node: hash of op_type and domain */
	uint8_t *comm;          /* per node: commutative op (inputs compare as a multiset) */
	uint32_t *op_rows;      /* per node: op_facts() (diff_sig.c) */
	struct od_tensor **cst; /* per node: the tensor of a Constant node, else NULL */
	uint64_t *attr_h;       /* per node: canonical attributes, defaults explicit */
	uint64_t *bu, *td;      /* per node signatures */
	uint32_t *match;        /* per node: index of the partner node, NONE32 */
	uint32_t *child_start;  /* n_nodes + 1: subgraphs of node k (GRAPH/GRAPHS attributes
	                           in attribute order) are child[child_start[k] ...] */
	struct dside **child;
	const char **child_attr;/* attribute name of each child */
	size_t n_outer;         /* values of enclosing graphs this graph (or below) reads */
	struct dval **outer;
	uint64_t gsig;          /* signature of the whole graph (for its owner's node) */
	uint64_t *in_class;     /* per real input: its class (paired position) */
	uint64_t *out_class;    /* per graph output */
	struct dside *next_all; /* every side of a model, for freeing */
};

/* The state of one od_diff() call. */
struct dstate {
	struct od_model *ma, *mb;
	struct od_diff_opts opts;
	struct od_arena *tmp;   /* working memory, freed at the end */
	struct od_diff *d;      /* the result (its arena) */
	struct dside *all;      /* every side built */
	struct dmap consts;     /* content hash -> bit 1: in A, bit 2: in B */
	struct dmap ops;        /* op hash -> diff_op_rows() + 1 and commutativity, per op */
	size_t cap_changes, cap_graphs;
	bool oom;               /* an allocation failed where the code could go on: the result
	                           is dropped and od_diff() returns OD_ENOMEM */
	uint64_t name_seed;     /* seeds the name hashes of every side, set by the first side */
};

/* Notes a failed allocation of a text (NULL) and passes the text on. */
static inline const char *diff_chk(struct dstate *st, const char *s)
{
	if (!s)
		st->oom = true;
	return s;
}

/* The value named name defined in s itself, or NULL. */
struct dval *diff_name_get(const struct dside *s, const char *name);
/* Builds the side of g (and of every subgraph below it). */
int diff_side_build(struct dstate *st, const struct od_graph *g, struct dside *parent,
                    int64_t onnx_opset, int depth, struct dside **out);
/* Records the content hashes of every constant of side (and below) with bit. */
int diff_side_consts(struct dstate *st, struct dside *s, uint32_t bit);
/* Signatures bottom-up then top-down of side and every side below it. in_class and
 * out_class must be set for side (children use positions). */
void diff_side_sign(struct dstate *st, struct dside *s);
/* Canonical hash of one attribute of node k of s (graphs through their side's gsig). */
uint64_t diff_attr_hash(struct dstate *st, const struct od_attr *a, const struct dside *s,
                        uint32_t k);
/* True when the node is a Constant carrying a tensor; *t receives it. */
bool diff_node_const(const struct od_node *n, struct od_tensor **t);
/* Classes for a graph's interface when positions are all that pairs them. */
int diff_side_positional(struct dstate *st, struct dside *s);

/* ---- matching (diff_match.c) ----------------------------------------------------------- */

int diff_match(struct dstate *st, struct dside *a, struct dside *b);

/* ---- change list (diff_change.c) ------------------------------------------------------ */

/* One pair of graphs being compared. */
struct dpair {
	struct dside *a, *b;
	struct dpair *parent;                /* pair of the enclosing graphs, NULL at the top */
	const char *path;
	int depth;
	uint32_t *in_pair_a, *in_pair_b;     /* real inputs: partner index in real_in, NONE32 */
	uint32_t *out_pair_a, *out_pair_b;   /* graph outputs */
	uint32_t *init_pair_a, *init_pair_b; /* initializers */
};

/* diff_pair.c */
int diff_pair_interface(struct dstate *st, struct dpair *p, bool by_name);
int diff_pair_inits(struct dstate *st, struct dpair *p);
/* True when what va (in A) and vb (in B) hold is the same value for a port reading it. */
bool diff_equiv(const struct dstate *st, const struct dpair *p, const struct dval *va,
                const struct dval *vb);
/* True when either is the output of an added or removed node (whose own line tells). */
bool diff_explained(const struct dval *va, const struct dval *vb);

/* diff_list.c: below the graph and node phases */
static inline const char *diff_str0(const char *s)
{
	return s ? s : "";
}

static inline bool diff_ignoring(const struct dstate *st, unsigned bit)
{
	return (st->opts.ignore & bit) != 0;
}

/* Appends a zeroed change (port and parent -1) to the list; NULL when out of memory. */
struct od_change *diff_add(struct dstate *st, int kind, int what, const char *path);
/* Appends a change whose old and new texts are a and b ("" or NULL: none); OD_ENOMEM. */
int diff_add_text(struct dstate *st, int kind, int what, const char *path, const char *key,
                  const char *a, const char *b);
/* b when names a and b differ and names are compared (no --ignore=names), else NULL. */
const char *diff_names_differ(const struct dstate *st, const char *a, const char *b);
/* Same dtype and dims. */
bool diff_same_type_and_shape(const struct od_tensor *x, const struct od_tensor *y);
/* True when two tensors count as equal (atol/rtol, --ignore weights); *delta says how
 * they differ when dtype and shape agree. */
bool diff_tensors_same(struct dstate *st, struct od_tensor *x, struct od_tensor *y,
                       struct od_tensor_delta *delta);
/* Appends "lead" and up to three readers of v ("Mul '/Mul' input 1, output 'y'") to buf at
 * off; returns the new offset. */
size_t diff_readers(char *buf, size_t off, size_t bufsize, struct dstate *st,
                    const struct dval *v, const char *lead);

/* diff_change.c */
/* Appends the changes of p; subgraph pairs of matched nodes go onto the queue. */
int diff_pair_changes(struct dstate *st, struct dpair *p, struct dpair ***queue,
                      size_t *n_queue, size_t *cap_queue);

/* diff_node.c */
int diff_node_changes(struct dstate *st, struct dpair *p, struct dpair ***queue,
                      size_t *n_queue, size_t *cap_queue);

/* Pairs the k-th entry of each key in ka with the k-th entry of the same key in kb (keys
 * may repeat: a file may import a domain twice) in linear time. *pair (od_free) holds na +
 * nb indexes: [i] the partner in kb of ka[i], [na + j] the partner in ka of kb[j], SIZE_MAX
 * for none. 0 or OD_ENOMEM. */
int diff_pair_keys(const char *const *ka, size_t na, const char *const *kb, size_t nb,
                   size_t **pair);

/* ---- text (diff_util.c) ----------------------------------------------------------------- */

/* An attribute value: "1", "0.5", "'NOTSET'", "[1,1]", "float[2] #1a2b3c4d", "<graph>". */
const char *diff_attr_text(struct od_arena *a, const struct od_attr *at);
/* What feeds a value: "graph input 'mask' float[1,4]", "Gemm '/linear/Gemm'". */
const char *diff_val_text(struct od_arena *a, const struct dval *v);
/* "Gemm '/linear/Gemm'" or "Gemm #3" for an unnamed node. */
const char *diff_node_label(struct od_arena *a, const struct od_graph *g, uint32_t k);
/* Differences between two tensors of equal dtype and shape, under atol/rtol. */
void diff_tensor_delta(const struct od_tensor *a, const struct od_tensor *b, double atol,
                       double rtol, struct od_tensor_delta *out);

#endif
