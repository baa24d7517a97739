/*
 * test_value.c — values for `freeze --set`: literals and their conversion to the input's
 * dtype, every .npy fixture variant (format versions, byte orders, Fortran order, bool,
 * scalar, empty), lying and hostile .npy headers, and @file.pb.
 */
#include "config.h"
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "od.h"

#define FIX OD_SRCDIR "/fixtures/"

static struct od_arena *arena;

static void setup(void)
{
	arena = od_arena_new();
}

static void teardown(void)
{
	od_arena_free(arena);
}

TestSuite(value, .init = setup, .fini = teardown);

static struct od_tensor *parse_ok(const char *spec, int dtype)
{
	struct od_ctx ctx = {0};
	struct od_tensor *t = NULL;
	int rc = od_tensor_parse(arena, spec, dtype, &t, &ctx);
	cr_assert_eq(rc, 0, "parse '%s': %s", spec, ctx.msg);
	cr_assert(t);
	return t;
}

static void parse_fails(const char *spec, int dtype, int code, const char *msg)
{
	struct od_ctx ctx = {0};
	struct od_tensor *t = NULL;
	int rc = od_tensor_parse(arena, spec, dtype, &t, &ctx);
	cr_assert_eq(rc, code, "parse '%s' as %s: rc %d (%s)", spec, od_dtype_name(dtype), rc, ctx.msg);
	cr_assert_null(t);
	cr_assert(strstr(ctx.msg, msg), "message '%s' lacks '%s'", ctx.msg, msg);
}

static void assert_shape(const struct od_tensor *t, int ndims, const int64_t *dims)
{
	cr_assert_eq(t->ndims, ndims, "rank %d, wanted %d", t->ndims, ndims);
	for (int i = 0; i < ndims; i++)
		cr_assert_eq(t->dims[i], dims[i], "dim %d is %lld", i, (long long)t->dims[i]);
}

static void assert_values(const struct od_tensor *t, const double *v, int64_t n)
{
	cr_assert_eq(t->numel, n);
	for (int64_t i = 0; i < n; i++)
		cr_assert_eq(od_tensor_get_f64(t, i), v[i], "element %lld is %g, wanted %g",
		             (long long)i, od_tensor_get_f64(t, i), v[i]);
}

/* ---- literals -------------------------------------------------------------------------- */

Test(value, scalar_literals)
{
	struct od_tensor *t = parse_ok("0.5", OD_FLOAT);
	cr_assert_eq(t->dtype, OD_FLOAT);
	cr_assert_eq(t->ndims, 0);
	assert_values(t, (double[]){0.5}, 1);
	t = parse_ok("16000", OD_INT64);
	assert_values(t, (double[]){16000}, 1);
	t = parse_ok("-3", OD_INT32);
	cr_assert_eq(t->dtype, OD_INT32);
	assert_values(t, (double[]){-3}, 1);
	t = parse_ok("true", OD_BOOL);
	assert_values(t, (double[]){1}, 1);
	t = parse_ok(" false ", OD_BOOL);
	assert_values(t, (double[]){0}, 1);
	t = parse_ok("16000", OD_FLOAT);       /* an integer literal may fill a float input */
	cr_assert_eq(t->dtype, OD_FLOAT);
	assert_values(t, (double[]){16000}, 1);
	t = parse_ok("1e-3", OD_DOUBLE);
	assert_values(t, (double[]){1e-3}, 1);
	t = parse_ok("-inf", OD_FLOAT);
	cr_assert(isinf(od_tensor_get_f64(t, 0)) && od_tensor_get_f64(t, 0) < 0);
	t = parse_ok("0.5", OD_FLOAT16);
	assert_values(t, (double[]){0.5}, 1);
}

Test(value, int64_exact)
{
	struct od_tensor *t = parse_ok("9223372036854775807", OD_INT64);
	int64_t v;
	memcpy(&v, t->data, 8);
	cr_assert_eq(v, INT64_MAX);
	t = parse_ok("-9223372036854775808", OD_INT64);
	memcpy(&v, t->data, 8);
	cr_assert_eq(v, INT64_MIN);
	t = parse_ok("18446744073709551615", OD_UINT64);
	uint64_t u;
	memcpy(&u, t->data, 8);
	cr_assert_eq(u, UINT64_MAX);
}

