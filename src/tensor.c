/*
 * tensor.c — element types and tensor values: the dtype table, content hashes (xxh3),
 * element access as double, and construction in an arena.
 */
#include "config.h"
#include <math.h>
#include <stdio.h>
#include <string.h>
#define XXH_STATIC_LINKING_ONLY
#include <xxhash.h>
#include "internal.h"

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

size_t od_dtype_size(int dtype)
{
	return dtype < 0 || dtype > OD_DTYPE_MAX ? 0 : dtypes[dtype].size;
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

uint64_t od_tensor_hash(struct od_tensor *t)
{
	if (t->hashed)
		return t->hash;
	XXH3_state_t st;
	XXH3_64bits_reset(&st);
	int32_t head[2] = {t->dtype, t->ndims};
	XXH3_64bits_update(&st, head, sizeof head);
	if (t->ndims)
		XXH3_64bits_update(&st, t->dims, (size_t)t->ndims * sizeof *t->dims);
	if (t->dtype == OD_STRING && t->strings) {
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

bool od_tensor_equal(const struct od_tensor *a, const struct od_tensor *b)
{
	if (a->dtype != b->dtype || a->ndims != b->ndims || a->numel != b->numel)
		return false;
	if (a->ndims && memcmp(a->dims, b->dims, (size_t)a->ndims * sizeof *a->dims))
		return false;
	if (a->dtype == OD_STRING) {
		if (!a->strings || !b->strings)
			return a->strings == b->strings;
		for (int64_t i = 0; i < a->numel; i++)
			if (a->strings[i].len != b->strings[i].len ||
			    memcmp(a->strings[i].data, b->strings[i].data, a->strings[i].len))
				return false;
		return true;
	}
	if (a->nbytes != b->nbytes)
		return false;
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
	if (!t->data || i < 0 || i >= t->numel || !od_dtype_size(t->dtype))
		return NAN;
	const unsigned char *p = (const unsigned char *)t->data + (size_t)i * od_dtype_size(t->dtype);
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
	if (!t->data || i < 0 || i >= t->numel || !od_dtype_size(t->dtype))
		return;
	unsigned char *p = (unsigned char *)t->data + (size_t)i * od_dtype_size(t->dtype);
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

struct od_tensor *od_tensor_new(struct od_arena *a, const char *name, int dtype,
                                int ndims, const int64_t *dims)
{
	struct od_tensor *t = od_arena_alloc(a, sizeof *t);
	if (!t || ndims < 0 || ndims > OD_MAX_RANK)
		return NULL;
	t->name = od_arena_strdup(a, name ? name : "");
	t->dtype = dtype;
	t->ndims = ndims;
	t->dims = od_arena_memdup(a, dims, (size_t)ndims * sizeof *dims);
	if (!t->name || (ndims && !t->dims))
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
	t->data = od_arena_alloc(a, t->nbytes);
	return t->data ? t : NULL;
}

struct od_tensor *od_tensor_clone(struct od_arena *a, const struct od_tensor *t)
{
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
