/*
 * tensor.c — element types and tensor values: the dtype table, content hashes (xxh3),
 * element access as double, and construction in an arena.
 */
#include "config.h"
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#define XXH_STATIC_LINKING_ONLY
#include <xxhash.h>
#include "internal.h"
#include "sparse.h"

/* One row per ONNX TensorProto.DataType: name as ONNX spells it, bytes, is floating. */
static const struct dtype_info {
	const char *name;
	unsigned char size;
	bool is_float;
} dtypes[OD_DTYPE_MAX + 1] = {
	[OD_UNDEFINED] = {"undefined", 0, false},
	[OD_FLOAT] = {"float", 4, true},
	[OD_UINT8] = {"uint8", 1, false},
	[OD_INT8] = {"int8", 1, false},
	[OD_UINT16] = {"uint16", 2, false},
	[OD_INT16] = {"int16", 2, false},
	[OD_INT32] = {"int32", 4, false},
	[OD_INT64] = {"int64", 8, false},
	[OD_STRING] = {"string", 0, false},
	[OD_BOOL] = {"bool", 1, false},
	[OD_FLOAT16] = {"float16", 2, true},
	[OD_DOUBLE] = {"double", 8, true},
	[OD_UINT32] = {"uint32", 4, false},
	[OD_UINT64] = {"uint64", 8, false},
	[OD_COMPLEX64] = {"complex64", 8, true},
	[OD_COMPLEX128] = {"complex128", 16, true},
	[OD_BFLOAT16] = {"bfloat16", 2, true},
	[OD_FLOAT8E4M3FN] = {"float8e4m3fn", 1, true},
	[OD_FLOAT8E4M3FNUZ] = {"float8e4m3fnuz", 1, true},
	[OD_FLOAT8E5M2] = {"float8e5m2", 1, true},
	[OD_FLOAT8E5M2FNUZ] = {"float8e5m2fnuz", 1, true},
	[OD_UINT4] = {"uint4", 0, false},
	[OD_INT4] = {"int4", 0, false},
};

const char *od_dtype_name(int dtype)
{
	if (dtype < 0 || dtype > OD_DTYPE_MAX)
		return "unknown";
	return dtypes[dtype].name;
}

int od_dtype_from_name(const char *name)
{
	for (int i = 1; i <= OD_DTYPE_MAX; i++)
		if (!strcmp(dtypes[i].name, name))
			return i;
	if (!strcmp(name, "float32"))
		return OD_FLOAT;
	if (!strcmp(name, "float64"))
		return OD_DOUBLE;
	return OD_UNDEFINED;
}

/* od_dtype_size() for the element loops here: an exported function is called through the
 * PLT even from inside the library, which made up a third of a 2M-element tensor compare. */
static inline size_t esize(int dtype)
{
	return dtype < 0 || dtype > OD_DTYPE_MAX ? 0 : dtypes[dtype].size;
}

size_t od_dtype_size(int dtype)
{
	return esize(dtype);
}

bool od_dtype_is_float(int dtype)
{
	return dtype >= 0 && dtype <= OD_DTYPE_MAX && dtypes[dtype].is_float;
}

/* Bytes of payload for dtype and numel; sub-byte types pack two per byte. */
static size_t payload_bytes(int dtype, int64_t numel)
{
	if (dtype == OD_UINT4 || dtype == OD_INT4)
		return (size_t)(numel + 1) / 2;
	return (size_t)numel * od_dtype_size(dtype);
}

/* Starts the hash of t: dtype and dims; the payload follows. */
static void hash_head(XXH3_state_t *st, const struct od_tensor *t)
{
	XXH3_64bits_reset(st);
	int32_t head[2] = {t->dtype, t->ndims};
	XXH3_64bits_update(st, head, sizeof head);
	if (t->ndims)
		XXH3_64bits_update(st, t->dims, (size_t)t->ndims * sizeof *t->dims);
}

