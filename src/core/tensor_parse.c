/*
 * tensor_parse.c — values given on the command line for graph inputs: literals ("0.5", "16000",
 * "true", "[[1,1,0,0]]"), "@file.npy" (NumPy format 1.0, 2.0 and 3.0) and "@file.pb" (a
 * serialized TensorProto).
 *
 * A literal is converted to the wanted dtype: an integer literal may fill a float input,
 * but "0.5" for an integer input and values outside the dtype's range are errors. Files
 * keep the dtype they hold; the caller (od_freeze) compares it with the input's and names
 * the input in its message.
 */
#include "config.h"
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "internal.h"

/* ---- literals ---------------------------------------------------------------------------- */

/* A leaf of a literal: its text as written. */
struct leaf {
	const char *s;
	size_t len;
};

struct lit {
	const char *spec;       /* the whole literal, for messages */
	const char *p;          /* cursor */
	struct leaf *leaves;    /* malloc'd */
	size_t n, cap;
	int ndims;              /* nesting depth of the leaves, -1 until the first leaf */
	int64_t dims[OD_MAX_RANK];
	bool seen[OD_MAX_RANK]; /* dims[d] recorded */
	struct od_ctx *ctx;
};

static void skip_space(struct lit *L)
{
	while (*L->p == ' ' || *L->p == '\t' || *L->p == '\n' || *L->p == '\r')
		L->p++;
}

static int lit_bad(struct lit *L, const char *why)
{
	return od_error(L->ctx, OD_EVALUE, "cannot parse '%s': %s", L->spec, why);
}

static int add_leaf(struct lit *L, const char *s, size_t len, int depth)
{
	if (L->ndims < 0)
		L->ndims = depth;
	else if (L->ndims != depth)
		return lit_bad(L, "values at different nesting depths");
	struct leaf *v = od_grow(L->leaves, L->n, sizeof *v, &L->cap, 16);
	if (!v)
		return od_error(L->ctx, OD_ENOMEM, "out of memory");
	L->leaves = v;
	L->leaves[L->n++] = (struct leaf){s, len};
	return 0;
}

static bool leaf_char(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       c == '.' || c == '+' || c == '-' || c == '_';
}

static int parse_item(struct lit *L, int depth);

/* A list at depth; its length must equal every other list's at the same depth. */
static int parse_list(struct lit *L, int depth)
{
	int64_t count = 0;
	if (depth >= OD_MAX_RANK)
		return lit_bad(L, "nested too deeply");
	L->p++;                 /* '[' */
	skip_space(L);
	if (*L->p == ']') {
		L->p++;
		/* An empty list ends the nesting here: [] is shape [0], [[]] is [1,0]. */
		if (L->ndims < 0)
			L->ndims = depth + 1;
		else if (L->ndims != depth + 1)
			return lit_bad(L, "values at different nesting depths");
	} else {
		for (;;) {
			int rc = parse_item(L, depth + 1);
			if (rc)
				return rc;
			count++;
			skip_space(L);
			if (*L->p == ',') {
				L->p++;
				skip_space(L);
				continue;
			}
			if (*L->p == ']') {
				L->p++;
				break;
			}
			return lit_bad(L, *L->p ? "expected ',' or ']'" : "missing ']'");
		}
	}
	if (!L->seen[depth]) {
		L->seen[depth] = true;
		L->dims[depth] = count;
	} else if (L->dims[depth] != count) {
		return lit_bad(L, "rows of different lengths");
	}
	return 0;
}

static int parse_item(struct lit *L, int depth)
{
	skip_space(L);
	if (*L->p == '[')
		return parse_list(L, depth);
	const char *s = L->p;
	while (leaf_char(*L->p))
		L->p++;
	if (L->p == s)
		return lit_bad(L, *s ? "expected a number, true, false or a [list]" : "missing value");
	return add_leaf(L, s, (size_t)(L->p - s), depth);
}

static bool is_word(const struct leaf *l, const char *w)
{
	return l->len == strlen(w) && !strncasecmp(l->s, w, l->len);
}

static bool is_bool_word(const struct leaf *l)
{
	return is_word(l, "true") || is_word(l, "false");
}

