/*
 * diff_util.c — small pieces the diff modules share: hashing, a fixed-size u64 -> u32
 * map in an arena, and the text that describes values, attributes and tensors in changes.
 */
#include "config.h"
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>
#include "diff_impl.h"

uint64_t diff_hash_str(const char *s)
{
	return s ? XXH3_64bits(s, strlen(s)) : UINT64_C(0x5bd1e995);
}

/* Groups kb by key (a counting sort: group g is order[begin[g] .. begin[g + 1]]), then walks
 * ka counting each key's occurrences in taken[]: linear, where finding "the k-th entry of
 * key K" by scanning both sides was quadratic (40k opset imports took 30 s). */
int diff_pair_keys(const char *const *ka, size_t na, const char *const *kb, size_t nb,
                   size_t **pair)
{
	struct od_map groups = {0};
	size_t *p = od_malloc((na + nb + 1) * sizeof *p), ng = 0;
	size_t *begin = od_calloc(nb + 2, sizeof *begin), *taken = od_calloc(nb + 1, sizeof *taken);
	size_t *order = od_malloc((nb + 1) * sizeof *order), *gid = od_malloc((nb + 1) * sizeof *gid);
	int rc = p && begin && taken && order && gid ? od_map_init(&groups, nb) : OD_ENOMEM;
	for (size_t j = 0; !rc && j < nb; j++) {
		int put = od_map_put(&groups, kb[j], ng);
		if (put < 0 || !od_map_get(&groups, kb[j], &gid[j]))
			rc = OD_ENOMEM;
		ng += put == 0;
		begin[gid[j] + 1] += !rc;
	}
	for (size_t g = 0; !rc && g < ng; g++)
		begin[g + 1] += begin[g];
	for (size_t j = 0; !rc && j < nb; j++)
		order[begin[gid[j]] + taken[gid[j]]++] = j;
	for (size_t j = 0; !rc && j < na + nb; j++)
		p[j] = SIZE_MAX;
	for (size_t g = 0; !rc && g < ng; g++)
		taken[g] = 0;
	for (size_t i = 0; !rc && i < na; i++) {
		size_t g;
		if (od_map_get(&groups, ka[i], &g) && begin[g] + taken[g] < begin[g + 1]) {
			p[i] = order[begin[g] + taken[g]++];
			p[na + p[i]] = i;
		}
	}
	od_map_done(&groups);
	od_free(begin);
	od_free(taken);
	od_free(order);
	od_free(gid);
	if (rc)
		od_free(p);
	*pair = rc ? NULL : p;
	return rc;
}

uint64_t diff_hash_bytes(const void *p, size_t n)
{
	return XXH3_64bits(p, n);
}

/* ---- map ------------------------------------------------------------------------------- */

static int map_alloc(struct dmap *m, size_t cap)
{
	struct dslot *slots = od_arena_alloc(m->arena, cap * sizeof *slots);
	if (!slots)
		return OD_ENOMEM;
	for (size_t i = 0; i < cap; i++)
		slots[i].val = NONE32;
	m->slots = slots;
	m->mask = cap - 1;
	m->n = 0;
	return 0;
}

int diff_map_init(struct dmap *m, struct od_arena *a, size_t expected)
{
	size_t cap = 16;
	while (cap < expected + expected / 2 + 1)   /* at most 2/3 full before growing */
		cap *= 2;
	m->arena = a;
	return map_alloc(m, cap);
}

void diff_map_clear(struct dmap *m)
{
	for (size_t i = 0; i <= m->mask; i++)
		m->slots[i].val = NONE32;
	m->n = 0;
}

static size_t probe(const struct dmap *m, uint64_t key)
{
	size_t i = (size_t)dh_mix(key) & m->mask;
	while (m->slots[i].val != NONE32 && m->slots[i].key != key)
		i = (i + 1) & m->mask;
	return i;
}

/* Doubles the table (the old one stays in the arena until it goes). */
static int grow(struct dmap *m)
{
	struct dmap old = *m;
	if (map_alloc(m, 2 * (old.mask + 1)))
		return OD_ENOMEM;
	for (size_t i = 0; i <= old.mask; i++)
		if (old.slots[i].val != NONE32) {
			m->slots[probe(m, old.slots[i].key)] = old.slots[i];
			m->n++;
		}
	return 0;
}