uint64_t od_tensor_hash(struct od_tensor *t)
{
	if (t->hashed)
		return t->hash;
	XXH3_state_t st;
	hash_head(&st, t);
	if (t->sparse) {
		od_sparse_hash(&st, t);
	} else if (t->dtype == OD_STRING && t->strings) {
		for (int64_t i = 0; i < t->numel; i++) {
			uint64_t len = t->strings[i].len;
			XXH3_64bits_update(&st, &len, sizeof len);
			XXH3_64bits_update(&st, t->strings[i].data, t->strings[i].len);
		}
	} else if (t->data) {
		XXH3_64bits_update(&st, t->data, t->nbytes);
	}
	t->hash = XXH3_64bits_digest(&st);
	t->hashed = true;
	return t->hash;
}

/* ---- hashing many tensors at once --------------------------------------------------------
 * Hashing is the one pass over every payload byte a diff needs; on a 350 MB export it takes
 * as long as reading the file, and confirming equal hashes with memcmp() used to read both
 * files a second time. So when two models are hashed together, tensors that probably
 * correspond (same name, else the same size in file order) are hashed side by side in
 * chunks that stay in the CPU cache and compared while there: the bytes are read from
 * memory once, and od_tensor_equal() trusts what was compared. Threads take work items
 * from a shared counter, largest first; results are written back by the calling thread. */

#define HASH_THREADS_MAX 8
#define HASH_PARALLEL_MIN (8u << 20)    /* fewer payload bytes than this: one thread */
#define HASH_CHUNK (128u << 10)         /* compare A and B, hash A (and B): stays in L2;
                                           64 KiB to 1 MiB measured the same within noise */
#define PAIR_MIN 4096                   /* smaller payloads are compared when asked */

/* Where a payload's bytes are read from: the file with pread() when it is one of the
 * model's open sources, else the mapping (or arena memory) at t->data. */
struct hash_src {
	int fd;                 /* -1: read t->data */
	off_t off;
};

struct hash_item {
	struct od_tensor *a, *b; /* b: a's likely counterpart in the other model, or NULL */
	struct hash_src sa, sb;
	size_t bytes;
	uint64_t ha, hb;
	bool same;              /* a and b have byte-equal payloads */
};

struct hash_job {
	struct hash_item *items;
	size_t n;
	atomic_size_t next;
};

static bool same_head(const struct od_tensor *a, const struct od_tensor *b)
{
	return a->dtype == b->dtype && a->ndims == b->ndims &&
	       (!a->ndims || !memcmp(a->dims, b->dims, (size_t)a->ndims * sizeof *a->dims));
}

/* len bytes of t's payload from off: copied into buf from the file, or, when the tensor
 * has no open file or the read falls short (the file shrank: the mapping would fault
 * the same way), a pointer into t->data. */
static const uint8_t *chunk_at(const struct od_tensor *t, const struct hash_src *src,
                               uint8_t *buf, size_t off, size_t len)
{
	if (src->fd >= 0 && buf && od_pread_full(src->fd, buf, len, src->off + (off_t)off) == len)
		return buf;
	return (const uint8_t *)t->data + off;
}

/* While the bytes agree (and dtype and dims do), B's hash state is A's: only A is hashed
 * and B is compared, and B's state is forked from A's at the first chunk that differs.
 * buf holds 2 * HASH_CHUNK bytes (NULL: read the mappings). */
static void hash_pair(struct hash_item *it, uint8_t *buf)
{
	XXH3_state_t sa, sb;
	size_t n = it->a->nbytes;
	bool shared = same_head(it->a, it->b), equal = true;
	hash_head(&sa, it->a);
	if (!shared)
		hash_head(&sb, it->b);
	for (size_t off = 0; off < n; off += HASH_CHUNK) {
		size_t len = n - off < HASH_CHUNK ? n - off : HASH_CHUNK;
		const uint8_t *pa = chunk_at(it->a, &it->sa, buf, off, len);
		const uint8_t *pb = chunk_at(it->b, &it->sb, buf ? buf + HASH_CHUNK : NULL, off, len);
		equal = equal && !memcmp(pa, pb, len);
		if (shared && !equal) {
			XXH3_copyState(&sb, &sa);
			shared = false;
		}
		XXH3_64bits_update(&sa, pa, len);
		if (!shared)
			XXH3_64bits_update(&sb, pb, len);
	}
	it->same = equal;
	it->ha = XXH3_64bits_digest(&sa);
	it->hb = shared ? it->ha : XXH3_64bits_digest(&sb);
}

