/*
 * od.h — the public API of libonnxdiff.
 *
 * onnxdiff's own view of an ONNX model: plain structs that live in one arena per model,
 * with tensor payloads kept as views into the mapped file where possible. The library
 * never prints and never exits; every call that can fail takes a struct od_ctx that
 * receives a one-line message in git's style and returns 0 or a negative enum od_err.
 *
 * Byte order: tensor payloads are little-endian, as ONNX raw_data; the library targets
 * little-endian hosts only (checked at configure time by the tests).
 */
#ifndef OD_H
#define OD_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

#define OD_PRINTF(n, m) __attribute__((format(printf, n, m)))
/* What the shared library exports: the functions its installed headers declare, nothing
 * else (it is built with -fvisibility=hidden). */
#define OD_API __attribute__((visibility("default")))

/* ---- errors ------------------------------------------------------------------------ */

/* Codes and their one-word descriptions, one table (see err.c). */
#define OD_ERR_TABLE(X) \
	X(OK,          "success") \
	X(ENOMEM,      "out of memory") \
	X(EIO,         "input/output error") \
	X(EFORMAT,     "not a valid ONNX file") \
	X(EGRAPH,      "malformed graph") \
	X(EVALUE,      "bad value") \
	X(EUNSUPPORTED,"unsupported") \
	X(ELIMIT,      "limit exceeded") \
	X(EUNSAFE,     "unsafe path") \
	X(EARG,        "bad argument") \
	X(ENOTFOUND,   "not found")

enum od_err {
#define OD_X(name, desc) OD_##name##_IDX,
	OD_ERR_TABLE(OD_X)
#undef OD_X
};
/* The codes themselves are negative: OD_ENOMEM == -1, ... */
#define OD_ERRCODE(name) (-(int)OD_##name##_IDX)
#define OD_ENOMEM      OD_ERRCODE(ENOMEM)
#define OD_EIO         OD_ERRCODE(EIO)
#define OD_EFORMAT     OD_ERRCODE(EFORMAT)
#define OD_EGRAPH      OD_ERRCODE(EGRAPH)
#define OD_EVALUE      OD_ERRCODE(EVALUE)
#define OD_EUNSUPPORTED OD_ERRCODE(EUNSUPPORTED)
#define OD_ELIMIT      OD_ERRCODE(ELIMIT)
#define OD_EUNSAFE     OD_ERRCODE(EUNSAFE)
#define OD_EARG        OD_ERRCODE(EARG)
#define OD_ENOTFOUND   OD_ERRCODE(ENOTFOUND)

/* Where a failing call leaves its message. Zero-initialise; reuse freely. */
struct od_ctx {
	int code;           /* last error code (negative), 0 when none */
	char msg[512];      /* one line, git style, no trailing newline */
};

/* Records the message in ctx (may be NULL) and returns code: `return od_error(...)`. */
OD_API int od_error(struct od_ctx *ctx, int code, const char *fmt, ...) OD_PRINTF(3, 4);
OD_API const char *od_strerror(int code);
/* Copies s into out (size bytes, always NUL-terminated when size > 0) with control
 * characters written as \n or \xHH and C1 controls as \u0080..\u009f, so that text from
 * a file or a command line (names, paths) can neither break a one-line message nor reach
 * a terminal raw; escapes are never cut in half. Returns the length of the whole escaped
 * text, as snprintf does. */
OD_API size_t od_text_escape(char *out, size_t size, const char *s);

/* ---- arena ------------------------------------------------------------------------- */

/* A bump allocator: everything of one model lives here and goes with od_arena_free(). */
struct od_arena;
OD_API struct od_arena *od_arena_new(void);
OD_API void od_arena_free(struct od_arena *a);
OD_API void *od_arena_alloc(struct od_arena *a, size_t n);           /* zeroed, 16-aligned */
OD_API void *od_arena_memdup(struct od_arena *a, const void *p, size_t n);
OD_API char *od_arena_strdup(struct od_arena *a, const char *s);
OD_API char *od_arena_printf(struct od_arena *a, const char *fmt, ...) OD_PRINTF(2, 3);
/* Grows an arena array of n elements of size sz to hold at least want (old copy abandoned). */
OD_API void *od_arena_grow(struct od_arena *a, void *p, size_t n, size_t sz, size_t *cap,
                           size_t want);
