/*
 * text.c — text from a model file on its way out: names may hold any bytes. Control
 * characters (a newline, an escape sequence meant for the terminal) are written as \n or
 * \xHH, so a hostile name can neither break a one-line message nor reach the terminal,
 * and JSON gets U+FFFD for bytes that are not UTF-8.
 */
#include "config.h"
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"

/* The one rule for a control character: \n for a newline, \xHH for the others; 0 for a
 * byte that stays as it is. */
static int escape_char(unsigned char c, char esc[8])
{
	if (c >= 0x20 && c != 0x7f)
		return 0;
	return c == '\n' ? snprintf(esc, 8, "\\n") : snprintf(esc, 8, "\\x%02x", c);
}

int od_write_text(od_write_fn out, void *priv, const char *s, size_t n, size_t keep)
{
	size_t from = 0;
	int rc = 0;
	for (size_t i = 0; !rc && i < keep && i < n; i++) {
		char esc[8];
		int k = escape_char((unsigned char)s[i], esc);
		if (!k)
			continue;
		if (i > from)
			rc = out(priv, s + from, i - from);
		if (!rc)
			rc = out(priv, esc, (size_t)k);
		from = i + 1;
	}
	if (!rc && n > from)
		rc = out(priv, s + from, n - from);
	return rc;
}

size_t od_text_escape(char *out, size_t n, const char *s)
{
	size_t k = 0;
	if (!n)
		return 0;
	for (const char *p = s; *p && k + 1 < n; p++) {
		char esc[8];
		int len = escape_char((unsigned char)*p, esc);
		if (!len) {
			out[k++] = *p;
			continue;
		}
		if (k + (size_t)len + 1 > n)
			break;
		memcpy(out + k, esc, (size_t)len);
		k += (size_t)len;
	}
	out[k] = 0;
	return k;
}

void od_vprintf_text(od_write_fn out, void *priv, int *rc, const char *fmt, va_list ap)
{
	char stack[2048], *s = stack;
	va_list again;
	if (*rc)
		return;
	va_copy(again, ap);
	int n = vsnprintf(stack, sizeof stack, fmt, ap);
	if (n >= 0 && (size_t)n >= sizeof stack) {
		if ((s = od_malloc((size_t)n + 1)))
			vsnprintf(s, (size_t)n + 1, fmt, again);
		else
			*rc = OD_ENOMEM;
	}
	va_end(again);
	if (n < 0 || *rc)
		return;
	size_t len = (size_t)n;
	*rc = od_write_text(out, priv, s, len, *fmt && fmt[strlen(fmt) - 1] == '\n' ? len - 1 : len);
	if (s != stack)
		od_free(s);
}

void od_print(struct od_printer *p, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	od_vprintf_text(p->out, p->priv, &p->rc, fmt, ap);
	va_end(ap);
}

/* Length of the valid UTF-8 sequence at p, 0 when there is none (overlong, surrogate, ...). */
static size_t utf8_len(const unsigned char *p)
{
	unsigned c = p[0], v, min;
	size_t n;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, v = c & 0x1f, min = 0x80;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, v = c & 0x0f, min = 0x800;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, v = c & 0x07, min = 0x10000;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		v = v << 6 | (p[i] & 0x3f);
	}
	return v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff) ? 0 : n;
}

/* A JSON string of text from the file. jansson refuses invalid UTF-8, and a NULL inside
 * json_pack or an append drops the whole item without a word (an input missing from the
 * list): invalid bytes become U+FFFD instead. NULL only when out of memory. */
json_t *od_json_text(const char *s)
{
	json_t *j = json_string(s);
	const unsigned char *u = (const unsigned char *)s;
	size_t n = strlen(s), k = 0, len;
	while ((len = *u ? utf8_len(u) : 0))
		u += len;
	if (j || !*u)           /* valid: json_string ran out of memory */
		return j;
	char *t = malloc(3 * n + 1);
	if (!t)
		return NULL;
	for (const unsigned char *q = (const unsigned char *)s; *q; ) {
		len = utf8_len(q);
		if (len) {
			memcpy(t + k, q, len);
			k += len, q += len;
		} else {
			memcpy(t + k, "\xef\xbf\xbd", 3);
			k += 3, q++;
		}
	}
	t[k] = 0;
	j = json_string(t);
	free(t);
	return j;
}

