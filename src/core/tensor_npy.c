/*
 * tensor_npy.c — writing a tensor as a NumPy .npy file (format 1.0, little-endian, C
 * order), the form `onnxdiff run` leaves its outputs in. bfloat16, which NumPy lacks, is
 * written as float32 (exactly: every bfloat16 is a float32). Reading is in tensor_parse.c.
 */
#include "config.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "internal.h"

static const char *descr(int dtype)
{
	switch (dtype) {
	case OD_FLOAT16: return "<f2";
	case OD_FLOAT: case OD_BFLOAT16: return "<f4";
	case OD_DOUBLE: return "<f8";
	case OD_INT8: return "|i1";
	case OD_INT16: return "<i2";
	case OD_INT32: return "<i4";
	case OD_INT64: return "<i8";
	case OD_UINT8: return "|u1";
	case OD_UINT16: return "<u2";
	case OD_UINT32: return "<u4";
	case OD_UINT64: return "<u8";
	case OD_BOOL: return "|b1";
	default: return NULL;
	}
}

/* The header, padded with spaces and a newline to a multiple of 64 bytes. */
static int header(const struct od_tensor *t, char *buf, size_t cap, size_t *len)
{
	size_t n = (size_t)snprintf(buf, cap, "\x93NUMPY\x01%c%c%c{'descr': '%s', 'fortran_order': False, 'shape': (",
	                            0, 0, 0, descr(t->dtype));
	for (int d = 0; d < t->ndims && n < cap; d++)
		n += (size_t)snprintf(buf + n, cap - n, "%lld%s", (long long)t->dims[d],
		                      t->ndims == 1 ? "," : d + 1 < t->ndims ? ", " : "");
	if (n < cap)
		n += (size_t)snprintf(buf + n, cap - n, "), }");
	size_t total = (n + 1 + 63) / 64 * 64;
	if (total > cap || total - 10 > 65535)
		return -1;
	memset(buf + n, ' ', total - n - 1);
	buf[total - 1] = '\n';
	buf[8] = (char)((total - 10) & 0xff);
	buf[9] = (char)((total - 10) >> 8);
	*len = total;
	return 0;
}

static int write_payload(const struct od_tensor *t, FILE *f)
{
	if (t->dtype != OD_BFLOAT16)
		return od_fwrite(t->data, 1, t->nbytes, f) == t->nbytes ? 0 : -1;
	for (int64_t i = 0; i < t->numel; i++) {
		float v = (float)od_tensor_get_f64(t, i);
		if (od_fwrite(&v, sizeof v, 1, f) != 1)
			return -1;
	}
	return 0;
}

int od_tensor_save_npy(const struct od_tensor *t, const char *path, struct od_ctx *ctx)
{
	char head[8192], *tmp;
	size_t hl;
	if (!descr(t->dtype))
		return od_error(ctx, OD_EUNSUPPORTED, "cannot write '%s': no .npy form for %s", path,
		                od_dtype_name(t->dtype));
	if (header(t, head, sizeof head, &hl))
		return od_error(ctx, OD_ELIMIT, "cannot write '%s': shape too long for .npy", path);
	if (!(tmp = od_malloc(strlen(path) + 16)))
		return od_error(ctx, OD_ENOMEM, "out of memory");
	sprintf(tmp, "%s.tmpXXXXXX", path);
	int fd = mkstemp(tmp);
	FILE *f = fd < 0 ? NULL : fdopen(fd, "wb");
	int rc = 0;
	if (!f)
		rc = od_error(ctx, OD_EIO, "cannot write '%s': %s", path, strerror(errno));
	else if (od_fwrite(head, 1, hl, f) != hl || write_payload(t, f) || fflush(f))
		rc = od_error(ctx, OD_EIO, "cannot write '%s': %s", path, strerror(errno ? errno : EIO));
	if (f && fclose(f) && !rc)
		rc = od_error(ctx, OD_EIO, "cannot write '%s': %s", path, strerror(errno));
	if (!f && fd >= 0)
		close(fd);
	if (!rc && rename(tmp, path))
		rc = od_error(ctx, OD_EIO, "cannot write '%s': %s", path, strerror(errno));
	if (rc && fd >= 0)
		unlink(tmp);
	od_free(tmp);
	return rc;
}