/* Gives back a block of more than 64 KiB, which has a chunk of its own; smaller ones stay
 * until the arena goes. For protobuf-c's scratch (17 MB of a 200k-node graph's load). */
OD_API void od_arena_release(struct od_arena *a, void *p);
OD_API size_t od_arena_used(const struct od_arena *a);                /* bytes handed out */

/* ---- data types -------------------------------------------------------------------- */

enum od_dtype {
	OD_UNDEFINED = 0, OD_FLOAT = 1, OD_UINT8 = 2, OD_INT8 = 3, OD_UINT16 = 4,
	OD_INT16 = 5, OD_INT32 = 6, OD_INT64 = 7, OD_STRING = 8, OD_BOOL = 9,
	OD_FLOAT16 = 10, OD_DOUBLE = 11, OD_UINT32 = 12, OD_UINT64 = 13,
	OD_COMPLEX64 = 14, OD_COMPLEX128 = 15, OD_BFLOAT16 = 16,
	OD_FLOAT8E4M3FN = 17, OD_FLOAT8E4M3FNUZ = 18, OD_FLOAT8E5M2 = 19,
	OD_FLOAT8E5M2FNUZ = 20, OD_UINT4 = 21, OD_INT4 = 22,
	OD_DTYPE_MAX = 22
};

OD_API const char *od_dtype_name(int dtype);        /* "float", "int64", ...; "dtype(99)" style for unknown */
OD_API int od_dtype_from_name(const char *name);    /* OD_UNDEFINED when unknown */
OD_API size_t od_dtype_size(int dtype);             /* bytes per element; 0 for string/undefined/4-bit */
OD_API bool od_dtype_is_float(int dtype);

/* ---- tensors ----------------------------------------------------------------------- */

struct od_bytes {
	size_t len;
	const uint8_t *data;
};

/* Where an external payload lives (data_location = EXTERNAL). */
struct od_external {
	const char *location;   /* relative to the model's folder, as written in the file */
	int64_t offset;         /* bytes into the side file */
	int64_t length;         /* bytes, -1 when not given */
};

/* A sparse tensor (SparseTensorProto): nnz values at increasing linear indices of the
 * dense shape, every other element zero. */
struct od_sparse {
	struct od_tensor *values;  /* rank 1, nnz elements; its name is the tensor's */
	struct od_tensor *indices; /* int64 [nnz] (linear) or [nnz,rank] (coordinates) as
	                              stored; NULL when nnz is 0 and none are given */
	int64_t nnz;
	const int64_t *lin;     /* nnz linear indices, strictly increasing (checked at load);
	                           NULL when the payloads were not read (no_external) */
	const void *src;        /* the Onnx__SparseTensorProto it came from */
};

struct od_tensor {
	const char *name;       /* arena; "" when unnamed (attribute tensors) */
	int dtype;              /* enum od_dtype */
	int ndims;
	int64_t *dims;          /* arena, ndims entries */
	int64_t numel;          /* product of dims (1 for a scalar) */
	const void *data;       /* little-endian packed elements: a view into the mapped file
	                           or external file, or arena memory. NULL for strings */
	size_t nbytes;          /* bytes at data */
	struct od_bytes *strings; /* OD_STRING only: numel entries, arena */
	const struct od_external *ext; /* non-NULL when the payload came from a side file */
	uint64_t hash;          /* xxh3 of dtype, dims and content once hashed */
	bool hashed;
	const struct od_tensor *same_bytes; /* a tensor of another model whose payload
	                           od_models_hash() found byte-equal; valid while hashed is */
	const void *src;        /* the Onnx__TensorProto it came from, NULL when built here;
	                           the writer reuses it as long as data_dirty is false */
	bool data_dirty;        /* set when name/dims/data were replaced after loading */
	const struct od_sparse *sparse; /* non-NULL for a sparse tensor: dtype, dims and numel
	                           are the dense ones, data and strings are NULL, nbytes counts
	                           the stored values and indices; arena */
};

