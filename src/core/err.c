/*
 * err.c — error codes and messages: one table (od.h OD_ERR_TABLE), one recorder.
 */
#include "config.h"
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <string.h>
#include "internal.h"

static const char *const descriptions[] = {
#define OD_X(name, desc) desc,
	OD_ERR_TABLE(OD_X)
#undef OD_X
};

const char *od_strerror(int code)
{
	int idx = -code;
	if (idx < 0 || (size_t)idx >= sizeof descriptions / sizeof *descriptions)
		return "unknown error";
	return descriptions[idx];
}

/* Copies s into out (n bytes) with control characters written as \n, \t, \xHH: names
 * come from the file, and a newline or an escape sequence in one must neither break the
 * one-line message nor reach the terminal. */
static void escape_controls(char *out, size_t n, const char *s)
{
	size_t k = 0;
	for (const unsigned char *p = (const unsigned char *)s; *p && k + 1 < n; p++) {
		char esc[8];
		if (*p >= 0x20 && *p != 0x7f) {
			out[k++] = (char)*p;
			continue;
		}
		const char *named = *p == '\n' ? "\\n" : *p == '\t' ? "\\t" : *p == '\r' ? "\\r" : NULL;
		if (named)
			snprintf(esc, sizeof esc, "%s", named);
		else
			snprintf(esc, sizeof esc, "\\x%02x", *p);
		size_t len = strlen(esc);
		if (k + len + 1 > n)
			break;
		memcpy(out + k, esc, len);
		k += len;
	}
	out[k] = 0;
}

int od_error(struct od_ctx *ctx, int code, const char *fmt, ...)
{
	va_list ap;
	char raw[sizeof ctx->msg];
	if (!ctx)
		return code;
	ctx->code = code;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof raw, fmt, ap);
	va_end(ap);
	escape_controls(ctx->msg, sizeof ctx->msg, raw);
	return code;
}

int od_error_in(struct od_ctx *ctx, int code, const char *path)
{
	char quoted[300], detail[sizeof ctx->msg];
	if (!ctx)
		return code;
	snprintf(quoted, sizeof quoted, "'%s'", path);
	if (strstr(ctx->msg, quoted))   /* "cannot open 'x.pb': ..." says it already */
		return code;
	snprintf(detail, sizeof detail, "%s", ctx->msg);
	return od_error(ctx, code, "cannot load '%s': %s", path, detail);
}
