/*
 * internal.h — helpers shared by the library's modules, not exported.
 */
#ifndef OD_INTERNAL_H
#define OD_INTERNAL_H

#include <stddef.h>
#include <sys/types.h>
#include <stdarg.h>
#include <stdio.h>
#include "od.h"

/* Allocation goes through these so tests can make the n-th allocation fail (fault.c). */
void *od_malloc(size_t n);
void *od_calloc(size_t n, size_t sz);
void *od_realloc(void *p, size_t n);
void od_free(void *p);
/* Room for element n of the malloc'd array p (sz bytes each, *cap of them): p itself while
 * n < *cap, else p grown to twice *cap (first when 0), overflow-checked; NULL when out of
 * memory, p then untouched. (arena.c) */
void *od_grow(void *p, size_t n, size_t sz, size_t *cap, size_t first);
/* write(2)-like wrapper the writer uses, so tests can simulate a full disk. */
size_t od_fwrite(const void *p, size_t sz, size_t n, FILE *f);
/* Appends len bytes of the file open on in, from off, to out, file to file
 * (copy_file_range(), else pread()); 0, or -1 with errno set. */
int od_copy_range(int in, off_t off, FILE *out, size_t len);

/* Test-only switches from the environment (fault-injection builds; false otherwise):
 * ONNXDIFF_FAULT_NO_OPENAT2, ONNXDIFF_FAULT_NO_TMPFILE take the fallback paths. */
bool od_fault_env(const char *name);

#ifdef OD_FAULT_INJECTION
/* Test hooks: fail the n-th allocation (1-based) from now on / the n-th write. 0 disables. */
void od_fault_alloc_after(long n);
void od_fault_write_after(long n);
long od_fault_alloc_count(void);
/* Counts an allocation that does not go through od_malloc (the arena's bump allocations),
 * so each one can fail in turn; true when this one must fail. */
bool od_fault_alloc_fails(void);
#endif


/* Makes ctx's message name the file it is about: "cannot load 'path': <message>", unless the
 * message already names it (err.c). Returns code. */
int od_error_in(struct od_ctx *ctx, int code, const char *path);
/* Reads a whole regular file into a malloc'd buffer (od_free); never blocks on a fifo. */
int od_read_file(const char *path, uint8_t **buf, size_t *len, struct od_ctx *ctx);
/* Writes s[0..n) through out with the control characters of s[0..keep) escaped as
 * od_text_escape does (text.c): names from a file must not break lines or reach the terminal raw. */
int od_write_text(od_write_fn out, void *priv, const char *s, size_t n, size_t keep);
/* Formats fmt and writes it as od_write_text does (a newline that ends fmt stays); keeps
 * the first error in *rc and does nothing once it is set. (text.c) */
void od_vprintf_text(od_write_fn out, void *priv, int *rc, const char *fmt, va_list ap);
/* A renderer's output: the callback and the first error it returned. */
struct od_printer {
	od_write_fn out;
	void *priv;
	int rc;                 /* the first error; once set, nothing more is written */
};
/* Writes formatted text through p, names in it escaped (od_vprintf_text). (text.c) */
void od_print(struct od_printer *p, const char *fmt, ...) OD_PRINTF(2, 3);
/* A JSON string (jansson's json_t) of text from a file: bytes that are not valid UTF-8 become
 * U+FFFD (jansson refuses them). NULL only when out of memory. (text.c) */
struct json_t;
struct json_t *od_json_text(const char *s);
/* "512 B", "1.5 KiB", "3.2 GiB" into buf; returns buf. */
const char *od_bytes_text(char *buf, size_t n, double bytes);
/* Calls fn for every name the subgraphs of node n read, recursively (they may come from
 * an enclosing graph); a non-zero return stops the walk and is returned as -1. */
int od_node_each_subgraph_ref(const struct od_node *n, int (*fn)(const char *, void *), void *priv);
/* Whether domain names the default operator set: NULL, "" and "ai.onnx" are the same. */
bool od_domain_is_onnx(const char *domain);
/* The version an import list o[0..n) gives domain; a domain listed twice: the last import
 * counts, as in onnx.checker. 0 if the list does not import it. */
int64_t od_opsets_version(const struct od_opset *o, size_t n, const char *domain);

/* Overflow-checked arithmetic for sizes read from files. */
static inline int od_mul_size(size_t a, size_t b, size_t *out)
{
	return __builtin_mul_overflow(a, b, out) ? -1 : 0;
}

/* Limits on what a file may ask for (documented in README "Limits"). */
#define OD_MAX_DEPTH_DEFAULT 64      /* nested subgraphs */
#define OD_MAX_RANK 64               /* tensor dims */
#define OD_MAX_NUMEL (INT64_C(1) << 40)



/* ---- the files behind a loaded model's payloads (external.c) ---------------------------
 * Passes that read every payload byte once (hashing) read them with pread() into a small
 * buffer: on 4 KiB pages, touching hundreds of megabytes through the mapping costs about
 * three times what the kernel's copy does. Values (deltas, folding) still use the mapping. */
/* od_arena_alloc without the zeroing where the block is big enough for a chunk of its own
 * (the evaluator's outputs that its kernels write whole). */
void *od_arena_alloc_uninit(struct od_arena *a, size_t n);
struct od_tensor *od_tensor_new_uninit(struct od_arena *a, const char *name, int dtype,
                                       int ndims, const int64_t *dims);

struct od_source {
	const uint8_t *base;    /* a mapped file of the model */
	size_t len;
	int fd;                 /* the same file, open for pread(); owned by the model */
};
/* Appends the model's mapped files that are open to *v (od_realloc'd, *n entries, *cap
 * allocated); none for a model loaded from a buffer. 0 or OD_ENOMEM. */
struct od_model;
int od_model_sources(const struct od_model *m, struct od_source **v, size_t *n, size_t *cap);
/* Reads len bytes at off of fd into buf, through short reads and EINTR; returns how many
 * it got (fewer at the end of the file or on an error). */
size_t od_pread_full(int fd, void *buf, size_t len, off_t off);
/* The descriptor of the source holding the len bytes at p (*off: where in the file), or
 * -1. A model keeps at most 65 files open, so a scan will do. */
int od_source_find(const struct od_source *v, size_t n, const void *p, size_t len, off_t *off);

/* ---- a string -> size_t hash map (open addressing), for name lookups (map.c) ---------- */
struct od_map {
	size_t cap, n;          /* cap is a power of two */
	const char **keys;      /* borrowed, not copied */
	size_t *vals;
};
int od_map_init(struct od_map *m, size_t expected);   /* 0 or OD_ENOMEM */
void od_map_done(struct od_map *m);
/* Inserts key -> val; returns 1 when key was already there (its value is left alone),
 * 0 when inserted, OD_ENOMEM. */
int od_map_put(struct od_map *m, const char *key, size_t val);
/* True when found; *val receives the value. */
bool od_map_get(const struct od_map *m, const char *key, size_t *val);
#endif