uint32_t *diff_map_slot(struct dmap *m, uint64_t key)
{
	size_t i = probe(m, key);
	if (m->slots[i].val != NONE32)
		return &m->slots[i].val;
	if (3 * (m->n + 1) > 2 * (m->mask + 1)) {
		if (grow(m))
			return NULL;
		i = probe(m, key);
	}
	m->n++;
	m->slots[i].key = key;
	return &m->slots[i].val;
}

uint32_t diff_map_get(const struct dmap *m, uint64_t key)
{
	size_t i = probe(m, key);
	return m->slots[i].val;
}

/* ---- text ------------------------------------------------------------------------------ */

/* A growing string in an arena: enough for the short texts of changes. */
struct sbuf {
	char buf[1024];
	size_t len;
};

static void sb_add(struct sbuf *b, const char *fmt, ...) OD_PRINTF(2, 3);
static void sb_add(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	if (b->len >= sizeof b->buf - 1)
		return;
	va_start(ap, fmt);
	int n = vsnprintf(b->buf + b->len, sizeof b->buf - b->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		b->len += (size_t)n;
	if (b->len >= sizeof b->buf - 1) {
		b->len = sizeof b->buf - 1;
		memcpy(b->buf + b->len - 3, "...", 3);
	}
}

static void sb_node_label(struct sbuf *b, const struct od_graph *g, uint32_t k)
{
	const struct od_node *n = g->nodes[k];
	if (n->domain && *n->domain)
		sb_add(b, "%s.", n->domain);
	if (n->name && *n->name)
		sb_add(b, "%s '%s'", n->op_type, n->name);
	else
		sb_add(b, "%s #%u", n->op_type, k);
}

/* The shortest text that reads back as the same float32 (attributes are float32). */
static void sb_float(struct sbuf *b, double f)
{
	char tmp[64];
	sb_add(b, "%s", od_float_text(f, OD_FLOAT, tmp, sizeof tmp));
}

static void sb_string(struct sbuf *b, struct od_bytes s)
{
	sb_add(b, "'%.*s'", (int)(s.len > 200 ? 200 : s.len), (const char *)s.data);
}

/* A few leading elements of a small tensor, so a changed scalar shows its value. */
static void sb_tensor(struct sbuf *b, struct od_tensor *t)
{
	char shape[256];
	sb_add(b, "%s%s%s", t->sparse ? "sparse " : "", od_dtype_name(t->dtype), od_shape_str(t, shape, sizeof shape));
	if (t->numel <= 8 && t->dtype != OD_STRING && (t->data || (t->sparse && t->sparse->lin)) &&
	    od_dtype_size(t->dtype)) {
		sb_add(b, " {");
		for (int64_t i = 0; i < t->numel; i++) {
			char el[64];
			sb_add(b, "%s%s", i ? "," : "", od_tensor_elem_text(t, i, el, sizeof el));
		}
		sb_add(b, "}");
	} else {
		sb_add(b, " #%08" PRIx64, od_tensor_hash(t) >> 32);
	}
}

const char *diff_attr_text(struct od_arena *a, const struct od_attr *at)
{
	struct sbuf b = {.len = 0};
	switch (at->type) {
	case OD_ATTR_FLOAT: sb_float(&b, at->f); break;
	case OD_ATTR_INT: sb_add(&b, "%" PRId64, at->i); break;
	case OD_ATTR_STRING: sb_string(&b, at->s); break;
	case OD_ATTR_TENSOR: if (at->t) sb_tensor(&b, at->t); break;
	case OD_ATTR_GRAPH: sb_add(&b, "<graph>"); break;
	case OD_ATTR_FLOATS:
	case OD_ATTR_INTS:
	case OD_ATTR_STRINGS:
		sb_add(&b, "[");
		for (size_t i = 0; i < at->n; i++) {
			sb_add(&b, "%s", i ? "," : "");
			if (at->type == OD_ATTR_FLOATS)
				sb_float(&b, at->floats[i]);
			else if (at->type == OD_ATTR_INTS)
				sb_add(&b, "%" PRId64, at->ints[i]);
			else
				sb_string(&b, at->strings[i]);
		}
		sb_add(&b, "]");
		break;
	case OD_ATTR_SPARSE_TENSOR: if (at->t) sb_tensor(&b, at->t); break;
	case OD_ATTR_TYPE_PROTO: sb_add(&b, "%s", at->types ? at->types[0] : "?"); break;
	case OD_ATTR_TENSORS:
	case OD_ATTR_SPARSE_TENSORS:
	case OD_ATTR_TYPE_PROTOS:
		sb_add(&b, "[");
		for (size_t i = 0; i < at->n; i++) {
			sb_add(&b, "%s", i ? ", " : "");
			if (at->type == OD_ATTR_TYPE_PROTOS)
				sb_add(&b, "%s", at->types ? at->types[i] : "?");
			else
				sb_tensor(&b, at->tensors[i]);
		}
		sb_add(&b, "]");
		break;
	case OD_ATTR_GRAPHS: sb_add(&b, "<%zu graphs>", at->n); break;
	default: sb_add(&b, "<attribute type %d>", at->type); break;
	}
	if (at->ref_attr_name)
		sb_add(&b, "%s@%s", b.len ? " " : "", at->ref_attr_name);
	return od_arena_strdup(a, b.buf);
}

const char *diff_node_label(struct od_arena *a, const struct od_graph *g, uint32_t k)
{
	struct sbuf b = {.len = 0};
	sb_node_label(&b, g, k);
	return od_arena_strdup(a, b.buf);
}

const char *diff_val_text(struct od_arena *a, const struct dval *v)
{
	const struct od_graph *g = v->side->g;
	const char *type;
	struct sbuf b = {.len = 0};
	switch (v->kind) {
	case V_INPUT:
		if (!(type = od_value_type_text(a, g->inputs[v->idx])))
			return NULL;
		sb_add(&b, "graph input '%s' %s", v->name, type);
		break;
	case V_INIT:
		if (!(type = od_tensor_type_text(a, g->inits[v->idx])))
			return NULL;
		sb_add(&b, "initializer '%s' %s", v->name, type);
		break;
	case V_NODE:
		sb_node_label(&b, g, v->idx);
		if (v->side->cst[v->idx]) {
			if (!(type = od_tensor_type_text(a, v->side->cst[v->idx])))
				return NULL;
			sb_add(&b, " %s", type);
		} else if (g->nodes[v->idx]->n_outputs > 1) {
			sb_add(&b, " output %u", v->port);
		}
		break;
	default:
		sb_add(&b, "undefined '%s'", v->name);
		break;
	}
	return od_arena_strdup(a, b.buf);
}

/* ---- tensor deltas ----------------------------------------------------------------------- */

/* |x - y| of two integer elements, exactly (every int64/uint64 difference fits uint64). */
static uint64_t int_delta(const struct od_tensor *a, const struct od_tensor *b, int64_t i,
                          double *ax, double *by)
{
	int64_t sa, sb;
	uint64_t ua, ub;
	od_tensor_get_int(a, i, &sa, &ua);
	od_tensor_get_int(b, i, &sb, &ub);
	if (od_dtype_is_unsigned(a->dtype)) {
		*ax = (double)ua, *by = (double)ub;
		return ua > ub ? ua - ub : ub - ua;
	}
	*ax = fabs((double)sa), *by = fabs((double)sb);
	return sa > sb ? (uint64_t)sa - (uint64_t)sb : (uint64_t)sb - (uint64_t)sa;
}

/* One differing-or-not element: true when it counts as a difference. */
static bool element_delta(const struct od_tensor *a, const struct od_tensor *b, int64_t i,
                          size_t esz, double atol, double rtol, struct od_tensor_delta *out)
{
	const uint8_t *pa = (const uint8_t *)a->data + (size_t)i * esz;
	const uint8_t *pb = (const uint8_t *)b->data + (size_t)i * esz;
	bool same_bits = !memcmp(pa, pb, esz);
	if (same_bits)
		return false;
	double x, y, d;
	if (out->integer) {
		uint64_t di = int_delta(a, b, i, &x, &y);
		d = (double)di;
		if (!out->bitwise && d <= atol + rtol * y)
			return false;
		if (di > out->max_abs_int)
			out->max_abs_int = di;
		if (x != 0)
			out->has_rel = true, out->max_rel = fmax(out->max_rel, d / x);
		out->max_abs = (double)out->max_abs_int;
		return true;
	}
	x = od_tensor_get_f64(a, i), y = od_tensor_get_f64(b, i);
	if ((isnan(x) && isnan(y)) || x == y) {
		/* equal as numbers: -0.0 vs 0.0, or two NaNs with different payloads */
		out->n_bits += out->bitwise;
		return out->bitwise;
	}
	if (isnan(x) || isnan(y)) {
		out->n_nan++;
		return true;
	}
	d = fabs(x - y);
	if (!out->bitwise && d <= atol + rtol * fabs(y))
		return false;
	out->max_abs = fmax(out->max_abs, d);
	if (x != 0 && isfinite(x) && isfinite(y))
		out->has_rel = true, out->max_rel = fmax(out->max_rel, d / fabs(x));
	return true;
}

void diff_tensor_delta(const struct od_tensor *a, const struct od_tensor *b, double atol,
                       double rtol, struct od_tensor_delta *out)
{
	memset(out, 0, sizeof *out);
	out->first_diff = -1;
	if (a->dtype != b->dtype || a->ndims != b->ndims || a->numel != b->numel ||
	    (a->ndims && memcmp(a->dims, b->dims, (size_t)a->ndims * sizeof *a->dims)))
		return;
	if (a->dtype == OD_STRING || !a->data || !b->data || !od_dtype_size(a->dtype) ||
	    a->dtype == OD_COMPLEX64 || a->dtype == OD_COMPLEX128)
		return;
	out->compared = true;
	out->numel = a->numel;
	out->integer = od_dtype_is_int(a->dtype);
	out->bitwise = atol == 0 && rtol == 0;
	const int64_t run = 1024;       /* elements compared bytewise at once */
	size_t esz = od_dtype_size(a->dtype);
	for (int64_t i = 0; i < a->numel; i++) {
		/* Bit-equal elements add nothing: skip runs of them at memcmp() speed (a changed
		 * weight is often one element of millions; element by element took 30 ms per 9 MB). */
		if (i % run == 0 && a->numel - i >= run &&
		    !memcmp((const uint8_t *)a->data + (size_t)i * esz,
		            (const uint8_t *)b->data + (size_t)i * esz, (size_t)run * esz)) {
			i += run - 1;
			continue;
		}
		if (!element_delta(a, b, i, esz, atol, rtol, out))
			continue;
		if (out->first_diff < 0)
			out->first_diff = i;
		out->n_diff++;
	}
	/* integers have no bits beyond their value: "bitwise" says something of floats only */
	out->bitwise &= !out->integer;
}

char *od_tensor_delta_text(const struct od_tensor_delta *d, char *buf, size_t n)
{
	struct sbuf b = {.len = 0};
	if (d->compared) {
		sb_add(&b, "%" PRId64 " of %" PRId64 " element%s differ%s", d->n_diff, d->numel,
		       d->numel == 1 ? "" : "s", d->n_diff == 1 ? "s" : "");
		if (d->n_diff > d->n_nan + d->n_bits) {
			if (d->integer)
				sb_add(&b, " (max abs %" PRIu64, d->max_abs_int);
			else
				sb_add(&b, " (max abs %.6g", d->max_abs);
			if (d->has_rel)
				sb_add(&b, ", max rel %.6g", d->max_rel);
			sb_add(&b, ")");
		}
		if (d->n_nan)
			sb_add(&b, ", %" PRId64 " NaN against a number", d->n_nan);
		if (d->n_bits)
			sb_add(&b, ", %" PRId64 " only bit for bit (-0.0 vs 0.0 or NaN payloads)", d->n_bits);
	}
	snprintf(buf, n, "%s", b.buf);
	return buf;
}