/* Integer syntax: an optional sign and decimal digits. */
static bool is_int_syntax(const struct leaf *l)
{
	size_t i = l->len && (l->s[0] == '-' || l->s[0] == '+');
	if (i == l->len)
		return false;
	for (; i < l->len; i++)
		if (l->s[i] < '0' || l->s[i] > '9')
			return false;
	return true;
}

/* The dtype a literal means when the input does not say: bool, int64 or float. */
static int infer_dtype(const struct lit *L)
{
	bool all_bool = L->n > 0, all_int = true;
	for (size_t i = 0; i < L->n; i++) {
		all_bool &= is_bool_word(&L->leaves[i]);
		all_int &= is_int_syntax(&L->leaves[i]);
	}
	return all_bool ? OD_BOOL : all_int ? OD_INT64 : OD_FLOAT;
}

static int leaf_bad(struct lit *L, const struct leaf *l, const char *fmt, int dtype)
{
	return od_error(L->ctx, OD_EVALUE, fmt, (int)l->len, l->s, od_dtype_name(dtype));
}

/* Reads a floating leaf into *v. */
static int leaf_double(struct lit *L, const struct leaf *l, int dtype, double *v)
{
	char buf[128], *end;
	if (is_bool_word(l))
		return leaf_bad(L, l, "'%.*s' is for bool inputs only (%s wanted)", dtype);
	if (l->len >= sizeof buf)
		return leaf_bad(L, l, "'%.*s' is not a number (%s wanted)", dtype);
	memcpy(buf, l->s, l->len);
	buf[l->len] = 0;
	errno = 0;
	*v = strtod(buf, &end);
	if (*end || end == buf)
		return leaf_bad(L, l, "'%.*s' is not a number (%s wanted)", dtype);
	if (errno == ERANGE && fabs(*v) > 1)
		return leaf_bad(L, l, "'%.*s' is out of range for %s", dtype);
	return 0;
}

/* Reads an integer leaf exactly (no detour through double for int64/uint64). */
static int leaf_int(struct lit *L, const struct leaf *l, int dtype, int64_t *iv, uint64_t *uv,
                    bool *neg)
{
	char buf[128], *end;
	if (is_bool_word(l) && dtype == OD_BOOL) {
		*iv = is_word(l, "true");
		*uv = (uint64_t)*iv;
		*neg = false;
		return 0;
	}
	if (!is_int_syntax(l)) {
		double d;
		int rc = leaf_double(L, l, dtype, &d);
		if (rc)
			return rc;
		if (d != trunc(d) || fabs(d) > 9007199254740992.0)
			return leaf_bad(L, l, "'%.*s' is not an integer (%s wanted)", dtype);
		*neg = d < 0;
		*iv = (int64_t)d;
		*uv = *neg ? 0 : (uint64_t)d;
		return 0;
	}
	if (l->len >= sizeof buf)
		return leaf_bad(L, l, "'%.*s' is out of range for %s", dtype);
	memcpy(buf, l->s, l->len);
	buf[l->len] = 0;
	*neg = buf[0] == '-';
	errno = 0;
	if (*neg) {
		*iv = strtoll(buf, &end, 10);
		*uv = 0;
	} else {
		*uv = strtoull(buf, &end, 10);
		*iv = *uv > INT64_MAX ? INT64_MAX : (int64_t)*uv;
	}
	if (errno == ERANGE)
		return leaf_bad(L, l, "'%.*s' is out of range for %s", dtype);
	return 0;
}

/* Range of each integer dtype. */
static bool int_fits(int dtype, int64_t iv, uint64_t uv, bool neg)
{
	switch (dtype) {
	case OD_INT8: return iv >= INT8_MIN && iv <= INT8_MAX;
	case OD_INT16: return iv >= INT16_MIN && iv <= INT16_MAX;
	case OD_INT32: return iv >= INT32_MIN && iv <= INT32_MAX;
	case OD_INT64: return neg || uv <= INT64_MAX;
	case OD_UINT8: return !neg && uv <= UINT8_MAX;
	case OD_UINT16: return !neg && uv <= UINT16_MAX;
	case OD_UINT32: return !neg && uv <= UINT32_MAX;
	case OD_UINT64: return !neg;
	case OD_BOOL: return !neg && uv <= 1;
	default: return false;
	}
}