/* xxh3-64 of dtype, dims and payload, computed once and cached in t->hash. */
OD_API uint64_t od_tensor_hash(struct od_tensor *t);
/* Hashes the tensors not hashed yet on up to threads threads (0: one per CPU, at most 8),
 * largest payloads first, so that later od_tensor_hash() calls are free. 0 or OD_ENOMEM. */
OD_API int od_tensors_hash(struct od_tensor **ts, size_t n, int threads);
/* The same for every payload of the models (initializers and attribute tensors, subgraphs
 * and functions included). With two models, tensors that probably correspond (same name,
 * else same size in file order) are compared while they are hashed, so od_tensor_equal()
 * need not read them again: a diff calls it once on both models before comparing. */
struct od_model;
OD_API int od_models_hash(struct od_model *const *models, size_t n_models, int threads);
/* Content equality (dtype, dims, bytes). A sparse tensor equals only a sparse tensor
 * with the same dense content (its hash covers the nonzero elements and their indices). */
OD_API bool od_tensor_equal(const struct od_tensor *a, const struct od_tensor *b);
/* Element i as double (for floats, ints, bools; sparse ones too); NAN for strings. Not
 * exact for 64-bit integers past 2^53: compare and print those with od_tensor_get_int(). */
OD_API double od_tensor_get_f64(const struct od_tensor *t, int64_t i);
OD_API bool od_dtype_is_int(int dtype);             /* int8..int64, uint8..uint64 and bool */
OD_API bool od_dtype_is_unsigned(int dtype);        /* uint8..uint64 and bool */
/* Element i of an integer or bool tensor, exactly: *u for unsigned dtypes, *s for signed
 * ones (the other is 0). false when t is not an integer tensor or i is out of range. */
OD_API bool od_tensor_get_int(const struct od_tensor *t, int64_t i, int64_t *s, uint64_t *u);
/* Element i as text into buf: integers exactly, floats as the shortest text that reads back
 * as the same value of their dtype ("1.0", "-0.0", "nan", "inf"), bools as true/false,
 * strings quoted (at most 40 bytes shown). Returns buf. */
OD_API char *od_tensor_elem_text(const struct od_tensor *t, int64_t i, char *buf, size_t n);
/* v as the shortest text that reads back as the same value of float dtype dtype (OD_DOUBLE,
 * else float32's rule, which also holds for float16/bfloat16), "1.0" rather than "1".
 * buf needs 32 bytes. Returns buf. */
OD_API char *od_float_text(double v, int dtype, char *buf, size_t n);
/* A new tensor of dtype/dims with zeroed payload in the arena. ndims may be 0 (scalar). */
OD_API struct od_tensor *od_tensor_new(struct od_arena *a, const char *name, int dtype,
                                       int ndims, const int64_t *dims);
/* Deep copy into arena a (payload copied). */
OD_API struct od_tensor *od_tensor_clone(struct od_arena *a, const struct od_tensor *t);
/* Sets element i from a double, converting to t->dtype (saturating integers). */
OD_API void od_tensor_set_f64(struct od_tensor *t, int64_t i, double v);
/* "[2,3]" or "[]" into buf; returns buf. */
OD_API char *od_shape_str(const struct od_tensor *t, char *buf, size_t n);
/* "float[2,3]", the text of a tensor's type everywhere onnxdiff prints one; lives in arena
 * a, NULL when out of memory. */
OD_API char *od_tensor_type_text(struct od_arena *a, const struct od_tensor *t);

/* Parses a value for an input: a literal ("0.5", "[[1,0],[0,1]]", "true"), "@file.npy" or
 * "@file.pb" (serialized TensorProto). dtype is the wanted element type (OD_UNDEFINED to
 * infer). The tensor lives in arena a. */
OD_API int od_tensor_parse(struct od_arena *a, const char *spec, int dtype,
                           struct od_tensor **out, struct od_ctx *ctx);
/* Reads a serialized TensorProto file into arena a (payload copied). */
OD_API int od_tensor_load_pb(struct od_arena *a, const char *path, struct od_tensor **out,
                             struct od_ctx *ctx);
OD_API int od_tensor_load_npy(struct od_arena *a, const char *path, struct od_tensor **out,
                              struct od_ctx *ctx);