Test(value, nested_lists)
{
	struct od_tensor *t = parse_ok("[[1,1,0,0]]", OD_FLOAT);
	assert_shape(t, 2, (int64_t[]){1, 4});
	assert_values(t, (double[]){1, 1, 0, 0}, 4);
	t = parse_ok(" [ [1, 2, 3] , [4,5,6] ] ", OD_INT64);
	assert_shape(t, 2, (int64_t[]){2, 3});
	assert_values(t, (double[]){1, 2, 3, 4, 5, 6}, 6);
	t = parse_ok("[true, false]", OD_BOOL);
	assert_shape(t, 1, (int64_t[]){2});
	t = parse_ok("[]", OD_FLOAT);
	assert_shape(t, 1, (int64_t[]){0});
	t = parse_ok("[[]]", OD_INT64);
	assert_shape(t, 2, (int64_t[]){1, 0});
	t = parse_ok("[[[1],[2]]]", OD_INT8);
	assert_shape(t, 3, (int64_t[]){1, 2, 1});
}

Test(value, inferred_dtype)
{
	cr_assert_eq(parse_ok("[1,2]", OD_UNDEFINED)->dtype, OD_INT64);
	cr_assert_eq(parse_ok("[1,2.5]", OD_UNDEFINED)->dtype, OD_FLOAT);
	cr_assert_eq(parse_ok("true", OD_UNDEFINED)->dtype, OD_BOOL);
}

Test(value, bad_literals)
{
	parse_fails("0.5", OD_INT64, OD_EVALUE, "'0.5' is not an integer (int64 wanted)");
	parse_fails("abc", OD_FLOAT, OD_EVALUE, "'abc' is not a number (float wanted)");
	parse_fails("", OD_FLOAT, OD_EVALUE, "missing value");
	parse_fails("[1,2", OD_FLOAT, OD_EVALUE, "cannot parse '[1,2': missing ']'");
	parse_fails("[1,2]]", OD_FLOAT, OD_EVALUE, "unbalanced ']'");
	parse_fails("[1 2]", OD_FLOAT, OD_EVALUE, "expected ',' or ']'");
	parse_fails("[[1,2],[3]]", OD_FLOAT, OD_EVALUE, "rows of different lengths");
	parse_fails("[1,[2]]", OD_FLOAT, OD_EVALUE, "different nesting depths");
	parse_fails("[1,]", OD_FLOAT, OD_EVALUE, "expected a number, true, false or a [list]");
	parse_fails("1 2", OD_FLOAT, OD_EVALUE, "unexpected text");
	parse_fails("2", OD_BOOL, OD_EVALUE, "'2' is out of range for bool");
	parse_fails("yes", OD_BOOL, OD_EVALUE, "'yes' is not a bool");
	parse_fails("1", OD_STRING, OD_EUNSUPPORTED, "cannot give a string value as a literal");
	/* true/false are bool literals: an int64 sample rate given `true` is a mistake */
	parse_fails("true", OD_INT64, OD_EVALUE, "'true' is for bool inputs only (int64 wanted)");
	parse_fails("[1,false]", OD_INT32, OD_EVALUE, "'false' is for bool inputs only (int32 wanted)");
	parse_fails("true", OD_FLOAT, OD_EVALUE, "'true' is for bool inputs only (float wanted)");
	parse_fails("[1,true]", OD_UNDEFINED, OD_EVALUE, "'true' is for bool inputs only");
}

Test(value, out_of_range)
{
	parse_fails("256", OD_UINT8, OD_EVALUE, "'256' is out of range for uint8");
	parse_fails("-1", OD_UINT32, OD_EVALUE, "'-1' is out of range for uint32");
	parse_fails("128", OD_INT8, OD_EVALUE, "out of range for int8");
	parse_fails("2147483648", OD_INT32, OD_EVALUE, "out of range for int32");
	parse_fails("9223372036854775808", OD_INT64, OD_EVALUE, "out of range for int64");
	parse_fails("1e39", OD_FLOAT, OD_EVALUE, "'1e39' is out of range for float");
	parse_fails("70000", OD_FLOAT16, OD_EVALUE, "out of range for float16");
	parse_fails("1e400", OD_DOUBLE, OD_EVALUE, "out of range for double");
	cr_assert_eq(od_tensor_get_f64(parse_ok("255", OD_UINT8), 0), 255);
	cr_assert_eq(od_tensor_get_f64(parse_ok("-128", OD_INT8), 0), -128);
	cr_assert_eq(od_tensor_get_f64(parse_ok("2.0", OD_INT64), 0), 2);
}

Test(value, nesting_limit)
{
	char deep[300];
	memset(deep, '[', 100);
	deep[100] = '1';
	memset(deep + 101, ']', 100);
	deep[201] = 0;
	parse_fails(deep, OD_FLOAT, OD_EVALUE, "nested too deeply");
}

/* ---- .npy ------------------------------------------------------------------------------- */

struct npy_case {
	char file[40];
	int dtype;
	int ndims;
	int64_t dims[2];
	double values[6];
};