static void store_int(struct od_tensor *t, int64_t i, int64_t iv, uint64_t uv, bool neg)
{
	unsigned char *p = (unsigned char *)t->data + (size_t)i * od_dtype_size(t->dtype);
	uint64_t bits = neg ? (uint64_t)iv : uv;
	/* Little-endian host (od.h): the low bytes of the two's complement are the value. */
	memcpy(p, &bits, od_dtype_size(t->dtype));
}

static double float_max(int dtype)
{
	switch (dtype) {
	case OD_FLOAT: return FLT_MAX;
	case OD_FLOAT16: return 65504.0;
	case OD_BFLOAT16: return 3.3895313892515355e38;
	default: return DBL_MAX;
	}
}

static int store_leaf(struct lit *L, struct od_tensor *t, int64_t i)
{
	const struct leaf *l = &L->leaves[i];
	int dtype = t->dtype;
	if (od_dtype_is_float(dtype)) {
		double v;
		int rc = leaf_double(L, l, dtype, &v);
		if (rc)
			return rc;
		if (isfinite(v) && fabs(v) > float_max(dtype))
			return leaf_bad(L, l, "'%.*s' is out of range for %s", dtype);
		od_tensor_set_f64(t, i, v);
		return 0;
	}
	int64_t iv = 0;
	uint64_t uv = 0;
	bool neg = false;
	if (dtype == OD_BOOL && !is_bool_word(l) && !is_int_syntax(l))
		return leaf_bad(L, l, "'%.*s' is not a bool (%s wanted: true, false, 1 or 0)", dtype);
	int rc = leaf_int(L, l, dtype, &iv, &uv, &neg);
	if (rc)
		return rc;
	if (!int_fits(dtype, iv, uv, neg))
		return leaf_bad(L, l, "'%.*s' is out of range for %s", dtype);
	store_int(t, i, iv, uv, neg);
	return 0;
}

static bool literal_dtype_ok(int dtype)
{
	switch (dtype) {
	case OD_FLOAT: case OD_DOUBLE: case OD_FLOAT16: case OD_BFLOAT16:
	case OD_INT8: case OD_INT16: case OD_INT32: case OD_INT64:
	case OD_UINT8: case OD_UINT16: case OD_UINT32: case OD_UINT64: case OD_BOOL:
		return true;
	default:
		return false;
	}
}

static int parse_literal(struct od_arena *a, const char *spec, int dtype, struct od_tensor **out,
                         struct od_ctx *ctx)
{
	struct lit L = {.spec = spec, .p = spec, .ndims = -1, .ctx = ctx};
	int rc = parse_item(&L, 0);
	if (!rc) {
		skip_space(&L);
		if (*L.p)
			rc = lit_bad(&L, *L.p == ']' ? "unbalanced ']'" : "unexpected text after the value");
	}
	if (rc)
		goto out;
	if (dtype == OD_UNDEFINED)
		dtype = infer_dtype(&L);
	if (!literal_dtype_ok(dtype)) {
		rc = od_error(ctx, OD_EUNSUPPORTED, "cannot give a %s value as a literal (use @file.npy or @file.pb)",
		              od_dtype_name(dtype));
		goto out;
	}
	struct od_tensor *t = od_tensor_new(a, "", dtype, L.ndims, L.dims);
	if (!t) {
		rc = od_error(ctx, OD_ENOMEM, "out of memory");
		goto out;
	}
	for (int64_t i = 0; !rc && i < t->numel; i++)
		rc = store_leaf(&L, t, i);
	if (!rc)
		*out = t;
out:
	od_free(L.leaves);
	return rc;
}

/* ---- .npy ---------------------------------------------------------------------------------- */

#define NPY_MAX_HEADER (1u << 20)   /* numpy writes a few hundred bytes; refuse more than 1 MiB */

struct npy_header {
	int dtype;
	size_t itemsize;
	bool big_endian;
	bool fortran;
	int ndims;
	int64_t dims[OD_MAX_RANK];
	bool has_descr, has_order, has_shape;
};