/* Writes t as a NumPy .npy file (bfloat16 as float32), atomically: a temporary file beside
 * path, renamed when complete. OD_EUNSUPPORTED for strings and types NumPy lacks. */
OD_API int od_tensor_save_npy(const struct od_tensor *t, const char *path, struct od_ctx *ctx);
OD_API int od_tensor_load_pb_buffer(struct od_arena *a, const void *buf, size_t len,
                                    struct od_tensor **out, struct od_ctx *ctx);

/* ---- types of values (graph inputs, outputs, value_info) ---------------------------- */

enum od_type_kind {
	OD_TYPE_NONE = 0,       /* no type given */
	OD_TYPE_TENSOR,
	OD_TYPE_SPARSE_TENSOR,
	OD_TYPE_SEQUENCE,
	OD_TYPE_MAP,
	OD_TYPE_OPTIONAL,
	OD_TYPE_OTHER
};

struct od_dim {
	int64_t value;          /* >= 0 when known */
	const char *param;      /* symbolic name, or NULL; value is -1 when neither is set */
};

struct od_value {
	const char *name;       /* arena */
	int kind;               /* enum od_type_kind */
	int dtype;              /* element type for tensor kinds */
	int rank;               /* -1 when the shape is unknown */
	struct od_dim *dims;    /* arena, rank entries */
	const char *type_str;   /* canonical text of the whole type: "tensor(float)[N,3]",
	                           "seq(tensor(float))", ... arena */
	const char *doc_string; /* arena or NULL */
	const void *src;        /* Onnx__ValueInfoProto, NULL when built here */
	bool dirty;             /* type changed after loading: the writer rebuilds it */
};

/* ---- attributes, nodes, graphs ----------------------------------------------------- */

enum od_attr_type {
	OD_ATTR_UNDEFINED = 0, OD_ATTR_FLOAT = 1, OD_ATTR_INT = 2, OD_ATTR_STRING = 3,
	OD_ATTR_TENSOR = 4, OD_ATTR_GRAPH = 5, OD_ATTR_FLOATS = 6, OD_ATTR_INTS = 7,
	OD_ATTR_STRINGS = 8, OD_ATTR_TENSORS = 9, OD_ATTR_GRAPHS = 10,
	OD_ATTR_SPARSE_TENSOR = 11, OD_ATTR_SPARSE_TENSORS = 12,
	OD_ATTR_TYPE_PROTO = 13, OD_ATTR_TYPE_PROTOS = 14
};

struct od_graph;

struct od_attr {
	const char *name;
	int type;               /* enum od_attr_type */
	float f;
	int64_t i;
	struct od_bytes s;
	struct od_tensor *t;     /* TENSOR, SPARSE_TENSOR (t->sparse set) */
	struct od_graph *g;
	size_t n;               /* entries of the list that type names */
	float *floats;
	int64_t *ints;
	struct od_bytes *strings;
	struct od_tensor **tensors; /* TENSORS, SPARSE_TENSORS */
	struct od_graph **graphs;
	const char **types;     /* TYPE_PROTO (1 entry) and TYPE_PROTOS (n): canonical type
	                           text as struct od_value's type_str; arena */
	const char *ref_attr_name; /* inside functions; NULL otherwise */
	const void *src;        /* Onnx__AttributeProto; writer reuses it unless dirty */
	bool dirty;
};

struct od_node {
	const char *op_type;
	const char *domain;     /* "" for the default ONNX domain */
	const char *name;       /* "" when unnamed */
	size_t n_inputs;
	const char **inputs;    /* "" marks an omitted optional input */
	size_t n_outputs;
	const char **outputs;
	size_t n_attrs;
	struct od_attr *attrs;
	const void *src;        /* Onnx__NodeProto; the writer copies its other fields */
};

struct od_graph {
	const char *name;
	struct od_graph *parent;     /* enclosing graph for subgraphs, NULL at the top */
	const struct od_node *owner; /* node whose attribute holds this graph, or NULL */
	const char *owner_attr;      /* "then_branch", "body", ... or NULL */
	size_t n_nodes, cap_nodes;
	struct od_node **nodes;
	size_t n_inputs, cap_inputs;
	struct od_value **inputs;
	size_t n_outputs, cap_outputs;
	struct od_value **outputs;
	size_t n_value_info, cap_value_info;
	struct od_value **value_info;
	size_t n_inits, cap_inits;
	struct od_tensor **inits;    /* initializers, then sparse initializers (t->sparse set) */
	const char *doc_string;
	const void *src;             /* Onnx__GraphProto */
};

