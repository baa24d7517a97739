/*
 * err.c — error codes and messages: one table (od.h OD_ERR_TABLE), one recorder.
 */
#include "config.h"
#include <stdarg.h>
#include <stdio.h>
#include "od.h"

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
	if (!ctx)
		return code;
	ctx->code = code;
	va_start(ap, fmt);
	vsnprintf(ctx->msg, sizeof ctx->msg, fmt, ap);
	va_end(ap);
	return code;
}