struct hp {
	const char *p, *end;
};

static void hp_space(struct hp *h)
{
	while (h->p < h->end && (*h->p == ' ' || *h->p == '\t' || *h->p == '\n' || *h->p == '\r'))
		h->p++;
}

static bool hp_eat(struct hp *h, char c)
{
	hp_space(h);
	if (h->p < h->end && *h->p == c) {
		h->p++;
		return true;
	}
	return false;
}

/* A quoted Python string without escapes into buf. */
static bool hp_string(struct hp *h, char *buf, size_t cap)
{
	hp_space(h);
	if (h->p >= h->end || (*h->p != '\'' && *h->p != '"'))
		return false;
	char q = *h->p++;
	size_t n = 0;
	while (h->p < h->end && *h->p != q) {
		if (*h->p == '\\' || n + 1 >= cap)
			return false;
		buf[n++] = *h->p++;
	}
	if (h->p >= h->end)
		return false;
	h->p++;
	buf[n] = 0;
	return true;
}

static bool hp_word(struct hp *h, const char *w)
{
	size_t n = strlen(w);
	hp_space(h);
	if ((size_t)(h->end - h->p) >= n && !memcmp(h->p, w, n)) {
		h->p += n;
		return true;
	}
	return false;
}

static bool parse_descr(const char *d, struct npy_header *H)
{
	static const struct { char kind; int size; int dtype; } kinds[] = {
		{'f', 2, OD_FLOAT16}, {'f', 4, OD_FLOAT}, {'f', 8, OD_DOUBLE},
		{'i', 1, OD_INT8}, {'i', 2, OD_INT16}, {'i', 4, OD_INT32}, {'i', 8, OD_INT64},
		{'u', 1, OD_UINT8}, {'u', 2, OD_UINT16}, {'u', 4, OD_UINT32}, {'u', 8, OD_UINT64},
		{'b', 1, OD_BOOL},
	};
	if (!strchr("<>|=", d[0]) || !d[0] || !d[1] || d[2] < '1' || d[2] > '8' || d[3])
		return false;
	for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++)
		if (kinds[i].kind == d[1] && kinds[i].size == d[2] - '0') {
			H->dtype = kinds[i].dtype;
			H->itemsize = (size_t)kinds[i].size;
			H->big_endian = d[0] == '>';
			return true;
		}
	return false;
}

static bool parse_shape(struct hp *h, struct npy_header *H)
{
	if (!hp_eat(h, '('))
		return false;
	H->ndims = 0;
	for (;;) {
		if (hp_eat(h, ')'))
			return true;
		if (H->ndims >= OD_MAX_RANK)
			return false;
		hp_space(h);
		int64_t v = 0;
		const char *s = h->p;
		while (h->p < h->end && *h->p >= '0' && *h->p <= '9') {
			if (v > (INT64_MAX - 9) / 10)
				return false;
			v = v * 10 + (*h->p++ - '0');
		}
		if (h->p == s)
			return false;
		if (h->p < h->end && *h->p == 'L')   /* Python 2 longs */
			h->p++;
		H->dims[H->ndims++] = v;
		if (!hp_eat(h, ',')) {
			return hp_eat(h, ')');
		}
	}
}

