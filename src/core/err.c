/*
 * err.c — error codes and messages: one table (od.h OD_ERR_TABLE), one recorder.
 */
#include "config.h"
#include <stdarg.h>
#include <stdio.h>
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
	od_text_escape(ctx->msg, sizeof ctx->msg, raw);   /* names come from the file */
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