ParameterizedTestParameters(value, npy_variants)
{
	static struct npy_case cases[] = {
		{"mask-v1.npy", OD_FLOAT, 2, {1, 4}, {1, 0, 1, 1}},
		{"mask-v2.npy", OD_FLOAT, 2, {1, 4}, {1, 0, 1, 1}},
		{"mask-v3.npy", OD_FLOAT, 2, {1, 4}, {1, 0, 1, 1}},
		{"mask-be.npy", OD_FLOAT, 2, {1, 4}, {1, 0, 1, 1}},
		{"mask-f64.npy", OD_DOUBLE, 2, {1, 4}, {1, 0, 1, 1}},
		{"mask-bool.npy", OD_BOOL, 2, {1, 4}, {1, 0, 1, 1}},
		{"scalar-i64.npy", OD_INT64, 0, {0, 0}, {3}},
		{"fortran-2x3.npy", OD_FLOAT, 2, {2, 3}, {0, 1, 2, 3, 4, 5}},
		{"empty-0x4.npy", OD_FLOAT, 2, {0, 4}, {0}},
	};
	return cr_make_param_array(struct npy_case, cases, sizeof cases / sizeof *cases);
}

ParameterizedTest(struct npy_case *c, value, npy_variants)
{
	char path[256], spec[260];
	snprintf(path, sizeof path, FIX "npy/%s", c->file);
	struct od_ctx ctx = {0};
	struct od_tensor *t = NULL;
	cr_assert_eq(od_tensor_load_npy(arena, path, &t, &ctx), 0, "%s: %s", c->file, ctx.msg);
	cr_assert_eq(t->dtype, c->dtype, "%s: dtype %s", c->file, od_dtype_name(t->dtype));
	assert_shape(t, c->ndims, c->dims);
	int64_t n = 1;
	for (int i = 0; i < c->ndims; i++)
		n *= c->dims[i];
	assert_values(t, c->values, n);
	/* the same through od_tensor_parse("@...") */
	snprintf(spec, sizeof spec, "@%s", path);
	struct od_tensor *u = parse_ok(spec, OD_UNDEFINED);
	cr_assert(od_tensor_equal(t, u));
}

/* Writes a file of len bytes into a temporary path (caller unlinks). */
static char *write_tmp(const void *data, size_t len, const char *suffix)
{
	char *path = malloc(64);
	snprintf(path, 64, "/tmp/od-value-XXXXXX%s", suffix);
	int fd = mkstemps(path, (int)strlen(suffix));
	cr_assert(fd >= 0);
	cr_assert_eq(write(fd, data, len), (ssize_t)len);
	close(fd);
	return path;
}

/* A version-1 .npy with the given header text and data bytes. */
static char *npy_v1(const char *header, const void *data, size_t len)
{
	size_t hl = strlen(header);
	unsigned char *buf = malloc(10 + hl + len);
	memcpy(buf, "\x93NUMPY\x01\x00", 8);
	buf[8] = (unsigned char)(hl & 0xff);
	buf[9] = (unsigned char)(hl >> 8);
	memcpy(buf + 10, header, hl);
	memcpy(buf + 10 + hl, data, len);
	char *p = write_tmp(buf, 10 + hl + len, ".npy");
	free(buf);
	return p;
}

static void npy_fails(const char *path, int code, const char *msg)
{
	struct od_ctx ctx = {0};
	struct od_tensor *t = NULL;
	cr_assert_eq(od_tensor_load_npy(arena, path, &t, &ctx), code, "%s: %s", path, ctx.msg);
	cr_assert_null(t);
	cr_assert(strstr(ctx.msg, msg), "message '%s' lacks '%s'", ctx.msg, msg);
}

Test(value, npy_lying_header_fixture)
{
	npy_fails(FIX "bad/lying.npy", OD_EFORMAT,
	          "16 bytes of data, but the header says float (100, 4) (1600 bytes)");
}

Test(value, npy_data_longer_than_shape)
{
	float v[5] = {1, 2, 3, 4, 5};
	char *p = npy_v1("{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }\n", v, sizeof v);
	npy_fails(p, OD_EFORMAT, "20 bytes of data, but the header says float (4,) (16 bytes)");
	unlink(p);
	free(p);
}