/* The header dict, e.g. {'descr': '<f4', 'fortran_order': False, 'shape': (1, 4), } */
static int parse_npy_dict(const char *p, size_t len, struct npy_header *H, const char *path,
                          struct od_ctx *ctx)
{
	struct hp h = {p, p + len};
	char key[32], val[32];
	if (!hp_eat(&h, '{'))
		return od_error(ctx, OD_EFORMAT, "cannot read '%s': .npy header is not a dict", path);
	while (!hp_eat(&h, '}')) {
		if (!hp_string(&h, key, sizeof key) || !hp_eat(&h, ':'))
			return od_error(ctx, OD_EFORMAT, "cannot read '%s': malformed .npy header", path);
		if (!strcmp(key, "descr")) {
			if (!hp_string(&h, val, sizeof val) || !parse_descr(val, H))
				return od_error(ctx, OD_EUNSUPPORTED, "cannot read '%s': unsupported .npy dtype (want f2/f4/f8, i1-i8, u1-u8 or b1)", path);
			H->has_descr = true;
		} else if (!strcmp(key, "fortran_order")) {
			if (hp_word(&h, "True"))
				H->fortran = true;
			else if (!hp_word(&h, "False"))
				return od_error(ctx, OD_EFORMAT, "cannot read '%s': malformed fortran_order in .npy header", path);
			H->has_order = true;
		} else if (!strcmp(key, "shape")) {
			if (!parse_shape(&h, H))
				return od_error(ctx, OD_EFORMAT, "cannot read '%s': malformed shape in .npy header", path);
			H->has_shape = true;
		} else {
			return od_error(ctx, OD_EFORMAT, "cannot read '%s': unexpected key '%s' in .npy header", path, key);
		}
		if (!hp_eat(&h, ',')) {
			if (!hp_eat(&h, '}'))
				return od_error(ctx, OD_EFORMAT, "cannot read '%s': malformed .npy header", path);
			break;
		}
	}
	if (!H->has_descr || !H->has_order || !H->has_shape)
		return od_error(ctx, OD_EFORMAT, "cannot read '%s': .npy header lacks %s", path,
		                !H->has_descr ? "'descr'" : !H->has_order ? "'fortran_order'" : "'shape'");
	return 0;
}

/* Byte order and layout: little-endian, C order, bools 0/1. */
static void npy_normalise(struct od_tensor *t, const uint8_t *src, const struct npy_header *H)
{
	uint8_t *dst = (uint8_t *)t->data;
	size_t is = H->itemsize;
	int64_t stride[OD_MAX_RANK], idx[OD_MAX_RANK] = {0};
	if (H->fortran && t->ndims > 1) {
		stride[0] = 1;
		for (int d = 1; d < t->ndims; d++)
			stride[d] = stride[d - 1] * t->dims[d - 1];
		int64_t off = 0;
		for (int64_t i = 0; i < t->numel; i++) {
			memcpy(dst + (size_t)i * is, src + (size_t)off * is, is);
			for (int d = t->ndims - 1; d >= 0; d--) {   /* next C-order index */
				off += stride[d];
				if (++idx[d] < t->dims[d])
					break;
				off -= stride[d] * t->dims[d];
				idx[d] = 0;
			}
		}
	} else {
		memcpy(dst, src, t->nbytes);
	}
	if (H->big_endian && is > 1)
		for (int64_t i = 0; i < t->numel; i++) {
			uint8_t *e = dst + (size_t)i * is;
			for (size_t k = 0; k < is / 2; k++) {
				uint8_t c = e[k];
				e[k] = e[is - 1 - k];
				e[is - 1 - k] = c;
			}
		}
	if (t->dtype == OD_BOOL)
		for (int64_t i = 0; i < t->numel; i++)
			dst[i] = dst[i] != 0;
}

static int npy_shape_bytes(const struct npy_header *H, size_t *bytes)
{
	size_t n = 1;
	for (int d = 0; d < H->ndims; d++)
		if (H->dims[d] > OD_MAX_NUMEL || od_mul_size(n, (size_t)H->dims[d], &n) || n > (size_t)OD_MAX_NUMEL)
			return -1;
	return od_mul_size(n, H->itemsize, bytes);
}

static void shape_text(char *buf, size_t cap, const struct npy_header *H)
{
	size_t off = (size_t)snprintf(buf, cap, "(");
	for (int d = 0; d < H->ndims && off < cap; d++)
		off += (size_t)snprintf(buf + off, cap - off, "%s%lld", d ? ", " : "", (long long)H->dims[d]);
	if (off < cap)
		snprintf(buf + off, cap - off, H->ndims == 1 ? ",)" : ")");
}