struct od_opset {
	const char *domain;     /* "" for ai.onnx */
	int64_t version;
	const void *src;        /* Onnx__OperatorSetIdProto, reused while unchanged */
};

struct od_prop {
	const char *key;
	const char *value;
	const void *src;        /* Onnx__StringStringEntryProto, reused while unchanged */
};

struct od_function {
	const char *name;
	const char *domain;
	size_t n_attr_names;
	const char **attr_names;
	size_t n_opsets;
	struct od_opset *opsets;
	struct od_graph *body;  /* inputs/outputs as untyped values (kind OD_TYPE_NONE), nodes */
	const void *src;        /* Onnx__FunctionProto */
};

struct od_model {
	int64_t ir_version;
	const char *producer_name;
	const char *producer_version;
	const char *domain;
	int64_t model_version;
	const char *doc_string;
	size_t n_opsets;
	struct od_opset *opsets;
	size_t n_props;
	struct od_prop *props;       /* metadata_props */
	struct od_graph *graph;
	size_t n_functions;
	struct od_function **functions;
	size_t file_size;            /* bytes of the .onnx file */
	const char *path;            /* as given to od_model_load, arena */
	struct od_arena *arena;      /* owns everything above */
	void *priv;                  /* mapping, protobuf skeleton: model.c only */
};

/* ---- loading and saving -------------------------------------------------------------- */

struct od_load_opts {
	bool no_external;        /* do not resolve external data (payloads stay NULL) */
	size_t max_depth;        /* subgraph nesting limit, 0 for the default (64) */
	const struct od_model *ext_from; /* a model loaded before from the same file: its mapped
	                            side files are used for the locations it has (they keep
	                            the bytes it read after the files are replaced); it must
	                            outlive the new model */
};

/* Loads path into *out (caller frees with od_model_free()). opts may be NULL. */
OD_API int od_model_load(const char *path, const struct od_load_opts *opts,
                         struct od_model **out, struct od_ctx *ctx);
/* The same from memory; buf must outlive the model. name is used in messages; external
 * data is resolved relative to dir (NULL refuses external data). */
OD_API int od_model_load_buffer(const void *buf, size_t len, const char *name, const char *dir,
                                const struct od_load_opts *opts, struct od_model **out,
                                struct od_ctx *ctx);
OD_API void od_model_free(struct od_model *m);

struct od_save_opts {
	bool external_data;      /* write payloads >= external_min bytes to a side file; also
	                            done when they would pass protobuf's 2 GB limit. Payloads
	                            that came from a side file always go to one */
	size_t external_min;     /* 0 for the default (1024) */
	const char *external_name; /* side file name; default "<out>.<hash>.data", named after
	                            its content (an xxh3 of its payloads' od_tensor_hash), so
	                            that a model and its side file are replaced as a pair: see
	                            od_model_save */
	bool replace_input;      /* path may be the model's own file (freeze --force) */
};

/* Writes m to path atomically. Only a regular file or a new name is written: a folder, a
 * device, a fifo or a socket is refused, so is any file m reads (its side files always,
 * its own file unless replace_input). The model and its side file are written to
 * temporary files beside path (O_TMPFILE where the filesystem has it, so not even SIGKILL
 * leaves one behind), synced, then, holding a lock on the folder: the side file is linked
 * under its content name, the model renamed over path (keeping path's mode), and the side
 * files of earlier versions of path ("<out>.data", "<out>.<hash>.data") removed unless m
 * reads them. So path always names a complete model whose side file exists and is its
 * own, also with concurrent writers. On failure nothing is left behind. opts may be NULL. */
OD_API int od_model_save(struct od_model *m, const char *path, const struct od_save_opts *opts,
                         struct od_ctx *ctx);
/* Removes the temporary files of a save in progress: async-signal-safe, for a front end's
 * SIGINT/SIGTERM handler (which then dies of the signal). */