Test(value, npy_hostile_headers)
{
	/* header length beyond the file */
	unsigned char big[16] = "\x93NUMPY\x01\x00\xff\xff{}";
	char *p = write_tmp(big, 12, ".npy");
	npy_fails(p, OD_EFORMAT, "runs past the end of the file");
	unlink(p);
	free(p);
	/* a version 2 header length of 4 GiB */
	unsigned char v2[16] = "\x93NUMPY\x02\x00\xff\xff\xff\xff{}";
	p = write_tmp(v2, 14, ".npy");
	npy_fails(p, OD_EFORMAT, "runs past the end of the file");
	unlink(p);
	free(p);
	/* a shape whose byte count overflows */
	p = npy_v1("{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296), }", "", 0);
	npy_fails(p, OD_ELIMIT, "too large");
	unlink(p);
	free(p);
	p = npy_v1("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }", "", 0);
	npy_fails(p, OD_EFORMAT, "malformed shape");
	unlink(p);
	free(p);
}

Test(value, npy_malformed)
{
	char *p = npy_v1("{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }", "12345678", 8);
	npy_fails(p, OD_EUNSUPPORTED, "unsupported .npy dtype");
	unlink(p);
	free(p);
	p = npy_v1("{'descr': '<f4', 'shape': (1,), }", "1234", 4);
	npy_fails(p, OD_EFORMAT, "lacks 'fortran_order'");
	unlink(p);
	free(p);
	p = npy_v1("{'descr': '<f4', 'fortran_order': Maybe, 'shape': (1,), }", "1234", 4);
	npy_fails(p, OD_EFORMAT, "malformed fortran_order");
	unlink(p);
	free(p);
	p = npy_v1("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'extra': 1}", "1234", 4);
	npy_fails(p, OD_EFORMAT, "unexpected key 'extra'");
	unlink(p);
	free(p);
	p = npy_v1("[1, 2]", "", 0);
	npy_fails(p, OD_EFORMAT, "not a dict");
	unlink(p);
	free(p);
	p = write_tmp("PK\x03\x04 not numpy", 15, ".npy");
	npy_fails(p, OD_EFORMAT, "not a .npy file");
	unlink(p);
	free(p);
	unsigned char v9[16] = "\x93NUMPY\x09\x00\x00\x00";
	p = write_tmp(v9, 10, ".npy");
	npy_fails(p, OD_EUNSUPPORTED, "format version 9.0 not supported");
	unlink(p);
	free(p);
	npy_fails("/nonexistent/x.npy", OD_EIO, "cannot open '/nonexistent/x.npy'");
}

Test(value, npy_fortran_3d)
{
	/* shape (2,2,2) in Fortran order: element (i,j,k) at i + 2j + 4k holds 100i + 10j + k */
	int32_t v[8];
	for (int i = 0; i < 2; i++)
		for (int j = 0; j < 2; j++)
			for (int k = 0; k < 2; k++)
				v[i + 2 * j + 4 * k] = 100 * i + 10 * j + k;
	char *p = npy_v1("{'descr': '<i4', 'fortran_order': True, 'shape': (2, 2, 2), }", v, sizeof v);
	struct od_ctx ctx = {0};
	struct od_tensor *t = NULL;
	cr_assert_eq(od_tensor_load_npy(arena, p, &t, &ctx), 0, "%s", ctx.msg);
	assert_values(t, (double[]){0, 1, 10, 11, 100, 101, 110, 111}, 8);
	unlink(p);
	free(p);
}

Test(value, npy_big_endian_int)
{
	unsigned char v[4] = {0x00, 0x00, 0x01, 0x02};   /* >i2: 0, 258 */
	char *p = npy_v1("{'descr': '>i2', 'fortran_order': False, 'shape': (2,), }", v, sizeof v);
	struct od_ctx ctx = {0};
	struct od_tensor *t = NULL;
	cr_assert_eq(od_tensor_load_npy(arena, p, &t, &ctx), 0, "%s", ctx.msg);
	cr_assert_eq(t->dtype, OD_INT16);
	assert_values(t, (double[]){0, 258}, 2);
	unlink(p);
	free(p);
}

/* ---- @file.pb ---------------------------------------------------------------------------- */

Test(value, pb_file)
{
	/* a TensorProto: dims 2 (field 1), data_type FLOAT (field 2), raw_data (field 9) */
	unsigned char pb[] = {0x08, 0x02, 0x10, 0x01, 0x4a, 0x08, 0, 0, 0x80, 0x3f, 0, 0, 0, 0x40};
	char *p = write_tmp(pb, sizeof pb, ".pb");
	char spec[80];
	snprintf(spec, sizeof spec, "@%s", p);
	struct od_tensor *t = parse_ok(spec, OD_FLOAT);
	cr_assert_eq(t->dtype, OD_FLOAT);
	assert_shape(t, 1, (int64_t[]){2});
	assert_values(t, (double[]){1, 2}, 2);
	unlink(p);
	free(p);
	parse_fails("@", OD_FLOAT, OD_EARG, "missing file name after '@'");
}