/* Parses a .npy image held in buf (len bytes); path names it in messages. */
static int npy_from_buffer(struct od_arena *a, const uint8_t *buf, size_t len, const char *path,
                           struct od_tensor **out, struct od_ctx *ctx)
{
	struct npy_header H = {0};
	if (len < 10 || memcmp(buf, "\x93NUMPY", 6))
		return od_error(ctx, OD_EFORMAT, "cannot read '%s': not a .npy file", path);
	int major = buf[6];
	size_t hlen, off;
	if (major == 1) {
		hlen = (size_t)buf[8] | (size_t)buf[9] << 8;
		off = 10;
	} else if (major == 2 || major == 3) {
		if (len < 12)
			return od_error(ctx, OD_EFORMAT, "cannot read '%s': truncated .npy header", path);
		hlen = (size_t)buf[8] | (size_t)buf[9] << 8 | (size_t)buf[10] << 16 | (size_t)buf[11] << 24;
		off = 12;
	} else {
		return od_error(ctx, OD_EUNSUPPORTED, "cannot read '%s': .npy format version %d.%d not supported",
		                path, major, buf[7]);
	}
	if (hlen > NPY_MAX_HEADER || hlen > len - off)
		return od_error(ctx, OD_EFORMAT, "cannot read '%s': .npy header of %zu bytes runs past the end of the file (%zu bytes)",
		                path, hlen, len);
	int rc = parse_npy_dict((const char *)buf + off, hlen, &H, path, ctx);
	if (rc)
		return rc;
	size_t want, have = len - off - hlen;
	char shape[64 + 24 * 4];
	shape_text(shape, sizeof shape, &H);
	if (npy_shape_bytes(&H, &want))
		return od_error(ctx, OD_ELIMIT, "cannot read '%s': .npy shape %s is too large", path, shape);
	if (want != have)
		return od_error(ctx, OD_EFORMAT, "cannot read '%s': %zu bytes of data, but the header says %s %s (%zu bytes)",
		                path, have, od_dtype_name(H.dtype), shape, want);
	struct od_tensor *t = od_tensor_new(a, "", H.dtype, H.ndims, H.dims);
	if (!t)
		return od_error(ctx, OD_ENOMEM, "out of memory");
	npy_normalise(t, buf + off + hlen, &H);
	*out = t;
	return 0;
}

int od_tensor_load_npy(struct od_arena *a, const char *path, struct od_tensor **out,
                       struct od_ctx *ctx)
{
	uint8_t *buf;
	size_t len;
	*out = NULL;
	int rc = od_read_file(path, &buf, &len, ctx);
	if (rc)
		return rc;
	rc = npy_from_buffer(a, buf, len, path, out, ctx);
	od_free(buf);
	return rc;
}

/* ---- the entry point ------------------------------------------------------------------------ */

static bool has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);
	return n >= k && !strcasecmp(s + n - k, suffix);
}

/* "@file": .npy by name or by magic, else a serialized TensorProto. */
static int load_file(struct od_arena *a, const char *path, struct od_tensor **out,
                     struct od_ctx *ctx)
{
	if (!*path)
		return od_error(ctx, OD_EARG, "missing file name after '@'");
	if (has_suffix(path, ".npy"))
		return od_tensor_load_npy(a, path, out, ctx);
	if (has_suffix(path, ".pb"))
		return od_tensor_load_pb(a, path, out, ctx);
	uint8_t *buf;
	size_t len;
	int rc = od_read_file(path, &buf, &len, ctx);
	if (rc)
		return rc;
	bool npy = len >= 6 && !memcmp(buf, "\x93NUMPY", 6);
	rc = npy ? npy_from_buffer(a, buf, len, path, out, ctx) : od_tensor_load_pb_buffer(a, buf, len, out, ctx);
	od_free(buf);
	return rc && !npy ? od_error_in(ctx, rc, path) : rc;
}

int od_tensor_parse(struct od_arena *a, const char *spec, int dtype,
                    struct od_tensor **out, struct od_ctx *ctx)
{
	struct od_ctx local = {0};
	if (!ctx)
		ctx = &local;
	*out = NULL;
	if (!spec)
		return od_error(ctx, OD_EARG, "missing value");
	if (spec[0] == '@')
		return load_file(a, spec + 1, out, ctx);
	if (dtype < OD_UNDEFINED || dtype > OD_DTYPE_MAX)
		return od_error(ctx, OD_EARG, "unknown dtype %d", dtype);
	return parse_literal(a, spec, dtype, out, ctx);
}