/* The hash of one tensor; its payload read through buf (HASH_CHUNK bytes) from a file. */
static uint64_t hash_one(const struct od_tensor *t, const struct hash_src *src, uint8_t *buf)
{
	if (src->fd < 0 || !buf || t->dtype == OD_STRING) {
		struct od_tensor copy = *t;     /* threads never write a tensor */
		copy.hashed = false;
		return od_tensor_hash(&copy);
	}
	XXH3_state_t st;
	hash_head(&st, t);
	for (size_t off = 0; off < t->nbytes; off += HASH_CHUNK) {
		size_t len = t->nbytes - off < HASH_CHUNK ? t->nbytes - off : HASH_CHUNK;
		XXH3_64bits_update(&st, chunk_at(t, src, buf, off, len), len);
	}
	return XXH3_64bits_digest(&st);
}

struct hash_thread {
	struct hash_job *j;
	uint8_t *buf;           /* 2 * HASH_CHUNK bytes of this thread's */
};

static void *hash_worker(void *arg)
{
	struct hash_thread *t = arg;
	struct hash_job *j = t->j;
	for (size_t k; (k = atomic_fetch_add(&j->next, 1)) < j->n; ) {
		struct hash_item *it = &j->items[k];
		if (it->b)
			hash_pair(it, t->buf);
		else
			it->ha = hash_one(it->a, &it->sa, t->buf);
	}
	return NULL;
}

static int by_size_desc(const void *x, const void *y)
{
	size_t a = ((const struct hash_item *)x)->bytes, b = ((const struct hash_item *)y)->bytes;
	return a < b ? 1 : a > b ? -1 : 0;
}

static int hash_threads(int threads)
{
	if (threads <= 0) {
		long cpus = sysconf(_SC_NPROCESSORS_ONLN);
		threads = cpus < 1 ? 1 : (int)(cpus < HASH_THREADS_MAX ? cpus : HASH_THREADS_MAX);
	}
	return threads < HASH_THREADS_MAX ? threads : HASH_THREADS_MAX;
}

static int run_items(struct hash_item *items, size_t n, size_t bytes, int threads)
{
	struct hash_job j = {items, n, 0};
	pthread_t tid[HASH_THREADS_MAX];
	struct hash_thread ht[HASH_THREADS_MAX];
	int started = 0;
	threads = hash_threads(threads);
	if (bytes < HASH_PARALLEL_MIN)
		threads = 1;
	uint8_t *bufs = od_malloc((size_t)threads * 2 * HASH_CHUNK);
	if (!bufs)
		return OD_ENOMEM;
	for (int i = 0; i < threads; i++)
		ht[i] = (struct hash_thread){&j, bufs + (size_t)i * 2 * HASH_CHUNK};
	qsort(items, n, sizeof *items, by_size_desc);
	while (started < threads - 1 && (size_t)started + 1 < n &&
	       !pthread_create(&tid[started], NULL, hash_worker, &ht[started + 1]))
		started++;
	hash_worker(&ht[0]);    /* this thread works too; alone if none could start */
	for (int i = 0; i < started; i++)
		pthread_join(tid[i], NULL);
	od_free(bufs);
	for (size_t k = 0; k < n; k++) {
		struct hash_item *it = &items[k];
		it->a->hash = it->ha;
		it->a->hashed = true;
		if (it->b) {
			it->b->hash = it->hb;
			it->b->hashed = true;
			it->a->same_bytes = it->same ? it->b : NULL;
			it->b->same_bytes = it->same ? it->a : NULL;
		}
	}
	return 0;
}

/* Whether a and b may be compared chunk by chunk while hashing. */
static bool pairable(const struct od_tensor *a, const struct od_tensor *b)
{
	return b && !b->hashed && a->dtype != OD_STRING && b->dtype != OD_STRING &&
	       a->data && b->data && a->nbytes == b->nbytes && a->nbytes >= PAIR_MIN;
}

struct sized {
	size_t bytes, seq;
};