OD_API void od_save_cleanup(void);
/* Serialises m into a malloc'd buffer (caller frees with free()). */
OD_API int od_model_serialize(struct od_model *m, void **buf, size_t *len, struct od_ctx *ctx);

/* Structural validation the loader runs: unique value names, defined inputs, acyclic.
 * Also usable after a rewrite. */
OD_API int od_model_validate(const struct od_model *m, struct od_ctx *ctx);

/* ---- rendering ------------------------------------------------------------------------- */

/* Renderers write through this callback (stdout in the CLI, a pane in the TUI, a buffer in
 * tests); a non-zero return stops them and is passed back. */
typedef int (*od_write_fn)(void *priv, const char *buf, size_t len);

/* What `onnxdiff show` prints: text for people, JSON ("schema": "onnxdiff-show/1"). */
OD_API int od_show_text(struct od_model *m, od_write_fn out, void *priv);
OD_API int od_show_json(struct od_model *m, od_write_fn out, void *priv);

/* The interface assertions of `onnxdiff check` (and `freeze --expect-inputs`). NULL lists
 * are not checked; an empty list given by the user is a list of zero names. */
struct od_check_spec {
	const char *const *inputs;   /* exactly these graph inputs (any order) */
	size_t n_inputs;
	bool check_inputs;
	const char *const *outputs;  /* exactly these graph outputs */
	size_t n_outputs;
	bool check_outputs;
	const char *const *absent;   /* no graph input of these names */
	size_t n_absent;
	const char *const *present;  /* graph inputs that must exist */
	size_t n_present;
	const char *const *no_ops;   /* no node of these op types, in any subgraph either */
	size_t n_no_ops;
};
/* Writes one line per failed assertion through out; returns how many failed (>= 0) or a
 * negative error from out. */
OD_API int od_check(const struct od_model *m, const struct od_check_spec *spec, od_write_fn out,
                    void *priv);

/* Opset version the model imports for domain ("" and "ai.onnx" are the same); a domain
 * imported twice: the last import counts, as in onnx.checker. 0 if none. */
OD_API int64_t od_model_opset(const struct od_model *m, const char *domain);

/* ---- graph helpers (graph.c) ----------------------------------------------------------- */

OD_API struct od_node *od_node_new(struct od_arena *a, const char *op_type, const char *domain,
                                   const char *name);
OD_API struct od_attr *od_node_attr(const struct od_node *n, const char *name); /* NULL if absent */
OD_API int od_graph_add_node(struct od_arena *a, struct od_graph *g, struct od_node *n);
OD_API int od_graph_add_init(struct od_arena *a, struct od_graph *g, struct od_tensor *t);
/* Finds an initializer / input / output by name; NULL when absent. */
OD_API struct od_tensor *od_graph_find_init(const struct od_graph *g, const char *name);
/* "float[batch,4]" ("?" for an unknown dim, "float" for an unknown rank), the loader's
 * type text for other kinds, "(no type)" when there is none: the text of a value's type
 * everywhere onnxdiff prints one. Lives in arena a, NULL when out of memory. */
OD_API char *od_value_type_text(struct od_arena *a, const struct od_value *v);
OD_API struct od_value *od_graph_find_input(const struct od_graph *g, const char *name);
OD_API struct od_value *od_graph_find_output(const struct od_graph *g, const char *name);
/* Removes the input named name from g->inputs; returns 0 or OD_ENOTFOUND. */
OD_API int od_graph_remove_input(struct od_graph *g, const char *name);
/* Node indices of g in a topological order (inputs before consumers); caller frees with
 * free(). Counts outer-scope names as defined. OD_EGRAPH on a cycle. */
OD_API int od_graph_topo_order(const struct od_graph *g, size_t **order, struct od_ctx *ctx);
/* Initializers that are also graph inputs (overridable defaults). */
OD_API bool od_graph_init_is_input(const struct od_graph *g, const struct od_tensor *t);
/* Counts nodes of g and all subgraphs below it. */
OD_API size_t od_graph_count_nodes(const struct od_graph *g);
OD_API size_t od_graph_count_subgraphs(const struct od_graph *g);

#ifdef __cplusplus
}
#endif
#endif /* OD_H */
