/*
 * helpers.h — what several unit tests need: a file's bytes, a model that must load, a
 * write callback that collects text, a fresh temporary folder. Criterion asserts inside,
 * so a helper that fails fails the test that called it.
 */
#ifndef OD_TEST_HELPERS_H
#define OD_TEST_HELPERS_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "od.h"

/* The bytes of path, malloc'd; *len is their count. */
static inline void *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	cr_assert(f, "cannot open %s", path);
	fseek(f, 0, SEEK_END);
	*len = (size_t)ftell(f);
	fseek(f, 0, SEEK_SET);
	void *buf = malloc(*len ? *len : 1);
	cr_assert(fread(buf, 1, *len, f) == *len);
	fclose(f);
	return buf;
}

/* The model at path; the test fails with the loader's message if it does not load. */
static inline struct od_model *load(const char *path)
{
	struct od_ctx ctx = {0};
	struct od_model *m = NULL;
	cr_assert_eq(od_model_load(path, NULL, &m, &ctx), 0, "load %s: %s", path, ctx.msg);
	return m;
}

/* An od_write_fn appending to the malloc'd string *(char **)priv (NULL to start). */
static inline int buf_write(void *priv, const char *s, size_t n)
{
	char **buf = priv;
	size_t old = *buf ? strlen(*buf) : 0;
	*buf = realloc(*buf, old + n + 1);
	cr_assert(*buf);
	memcpy(*buf + old, s, n);
	(*buf)[old + n] = 0;
	return 0;
}

/* A new empty folder under /tmp; the caller removes it and frees the path. */
static inline char *tmpdir(void)
{
	char *d = strdup("/tmp/od-unit.XXXXXX");
	cr_assert(mkdtemp(d));
	return d;
}

#endif