static int by_size_seq(const void *x, const void *y)
{
	const struct sized *a = x, *b = y;
	if (a->bytes != b->bytes)
		return a->bytes < b->bytes ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* partner[i] = index in tb of ta[i]'s likely counterpart, or SIZE_MAX: the tensor of the
 * same name, else the k-th unpaired tensor of that size in B for the k-th one in A. */
static int find_partners(struct od_tensor **ta, size_t na, struct od_tensor **tb, size_t nb,
                         size_t *partner)
{
	struct od_map names = {0};
	bool *taken = od_calloc(nb + 1, sizeof *taken);
	struct sized *ua = od_malloc((na + 1) * sizeof *ua), *ub = od_malloc((nb + 1) * sizeof *ub);
	int rc = OD_ENOMEM;
	if (!taken || !ua || !ub || od_map_init(&names, nb))
		goto out;
	for (size_t i = 0; i < nb; i++)
		if (*tb[i]->name && od_map_put(&names, tb[i]->name, i) < 0)
			goto out;
	size_t nua = 0, nub = 0, j;
	for (size_t i = 0; i < na; i++) {
		partner[i] = SIZE_MAX;
		if (*ta[i]->name && od_map_get(&names, ta[i]->name, &j) && !taken[j] && pairable(ta[i], tb[j])) {
			partner[i] = j;
			taken[j] = true;
		} else if (pairable(ta[i], ta[i])) {
			ua[nua++] = (struct sized){ta[i]->nbytes, i};
		}
	}
	for (size_t i = 0; i < nb; i++)
		if (!taken[i] && pairable(tb[i], tb[i]))
			ub[nub++] = (struct sized){tb[i]->nbytes, i};
	qsort(ua, nua, sizeof *ua, by_size_seq);
	qsort(ub, nub, sizeof *ub, by_size_seq);
	for (size_t x = 0, y = 0; x < nua && y < nub; ) {
		if (ua[x].bytes != ub[y].bytes) {
			ua[x].bytes < ub[y].bytes ? x++ : y++;
			continue;
		}
		partner[ua[x++].seq] = ub[y++].seq;
	}
	rc = 0;
out:
	od_map_done(&names);
	od_free(taken);
	od_free(ua);
	od_free(ub);
	return rc;
}

struct sources {
	struct od_source *v;    /* od_free */
	size_t n, cap;
};

/* Where t's payload is read from: its file, or t->data. */
static struct hash_src src_of(const struct sources *s, const struct od_tensor *t)
{
	struct hash_src h = {-1, 0};
	if (t->dtype != OD_STRING)
		h.fd = od_source_find(s->v, s->n, t->data, t->nbytes, &h.off);
	return h;
}

/* Hashes ta (and tb, paired with ta where possible; tb may be NULL), reading payloads
 * that lie in one of the sources from its file. */
static int hash_lists(struct od_tensor **ta, size_t na, struct od_tensor **tb, size_t nb,
                      const struct sources *src, int threads)
{
	size_t *partner = od_malloc((na + 1) * sizeof *partner);
	struct hash_item *items = od_malloc((na + nb + 1) * sizeof *items);
	bool *done_b = od_calloc(nb + 1, sizeof *done_b);
	size_t n = 0, bytes = 0;
	int rc = OD_ENOMEM;
	if (!partner || !items || !done_b)
		goto out;
	if (tb && (rc = find_partners(ta, na, tb, nb, partner)))
		goto out;
	for (size_t i = 0; i < na; i++) {
		struct od_tensor *b = tb && partner[i] != SIZE_MAX ? tb[partner[i]] : NULL;
		if (ta[i]->hashed && !b)
			continue;
		if (ta[i]->hashed || (b && (b->hashed || b == ta[i])))  /* hashed, or listed twice */
			b = NULL;
		if (b)
			done_b[partner[i]] = true;
		if (!ta[i]->hashed) {
			items[n++] = (struct hash_item){.a = ta[i], .b = b, .sa = src_of(src, ta[i]),
			                                .sb = b ? src_of(src, b) : (struct hash_src){-1, 0},
			                                .bytes = ta[i]->nbytes + (b ? b->nbytes : 0)};
			bytes += items[n - 1].bytes;
		}
	}
	for (size_t i = 0; i < nb; i++)
		if (!done_b[i] && !tb[i]->hashed) {
			items[n++] = (struct hash_item){.a = tb[i], .sa = src_of(src, tb[i]),
			                                .bytes = tb[i]->nbytes};
			bytes += tb[i]->nbytes;
		}
	/* a tensor listed twice would be written back twice with the same result: harmless */
	rc = run_items(items, n, bytes, threads);
out:
	od_free(partner);
	od_free(items);
	od_free(done_b);
	return rc;
}

int od_tensors_hash(struct od_tensor **ts, size_t n, int threads)
{
	struct sources none = {0};
	return hash_lists(ts, n, NULL, 0, &none, threads);
}

static int collect(struct od_tensor ***v, size_t *n, size_t *cap, struct od_tensor *t)
{
	if (!t || (!t->data && !t->strings))
		return 0;
	struct od_tensor **p = od_grow(*v, *n, sizeof *p, cap, 256);
	if (!p)
		return OD_ENOMEM;
	*v = p;
	(*v)[(*n)++] = t;
	return 0;
}

static int collect_graph(struct od_tensor ***v, size_t *n, size_t *cap, const struct od_graph *g,
                         int depth)
{
	int rc = 0;
	if (!g || depth > OD_MAX_DEPTH_DEFAULT * 4)
		return 0;
	for (size_t i = 0; !rc && i < g->n_inits; i++)
		rc = collect(v, n, cap, g->inits[i]);
	for (size_t i = 0; !rc && i < g->n_nodes; i++) {
		const struct od_node *nd = g->nodes[i];
		for (size_t k = 0; !rc && k < nd->n_attrs; k++) {
			const struct od_attr *a = &nd->attrs[k];
			if (a->type == OD_ATTR_TENSOR)
				rc = collect(v, n, cap, a->t);
			else if (a->type == OD_ATTR_GRAPH)
				rc = collect_graph(v, n, cap, a->g, depth + 1);
			for (size_t e = 0; !rc && a->type == OD_ATTR_TENSORS && e < a->n; e++)
				rc = collect(v, n, cap, a->tensors[e]);
			for (size_t e = 0; !rc && a->type == OD_ATTR_GRAPHS && e < a->n; e++)
				rc = collect_graph(v, n, cap, a->graphs[e], depth + 1);
		}
	}
	return rc;
}

static int collect_model(struct od_tensor ***v, size_t *n, size_t *cap, const struct od_model *m)
{
	int rc = m ? collect_graph(v, n, cap, m->graph, 0) : 0;
	for (size_t f = 0; !rc && m && f < m->n_functions; f++)
		rc = collect_graph(v, n, cap, m->functions[f]->body, 0);
	return rc;
}

int od_models_hash(struct od_model *const *models, size_t n_models, int threads)
{
	struct od_tensor **v[2] = {NULL, NULL};
	size_t n[2] = {0, 0}, cap[2] = {0, 0};
	struct sources src = {0};
	int rc = 0;
	for (size_t m = 0; !rc && m < n_models; m++)   /* more than two: one list */
		rc = collect_model(&v[m == 1 && n_models == 2], &n[m == 1 && n_models == 2],
		                   &cap[m == 1 && n_models == 2], models[m]) ||
		     od_model_sources(models[m], &src.v, &src.n, &src.cap) ? OD_ENOMEM : 0;
	if (!rc)
		rc = hash_lists(v[0], n[0], v[1], n[1], &src, threads);
	od_free(v[0]);
	od_free(v[1]);
	od_free(src.v);
	return rc;
}

bool od_tensor_equal(const struct od_tensor *a, const struct od_tensor *b)
{
	if (a->dtype != b->dtype || a->ndims != b->ndims || a->numel != b->numel)
		return false;
	if (a->ndims && memcmp(a->dims, b->dims, (size_t)a->ndims * sizeof *a->dims))
		return false;
	if (a->sparse || b->sparse)
		return od_sparse_equal(a, b);
	if (a->dtype == OD_STRING) {
		if (!a->strings || !b->strings)
			return a->strings == b->strings;
		for (int64_t i = 0; i < a->numel; i++)
			if (a->strings[i].len != b->strings[i].len || (a->strings[i].len &&
			    memcmp(a->strings[i].data, b->strings[i].data, a->strings[i].len)))
				return false;
		return true;
	}
	if (a->nbytes != b->nbytes)
		return false;
	if (a->hashed && b->hashed && (a->same_bytes == b || b->same_bytes == a))
		return true;    /* compared by od_models_hash() */
	return a->nbytes == 0 || (a->data && b->data && !memcmp(a->data, b->data, a->nbytes));
}

static float half_to_float(uint16_t h)
{
	uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, man = h & 0x3ff;
	float f;
	if (exp == 0)
		f = ldexpf((float)man, -24);
	else if (exp == 31)
		f = man ? NAN : INFINITY;
	else
		f = ldexpf((float)(man | 0x400), (int)exp - 25);
	return sign ? -f : f;
}

static uint16_t float_to_half(float f)
{
	uint32_t x;
	memcpy(&x, &f, 4);
	uint32_t sign = (x >> 16) & 0x8000;
	int exp = (int)((x >> 23) & 0xff) - 127 + 15;
	uint32_t man = x & 0x7fffff;
	if (((x >> 23) & 0xff) == 0xff)
		return (uint16_t)(sign | 0x7c00 | (man ? 0x200 : 0));
	if (exp >= 31)
		return (uint16_t)(sign | 0x7c00);
	if (exp <= 0) {
		if (exp < -10)
			return (uint16_t)sign;
		man |= 0x800000;
		uint32_t shift = (uint32_t)(14 - exp);
		uint32_t half = man >> shift, rem = man & ((1u << shift) - 1), mid = 1u << (shift - 1);
		if (rem > mid || (rem == mid && (half & 1)))
			half++;
		return (uint16_t)(sign | half);
	}
	uint32_t half = sign | ((uint32_t)exp << 10) | (man >> 13), rem = man & 0x1fff;
	if (rem > 0x1000 || (rem == 0x1000 && (half & 1)))
		half++;
	return (uint16_t)half;
}

static float bf16_to_float(uint16_t b)
{
	uint32_t x = (uint32_t)b << 16;
	float f;
	memcpy(&f, &x, 4);
	return f;
}

static uint16_t float_to_bf16(float f)
{
	uint32_t x;
	memcpy(&x, &f, 4);
	if ((x & 0x7fffffff) > 0x7f800000)
		return (uint16_t)((x >> 16) | 0x40);
	x += 0x7fff + ((x >> 16) & 1);
	return (uint16_t)(x >> 16);
}

#define LOAD(type) do { type v; memcpy(&v, p, sizeof v); return (double)v; } while (0)

double od_tensor_get_f64(const struct od_tensor *t, int64_t i)
{
	size_t sz = esize(t->dtype);
	if (t->sparse)
		return od_sparse_get_f64(t, i);
	if (!t->data || i < 0 || i >= t->numel || !sz)
		return NAN;
	const unsigned char *p = (const unsigned char *)t->data + (size_t)i * sz;
	uint16_t h;
	switch (t->dtype) {
	case OD_FLOAT: LOAD(float);
	case OD_DOUBLE: LOAD(double);
	case OD_UINT8: LOAD(uint8_t);
	case OD_INT8: LOAD(int8_t);
	case OD_UINT16: LOAD(uint16_t);
	case OD_INT16: LOAD(int16_t);
	case OD_INT32: LOAD(int32_t);
	case OD_INT64: LOAD(int64_t);
	case OD_UINT32: LOAD(uint32_t);
	case OD_UINT64: LOAD(uint64_t);
	case OD_BOOL: return *p ? 1.0 : 0.0;
	case OD_FLOAT16: memcpy(&h, p, 2); return half_to_float(h);
	case OD_BFLOAT16: memcpy(&h, p, 2); return bf16_to_float(h);
	default: return NAN;
	}
}

bool od_dtype_is_int(int dtype)
{
	switch (dtype) {
	case OD_INT8: case OD_INT16: case OD_INT32: case OD_INT64:
	case OD_UINT8: case OD_UINT16: case OD_UINT32: case OD_UINT64: case OD_BOOL:
		return true;
	default:
		return false;
	}
}

bool od_dtype_is_unsigned(int dtype)
{
	return dtype == OD_UINT8 || dtype == OD_UINT16 || dtype == OD_UINT32 ||
	       dtype == OD_UINT64 || dtype == OD_BOOL;
}

#define LOADI(type, dst) do { type v; memcpy(&v, p, sizeof v); *dst = v; return true; } while (0)

bool od_tensor_get_int(const struct od_tensor *t, int64_t i, int64_t *s, uint64_t *u)
{
	*s = 0;
	*u = 0;
	if (!t->data || i < 0 || i >= t->numel || !od_dtype_is_int(t->dtype))
		return false;
	const unsigned char *p = (const unsigned char *)t->data + (size_t)i * esize(t->dtype);
	switch (t->dtype) {
	case OD_INT8: LOADI(int8_t, s);
	case OD_INT16: LOADI(int16_t, s);
	case OD_INT32: LOADI(int32_t, s);
	case OD_INT64: LOADI(int64_t, s);
	case OD_UINT8: LOADI(uint8_t, u);
	case OD_UINT16: LOADI(uint16_t, u);
	case OD_UINT32: LOADI(uint32_t, u);
	case OD_UINT64: LOADI(uint64_t, u);
	default: *u = *p != 0; return true;     /* bool */
	}
}

char *od_float_text(double v, int dtype, char *buf, size_t n)
{
	int prec = dtype == OD_DOUBLE ? 15 : 6, last = dtype == OD_DOUBLE ? 17 : 9;
	for (; prec <= last; prec++) {
		snprintf(buf, n, "%.*g", prec, v);
		if (v != v || (dtype == OD_DOUBLE ? strtod(buf, NULL) == v
		                                  : strtof(buf, NULL) == (float)v))
			break;
	}
	if (!strpbrk(buf, ".eEni") && strlen(buf) + 2 < n)
		strcat(buf, ".0");
	return buf;
}

char *od_tensor_elem_text(const struct od_tensor *t, int64_t i, char *buf, size_t n)
{
	int64_t s;
	uint64_t u;
	if (!n)
		return buf;
	if (t->dtype == OD_STRING && t->strings && i >= 0 && i < t->numel) {
		const struct od_bytes *b = &t->strings[i];
		snprintf(buf, n, "\"%.*s\"", (int)(b->len > 40 ? 40 : b->len), (const char *)b->data);
	} else if (t->dtype == OD_BOOL && od_tensor_get_int(t, i, &s, &u)) {
		snprintf(buf, n, "%s", u ? "true" : "false");
	} else if (od_tensor_get_int(t, i, &s, &u)) {
		if (od_dtype_is_unsigned(t->dtype))
			snprintf(buf, n, "%" PRIu64, u);
		else
			snprintf(buf, n, "%" PRId64, s);
	} else {
		od_float_text(od_tensor_get_f64(t, i), t->dtype, buf, n);
	}
	return buf;
}

/* Converts v to an integer of [lo, hi], saturating; NaN becomes 0. */
static double clamp(double v, double lo, double hi)
{
	if (v != v)
		return 0;
	return v < lo ? lo : v > hi ? hi : v;
}

#define STORE(type, expr) do { type x_ = (type)(expr); memcpy(p, &x_, sizeof x_); return; } while (0)

void od_tensor_set_f64(struct od_tensor *t, int64_t i, double v)
{
	size_t sz = esize(t->dtype);
	if (!t->data || i < 0 || i >= t->numel || !sz)
		return;
	unsigned char *p = (unsigned char *)t->data + (size_t)i * sz;
	double tv = trunc(v);
	uint16_t h;
	switch (t->dtype) {
	case OD_FLOAT: STORE(float, v);
	case OD_DOUBLE: STORE(double, v);
	case OD_UINT8: STORE(uint8_t, clamp(tv, 0, UINT8_MAX));
	case OD_INT8: STORE(int8_t, clamp(tv, INT8_MIN, INT8_MAX));
	case OD_UINT16: STORE(uint16_t, clamp(tv, 0, UINT16_MAX));
	case OD_INT16: STORE(int16_t, clamp(tv, INT16_MIN, INT16_MAX));
	case OD_INT32: STORE(int32_t, clamp(tv, INT32_MIN, INT32_MAX));
	case OD_INT64: STORE(int64_t, clamp(tv, -9223372036854775808.0, 9223372036854774784.0));
	case OD_UINT32: STORE(uint32_t, clamp(tv, 0, UINT32_MAX));
	case OD_UINT64: STORE(uint64_t, clamp(tv, 0, 18446744073709549568.0));
	case OD_BOOL: *p = v != 0; return;
	case OD_FLOAT16: h = float_to_half((float)v); memcpy(p, &h, 2); return;
	case OD_BFLOAT16: h = float_to_bf16((float)v); memcpy(p, &h, 2); return;
	default: return;
	}
}

static struct od_tensor *tensor_new(struct od_arena *a, const char *name, int dtype,
                                     int ndims, const int64_t *dims, bool zero)
{
	struct od_tensor *t = od_arena_alloc(a, sizeof *t);
	if (!t || ndims < 0 || ndims > OD_MAX_RANK)
		return NULL;
	t->name = od_arena_strdup(a, name ? name : "");
	t->dtype = dtype;
	t->ndims = ndims;
	t->dims = od_arena_memdup(a, dims, (size_t)ndims * sizeof *dims);
	if (!t->name || !t->dims)       /* a scalar's 0 bytes of dims are an allocation too */
		return NULL;
	t->numel = 1;
	for (int i = 0; i < ndims; i++) {
		if (dims[i] < 0 || (dims[i] && t->numel > OD_MAX_NUMEL / dims[i]))
			return NULL;
		t->numel *= dims[i];
	}
	t->data_dirty = true;
	if (dtype == OD_STRING) {
		t->strings = od_arena_alloc(a, (size_t)t->numel * sizeof *t->strings);
		return t->strings || !t->numel ? t : NULL;
	}
	t->nbytes = payload_bytes(dtype, t->numel);
	t->data = zero ? od_arena_alloc(a, t->nbytes) : od_arena_alloc_uninit(a, t->nbytes);
	return t->data ? t : NULL;
}

struct od_tensor *od_tensor_new(struct od_arena *a, const char *name, int dtype,
                                int ndims, const int64_t *dims)
{
	return tensor_new(a, name, dtype, ndims, dims, true);
}

struct od_tensor *od_tensor_new_uninit(struct od_arena *a, const char *name, int dtype,
                                       int ndims, const int64_t *dims)
{
	return tensor_new(a, name, dtype, ndims, dims, false);
}

struct od_tensor *od_tensor_clone(struct od_arena *a, const struct od_tensor *t)
{
	if (t->sparse)
		return od_sparse_clone(a, t);
	struct od_tensor *c = od_tensor_new(a, t->name, t->dtype, t->ndims, t->dims);
	if (!c)
		return NULL;
	if (t->dtype == OD_STRING) {
		for (int64_t i = 0; t->strings && i < t->numel; i++) {
			c->strings[i].len = t->strings[i].len;
			c->strings[i].data = od_arena_memdup(a, t->strings[i].data, t->strings[i].len);
			if (!c->strings[i].data)
				return NULL;
		}
	} else if (t->data && t->nbytes == c->nbytes) {
		memcpy((void *)c->data, t->data, t->nbytes);
	}
	c->hash = t->hash;
	c->hashed = t->hashed;
	return c;
}

char *od_shape_str(const struct od_tensor *t, char *buf, size_t n)
{
	size_t off = 0;
	if (!n)
		return buf;
	buf[0] = 0;
	off += (size_t)snprintf(buf + off, n - off, "[");
	for (int i = 0; i < t->ndims && off < n; i++)
		off += (size_t)snprintf(buf + off, n - off, "%s%lld", i ? "," : "", (long long)t->dims[i]);
	if (off < n)
		snprintf(buf + off, n - off, "]");
	return buf;
}

char *od_tensor_type_text(struct od_arena *a, const struct od_tensor *t)
{
	char shape[1024];
	return od_arena_printf(a, "%s%s%s", t->sparse ? "sparse " : "", od_dtype_name(t->dtype),
	                       od_shape_str(t, shape, sizeof shape));
}

const char *od_bytes_text(char *buf, size_t n, double bytes)
{
	static const char *const unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	int u = 0;
	while (bytes >= 1024 && u < 4) {
		bytes /= 1024;
		u++;
	}
	snprintf(buf, n, u ? "%.1f %s" : "%.0f %s", bytes, unit[u]);
	return buf;
}
